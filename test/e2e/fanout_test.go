package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The built collector reads through enhanced fan-out, from the efotest server in front of
// kinesis-local: every event exactly once, through subscriptions that Kinesis ends every
// 2 s, a dropped connection, a malformed frame and a restart, which finds the consumer
// registered by the first run.
func TestCollectorBinaryReadsThroughEnhancedFanOut(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "connect-agent-events"
	srv.CreateStream(t, stream, 2)
	efo := efotest.Start(t, efotest.Options{
		Backend: srv.Endpoint, SubscriptionLifetime: 2 * time.Second, MaxRecordsPerEvent: 50, Linger: 200 * time.Millisecond,
	})
	dir := t.TempDir()
	ca, err := efo.WriteCAFile(dir)
	require.NoError(t, err)
	config := func(out string) collectortest.Config {
		return collectortest.Config{
			Stream: stream, Endpoint: efo.URL, StorageDir: filepath.Join(dir, "state"),
			Receiver: map[string]any{
				"tls":              map[string]any{"ca_file": ca},
				"enhanced_fan_out": map[string]any{"enabled": true},
			},
			Exporters: map[string]any{"file": collectortest.FileExporter(out)},
			Logs:      &collectortest.Pipeline{Exporters: []string{"file"}},
		}
	}

	keys, firstIDs, data := events(t, "efo-first", 800)
	srv.Put(t, stream, keys, data)
	efo.DropAfter(3)
	efo.CorruptAfter(5)
	out1 := filepath.Join(dir, "out1.json")
	c := runCollector(t, dir, config(out1))
	require.Eventually(t, func() bool { return len(eventIDs(readLogs(t, out1))) >= len(firstIDs) }, 90*time.Second, 200*time.Millisecond,
		"the collector did not write every event of the first run")
	// Past a renewal or two with nothing to read.
	time.Sleep(3 * time.Second)
	c.Stop(t)
	assert.Contains(t, c.Output(), "Reading the stream through enhanced fan-out")

	keys, secondIDs, data := events(t, "efo-second", 800)
	srv.Put(t, stream, keys, data)
	out2 := filepath.Join(dir, "out2.json")
	c = runCollector(t, dir, config(out2))
	require.Eventually(t, func() bool { return len(eventIDs(readLogs(t, out2))) >= len(secondIDs) }, 90*time.Second, 200*time.Millisecond,
		"the collector did not write every event of the second run")
	time.Sleep(time.Second)
	c.Stop(t)

	first, second := eventIDs(readLogs(t, out1)), eventIDs(readLogs(t, out2))
	for _, id := range firstIDs {
		assert.Equal(t, 1, first[id]+second[id], "event %s", id)
	}
	for _, id := range secondIDs {
		assert.Equal(t, 1, first[id]+second[id], "event %s", id)
	}
	assert.Len(t, first, len(firstIDs), "events written that were never put")
	assert.Len(t, second, len(secondIDs), "events written that were never put")

	assert.Equal(t, 1, efo.Registers(), "the restart uses the registration of the first run")
	assert.Empty(t, efo.Violations())
	pushed := 0
	ends := map[efotest.End]int{}
	for _, s := range efo.Subscriptions() {
		pushed += s.Records
		ends[s.End]++
	}
	assert.GreaterOrEqual(t, pushed, len(firstIDs)+len(secondIDs), "events were read by other means than subscriptions")
	for _, end := range []efotest.End{efotest.EndLifetime, efotest.EndDropped, efotest.EndCorrupt} {
		assert.Positive(t, ends[end], "no subscription ended %s: %v", end, ends)
	}
	assert.False(t, strings.Contains(c.Output(), "panic"), c.Output())
}
