// Command soak runs the contact-center simulator and the built collector at a high rate
// for a while, against kinesis-local and an OTLP backend in this process, and reports
// the collector's memory over time, which must stay flat, and whether every event
// written was exported.
//
//	go run ./test/soak --duration 10m        # what `make soak DURATION=10m` runs
//	go run ./test/soak --duration 10m --collectors 3 --kill-every 1m   # make soak FLEET=1
//
// It exits 1 if memory grew or an event is missing. The report is also written to
// .tmp/soak/report.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The production shape of the README: checkpoints in file_storage, the exporter queue in
// queue_storage, the memory limiter, logs and metrics to one OTLP backend.

const mib = 1 << 20

type options struct {
	duration, every, warmup time.Duration
	agents                  int
	speed                   float64
	shiftStagger            time.Duration
	shards                  int
	binary, out             string
	// Fleet mode: collectors sharing the stream through leases, one killed every killEvery.
	collectors                   int
	killEvery                    time.Duration
	signal                       string
	leaseDuration, renewInterval time.Duration
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the simulator writes")
	flag.DurationVar(&o.every, "every", 0, "how often to sample the collector (default: duration/20, at least 5s)")
	flag.DurationVar(&o.warmup, "warmup", 0, "samples before this are not judged (default: duration/5)")
	flag.IntVar(&o.agents, "agents", 2000, "simulated agents")
	flag.Float64Var(&o.speed, "speed", 5, "virtual time per real time; 2,000 agents at 5 wrote 68 events a second on average over 10 minutes against kinesis-local")
	flag.DurationVar(&o.shiftStagger, "shift-stagger", 2*time.Minute, "the agents' first logins are spread over this much virtual time")
	flag.IntVar(&o.shards, "shards", 2, "shards of the stream")
	flag.StringVar(&o.binary, "collector", "_build/otelcol-amazonconnect", "the collector binary (make build)")
	flag.StringVar(&o.out, "out", ".tmp/soak", "where the state, logs and report go")
	flag.IntVar(&o.collectors, "collectors", 1, "collectors; more than 1 runs the fleet mode: leases in a table on dynalite, and a SIGKILL every --kill-every")
	flag.DurationVar(&o.killEvery, "kill-every", time.Minute, "fleet mode: SIGKILL one collector, in turn, this often and start it again (0: never)")
	flag.StringVar(&o.signal, "signal", "kill", "fleet mode: how a collector is stopped: kill (SIGKILL), term (SIGTERM) or alternate")
	flag.DurationVar(&o.leaseDuration, "lease-duration", 10*time.Second, "fleet mode: the leases' lease_duration")
	flag.DurationVar(&o.renewInterval, "renew-interval", 3*time.Second, "fleet mode: the leases' renew_interval")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.collectors > 1 && !set["shards"] {
		o.shards = 4 // every collector of three holds at least one
	}
	if o.collectors > 1 && !set["agents"] {
		// Each restart replays 150 s of its shards to rebuild the gauges, on the same
		// kinesis-local the simulator writes to: 2,000 agents starved the writer there.
		o.agents = 1000
	}
	if o.every <= 0 {
		o.every = max(o.duration/20, 5*time.Second)
	}
	if o.warmup <= 0 {
		o.warmup = o.duration / 5
	}
	if o.signal != "kill" && o.signal != "term" && o.signal != "alternate" {
		fmt.Fprintf(os.Stderr, "soak: --signal %q: want kill, term or alternate\n", o.signal)
		os.Exit(2)
	}
	runner := run
	if o.collectors > 1 {
		runner = runFleet
	}
	if err := runner(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// stream is the stream the simulator writes and the collectors read.
const stream = "soak"

// prepare checks the collector is built, empties the output directory, and starts
// kinesis-local there with the stream of o.shards shards.
func prepare(o options) (*kinesistest.Server, error) {
	if _, err := os.Stat(o.binary); err != nil {
		return nil, fmt.Errorf("no collector at %s (%v): run make build", o.binary, err)
	}
	if err := os.RemoveAll(o.out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	srv, err := kinesistest.Launch(".", o.out)
	if err != nil {
		return nil, err
	}
	if err := srv.NewStream(stream, int32(o.shards)); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// simulator is o's contact center, writing to the stream through a sink that keeps the
// EventIds written.
func simulator(o options, srv *kinesistest.Server) (*connectsim.Simulator, *idSink, error) {
	sink, err := connectsim.NewKinesisSink(context.Background(), srv.Client, connectsim.KinesisOptions{Stream: stream})
	if err != nil {
		return nil, nil, err
	}
	simCfg := connectsim.DefaultConfig()
	simCfg.Agents = o.agents
	simCfg.ShiftStagger = o.shiftStagger
	sim, err := connectsim.New(simCfg, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return sim, &idSink{Sink: sink}, nil
}

// sample is one look at the collector.
type sample struct {
	at                      time.Duration
	rss, heap               float64
	written, read, exported int64
	duplicates              int64   // dropped by the receiver: the stream carried them twice
	lagMillis               float64 // behind the tip of the stream, all shards together
}

func run(o options) error {
	srv, err := prepare(o)
	if err != nil {
		return err
	}
	defer srv.Stop()
	be := collectortest.NewBackend()
	addr, err := be.Serve("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer be.Down()

	port, err := kinesistest.PickFreePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(o.out, "config.yaml")
	// The README's production shape: logs and gauges through the memory limiter to OTLP,
	// the exporter's queue in queue_storage and the checkpoints in file_storage.
	pipeline := &collectortest.Pipeline{Processors: []string{"memory_limiter"}, Exporters: []string{"otlp_grpc"}}
	err = collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint, StorageDir: filepath.Join(o.out, "state"),
		Receiver:   map[string]any{"collection_interval": "10s"},
		Processors: map[string]any{"memory_limiter": map[string]any{"check_interval": "1s", "limit_mib": 512, "spike_limit_mib": 128}},
		Exporters: map[string]any{"otlp_grpc": collectortest.OTLPExporter(addr,
			map[string]any{"batch": map[string]any{"flush_timeout": "1s"}}, nil)},
		Logs: pipeline, Metrics: pipeline,
		Telemetry: collectortest.ServedTelemetry("normal", port),
	}.WriteFile(cfgPath)
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.out, "collector.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	col, err := collectortest.Run(o.binary, cfgPath, logFile, kinesistest.CollectorEnv()...)
	if err != nil {
		return err
	}
	defer col.Kill()

	sim, ids, err := simulator(o, srv)
	if err != nil {
		return err
	}
	fmt.Printf("soak: %d agents at speed %g into %d shards for %s, sampling every %s; the collector's log is %s\n",
		o.agents, o.speed, o.shards, o.duration, o.every, logFile.Name())
	ctx, stopWriting := context.WithTimeout(context.Background(), o.duration)
	defer stopWriting()
	writeErr := make(chan error, 1)
	go func() { writeErr <- connectsim.Run(ctx, sim, ids, connectsim.RunOptions{Speed: o.speed}) }()

	start := time.Now()
	var samples []sample
	look := func() sample {
		s := sample{at: time.Since(start).Round(time.Second), written: int64(ids.count()), exported: int64(be.Events())}
		if v, ok := collectortest.ResidentMemory(col.PID()); ok {
			s.rss = float64(v)
		}
		s.heap, _ = collectortest.Telemetry(port, "otelcol_process_runtime_heap_alloc_bytes")
		read, _ := collectortest.Telemetry(port, "otelcol_receiver_aws_connect_records_read")
		s.read = int64(read)
		dup, _ := collectortest.Telemetry(port, "otelcol_receiver_aws_connect_records_duplicate")
		s.duplicates = int64(dup)
		s.lagMillis, _ = collectortest.Telemetry(port, "otelcol_receiver_aws_connect_shard_millis_behind_latest") // summed over the shards
		fmt.Printf("soak: %6s  rss %4.0f MiB  heap %4.0f MiB  written %7d  read %7d  exported %7d  lag %5.0f ms\n",
			s.at, s.rss/mib, s.heap/mib, s.written, s.read, s.exported, s.lagMillis)
		return s
	}
	tick := time.NewTicker(o.every)
	defer tick.Stop()
writing:
	for {
		select {
		case <-col.Exited:
			return fmt.Errorf("the collector exited; see %s", logFile.Name())
		case err := <-writeErr:
			if err != nil {
				return fmt.Errorf("simulator: %w", err)
			}
			break writing
		case <-tick.C:
			samples = append(samples, look())
		}
	}

	// Every event written must come out.
	written := ids.all()
	deadline := time.Now().Add(3 * time.Minute)
	for len(be.Missing(written)) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	missing := be.Missing(written)
	final := look()
	stopErr := col.Terminate(30 * time.Second)

	report, flat := judge(o, samples, final, len(written), len(missing), be)
	problems, err := publish(o, report, written, missing)
	if err != nil {
		return err
	}
	if !flat {
		problems = append(problems, "memory grew")
	}
	if stopErr != nil {
		problems = append(problems, stopErr.Error())
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// judge compares the memory of the first and the last third of the samples after the
// warm-up: flat means the last third's median is within 10% (plus 10 MiB, the noise of
// a Go heap this size) of the first third's.
func judge(o options, samples []sample, final sample, written, missing int, be *collectortest.Backend) (string, bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Soak: %s, %d agents at speed %g, %d shards\n\n", o.duration, o.agents, o.speed, o.shards)
	fmt.Fprintf(&b, "| time | RSS MiB | heap MiB | written | read | exported | lag ms |\n|---|---|---|---|---|---|---|\n")
	for _, s := range append(slices.Clone(samples), final) {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %d | %d | %d | %.0f |\n", s.at, s.rss/mib, s.heap/mib, s.written, s.read, s.exported, s.lagMillis)
	}
	var judged []sample
	for _, s := range samples {
		if s.at >= o.warmup {
			judged = append(judged, s)
		}
	}
	rate := float64(written) / o.duration.Seconds()
	d := be.Duplicates()
	fmt.Fprintf(&b, "\n%d events written (%.0f a second), %d exported, %d missing, %d exported twice; %d records the writer's retries put in the stream twice were dropped by the receiver; %d metric data points exported.\n",
		written, rate, be.Events(), missing, d.Redelivered+d.FromRetries, final.duplicates, be.DataPoints())
	if len(judged) < 6 {
		fmt.Fprintf(&b, "Too few samples after the %s warm-up to judge memory: run longer.\n", o.warmup)
		return b.String(), false
	}
	third := len(judged) / 3
	early, late := judged[:third], judged[len(judged)-third:]
	flat := true
	for _, m := range []struct {
		name string
		get  func(sample) float64
	}{{"RSS", func(s sample) float64 { return s.rss }}, {"heap", func(s sample) float64 { return s.heap }}} {
		e, l := median(early, m.get), median(late, m.get)
		ok := l <= e*1.10+10*mib
		flat = flat && ok
		verdict := "flat"
		if !ok {
			verdict = "GREW"
		}
		fmt.Fprintf(&b, "%s: median %.1f MiB in the first third after warm-up, %.1f MiB in the last: %s.\n", m.name, e/mib, l/mib, verdict)
	}
	return b.String(), flat
}

func median(ss []sample, get func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = get(s)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// idSink remembers the EventId of every record it passes on to the Kinesis sink. The
// sink buffers a record before it sends, and keeps it for the final flush when a send
// fails, so each record passed on is one written, or one the soak reports missing.
type idSink struct {
	connectsim.Sink
	mu  sync.Mutex
	ids []string
}

func (s *idSink) Write(ctx context.Context, r connectsim.Record) error {
	var ev struct{ EventId string }
	if json.Unmarshal(r.Data, &ev) == nil {
		s.mu.Lock()
		s.ids = append(s.ids, ev.EventId)
		s.mu.Unlock()
	}
	return s.Sink.Write(ctx, r)
}

func (s *idSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *idSink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

// publish prints the report and leaves it in the output directory, and returns the
// first of the run's problems: the events written that never arrived.
func publish(o options, report string, written, missing []string) ([]string, error) {
	fmt.Print(report)
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(report), 0o644); err != nil {
		return nil, err
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d events never arrived, e.g. %v", len(missing), len(written), missing[:min(3, len(missing))]))
	}
	return problems, nil
}
