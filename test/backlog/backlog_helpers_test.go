// Package backlog reads a large backlog from kinesis-local at trim_horizon with the built
// binary and each shipped config, the config's exporters pointed at a gateway (the same
// binary, OTLP receiver at its default limits), and checks every event arrives; its
// benchmark measures the collector's CPU per event and peak memory on the same backlog.
package backlog

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const (
	stream = "connect-agent-events"
	shards = 2
)

// backlogSize is how many events the backlog holds: BACKLOG_EVENTS, default 20,000.
func backlogSize(t testing.TB) int {
	if v := os.Getenv("BACKLOG_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "BACKLOG_EVENTS")
		return n
	}
	return 20_000
}

// backlog is a stream in kinesis-local holding the simulator's events.
type backlog struct {
	srv       *kinesistest.Server
	ids       []string
	meanBytes int
	wrote     time.Duration
}

// writeBacklog starts kinesis-local and writes n events of the default simulated
// contact center (100 agents, realistic snapshots) into a two-shard stream.
func writeBacklog(t testing.TB, n int) *backlog {
	t.Helper()
	srv := kinesistest.Start(t)
	srv.CreateStream(t, stream, shards)
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 100
	sim, err := connectsim.New(cfg, time.Now().Add(-12*time.Hour))
	require.NoError(t, err)
	keys := make([]string, 0, n)
	data := make([][]byte, 0, n)
	ids := make([]string, 0, n)
	total := 0
	for len(ids) < n {
		rec := sim.Next()
		var ev struct{ EventId string }
		require.NoError(t, json.Unmarshal(rec.Data, &ev))
		keys, data, ids = append(keys, rec.Key), append(data, rec.Data), append(ids, ev.EventId)
		total += len(rec.Data)
	}
	start := time.Now()
	// PutRecords calls of 500 from two writers: kinesis-local takes them faster in parallel.
	var wg sync.WaitGroup
	const writers = 2
	chunk := (n + writers - 1) / writers
	for w := range writers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.Put(t, stream, keys[lo:hi], data[lo:hi])
		}()
	}
	wg.Wait()
	b := &backlog{srv: srv, ids: ids, meanBytes: total / n, wrote: time.Since(start)}
	t.Logf("backlog: %d events of %d bytes on average written in %s", n, b.meanBytes, b.wrote.Round(time.Second))
	return b
}

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
	g := &gateway{
		grpcAddr:      fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(t)),
		httpAddr:      fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(t)),
		backend:       be,
		telemetryPort: kinesistest.FreePort(t),
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.yaml")
	require.NoError(t, os.WriteFile(cfgPath, fmt.Appendf(nil, gatewayConfig, g.grpcAddr, g.httpAddr, addr, g.telemetryPort), 0o600))
	g.proc = collectortest.Start(t, cfgPath)
	waitListening(t, g.grpcAddr, g.proc)
	waitListening(t, g.httpAddr, g.proc)
	return g
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
	port := kinesistest.FreePort(t)
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
	t.Cleanup(func() { _ = srv.Close() })
	rw.url = fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", port)
	return rw
}

func (rw *remoteWrite) counts() (requests, maxBody int) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.requests, rw.maxBody
}

// waitListening waits until something accepts connections on addr.
func waitListening(t testing.TB, addr string, p *collectortest.Process) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.Exited:
			t.Fatalf("the collector exited before listening on %s", addr)
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}
