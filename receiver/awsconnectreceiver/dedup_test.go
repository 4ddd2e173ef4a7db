package awsconnectreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadatatest"
)

// TestKinesisLocalDuplicatesRemoved writes some events twice, as a producer retrying a
// write whose answer it lost does, before and after a restart with the real file_storage
// extension: every EventId is emitted once, the duplicates are counted, and with
// deduplication off the same stream does deliver them twice.
func TestKinesisLocalDuplicatesRemoved(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "duplicates"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()

	keys, firstIDs, data := sampleEvents(t, "first", 30)
	srv.Put(t, stream, keys, data)
	srv.Put(t, stream, keys[:10], data[:10]) // retried
	srv.Put(t, stream, keys[20:], data[20:]) // retried

	cfg := testConfig(srv.Endpoint, stream)
	id := fileStorageID
	cfg.Storage = &id

	run := func(cfg *Config, dir string, want int) (*eventSink, *componenttest.Telemetry) {
		ext := startFileStorage(t, dir)
		sink := newEventSink()
		tt := componenttest.NewTelemetry()
		t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
		set := metadatatest.NewSettings(tt)
		set.Logger = zaptest.NewLogger(t)
		r, err := newReceiver(cfg, set)
		require.NoError(t, err)
		r.nextLogs, err = consumer.NewLogs(sink.ConsumeLogs)
		require.NoError(t, err)
		host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
		require.NoError(t, r.Start(context.Background(), host))
		require.Eventually(t, func() bool { return sink.count() >= want }, 60*time.Second, 50*time.Millisecond, "got %d of %d", sink.count(), want)
		time.Sleep(5 * cfg.PollInterval) // time for a duplicate, were it let through
		require.NoError(t, r.Shutdown(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()))
		return sink, tt
	}
	duplicates := func(tt *componenttest.Telemetry, n int64) {
		metadatatest.AssertEqualReceiverAwsConnectRecordsDuplicate(t, tt, []metricdata.DataPoint[int64]{{Value: n}}, metricdatatest.IgnoreTimestamp())
	}

	first, tt := run(cfg, dir, len(firstIDs))
	assert.Len(t, first.ids, len(firstIDs))
	for _, id := range firstIDs {
		assert.Equal(t, 1, first.ids[id], "first run, event %s", id)
	}
	duplicates(tt, 20)

	// While the collector is down, the producer retries writes made before the stop.
	keys2, secondIDs, data2 := sampleEvents(t, "second", 10)
	srv.Put(t, stream, keys[:15], data[:15])
	srv.Put(t, stream, keys2, data2)
	second, tt := run(cfg, dir, len(secondIDs))
	assert.Len(t, second.ids, len(secondIDs), "after the restart, only the new events")
	for _, id := range secondIDs {
		assert.Equal(t, 1, second.ids[id], "second run, event %s", id)
	}
	duplicates(tt, 15)

	// The same stream read again without the window: the duplicates are really there.
	off := testConfig(srv.Endpoint, stream)
	off.Storage = &id
	off.Deduplication.Enabled = false
	all, _ := run(off, t.TempDir(), 30+20+15+10)
	for i, id := range firstIDs {
		want := 1
		switch {
		case i < 10:
			want = 3
		case i < 15, i >= 20:
			want = 2
		}
		assert.Equal(t, want, all.ids[id], "without deduplication, event %s", id)
	}
}
