package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fleettest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The fleet mode: several collectors share the stream through a lease table on
// dynalite, and every kill-every one of them, in turn, is SIGKILLed (or, with --signal,
// SIGTERMed) and a new one started in its place under a new service.instance.id, as a
// Deployment replaces a pod. Every event written must arrive; the report gives each
// stop's failover (from the signal to the first record of each of its shards exported
// again) and the records exported again after it.

// fleetMember is one place in the soak's fleet, as a Deployment's replica is: each
// start is a new collector with a new service.instance.id (so a new lease worker), as a
// replaced pod has a new name.
type fleetMember struct {
	slot, id, config, log string
	starts                int
	port                  int // its own metrics
	cfg                   collectortest.Config
	proc                  *collectortest.Process
}

// kill is one SIGKILL (or SIGTERM) of the soak and what followed.
type kill struct {
	at       time.Time
	signal   string
	victim   string
	shards   []string
	failover map[string]time.Duration // by shard; absent: never read again
}

func runFleet(o options) error {
	srv, err := prepare(o)
	if err != nil {
		return err
	}
	defer srv.Stop()
	dyn, err := dynamotest.Launch(".", o.out)
	if err != nil {
		return err
	}
	defer dyn.Stop()
	const table = "soak-leases"
	rec := fleettest.NewRecorder()
	defer rec.Close()

	settings := fleettest.Settings{
		LeaseDuration: o.leaseDuration, RenewInterval: o.renewInterval,
		PollInterval: time.Second, CollectionInterval: 10 * time.Second, DiscoveryInterval: 30 * time.Second,
	}
	members := make([]*fleetMember, o.collectors)
	for i := range members {
		m := &fleetMember{slot: fmt.Sprintf("soak-%d", i+1)}
		if err := m.configure(o, settings, srv.Endpoint, dyn.Endpoint, stream, table); err != nil {
			return err
		}
		if err := m.start(o.binary, rec); err != nil {
			return err
		}
		defer func() { m.proc.Kill() }() // the process running at the end, after restarts
		members[i] = m
	}

	sim, ids, err := simulator(o, srv)
	if err != nil {
		return err
	}
	fmt.Printf("soak: %d collectors on config/kubernetes-fleet.yaml's shape sharing %d shards through leases (%s, renewed every %s), one stopped (%s) and replaced every %s; %d agents at speed %g for %s; logs in %s\n",
		o.collectors, o.shards, o.leaseDuration, o.renewInterval, o.signal, o.killEvery, o.agents, o.speed, o.duration, o.out)
	ctx, stopWriting := context.WithTimeout(context.Background(), o.duration)
	defer stopWriting()
	writeErr := make(chan error, 1)
	go func() {
		// A kinesis-local busy with replays after a restart takes PutRecords slowly: the
		// last flush gets the time it needs, or its records would count as missing.
		writeErr <- connectsim.Run(ctx, sim, ids, connectsim.RunOptions{Speed: o.speed, FinalFlushTimeout: 3 * time.Minute})
	}()

	start := time.Now()
	look := func() {
		var b strings.Builder
		fmt.Fprintf(&b, "soak: %6s  written %7d  exported %7d  repeats %5d", time.Since(start).Round(time.Second), ids.count(), len(rec.Arrivals())-rec.Repeats(), rec.Repeats())
		for _, m := range members {
			rss, _ := collectortest.ResidentMemory(m.proc.PID())
			fmt.Fprintf(&b, "  %s %3.0f MiB", m.slot, float64(rss)/mib)
		}
		leases, err := fleettest.ReadLeases(context.Background(), dyn.Client, table)
		if err == nil {
			fmt.Fprintf(&b, "  held %v", fleettest.Held(fleettest.Owners(leases)))
		}
		fmt.Println(b.String())
	}
	sampleTick := time.NewTicker(o.every)
	defer sampleTick.Stop()
	var killTick <-chan time.Time
	if o.killEvery > 0 {
		t := time.NewTicker(o.killEvery)
		defer t.Stop()
		killTick = t.C
	}
	var kills []*kill
writing:
	for {
		select {
		case err := <-writeErr:
			if err != nil {
				return fmt.Errorf("simulator: %w", err)
			}
			break writing
		case <-sampleTick.C:
			look()
		case <-killTick:
			victim := members[len(kills)%len(members)]
			k := &kill{victim: victim.id, signal: "SIGKILL", failover: map[string]time.Duration{}}
			if o.signal == "term" || (o.signal == "alternate" && len(kills)%2 == 1) {
				k.signal = "SIGTERM"
			}
			if leases, err := fleettest.ReadLeases(context.Background(), dyn.Client, table); err == nil {
				for shard, owner := range fleettest.Owners(leases) {
					if owner == victim.id {
						k.shards = append(k.shards, shard)
					}
				}
				slices.Sort(k.shards)
			}
			k.at = time.Now()
			if k.signal == "SIGTERM" {
				if err := victim.proc.Terminate(30 * time.Second); err != nil {
					return fmt.Errorf("graceful stop of %s: %w", victim.id, err)
				}
			} else {
				victim.proc.Kill()
			}
			if err := victim.start(o.binary, rec); err != nil {
				return err
			}
			fmt.Printf("soak: %6s  %s %s (holding %v), started again as %s\n", time.Since(start).Round(time.Second), k.signal, k.victim, k.shards, victim.id)
			kills = append(kills, k)
		}
		for _, m := range members {
			select {
			case <-m.proc.Exited:
				return fmt.Errorf("collector %s exited; see %s", m.id, m.log)
			default:
			}
		}
	}

	written := ids.all()
	deadline := time.Now().Add(3 * time.Minute)
	for len(rec.Missing(written)) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	missing := rec.Missing(written)
	look()
	var stopErrs []string
	for _, m := range members {
		if err := m.proc.Terminate(30 * time.Second); err != nil {
			stopErrs = append(stopErrs, m.id+": "+err.Error())
		}
	}

	report := fleetReport(o, rec, kills, len(written), len(missing))
	problems, err := publish(o, report, written, missing)
	if err != nil {
		return err
	}
	for _, k := range kills {
		for _, shard := range k.shards {
			if _, ok := k.failover[shard]; !ok {
				problems = append(problems, fmt.Sprintf("%s, held by %s when it was killed, was never read again", shard, k.victim))
			}
		}
	}
	problems = append(problems, stopErrs...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// configure prepares the member's place: its directory, its metrics port, and its
// configuration but for the service.instance.id and the endpoint: the shape of
// config/kubernetes-fleet.yaml (leases, no storage, the memory limiter, an exporter whose
// in-memory queue waits for each request's result), over gRPC to the recorder.
func (m *fleetMember) configure(o options, s fleettest.Settings, kinesisEndpoint, dynamoEndpoint, stream, table string) error {
	dir := filepath.Join(o.out, m.slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	if m.port, err = kinesistest.PickFreePort(); err != nil {
		return err
	}
	member := fleettest.Member{Table: table, DynamoEndpoint: dynamoEndpoint, Settings: s}
	pipeline := &collectortest.Pipeline{Processors: []string{"memory_limiter"}, Exporters: []string{"otlp_grpc"}}
	m.config, m.log = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "collector.log")
	m.cfg = collectortest.Config{
		Stream: stream, Endpoint: kinesisEndpoint,
		Receiver: map[string]any{
			"collection_interval": s.CollectionInterval.String(),
			"poll_interval":       s.PollInterval.String(),
			"leases":              member.Leases(),
		},
		Processors: map[string]any{"memory_limiter": map[string]any{"check_interval": "1s", "limit_mib": 512, "spike_limit_mib": 128}},
		Logs:       pipeline, Metrics: pipeline,
	}
	return nil
}

// start runs a new collector in the member's place, with a service.instance.id and an
// endpoint at the recorder of its own (so that what a stopping collector still sends is
// told apart from its successor's), its output appended to the place's log.
func (m *fleetMember) start(binary string, rec *fleettest.Recorder) error {
	m.starts++
	m.id = fmt.Sprintf("%s.%d", m.slot, m.starts)
	addr, err := rec.Serve(m.id)
	if err != nil {
		return err
	}
	m.cfg.Exporters = map[string]any{"otlp_grpc": map[string]any{
		"endpoint": addr,
		"tls":      map[string]any{"insecure": true},
		"sending_queue": map[string]any{
			"enabled": true, "wait_for_result": true, "sizer": "requests", "queue_size": 1000,
			"batch": map[string]any{"sizer": "bytes", "flush_timeout": "1s", "min_size": 1 << 20, "max_size": 3 << 20},
		},
		"retry_on_failure": map[string]any{"enabled": true, "max_elapsed_time": 0},
	}}
	telemetry := collectortest.ServedTelemetry("normal", m.port)
	telemetry["resource"] = fleettest.Resource(m.id)
	m.cfg.Telemetry = telemetry
	if err := m.cfg.WriteFile(m.config); err != nil {
		return err
	}
	f, err := os.OpenFile(m.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	p, err := collectortest.Run(binary, m.config, f, kinesistest.CollectorEnv()...)
	if err != nil {
		f.Close()
		return err
	}
	go func() { <-p.Exited; f.Close() }()
	m.proc = p
	return nil
}

// fleetReport measures each kill's failover from the records received, and the repeats
// between one kill and the next.
func fleetReport(o options, rec *fleettest.Recorder, kills []*kill, written, missing int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Soak, fleet mode: %s, %d collectors (config/kubernetes-fleet.yaml's shape), %d shards, leases %s renewed every %s, polls every %s, one stopped (%s) and replaced every %s; %d agents at speed %g\n\n",
		o.duration, o.collectors, o.shards, o.leaseDuration, o.renewInterval, time.Second, o.signal, o.killEvery, o.agents, o.speed)
	fmt.Fprintf(&b, "| stop | at | signal | collector | shards it held | failover (signal to first record of the shard exported again) | records exported again before the next stop |\n|---|---|---|---|---|---|---|\n")
	var worst time.Duration
	for i, k := range kills {
		var parts []string
		for _, shard := range k.shards {
			if a, ok := rec.FirstFrom(shard, k.victim, k.at); ok {
				k.failover[shard] = a.At.Sub(k.at)
				worst = max(worst, k.failover[shard])
				parts = append(parts, fmt.Sprintf("%s %s", shard, k.failover[shard].Round(10*time.Millisecond)))
			} else {
				parts = append(parts, shard+" never")
			}
		}
		repeats := rec.RepeatsSince(k.at)
		if i+1 < len(kills) {
			repeats -= rec.RepeatsSince(kills[i+1].at)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %d | %s | %d |\n", i+1, k.at.Format("15:04:05"), k.signal, k.victim, len(k.shards), strings.Join(parts, ", "), repeats)
	}
	fmt.Fprintf(&b, "\n%d events written, %d missing; %d records exported more than once in all; %d stops, worst failover %s.\n",
		written, missing, rec.Repeats(), len(kills), worst.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "Memory is not judged in this mode: the kills restart the collectors.\n")
	return b.String()
}
