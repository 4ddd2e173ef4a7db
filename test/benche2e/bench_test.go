// Package benche2e measures whole processes reading agent events, end to end, in one run
// (`make bench-e2e`): the built collector and the bare SDK loop (test/bareloop) on a
// backlog in kinesis-local (the collector polling, and through enhanced fan-out behind
// internal/efotest), then on the in-process fast Kinesis (internal/fastkinesis) at 1, 8,
// 64 and 256 shards with the consumer on one core. It prints figures, never asserts a
// speed: any build can be measured (OTELCOL_BINARY, or BACKLOG_BINARIES to compare
// several).
package benche2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fastkinesis"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
)

const stream = "connect-agent-events"

// shardCounts are the fast server's shard counts; every count serves the same total of
// events (E2E_FAST_EVENTS), split evenly, so runs take about as long at each.
var shardCounts = []int{1, 8, 64, 256}

// Kinesis's read limit: 2 MB/s a shard, about 770 events/s of the 2.6 KB; 40
// shards at that rate is the goal for one core.
const (
	shardReadBytesPerSecond = 2_000_000
	goalShards              = 40
	goalEventBytes          = 2600
)

// BenchmarkEndToEnd runs every measurement and prints a summary table, in markdown, at
// the end. Run it with `make bench-e2e`, or
//
//	OTELCOL_BINARY=$PWD/_build/otelcol-amazonconnect go test -run '^$' -bench BenchmarkEndToEnd -benchtime 1x -timeout 30m ./test/benche2e
//
// E2E_BACKLOG_EVENTS (default 20,000) sizes the kinesis-local backlog, E2E_FAST_EVENTS
// (default 32,000) the fast server's total. E2E_PPROF_DIR saves a CPU profile of each
// collector run there, on kinesis-local and on the fast server; E2E_HEAP_DIR, heap
// profiles every 2 s. E2E_COLLECTOR_ENV adds variables to each collector's environment.
func BenchmarkEndToEnd(b *testing.B) {
	bins := perftest.Binaries(b)
	root := collectortest.RepoRoot(b)
	productionConfig := filepath.Join(root, "config", "datadog-agent.yaml")
	debugConfig, err := filepath.Abs(filepath.Join("testdata", "fast-debug.yaml"))
	require.NoError(b, err)
	sum := &summary{started: time.Now().UTC()}

	b.Run("kinesis-local", func(b *testing.B) {
		bl := perftest.WriteBacklog(b, stream, 2, perftest.EnvInt(b, "E2E_BACKLOG_EVENTS", 20_000))
		sum.backlogMean, sum.backlogMix = bl.MeanBytes(), bl.Mix()
		source := fmt.Sprintf("kinesis-local, %d-event backlog", len(bl.IDs))
		for _, bin := range bins {
			b.Run("collector-otlp-disk-queue/"+filepath.Base(bin), func(b *testing.B) {
				f := perftest.ReadBacklogWith(b, bl, bin, productionConfig, perftest.ReadOptions{Env: collectorEnv(), Overlay: profile(b, "kinesis-local-disk-queue", 2, bin, productionExtensions...)})
				sum.add(b, row{source: source, shards: 2, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml (OTLP, disk queue in `queue_storage`)", f: f})
			})
			b.Run("collector-otlp-disk-queue-file-storage/"+filepath.Base(bin), func(b *testing.B) {
				f := perftest.ReadBacklogWith(b, bl, bin, productionConfig, perftest.ReadOptions{Env: collectorEnv(), Overlay: queueOnFileStorage + profile(b, "kinesis-local-disk-queue-file-storage", 2, bin, productionExtensions...)})
				sum.add(b, row{source: source, shards: 2, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml with the queue in `file_storage` (OTLP, disk queue)", f: f})
			})
			b.Run("collector-otlp-disk-queue-map-body/"+filepath.Base(bin), func(b *testing.B) {
				f := perftest.ReadBacklogWith(b, bl, bin, productionConfig, perftest.ReadOptions{Env: collectorEnv(), Overlay: mapBodies + profile(b, "kinesis-local-disk-queue-map-body", 2, bin, productionExtensions...)})
				sum.add(b, row{source: source, shards: 2, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml with `log_body: map` (OTLP, disk queue)", f: f})
			})
			b.Run("collector-otlp-kinesis-buffer/"+filepath.Base(bin), func(b *testing.B) {
				f := perftest.ReadBacklogWith(b, bl, bin, productionConfig, perftest.ReadOptions{Env: collectorEnv(), Overlay: kinesisAsBuffer + profile(b, "kinesis-local-kinesis-buffer", 2, bin, productionExtensions...)})
				sum.add(b, row{source: source, shards: 2, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml with the queue in memory (Kinesis as the buffer)", f: f})
			})
			// The same through enhanced fan-out: an efotest server in front of the backlog
			// pushes it over SubscribeToShard. The server runs in this process, so the
			// row is the collector's cost alone (see perftest.ReadOptions).
			b.Run("collector-otlp-kinesis-buffer-efo/"+filepath.Base(bin), func(b *testing.B) {
				f := perftest.ReadBacklogWith(b, bl, bin, productionConfig, perftest.ReadOptions{Env: collectorEnv(), Overlay: kinesisAsBuffer + profile(b, "kinesis-local-kinesis-buffer-efo", 2, bin, productionExtensions...), EnhancedFanOut: true})
				sum.add(b, row{source: source, shards: 2, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml with the queue in memory, enhanced fan-out (SubscribeToShard)", f: f})
			})
		}
		b.Run("bare-sdk-loop", func(b *testing.B) {
			f := perftest.ReadBacklogBare(b, bl)
			sum.add(b, row{source: source, shards: 2, consumer: "bare SDK loop", f: f})
		})
	})

	total := perftest.EnvInt(b, "E2E_FAST_EVENTS", 32_000)
	events := perftest.Simulate(b, total)
	sum.fastMean = events.MeanBytes()
	oneCore := perftest.CanPin()
	if oneCore {
		// The fast server and the OTLP sink live in this process: keep it off the
		// consumer's core.
		perftest.PinOffConsumerCore(b)
	}
	sum.oneCore = oneCore
	for _, shards := range shardCounts {
		perShard := (total + shards - 1) / shards
		recs := make([]fastkinesis.Record, perShard)
		for i := range recs {
			recs[i] = fastkinesis.Record{PartitionKey: events.Keys[i], Data: events.Data[i]}
		}
		source := fmt.Sprintf("fast server, %d a shard", perShard)
		b.Run(fmt.Sprintf("fast-%d-shards", shards), func(b *testing.B) {
			for _, bin := range bins {
				b.Run("collector-debug/"+filepath.Base(bin), func(b *testing.B) {
					f := fastRun(b, recs, shards, func(srv *fastkinesis.Server, m *firstRead) func() perftest.Usage {
						c := perftest.StartCollector(b, perftest.CollectorSpec{Binary: bin, Config: debugConfig, Overlay: profile(b, "debug", shards, bin, "file_storage"),
							Endpoint: srv.Endpoint, Stream: stream, OneCore: oneCore, Env: collectorEnv()})
						m.pid.Store(int64(c.Proc.PID()))
						want := shards * perShard
						// The collector's own metrics are asked for only once every record was
						// served: each scrape costs the core being measured.
						return waitCollector(b, c, func() int {
							if srv.Served() < int64(want) {
								return 0
							}
							return int(c.Telemetry("otelcol_exporter_sent_log_records"))
						}, want)
					})
					sum.add(b, row{source: source, shards: shards, consumer: "collector" + label(bins, bin) + ", logs to debug (basic)", f: f, fast: true, debug: true})
				})
				b.Run("collector-otlp-disk-queue/"+filepath.Base(bin), func(b *testing.B) {
					f := fastRun(b, recs, shards, func(srv *fastkinesis.Server, m *firstRead) func() perftest.Usage {
						be := collectortest.NewBackend()
						be.MaxRecvMsgSize = 1 << 30
						addr, err := be.Serve("127.0.0.1:0")
						require.NoError(b, err)
						b.Cleanup(be.Down)
						c := perftest.StartCollector(b, perftest.CollectorSpec{Binary: bin, Config: productionConfig, Overlay: profile(b, "otlp", shards, bin, productionExtensions...),
							Endpoint: srv.Endpoint, Stream: stream, OneCore: oneCore, Env: append(collectorEnv(), "DD_AGENT_OTLP_ENDPOINT="+addr)})
						m.pid.Store(int64(c.Proc.PID()))
						return waitCollector(b, c, be.Received, shards*perShard)
					})
					sum.add(b, row{source: source, shards: shards, consumer: "collector" + label(bins, bin) + ", datadog-agent.yaml (OTLP, disk queue in `queue_storage`)", f: f, fast: true})
				})
			}
			b.Run("bare-sdk-loop", func(b *testing.B) {
				f := fastRun(b, recs, shards, func(srv *fastkinesis.Server, m *firstRead) func() perftest.Usage {
					r := perftest.StartBareLoop(b, srv.Endpoint, stream, 0, oneCore)
					m.pid.Store(int64(r.PID()))
					return func() perftest.Usage {
						res, use, _ := r.Wait(b)
						require.Equal(b, int64(shards*perShard), res.Records)
						return use
					}
				})
				sum.add(b, row{source: source, shards: shards, consumer: "bare SDK loop", f: f, fast: true})
			})
		})
	}
	sum.print(os.Stdout)
	dir := filepath.Join(root, ".tmp", "bench-e2e")
	require.NoError(b, os.MkdirAll(dir, 0o755))
	out, err := os.Create(filepath.Join(dir, "summary.md"))
	require.NoError(b, err)
	defer out.Close()
	sum.print(out)
	fmt.Printf("(also in %s)\n", out.Name())
}

// firstRead is the moment the consumer started reading in earnest: the fast server's
// first answer of more than one record, and the consumer's usage then.
type firstRead struct {
	pid   atomic.Int64
	mu    sync.Mutex
	at    time.Time
	usage perftest.Usage
}

func (m *firstRead) hit() {
	// The consumer's PID is stored right after it starts, long before it reads.
	for deadline := time.Now().Add(time.Second); m.pid.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	use, _ := perftest.Sample(int(m.pid.Load()))
	m.mu.Lock()
	m.at, m.usage = time.Now(), use
	m.mu.Unlock()
}

// fastRun serves recs on shards and runs one consumer (start starts it and returns a
// function that waits until it has every event and says what it cost). Its figures run
// from the consumer's first read to its last event: the start of the process (config,
// access check, listing) is left out.
func fastRun(b *testing.B, recs []fastkinesis.Record, shards int, start func(srv *fastkinesis.Server, m *firstRead) func() perftest.Usage) perftest.Figures {
	m := &firstRead{}
	srv, err := fastkinesis.Start(fastkinesis.Options{Stream: stream, Shards: shards, Records: recs, OnFirstRecords: m.hit})
	require.NoError(b, err)
	defer srv.Close()
	wait := start(srv, m)
	anon := perftest.WatchAnon(int(m.pid.Load()))
	end := wait()
	done := time.Now()
	peakAnon := anon.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.False(b, m.at.IsZero(), "the consumer never read")
	written := int64(-1)
	if end.Written >= 0 && m.usage.Written >= 0 {
		written = end.Written - m.usage.Written
	}
	return perftest.Figures{Events: shards * len(recs), CPU: end.CPU - m.usage.CPU, Wall: done.Sub(m.at), PeakRSS: end.PeakRSS, PeakAnon: peakAnon, Written: written}
}

// kinesisAsBuffer turns datadog-agent.yaml's disk queue into config/kubernetes-fleet.yaml's
// shape: the queue in memory, and the receiver waiting for each export's result, so that a
// checkpoint moves only once the backend has the data and the stream itself is the buffer.
// The difference from the disk queue's row is what the disk queue costs.
const kinesisAsBuffer = `
exporters:
  otlp_grpc/datadog-agent:
    sending_queue:
      storage: null
      wait_for_result: true
      sizer: requests
      queue_size: 1000
`

// queueOnFileStorage keeps datadog-agent.yaml's disk queue in file_storage (bbolt), as
// the configs did before queue_storage: what the storage built for the queue saves.
const queueOnFileStorage = `
exporters:
  otlp_grpc/datadog-agent:
    sending_queue:
      storage: file_storage
`

// mapBodies gives datadog-agent.yaml's receivers structured map bodies, the receiver's
// default, instead of the JSON text the config asks for: what the text saves.
const mapBodies = `
receivers:
  aws_connect:
    log_body: map
  aws_connect/contacts:
    log_body: map
  aws_connect/ctr:
    log_body: map
`

// productionExtensions are config/datadog-agent.yaml's service::extensions.
var productionExtensions = []string{"health_check", "file_storage", "queue_storage"}

// collectorEnv is E2E_COLLECTOR_ENV's variables (NAME=value, space-separated), given to
// each collector run and to no other process: GOMEMLIMIT=40MiB, say.
func collectorEnv() []string { return strings.Fields(os.Getenv("E2E_COLLECTOR_ENV")) }

// profile is an overlay with the pprof extension, or nothing if neither E2E_PPROF_DIR
// nor E2E_HEAP_DIR is set. With E2E_PPROF_DIR it saves a CPU profile of the whole run,
// start included (save_to_file); with E2E_HEAP_DIR, a heap profile is fetched from it
// every 2 s until the run ends. extensions are the config's own: an overlay's list
// replaces the config's.
func profile(b *testing.B, variant string, shards int, bin string, extensions ...string) string {
	cpuDir, heapDir := os.Getenv("E2E_PPROF_DIR"), os.Getenv("E2E_HEAP_DIR")
	if cpuDir == "" && heapDir == "" {
		return ""
	}
	name := fmt.Sprintf("%s-%s-%d-shards", filepath.Base(bin), variant, shards)
	endpoint, save := "127.0.0.1:0", ""
	if cpuDir != "" {
		file := filepath.Join(absDir(b, cpuDir), name+".pprof")
		b.Logf("CPU profile: %s", file)
		save = "\n    save_to_file: " + file
	}
	if heapDir != "" {
		endpoint = fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(b))
		prefix := filepath.Join(absDir(b, heapDir), name+"-heap-")
		b.Logf("heap profiles: %s*.pprof", prefix)
		sampleHeap(b, "http://"+endpoint+"/debug/pprof/heap", prefix)
	}
	return fmt.Sprintf(`
extensions:
  pprof:
    endpoint: %s%s
service:
  extensions: [%s, pprof]
`, endpoint, save, strings.Join(extensions, ", "))
}

func absDir(b *testing.B, dir string) string {
	dir, err := filepath.Abs(dir)
	require.NoError(b, err)
	require.NoError(b, os.MkdirAll(dir, 0o755))
	return dir
}

// sampleHeap saves the heap profile at url to prefix + a number, every 2 s, until the
// benchmark ends. A fetch that fails (the collector not yet up, or gone) is skipped.
func sampleHeap(b *testing.B, url, prefix string) {
	stop := make(chan struct{})
	done := make(chan struct{})
	b.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		for i := 0; ; {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
			resp, err := http.Get(url) //nolint:gosec,noctx // a local benchmark's own endpoint
			if err != nil {
				continue
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				_ = os.WriteFile(fmt.Sprintf("%s%03d.pprof", prefix, i), data, 0o644)
				i++
			}
		}
	}()
}

// waitCollector returns a wait until delivered() reaches want, which then reads the
// collector's usage and stops it.
func waitCollector(b *testing.B, c *perftest.Collector, delivered func() int, want int) func() perftest.Usage {
	return func() perftest.Usage {
		deadline := time.Now().Add(10 * time.Minute)
		for delivered() < want {
			require.True(b, time.Now().Before(deadline), "%d of %d events delivered", delivered(), want)
			select {
			case <-c.Proc.Exited:
				b.Fatal("the collector exited")
			case <-time.After(50 * time.Millisecond):
			}
		}
		use, ok := perftest.Sample(c.Proc.PID())
		require.True(b, ok, "read /proc of the collector")
		c.Proc.Stop(b)
		return use
	}
}

type row struct {
	source   string
	shards   int
	consumer string
	f        perftest.Figures
	fast     bool
	debug    bool
}

type summary struct {
	started     time.Time
	backlogMean int
	backlogMix  string
	fastMean    int
	oneCore     bool
	mu          sync.Mutex
	rows        []row
}

func (s *summary) add(b *testing.B, r row) {
	f := r.f
	b.ReportMetric(f.CPUPerEvent(), "cpu-µs/event")
	b.ReportMetric(f.EventsPerSecond(), "events/s")
	b.ReportMetric(f.EventsPerCPUSecond(), "events/cpu-s")
	b.ReportMetric(f.PeakRSSMiB(), "peak-RSS-MiB")
	if kb := f.WrittenKBPerEvent(); kb >= 0 {
		b.ReportMetric(kb, "written-KB/event")
	}
	b.Logf("%s, %s: %d events, CPU %s, wall %s, peak RSS %.1f MiB", r.source, r.consumer, f.Events, f.CPU, f.Wall.Round(time.Millisecond), f.PeakRSSMiB())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, r)
}

func (s *summary) print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "\n## End to end, %s, %d cores (nproc)%s\n\n", s.started.Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "Events: the simulator's (100 agents); backlog mean %d B, fast server mean %d B. Mix: %s.\n", s.backlogMean, s.fastMean, s.backlogMix)
	fmt.Fprintln(w, "kinesis-local rows: the whole process (start included), every core; fast-server rows: from the first read to the last event,")
	if s.oneCore {
		fmt.Fprintf(w, "the consumer on one core (taskset -c %d, GOMAXPROCS=1), the server and the OTLP sink on the others.\n", perftest.ConsumerCore)
	} else {
		fmt.Fprintln(w, "NOT on one core: this machine has a single core, shared by the consumer, the server and the sink.")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| source | shards | consumer | events | CPU µs/event | events/s (wall) | events/CPU-s (per core) | peak RSS MiB | peak anon MiB | written KB/event |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range s.rows {
		f := r.f
		anon := "–"
		if f.PeakAnon > 0 {
			anon = fmt.Sprintf("%.1f", f.PeakAnonMiB())
		}
		written := "–"
		if kb := f.WrittenKBPerEvent(); kb >= 0 {
			written = fmt.Sprintf("%.1f", kb)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %d | %.1f | %.0f | %.0f | %.1f | %s | %s |\n", r.source, r.shards, r.consumer, f.Events, f.CPUPerEvent(), f.EventsPerSecond(), f.EventsPerCPUSecond(), f.PeakRSSMiB(), anon, written)
	}
	fmt.Fprintln(w, "\nPeak RSS is VmHWM: it counts the binary's own pages (about 40 MiB of a collector's at start) and files mapped, as file_storage maps its bbolt files. Peak anon is RssAnon sampled every 20 ms: the heap and stacks alone. Written is what the process passed to write calls (wchar of /proc/PID/io): the OTLP requests to the sink, its logs and, with the disk queue, the queue's writes (queue_storage's records, or bbolt's pages in the file_storage row).")
	perShard := float64(shardReadBytesPerSecond) / goalEventBytes
	goal := goalShards * perShard
	fmt.Fprintf(w, "\nKinesis serves a shard's readers 2 MB/s: %.0f events/s of %d B (%.0f of this run's %d B). %d shards at that rate = %.0f events/s of %d B.\n",
		perShard, goalEventBytes, float64(shardReadBytesPerSecond)/float64(max(1, s.fastMean)), s.fastMean, goalShards, goal, goalEventBytes)
	for _, r := range s.rows {
		if !r.debug {
			continue
		}
		rate := r.f.EventsPerSecond()
		if r.shards < goalShards {
			// A shard is read at most every 250 ms while behind (4,000 events/s with
			// calls of 1,000): with few shards that can bound the rate before the core.
			fmt.Fprintf(w, "- %s, %d shards, one core: %.0f events/s (fewer shards than %d: each shard read at most every 250 ms can bound this before the core does)\n",
				r.consumer, r.shards, rate, goalShards)
			continue
		}
		// What one core sustains is events per CPU-second while reading is CPU-bound,
		// as it is with this many shards; wall time also counts whatever else ran on
		// the core (the machine may be shared).
		perCore := r.f.EventsPerCPUSecond()
		verdict := "keeps up"
		if perCore < goal {
			verdict = "does NOT keep up"
		}
		// Kinesis limits a shard's reads in bytes: in this run's larger events, what one
		// core keeps up with is the bytes it reads a second over 2 MB/s.
		byBytes := perCore * float64(s.fastMean) / shardReadBytesPerSecond
		fmt.Fprintf(w, "- %s, %d shards, one core: %.0f events per CPU-second = %.0f shards of %d B events at the full read rate: %s with %d (goal %.0f events/s); in bytes, %.0f shards at 2 MB/s of this run's %d B events; %.0f events/s of wall time\n",
			r.consumer, r.shards, perCore, perCore/perShard, goalEventBytes, verdict, goalShards, goal, byBytes, s.fastMean, rate)
	}
}

// cpuModel is the processor's name, from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
			return ", " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return ""
}

// label names a binary in the table when several are compared.
func label(bins []string, bin string) string {
	if len(bins) == 1 {
		return ""
	}
	return " (" + bin + ")"
}
