package crashsafety

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The production shape again, with a small exporter queue so that an outage fills it,
// and the collector's own metrics served for the test to read.

// queueSize is the exporter queue's capacity, in requests: one a batch the receiver hands
// on.
const queueSize = 20

// memorySampler records a process's peak resident memory.
type memorySampler struct {
	mu   sync.Mutex
	peak int64
	stop chan struct{}
	done chan struct{}
}

func sampleMemory(pid int) *memorySampler {
	m := &memorySampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if v, ok := collectortest.ResidentMemory(pid); ok {
				m.mu.Lock()
				m.peak = max(m.peak, v)
				m.mu.Unlock()
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memorySampler) finish() int64 {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

const mib = 1 << 20

// TestExporterOutage takes the exporter's endpoint down for 30 s while events keep coming,
// and kills the collector with SIGKILL in the middle of it: every event arrives once the
// endpoint is back; while its queue is full the receiver stops reading, so memory stays
// flat; and the checkpoints never got ahead of what the pipeline accepted, or the kill
// would have lost the records between.
func TestExporterOutage(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "outage"
	srv.CreateStream(t, stream, 2)
	be := collectortest.NewBackend()
	addr, err := be.Serve("127.0.0.1:0")
	require.NoError(t, err)
	defer be.Down()

	dir := t.TempDir()
	port := kinesistest.FreePort(t)
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint, StorageDir: filepath.Join(dir, "state"),
		Receiver: map[string]any{
			"max_records_per_call": 100,
			"error_backoff":        map[string]any{"initial_interval": "100ms", "max_interval": "1s"},
		},
		Exporters: map[string]any{"otlp_grpc": collectortest.OTLPExporter(addr,
			map[string]any{"queue_size": queueSize, "batch": map[string]any{"flush_timeout": "200ms"}},
			map[string]any{"initial_interval": "100ms", "max_interval": "1s"})},
		Logs:      &collectortest.Pipeline{Exporters: []string{"otlp_grpc"}},
		Telemetry: collectortest.ServedTelemetry("detailed", port),
	}.Write(t, cfgPath)

	w := startWriter(t, srv, stream, 30, 500*time.Millisecond)
	c := collectortest.Start(t, cfgPath, kinesistest.CollectorEnv()...)
	require.Eventually(t, func() bool { return be.Events() >= 200 }, 60*time.Second, 100*time.Millisecond, "events never flowed")
	time.Sleep(2 * time.Second) // a steady state to measure memory against
	steady, ok := collectortest.ResidentMemory(c.PID())
	require.True(t, ok)

	be.Down()
	outageStart := time.Now()
	mem := sampleMemory(c.PID())
	require.Eventually(t, func() bool {
		n, ok := collectortest.Telemetry(port, "otelcol_receiver_aws_connect_batches_refused")
		return ok && n > 0
	}, 25*time.Second, 100*time.Millisecond, "the exporter queue never filled: the receiver was never refused")
	// Once refused, the receiver reads no more than the batch in hand per shard, however
	// much the writer adds.
	readAtFull, _ := collectortest.Telemetry(port, "otelcol_receiver_aws_connect_records_read")
	writtenAtFull := w.count()
	time.Sleep(8 * time.Second)
	readLater, _ := collectortest.Telemetry(port, "otelcol_receiver_aws_connect_records_read")
	writtenLater := w.count()
	require.Greater(t, writtenLater-writtenAtFull, 200, "the writer stalled: the test proves nothing")
	assert.LessOrEqual(t, readLater-readAtFull, float64(2*100), "the receiver kept reading while the pipeline refused it: %.0f records", readLater-readAtFull)
	firstPeak := mem.finish()

	// SIGKILL with the queue full and batches refused, then a start while the endpoint is
	// still down.
	c.Kill()
	c = collectortest.Start(t, cfgPath, kinesistest.CollectorEnv()...)
	mem = sampleMemory(c.PID())
	time.Sleep(time.Until(outageStart.Add(30 * time.Second)))
	_, err = be.Serve(addr)
	require.NoError(t, err)
	t.Logf("endpoint down for %s", time.Since(outageStart).Round(time.Millisecond))

	time.Sleep(3 * time.Second)
	written, _ := w.finish()
	require.Eventually(t, func() bool { return len(be.Missing(written)) == 0 }, 120*time.Second, 250*time.Millisecond,
		"%d of %d events never arrived", len(be.Missing(written)), len(written))
	secondPeak := mem.finish()
	time.Sleep(2 * time.Second) // time for a duplicate to arrive
	c.Stop(t)

	d := be.Duplicates()
	t.Logf("exporter outage: %d events written, all exported; %d redelivered after the kill, %d from two records; "+
		"with the queue full, the receiver read %.0f records while %d were written; "+
		"resident memory %d MiB before the outage, peak %d MiB during it, %d MiB after the SIGKILL and until caught up",
		len(written), d.Redelivered, d.FromRetries, readLater-readAtFull, writtenLater-writtenAtFull, steady/mib, firstPeak/mib, secondPeak/mib)
	assert.Zero(t, d.FromRetries)
	// Flat: what waits is in Kinesis and in the queue on disk, not in memory.
	assert.Less(t, firstPeak, steady+64*mib, "memory grew during the outage")
}
