// Package crashsafety puts the built collector through what production does to it while
// agent events are written: SIGKILL again and again (some events written twice, as a
// producer retrying a write does), and an exporter endpoint that is down for 30 s. Every
// event must be exported in the end; the tests report how many twice.
package crashsafety

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The production-safe shape: no batch processor; the exporter batches in a queue kept in
// queue_storage and never gives up.

// TestCollectorSurvivesSIGKILL runs the crash test with duplicate removal off, then on:
// every event arrives either way; with it on, no event arrives from two records.
func TestCollectorSurvivesSIGKILL(t *testing.T) {
	srv := kinesistest.Start(t)
	var off, on collectortest.Duplicates
	t.Run("deduplication_off", func(t *testing.T) {
		var retried []string
		off, retried = crashRun(t, srv, "crash-off", false)
		require.Positive(t, off.FromRetries, "the writer retried %d events, and none arrived twice: the test proves nothing", len(retried))
	})
	t.Run("deduplication_on", func(t *testing.T) {
		on, _ = crashRun(t, srv, "crash-on", true)
		assert.Zero(t, on.FromRetries, "events the producer wrote twice were exported twice")
	})
	t.Logf("duplicates exported: deduplication off: %d from the producer's retries, %d redelivered after kills; on: %d and %d",
		off.FromRetries, off.Redelivered, on.FromRetries, on.Redelivered)
}

// crashRun writes simulator events, every fourth batch also writing again some events of
// the one before (a producer that lost PutRecords' answer and retried), while killing
// the collector at random; it returns the duplicates the backend received, and the
// EventIds written twice.
func crashRun(t *testing.T, srv *kinesistest.Server, stream string, dedup bool) (collectortest.Duplicates, []string) {
	srv.CreateStream(t, stream, 2)

	be := collectortest.NewBackend()
	addr, err := be.Serve("127.0.0.1:0")
	require.NoError(t, err)
	defer be.Down()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint, StorageDir: filepath.Join(dir, "state"),
		Receiver: map[string]any{"deduplication": map[string]any{"enabled": dedup}},
		Exporters: map[string]any{"otlp_grpc": collectortest.OTLPExporter(addr,
			map[string]any{"batch": map[string]any{"flush_timeout": "200ms"}}, nil)},
		Logs: &collectortest.Pipeline{Exporters: []string{"otlp_grpc"}},
	}.Write(t, cfgPath)

	// The simulator's events, written in small batches while the collector is killed.
	w := newWriter(1200, 4)
	w.start(t, srv, stream, 60, 300*time.Millisecond)

	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill schedule seed %d", seed)
	c := collectortest.Start(t, cfgPath, kinesistest.CollectorEnv()...)
	kills := 0
	for done := false; !done || kills < 4; {
		time.Sleep(time.Duration(1500+rnd.IntN(2500)) * time.Millisecond)
		c.Kill()
		kills++
		c = collectortest.Start(t, cfgPath, kinesistest.CollectorEnv()...)
		select {
		case <-w.done:
			done = true
		default:
		}
	}

	all, twice := w.finish()
	ok := false
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if len(be.Missing(all)) == 0 {
			ok = true
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Time for a duplicate to arrive, were one let through.
	time.Sleep(2 * time.Second)
	c.Stop(t)

	if !ok {
		missing := be.Missing(all)
		t.Fatalf("%d of %d events never arrived, e.g. %v\nlast collector run:\n%s", len(missing), len(all), missing[:min(5, len(missing))], c.Output())
	}
	d := be.Duplicates()
	t.Logf("deduplication %t: %d events written (%d of them twice), %d records received, %d duplicates from the producer's retries, %d redelivered, after %d SIGKILLs",
		dedup, len(all), len(twice), be.Received(), d.FromRetries, d.Redelivered, kills)
	return d, twice
}
