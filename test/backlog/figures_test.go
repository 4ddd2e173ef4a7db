package backlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
)

// BenchmarkCollectorReadsBacklog measures the built collector reading the backlog
// (BACKLOG_EVENTS, default 20,000) from trim_horizon with a production config
// (BACKLOG_CONFIG, default config/datadog-agent.yaml: logs and gauges over OTLP/gRPC
// through a queue in file_storage; another config must take its endpoint from
// DD_AGENT_OTLP_ENDPOINT too) into an in-process backend. It reports the CPU time
// the collector used per event (utime + stime from /proc/PID/stat) and its peak resident
// memory (VmHWM), once every event arrived. The backend takes requests of any size, so
// configs with and without a byte bound do the same work. Run it with
//
//	OTELCOL_BINARY=$PWD/_build/otelcol-amazonconnect go test -run '^$' -bench BenchmarkCollectorReadsBacklog -benchtime 1x ./test/backlog
func BenchmarkCollectorReadsBacklog(b *testing.B) {
	file := os.Getenv("BACKLOG_CONFIG")
	if file == "" {
		file = filepath.Join(collectortest.RepoRoot(b), "config", "datadog-agent.yaml")
	}
	bl := writeBacklog(b, backlogSize(b))
	b.ResetTimer()
	for range b.N {
		be := collectortest.NewBackend()
		be.MaxRecvMsgSize = 1 << 30
		addr, err := be.Serve("127.0.0.1:0")
		require.NoError(b, err)
		sc := shippedConfig{
			file: file,
			env: func(target) []string {
				return []string{"DD_AGENT_OTLP_ENDPOINT=" + addr}
			},
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
		be.Down()
		require.Empty(b, be.Missing(bl.ids), "events missing after %s", took)
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(bl.ids)), "cpu-µs/event")
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(took.Seconds(), "s-to-deliver")
		b.Logf("%s: %d events (%d bytes on average), CPU %s (%.0f µs an event), peak RSS %.1f MiB, all delivered in %s",
			filepath.Base(file), len(bl.ids), bl.meanBytes, cpu, float64(cpu.Microseconds())/float64(len(bl.ids)), float64(peak)/(1<<20), took.Round(time.Second))
	}
}
