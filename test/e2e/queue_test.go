package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contacttest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// lastValue is the value of metric name with attrs in the last export of a metrics file
// that has it.
func lastValue(t *testing.T, path, name string, attrs map[string]string) (float64, bool) {
	t.Helper()
	exports := readExports(t, path)
	for i := len(exports) - 1; i >= 0; i-- {
		if v, ok := gaugesum.Value(exports[i], name, attrs); ok {
			return v, true
		}
	}
	return 0, false
}

// TestQueueGaugesAfterRestart runs the built collector on a stream of contact events,
// its state in file_storage: the contacts waiting in a queue are counted, and after a
// restart, with nothing read again, they are counted at once and their wait goes on.
func TestQueueGaugesAfterRestart(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "contact-events"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()
	sales := contacttest.InstanceARN + "/queue/11111111-0000-0000-0000-000000000001"

	now := time.Now()
	oldest := now.Add(-10 * time.Minute)
	contacttest.Put(t, srv, stream,
		contacttest.Event{Type: "QUEUED", ContactID: "waiting-long", Queue: sales, Enqueued: oldest},
		contacttest.Event{Type: "QUEUED", ContactID: "waiting-short", Queue: sales, Enqueued: now.Add(-2 * time.Minute)},
		contacttest.Event{Type: "QUEUED", ContactID: "answered", Queue: sales, Enqueued: now.Add(-4 * time.Minute)},
		contacttest.Event{Type: "CONNECTED_TO_AGENT", ContactID: "answered", Queue: sales, Enqueued: now.Add(-4 * time.Minute), Connected: now.Add(-3 * time.Minute)},
	)
	attrs := map[string]string{"aws.connect.queue.arn": sales, "aws.connect.queue.name": "Sales", "aws.connect.channel": "VOICE"}

	run := func(metricsFile string) *collectortest.Process {
		return runCollector(t, dir, collectortest.Config{
			Stream: stream, Endpoint: srv.Endpoint, StorageDir: filepath.Join(dir, "state"),
			Receiver: map[string]any{
				"records": "contact_events", "collection_interval": "1s",
				"queue_names": map[string]any{sales: "Sales"},
			},
			Exporters: map[string]any{"file": collectortest.FileExporter(metricsFile)},
			Metrics:   &collectortest.Pipeline{Exporters: []string{"file"}},
		})
	}
	waiting := func(path string) float64 {
		v, _ := lastValue(t, path, "aws.connect.queue.contacts", attrs)
		return v
	}

	first := filepath.Join(dir, "metrics-1.json")
	p := run(first)
	require.Eventually(t, func() bool { return waiting(first) == 2 }, 60*time.Second, 200*time.Millisecond, "%s", p.Output())
	answered, _ := lastValue(t, first, "aws.connect.queue.contacts.dequeued", map[string]string{"aws.connect.queue.arn": sales, "aws.connect.queue.outcome": "answered"})
	assert.Equal(t, 1.0, answered)
	p.Stop(t)

	second := filepath.Join(dir, "metrics-2.json")
	p = run(second)
	require.Eventually(t, func() bool {
		_, ok := lastValue(t, second, "aws.connect.queue.contacts", attrs)
		return ok
	}, 60*time.Second, 200*time.Millisecond, "%s", p.Output())
	assert.Equal(t, 2.0, waiting(second), "the contacts waiting before the restart, from its first export")
	age, ok := lastValue(t, second, "aws.connect.queue.oldest_contact.age", attrs)
	require.True(t, ok)
	assert.InDelta(t, time.Since(oldest).Seconds(), age, 20, "the oldest contact has waited 10 minutes and more")
	p.Stop(t)
}
