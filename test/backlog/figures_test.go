package backlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
)

// BenchmarkCollectorReadsBacklog measures the built collector reading the backlog
// (BACKLOG_EVENTS, default 20,000) from trim_horizon with a production config (default
// config/datadog-agent.yaml: logs and gauges over OTLP/gRPC through a queue in
// queue_storage) into an in-process backend. It reports the CPU time the collector used
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
	binaries := perftest.Binaries(b)
	configs := perftest.List(os.Getenv("BACKLOG_CONFIGS"))
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
func readBacklog(b *testing.B, bl *perftest.Backlog, bin, cfg string) {
	f := perftest.ReadBacklog(b, bl, bin, cfg)
	b.ReportMetric(f.CPUPerEvent(), "cpu-µs/event")
	b.ReportMetric(f.PeakRSSMiB(), "peak-RSS-MiB")
	b.ReportMetric(f.Wall.Seconds(), "s-to-deliver")
	b.Logf("%s with %s: %d events (%d bytes on average), CPU %s (%.0f µs an event), peak RSS %.1f MiB, all delivered in %s",
		bin, cfg, f.Events, bl.MeanBytes(), f.CPU, f.CPUPerEvent(), f.PeakRSSMiB(), f.Wall.Round(time.Second))
}
