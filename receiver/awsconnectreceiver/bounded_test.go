package awsconnectreceiver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// requestSizes wraps an eventSink and notes the size of every request it is handed.
type requestSizes struct {
	*eventSink
	mu      sync.Mutex
	records []int
	bytes   []int
}

func (s *requestSizes) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s.mu.Lock()
	s.records = append(s.records, ld.LogRecordCount())
	s.bytes = append(s.bytes, (&plog.ProtoMarshaler{}).LogsSize(ld))
	s.mu.Unlock()
	return s.eventSink.ConsumeLogs(ctx, ld)
}

// TestKinesisLocalBacklogGoesDownInBoundedRequests reads a backlog that one GetRecords
// call returns whole, and checks that the pipeline is handed it in requests within
// max_records_per_request and max_bytes_per_request, losing and repeating nothing.
func TestKinesisLocalBacklogGoesDownInBoundedRequests(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "backlog"
	srv.CreateStream(t, stream, 1)
	keys, ids, data := sampleEvents(t, "ev", 1500)
	total := 0
	for _, d := range data {
		total += len(d)
	}
	srv.Put(t, stream, keys, data)

	cfg := testConfig(srv.Endpoint, stream)
	cfg.MaxRecordsPerCall = 10000
	cfg.MaxRecordsPerRequest = 400
	cfg.MaxBytesPerRequest = 1 << 20
	require.Greater(t, total, 2*cfg.MaxBytesPerRequest, "the backlog must exceed the byte bound for the test to prove anything")

	sink := &requestSizes{eventSink: newEventSink()}
	r := startReceiverWith(t, cfg, sink.ConsumeLogs, componenttest.NewNopHost())
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 60*time.Second, 50*time.Millisecond,
		"got %d of %d", sink.count(), len(ids))
	require.NoError(t, r.Shutdown(context.Background()))

	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, id := range ids {
		assert.Equal(t, 1, sink.ids[id], "event %s", id)
	}
	require.GreaterOrEqual(t, len(sink.records), 3)
	largest := 0
	for i, n := range sink.records {
		assert.LessOrEqual(t, n, cfg.MaxRecordsPerRequest, "request %d holds %d records", i, n)
		largest = max(largest, sink.bytes[i])
	}
	// The bound counts the records' data; their OTLP encoding adds the attributes.
	t.Logf("%d requests for %d events (%d bytes of data); the largest is %d bytes in OTLP", len(sink.records), len(ids), total, largest)
	assert.Less(t, largest, 3*cfg.MaxBytesPerRequest/2, "an OTLP request is far larger than max_bytes_per_request")
}
