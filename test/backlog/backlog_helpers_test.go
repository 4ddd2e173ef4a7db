// Package backlog reads a large backlog from kinesis-local at trim_horizon with the built
// binary and each shipped config, the config's exporters pointed at a gateway (the same
// binary, OTLP receiver at its default limits), and checks every event arrives; its
// benchmark measures the collector's CPU per event and peak memory on the same backlog.
package backlog

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
)

const (
	stream = "connect-agent-events"
	shards = 2
)

// writeBacklog writes n simulated events (100 agents, realistic snapshots) into a
// two-shard stream in kinesis-local.
func writeBacklog(t testing.TB, n int) *perftest.Backlog {
	t.Helper()
	return perftest.WriteBacklog(t, stream, shards, n)
}

// backlogSize is how many events the backlog holds: BACKLOG_EVENTS, default 20,000.
func backlogSize(t testing.TB) int { return perftest.EnvInt(t, "BACKLOG_EVENTS", 20_000) }

// gateway is the built binary as an OTLP gateway: the otlp receiver on gRPC and HTTP
// with every limit at its default (4 MiB a gRPC message, 20 MiB an HTTP body), passing
// what it takes straight on (no queue) to an in-process backend that counts EventIds.
type gateway struct {
	grpcAddr, httpAddr string
	backend            *collectortest.Backend
	telemetryPort      int
	proc               *collectortest.Process
}

const gatewayConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
      http:
        endpoint: %[2]s
exporters:
  otlp_grpc:
    endpoint: %[3]s
    tls:
      insecure: true
    compression: none
    sending_queue:
      enabled: false
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[4]d
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      exporters: [otlp_grpc]
`

func startGateway(t testing.TB) *gateway {
	t.Helper()
	be := collectortest.NewBackend()
	// The backend takes whatever the gateway took: the gateway is the limit under test.
	be.MaxRecvMsgSize = 256 << 20
	addr, err := be.Serve("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(be.Down)
	dir := t.TempDir()
	// The ports are free when picked, but another process may take one before the
	// gateway binds it (the unit tests run beside this package): then pick again.
	for attempt := 1; ; attempt++ {
		g := &gateway{
			grpcAddr:      fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(t)),
			httpAddr:      fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(t)),
			backend:       be,
			telemetryPort: kinesistest.FreePort(t),
		}
		cfgPath := filepath.Join(dir, fmt.Sprintf("gateway-%d.yaml", attempt))
		require.NoError(t, os.WriteFile(cfgPath, fmt.Appendf(nil, gatewayConfig, g.grpcAddr, g.httpAddr, addr, g.telemetryPort), 0o600))
		g.proc = collectortest.Start(t, cfgPath)
		err := listening(g.grpcAddr, g.proc)
		if err == nil {
			err = listening(g.httpAddr, g.proc)
		}
		if err == nil {
			return g
		}
		if attempt < 3 && strings.Contains(g.proc.Output(), "address already in use") {
			t.Logf("gateway: %v, a port was taken meanwhile; picking others", err)
			g.proc.Kill()
			continue
		}
		t.Fatal(err)
	}
}

// remoteWrite is a Prometheus remote-write endpoint that takes every request and counts
// them and their largest body.
type remoteWrite struct {
	url string

	mu       sync.Mutex
	requests int
	maxBody  int
}

func startRemoteWrite(t testing.TB) *remoteWrite {
	rw := &remoteWrite{}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/write", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		buf := make([]byte, 64<<10)
		for {
			k, err := r.Body.Read(buf)
			n += k
			if err != nil {
				break
			}
		}
		rw.mu.Lock()
		rw.requests++
		rw.maxBody = max(rw.maxBody, n)
		rw.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	rw.url = fmt.Sprintf("http://%s/api/v1/write", l.Addr())
	return rw
}

func (rw *remoteWrite) counts() (requests, maxBody int) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.requests, rw.maxBody
}

// listening waits until something accepts connections on addr, or says why not.
func listening(addr string, p *collectortest.Process) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.Exited:
			return fmt.Errorf("the collector exited before listening on %s", addr)
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s", addr)
}
