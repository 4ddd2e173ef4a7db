// Package crashsafety kills the built collector with SIGKILL, again and again, while agent
// events are written (some twice, as a producer retrying a write does), and checks that
// every event is exported in the end, and how many twice.
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// backend is an OTLP logs endpoint that counts the EventIds it receives, and the
// Kinesis records (sequence numbers) each came from.
type backend struct {
	plogotlp.UnimplementedGRPCServer
	mu       sync.Mutex
	ids      map[string]int
	seqs     map[string]map[string]int // EventId -> sequence number -> times received
	received int
}

func newBackend() *backend {
	return &backend{ids: map[string]int{}, seqs: map[string]map[string]int{}}
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
				attrs := lrs.At(k).Attributes()
				id, ok := attrs.Get("aws.connect.event.id")
				if !ok {
					continue
				}
				b.ids[id.Str()]++
				seq, _ := attrs.Get("aws.kinesis.sequence_number")
				if b.seqs[id.Str()] == nil {
					b.seqs[id.Str()] = map[string]int{}
				}
				b.seqs[id.Str()][seq.Str()]++
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
    deduplication:
      enabled: %[5]t
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

// duplicates sorts the repeats the backend received: an event exported again from the
// same Kinesis record (a batch handed on again after a kill), and an event exported from
// two records (the producer wrote it twice).
type duplicates struct {
	redelivered, fromRetries int
}

func (b *backend) duplicates() duplicates {
	b.mu.Lock()
	defer b.mu.Unlock()
	var d duplicates
	for _, bySeq := range b.seqs {
		d.fromRetries += len(bySeq) - 1
		for _, n := range bySeq {
			d.redelivered += n - 1
		}
	}
	return d
}

// TestCollectorSurvivesSIGKILL runs the crash test with duplicate removal off, then on:
// every event arrives either way; with it on, no event arrives from two records.
func TestCollectorSurvivesSIGKILL(t *testing.T) {
	srv := kinesistest.Start(t)
	var off, on duplicates
	t.Run("deduplication_off", func(t *testing.T) {
		var retried []string
		off, retried = crashRun(t, srv, "crash-off", false)
		require.Positive(t, off.fromRetries, "the writer retried %d events, and none arrived twice: the test proves nothing", len(retried))
	})
	t.Run("deduplication_on", func(t *testing.T) {
		on, _ = crashRun(t, srv, "crash-on", true)
		assert.Zero(t, on.fromRetries, "events the producer wrote twice were exported twice")
	})
	t.Logf("duplicates exported: deduplication off: %d from the producer's retries, %d redelivered after kills; on: %d and %d",
		off.fromRetries, off.redelivered, on.fromRetries, on.redelivered)
}

// crashRun writes simulator events, every fourth batch also writing again some events of
// the one before (a producer that lost PutRecords' answer and retried), while killing
// the collector at random; it returns the duplicates the backend received, and the
// EventIds written twice.
func crashRun(t *testing.T, srv *kinesistest.Server, stream string, dedup bool) (duplicates, []string) {
	srv.CreateStream(t, stream, 2)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	be := newBackend()
	gs := grpc.NewServer()
	plogotlp.RegisterGRPCServer(gs, be)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, fmt.Appendf(nil, configTemplate, dir, stream, srv.Endpoint, lis.Addr().String(), dedup), 0o600))

	// The simulator's events, written in small batches while the collector is killed.
	simCfg := connectsim.DefaultConfig()
	simCfg.Agents = 30
	sim, err := connectsim.New(simCfg, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	const total = 1200
	var written, retried []string
	var writtenMu sync.Mutex
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		var lastKeys []string
		var lastData [][]byte
		var lastIDs []string
		for n := 0; len(written) < total; n++ {
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
			if n%4 == 3 {
				// The retried records follow their agents' later events, as they would.
				keys, data = append(keys, lastKeys[:10]...), append(data, lastData[:10]...)
				writtenMu.Lock()
				retried = append(retried, lastIDs[:10]...)
				writtenMu.Unlock()
			}
			srv.Put(t, stream, keys, data)
			writtenMu.Lock()
			written = append(written, ids...)
			writtenMu.Unlock()
			lastKeys, lastData, lastIDs = keys, data, ids
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
	twice := append([]string(nil), retried...)
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
	// Time for a duplicate to arrive, were one let through.
	time.Sleep(2 * time.Second)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	<-c.exited

	if !ok {
		missing := be.missing(all)
		t.Fatalf("%d of %d events never arrived, e.g. %v\nlast collector run:\n%s", len(missing), len(all), missing[:min(5, len(missing))], c.log.String())
	}
	d := be.duplicates()
	be.mu.Lock()
	t.Logf("deduplication %t: %d events written (%d of them twice), %d records received, %d duplicates from the producer's retries, %d redelivered, after %d SIGKILLs",
		dedup, len(all), len(twice), be.received, d.fromRetries, d.redelivered, kills)
	be.mu.Unlock()
	return d, twice
}
