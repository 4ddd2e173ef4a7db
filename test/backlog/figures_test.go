package backlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
)

// BenchmarkCollectorReadsBacklog measures the built collector reading the backlog
// (BACKLOG_EVENTS, default 20,000) from trim_horizon with a production config (default
// config/datadog-agent.yaml: logs and gauges over OTLP/gRPC through a queue in
// file_storage) into an in-process backend. It reports the CPU time the collector used
// per event (utime + stime from /proc/PID/stat) and its peak resident memory (VmHWM),
// read once every event arrived. The backend takes requests of any size, so configs with
// and without a byte bound do the same work.
//
// To compare builds or configs on the same backlog, list them: BACKLOG_BINARIES (default
// OTELCOL_BINARY, else _build/otelcol-amazonconnect) and BACKLOG_CONFIGS (configs that
// take their OTLP/gRPC endpoint from DD_AGENT_OTLP_ENDPOINT, as datadog-agent.yaml),
// comma-separated; each pair is a sub-benchmark. Run it with
//
//	OTELCOL_BINARY=$PWD/_build/otelcol-amazonconnect go test -run '^$' -bench BenchmarkCollectorReadsBacklog -benchtime 1x ./test/backlog
func BenchmarkCollectorReadsBacklog(b *testing.B) {
	binaries := list(os.Getenv("BACKLOG_BINARIES"))
	if len(binaries) == 0 {
		binaries = []string{collectortest.Binary(b)}
	}
	configs := list(os.Getenv("BACKLOG_CONFIGS"))
	if len(configs) == 0 {
		configs = []string{filepath.Join(configDir(b), "datadog-agent.yaml")}
	}
	bl := writeBacklog(b, backlogSize(b))
	for _, bin := range binaries {
		for _, cfg := range configs {
			cfg, err := filepath.Abs(cfg)
			require.NoError(b, err)
			name := filepath.Base(bin) + "," + filepath.Base(filepath.Dir(cfg)) + "_" + filepath.Base(cfg)
			b.Run(name, func(b *testing.B) {
				for range b.N {
					readBacklog(b, bl, bin, cfg)
				}
			})
		}
	}
}

// readBacklog runs one collector over the whole backlog and reports its figures.
func readBacklog(b *testing.B, bl *backlog, bin, cfg string) {
	be := collectortest.NewBackend()
	be.MaxRecvMsgSize = 1 << 30
	addr, err := be.Serve("127.0.0.1:0")
	require.NoError(b, err)
	defer be.Down()
	sc := shippedConfig{
		file:   cfg,
		binary: bin,
		env:    func(target) []string { return []string{"DD_AGENT_OTLP_ENDPOINT=" + addr} },
	}
	r := startShipped(b, sc, bl, target{gw: &gateway{backend: be}})
	deadline := time.Now().Add(15 * time.Minute)
	for be.Events() < len(bl.ids) && time.Now().Before(deadline) {
		select {
		case <-r.proc.Exited:
			b.Fatal("the collector exited")
		case <-time.After(500 * time.Millisecond):
		}
	}
	took := time.Since(r.started)
	cpu, ok1 := collectortest.CPUTime(r.proc.PID())
	peak, ok2 := collectortest.PeakResidentMemory(r.proc.PID())
	require.True(b, ok1 && ok2, "read /proc of the collector")
	r.proc.Stop(b)
	require.Empty(b, be.Missing(bl.ids), "events missing after %s", took)
	perEvent := float64(cpu.Microseconds()) / float64(len(bl.ids))
	b.ReportMetric(perEvent, "cpu-µs/event")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(took.Seconds(), "s-to-deliver")
	b.Logf("%s with %s: %d events (%d bytes on average), CPU %s (%.0f µs an event), peak RSS %.1f MiB, all delivered in %s",
		bin, cfg, len(bl.ids), bl.meanBytes, cpu, perEvent, float64(peak)/(1<<20), took.Round(time.Second))
}

// list splits a comma-separated list, dropping empty items.
func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
