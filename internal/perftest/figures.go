package perftest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
)

// Figures are what one consumer process cost to read a number of events.
type Figures struct {
	Events int
	// CPU is the consumer's CPU time (user + system) over Wall.
	CPU time.Duration
	// Wall is how long it took.
	Wall    time.Duration
	PeakRSS int64
	// PeakAnon is the largest anonymous resident memory sampled (RssAnon, every 20 ms):
	// the process's own heap and stacks, without the binary's pages and mapped files
	// (file_storage's bbolt maps its files) that PeakRSS counts too; 0 when not sampled.
	PeakAnon int64
	// Written is what the process passed to write calls (wchar): with the disk queue,
	// mostly bbolt's writes of its pages; -1 when not measured.
	Written int64
}

// WrittenKBPerEvent is Written per event in KB (1,000 bytes), or -1 when not measured.
func (f Figures) WrittenKBPerEvent() float64 {
	if f.Written < 0 {
		return -1
	}
	return float64(f.Written) / 1000 / float64(max(1, f.Events))
}

// CPUPerEvent is CPU time per event in microseconds.
func (f Figures) CPUPerEvent() float64 {
	return float64(f.CPU.Microseconds()) / float64(max(1, f.Events))
}

// EventsPerSecond is events per second of wall time.
func (f Figures) EventsPerSecond() float64 { return float64(f.Events) / f.Wall.Seconds() }

// EventsPerCPUSecond is events per second of CPU time: per core.
func (f Figures) EventsPerCPUSecond() float64 { return float64(f.Events) / f.CPU.Seconds() }

// PeakRSSMiB is the peak resident memory in MiB.
func (f Figures) PeakRSSMiB() float64 { return float64(f.PeakRSS) / (1 << 20) }

// PeakAnonMiB is the peak anonymous resident memory in MiB.
func (f Figures) PeakAnonMiB() float64 { return float64(f.PeakAnon) / (1 << 20) }

// ReadBacklog runs the collector binary bin with cfg, a config that takes its OTLP/gRPC
// endpoint from DD_AGENT_OTLP_ENDPOINT as config/datadog-agent.yaml does, over the whole
// backlog into an in-process OTLP backend that takes requests of any size. Its figures
// are the whole process's (start included), read once every event arrived.
func ReadBacklog(t testing.TB, bl *Backlog, bin, cfg string) Figures {
	return ReadBacklogWith(t, bl, bin, cfg, ReadOptions{})
}

// ReadOptions change how ReadBacklogWith runs the collector.
type ReadOptions struct {
	// Overlay is YAML merged over the config.
	Overlay string
	// Env is more of the collector's environment, e.g. GOMEMLIMIT=40MiB.
	Env []string
	// EnhancedFanOut reads the backlog through enhanced fan-out: an efotest server in
	// front of the backlog's kinesis-local, every receiver pointed at it with
	// enhanced_fan_out on. The run fails unless the server saw no breach of the protocol
	// and its subscriptions pushed at least the whole backlog, so that the figures are
	// of reading through SubscribeToShard, not of polling.
	//
	// The server (its HTTP/2 and event-stream encoding, its own GetRecords calls to
	// kinesis-local) runs in the calling process, not the collector's: the figures,
	// read from the collector's /proc, are the collector's cost alone, as kinesis-local's
	// is left out of a polling run's. Its options are the defaults: MaxRecordsPerEvent
	// left 0, so each answer of its GetRecords polling of the backend is pushed as one
	// event.
	EnhancedFanOut bool
}

// ReadBacklogWith is ReadBacklog with opts.
func ReadBacklogWith(t testing.TB, bl *Backlog, bin, cfg string, opts ReadOptions) Figures {
	t.Helper()
	be := collectortest.NewBackend()
	be.MaxRecvMsgSize = 1 << 30
	addr, err := be.Serve("127.0.0.1:0")
	require.NoError(t, err)
	defer be.Down()
	spec := CollectorSpec{
		Binary: bin, Config: cfg, Overlay: opts.Overlay, Endpoint: bl.Server.Endpoint, Stream: bl.Stream,
		Env: append([]string{"DD_AGENT_OTLP_ENDPOINT=" + addr}, opts.Env...),
	}
	var efo *efotest.Server
	if opts.EnhancedFanOut {
		efo = efotest.Start(t, efotest.Options{Backend: bl.Server.Endpoint})
		spec.Endpoint, spec.EnhancedFanOut = efo.URL, true
		spec.CAFile, err = efo.WriteCAFile(t.TempDir())
		require.NoError(t, err)
	}
	c := StartCollector(t, spec)
	anon := WatchAnon(c.Proc.PID())
	deadline := time.Now().Add(15 * time.Minute)
	for be.Events() < len(bl.IDs) && time.Now().Before(deadline) {
		select {
		case <-c.Proc.Exited:
			t.Fatal("the collector exited")
		case <-time.After(200 * time.Millisecond):
		}
	}
	took := time.Since(c.Started)
	use, ok := Sample(c.Proc.PID())
	require.True(t, ok, "read /proc of the collector")
	peakAnon := anon.Stop()
	c.Proc.Stop(t)
	require.Empty(t, be.Missing(bl.IDs), "events missing after %s", took)
	if efo != nil {
		require.Empty(t, efo.Violations(), "enhanced fan-out protocol breaches")
		subs := efo.Subscriptions()
		pushed, events := 0, 0
		for _, sub := range subs {
			pushed += sub.Records
			events += sub.Events
		}
		t.Logf("enhanced fan-out: %d subscriptions pushed %d records in %d events", len(subs), pushed, events)
		require.GreaterOrEqual(t, pushed, len(bl.IDs), "records pushed through subscriptions: the rest were polled")
	}
	return Figures{Events: len(bl.IDs), CPU: use.CPU, Wall: took, PeakRSS: use.PeakRSS, PeakAnon: peakAnon, Written: use.Written}
}

// ReadBacklogBare runs the bare loop over the whole backlog; its figures are the whole
// process's, from its rusage.
func ReadBacklogBare(t testing.TB, bl *Backlog) Figures {
	t.Helper()
	r := StartBareLoop(t, bl.Server.Endpoint, bl.Stream, len(bl.IDs), false)
	res, use, took := r.Wait(t)
	require.GreaterOrEqual(t, res.Records, int64(len(bl.IDs)), "the bare loop read fewer records than written")
	return Figures{Events: int(res.Records), CPU: use.CPU, Wall: took, PeakRSS: use.PeakRSS, Written: use.Written}
}
