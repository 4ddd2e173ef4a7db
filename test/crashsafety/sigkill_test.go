// Package crashsafety kills the built collector with SIGKILL, again and again, while agent
// events are written, and checks that every event is exported in the end.
package crashsafety

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// backend is an OTLP logs endpoint that counts the EventIds it receives.
type backend struct {
	plogotlp.UnimplementedGRPCServer
	mu       sync.Mutex
	ids      map[string]int
	received int
}

func (b *backend) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				b.received++
				if id, ok := lrs.At(k).Attributes().Get("aws.connect.event.id"); ok {
					b.ids[id.Str()]++
				}
			}
		}
	}
	return plogotlp.NewExportResponse(), nil
}

func (b *backend) missing(written []string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, id := range written {
		if b.ids[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// The production-safe shape: no batch processor; the exporter batches in a queue kept in
// file_storage and never gives up.
const configTemplate = `
extensions:
  file_storage:
    directory: %[1]s/state
    create_directory: true
receivers:
  aws_connect:
    stream_name: %[2]s
    region: us-east-1
    endpoint: %[3]s
    start_position: trim_horizon
    storage: file_storage
    poll_interval: 200ms
exporters:
  otlp:
    endpoint: %[4]s
    tls:
      insecure: true
    sending_queue:
      enabled: true
      storage: file_storage
      batch:
        flush_timeout: 200ms
    retry_on_failure:
      max_elapsed_time: 0
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [aws_connect]
      exporters: [otlp]
`

type collector struct {
	cmd    *exec.Cmd
	log    *bytes.Buffer
	exited chan struct{}
}

func start(t *testing.T, cfgPath string) *collector {
	cmd := exec.Command(collectortest.Binary(t), "--config", cfgPath)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+kinesistest.AccessKey, "AWS_SECRET_ACCESS_KEY="+kinesistest.SecretKey, "AWS_EC2_METADATA_DISABLED=true")
	c := &collector{cmd: cmd, log: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.log, c.log
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.exited })
	return c
}

func (c *collector) kill() {
	_ = c.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	<-c.exited
}

func TestCollectorSurvivesSIGKILL(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "crash"
	srv.CreateStream(t, stream, 2)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	be := &backend{ids: map[string]int{}}
	gs := grpc.NewServer()
	plogotlp.RegisterGRPCServer(gs, be)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, fmt.Appendf(nil, configTemplate, dir, stream, srv.Endpoint, lis.Addr().String()), 0o600))

	// The simulator's events, written in small batches while the collector is killed.
	simCfg := connectsim.DefaultConfig()
	simCfg.Agents = 30
	sim, err := connectsim.New(simCfg, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	const total = 1200
	var written []string
	var writtenMu sync.Mutex
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for len(written) < total {
			var keys []string
			var data [][]byte
			var ids []string
			for range 60 {
				rec := sim.Next()
				var ev struct{ EventId string }
				if json.Unmarshal(rec.Data, &ev) != nil {
					continue
				}
				keys, data, ids = append(keys, rec.Key), append(data, rec.Data), append(ids, ev.EventId)
			}
			srv.Put(t, stream, keys, data)
			writtenMu.Lock()
			written = append(written, ids...)
			writtenMu.Unlock()
			time.Sleep(300 * time.Millisecond)
		}
	}()

	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill schedule seed %d", seed)
	c := start(t, cfgPath)
	kills := 0
	for done := false; !done || kills < 4; {
		time.Sleep(time.Duration(1500+rnd.IntN(2500)) * time.Millisecond)
		c.kill()
		kills++
		c = start(t, cfgPath)
		select {
		case <-writerDone:
			done = true
		default:
		}
	}

	writtenMu.Lock()
	all := append([]string(nil), written...)
	writtenMu.Unlock()
	ok := false
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if len(be.missing(all)) == 0 {
			ok = true
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	<-c.exited

	be.mu.Lock()
	duplicates := 0
	for _, n := range be.ids {
		if n > 1 {
			duplicates += n - 1
		}
	}
	t.Logf("crash test: %d events written, %d records received, %d duplicates after %d SIGKILLs", len(all), be.received, duplicates, kills)
	be.mu.Unlock()
	if !ok {
		missing := be.missing(all)
		t.Fatalf("%d of %d events never arrived, e.g. %v\nlast collector run:\n%s", len(missing), len(all), missing[:min(5, len(missing))], c.log.String())
	}
}
