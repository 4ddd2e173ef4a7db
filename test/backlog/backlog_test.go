package backlog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
)

// target is where a shipped config's exporters are pointed for the test.
type target struct {
	gw *gateway
	rw *remoteWrite
}

// shippedConfig says how to point one file of config/ at the local stand-ins: through
// its own environment variables where it has them, else through an overlay config
// given after it on the command line (which the collector merges over it).
type shippedConfig struct {
	file string
	// env sets the config's variables for the target.
	env func(to target) []string
	// overlay is YAML merged over the config, e.g. TLS off for a local gateway.
	overlay func(to target) string
	// logsToDebug: the config prints the events (debug exporter) instead of exporting
	// them; the test then counts them from the collector's own metrics.
	logsToDebug bool
	// binary, when set, is the collector to run instead of collectortest.Binary's.
	binary string
}

var shippedConfigs = []shippedConfig{
	{
		file: "datadog-agent.yaml",
		env: func(to target) []string {
			return []string{"DD_AGENT_OTLP_ENDPOINT=" + to.gw.grpcAddr}
		},
	},
	{
		file: "datadog-agentless.yaml",
		env:  func(target) []string { return []string{"DD_API_KEY=local-test-key"} },
		// The intake's URLs are https://otlp.<site>/...: only an override reaches a local gateway.
		overlay: func(to target) string {
			return fmt.Sprintf(`
exporters:
  otlp_http/datadog:
    logs_endpoint: http://%[1]s/v1/logs
    metrics_endpoint: http://%[1]s/v1/metrics
`, to.gw.httpAddr)
		},
	},
	{
		file: "grafana-cloud.yaml",
		env: func(to target) []string {
			return []string{"GRAFANA_CLOUD_OTLP_ENDPOINT=http://" + to.gw.httpAddr, "GRAFANA_CLOUD_OTLP_AUTH=bG9jYWw6dGVzdA=="}
		},
	},
	{
		file: "honeycomb.yaml",
		env: func(to target) []string {
			return []string{"HONEYCOMB_ENDPOINT=" + to.gw.grpcAddr, "HONEYCOMB_API_KEY=local-test-key"}
		},
		// Honeycomb's endpoint is TLS; the local gateway is not.
		overlay: func(target) string {
			return `
exporters:
  otlp_grpc/honeycomb-logs:
    tls:
      insecure: true
  otlp_grpc/honeycomb-metrics:
    tls:
      insecure: true
`
		},
	},
	{
		file:        "prometheus-remote-write.yaml",
		env:         func(to target) []string { return []string{"PROMETHEUS_REMOTE_WRITE_URL=" + to.rw.url} },
		logsToDebug: true,
	},
}

// configDir holds the configs under test: config/, or BACKLOG_CONFIG_DIR, e.g. an
// older copy of config/ to compare against.
func configDir(t testing.TB) string {
	if dir := os.Getenv("BACKLOG_CONFIG_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(collectortest.RepoRoot(t), "config")
}

// bodyType is the body type the agent events of a config's log records have: "Str"
// with its aws_connect receiver's log_body: json, else "Map".
func bodyType(t *testing.T, sc shippedConfig) string {
	t.Helper()
	cfg := sc.file
	if !filepath.IsAbs(cfg) {
		cfg = filepath.Join(configDir(t), sc.file)
	}
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	var parsed struct {
		Receivers map[string]struct {
			LogBody string `yaml:"log_body"`
		} `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal(data, &parsed))
	if parsed.Receivers["aws_connect"].LogBody == "json" {
		return "Str"
	}
	return "Map"
}

// run is one shipped config reading the backlog.
type run = perftest.Collector

// startShipped runs the built binary with a shipped config pointed at the backlog and
// the target, its storage in a directory of its own.
func startShipped(t testing.TB, sc shippedConfig, b *perftest.Backlog, to target) *run {
	t.Helper()
	overlay := ""
	if sc.overlay != nil {
		overlay = sc.overlay(to)
	}
	cfg := sc.file
	if !filepath.IsAbs(cfg) {
		cfg = filepath.Join(configDir(t), sc.file)
	}
	return perftest.StartCollector(t, perftest.CollectorSpec{
		Binary: sc.binary, Config: cfg, Overlay: overlay,
		Endpoint: b.Server.Endpoint, Stream: b.Stream, Env: sc.env(to),
	})
}

// outcome is what a run delivered once it settled.
type outcome struct {
	delivered  int // distinct EventIds at the backend (or records the debug exporter took)
	received   int // log records at the backend, repeats included
	dropped    int // "Dropping data" errors in the collector's log
	sendFailed float64
	took       time.Duration
}

// settle waits until every event was delivered and the first metrics arrived, or until
// the reader has read every record, its queue is empty and nothing more arrives for 20 s;
// or until the deadline.
func settle(t testing.TB, sc shippedConfig, r *run, to target, want int, deadline time.Time) outcome {
	t.Helper()
	delivered := func() int {
		if sc.logsToDebug {
			return int(r.Telemetry("otelcol_exporter_sent_log_records"))
		}
		return to.gw.backend.Events()
	}
	last, lastChange := -1, time.Now()
	for time.Now().Before(deadline) {
		select {
		case <-r.Proc.Exited:
			t.Fatalf("%s: the collector exited", sc.file)
		default:
		}
		n := delivered()
		if n >= want && to.metricsArrived() {
			break
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		read := r.Telemetry("otelcol_receiver_aws_connect_records_read")
		queued := r.Telemetry("otelcol_exporter_queue_size")
		// 45 s: the slowest config's gauges come every 30 s.
		if int(read) >= want && queued == 0 && time.Since(lastChange) > 45*time.Second {
			break
		}
		time.Sleep(time.Second)
	}
	o := outcome{
		delivered:  delivered(),
		dropped:    strings.Count(r.Proc.Output(), "Dropping data"),
		sendFailed: r.Telemetry("otelcol_exporter_send_failed_log_records"),
		took:       time.Since(r.Started),
	}
	if !sc.logsToDebug {
		o.received = to.gw.backend.Received()
	}
	return o
}

// metricsArrived: the gauges reached the target.
func (to target) metricsArrived() bool {
	if to.rw != nil {
		requests, _ := to.rw.counts()
		return requests > 0
	}
	return to.gw.backend.DataPoints() > 0
}

// TestShippedConfigsDeliverABacklog: a backlog of 20,000 simulated agent events (about
// 5 KB each), read from trim_horizon by the built binary with each shipped config, its
// exporters pointed at a gateway that keeps the OTLP receiver's default limits, arrives
// whole. A config whose requests outgrow the gateway's 4 MiB gRPC limit loses whole
// batches ("Dropping data"), after the receiver checkpointed past them.
func TestShippedConfigsDeliverABacklog(t *testing.T) {
	b := writeBacklog(t, backlogSize(t))
	// Every config reads at once (kinesis-local serves them together); each is checked in turn.
	targets := make([]target, len(shippedConfigs))
	runs := make([]*run, len(shippedConfigs))
	for i, sc := range shippedConfigs {
		targets[i] = target{gw: startGateway(t)}
		if sc.logsToDebug {
			targets[i].rw = startRemoteWrite(t)
		}
		runs[i] = startShipped(t, sc, b, targets[i])
	}
	// On its own this package writes for about 3.5 minutes and reads for 7, most of it
	// kinesis-local's one busy core; `make test` runs it beside the unit tests, which
	// stretches that. The deadline only bounds how long a loss takes to be reported, and
	// with the writing it stays inside the 20 minutes `make test` gives this package.
	deadline := time.Now().Add(11 * time.Minute)
	for i, sc := range shippedConfigs {
		t.Run(strings.TrimSuffix(sc.file, ".yaml"), func(t *testing.T) {
			to, r := targets[i], runs[i]
			o := settle(t, sc, r, to, len(b.IDs), deadline)
			r.Proc.Stop(t)

			t.Logf("%s: %d of %d events delivered in %s; %d log records received (%d repeats); %d \"Dropping data\" errors, %.0f log records failed to send",
				sc.file, o.delivered, len(b.IDs), o.took.Round(time.Second), o.received, max(0, o.received-o.delivered), o.dropped, o.sendFailed)
			if sc.logsToDebug {
				requests, maxBody := to.rw.counts()
				t.Logf("%s: %d remote-write requests, the largest %d bytes", sc.file, requests, maxBody)
				assert.Positive(t, requests, "no metrics reached the remote-write endpoint")
				assert.GreaterOrEqual(t, o.delivered, len(b.IDs), "the debug exporter took fewer records than written")
				return
			}
			missing := to.gw.backend.Missing(b.IDs)
			assert.Empty(t, missing, "%s lost %d of %d events", sc.file, len(missing), len(b.IDs))
			assert.Zero(t, o.dropped, "%s dropped data", sc.file)
			assert.Positive(t, to.gw.backend.DataPoints(), "%s: no metric data points reached the gateway", sc.file)
			// Each event's body is what the config's log_body says, and carries its event.
			bodies, unread := to.gw.backend.Bodies()
			want := bodyType(t, sc)
			assert.Len(t, bodies, 1, "%s: the events' bodies are all %s: %v", sc.file, want, bodies)
			assert.GreaterOrEqual(t, bodies[want], o.delivered, "%s: the events' bodies are all %s: %v", sc.file, want, bodies)
			assert.Zero(t, unread, "%s: bodies without their EventId", sc.file)
		})
	}
}
