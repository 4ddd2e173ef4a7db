package exportbench

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/extension/queuestorage"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// The receiver's defaults: a request holds at most this many records and bytes of data.
const (
	recordsPerRequest = 1000
	bytesPerRequest   = 2 << 20
)

// shape is a way to export: the shipped exporter with its sending_queue changed.
type shape struct {
	name string
	// storage is the queue's storage: file_storage (bbolt, as shipped), queue_storage
	// (this project's segment files), free (a map in memory: what any storage at all
	// would cost beyond nothing) or none (in memory).
	storage string
	// batch keeps the queue's batch section; without, each request is sent as it came.
	batch bool
	// wait has the caller wait for each export's result, as with Kinesis as the buffer.
	wait bool
	// small sends requests of smallRequest records, as a quiet stream gives them: a few
	// records a GetRecords call.
	small bool
	// jsonBody builds the requests with log_body: json, each body the record's text.
	jsonBody bool
}

var shapes = []shape{
	{name: "disk-queue", storage: "file_storage", batch: true},
	{name: "disk-queue-free-storage", storage: "free", batch: true},
	{name: "disk-queue-no-batch", storage: "file_storage"},
	{name: "disk-queue-small-requests", storage: "file_storage", batch: true, small: true},
	{name: "disk-queue-small-requests-no-batch", storage: "file_storage", small: true},
	{name: "queue-in-memory-wait", storage: "none", batch: true, wait: true},
	{name: "disk-queue-json-body", storage: "file_storage", batch: true, jsonBody: true},
	{name: "disk-queue-free-storage-json-body", storage: "free", batch: true, jsonBody: true},
	{name: "queue-in-memory-wait-json-body", storage: "none", batch: true, wait: true, jsonBody: true},
	{name: "disk-queue-queue-storage", storage: "queue_storage", batch: true},
	{name: "disk-queue-queue-storage-json-body", storage: "queue_storage", batch: true, jsonBody: true},
}

// smallRequest is the records of a small request; opEvents, of an op, whatever the
// size of its requests, so that ops compare.
const (
	smallRequest = 10
	opEvents     = 400
)

// BenchmarkExport is the export path alone, in process: requests built from the
// simulator's events by the receiver's own mapping, of the receiver's default size (or
// small ones), handed to the OTLP exporter of config/datadog-agent.yaml (its sending_queue
// as shipped, or changed as each shape says), which sends them to a gRPC sink in the same
// process. An op is opEvents events; the run ends when the sink has every record.
// cpu-µs/event is the process's CPU time (every core, the sink's share included) an event;
// build-only is the building alone, to take from the others.
func BenchmarkExport(b *testing.B) {
	events := perftest.Simulate(b, 4000)
	large, small := buildRequests(b, events, recordsPerRequest, eventlog.BodyMap), buildRequests(b, events, smallRequest, eventlog.BodyMap)
	largeJSON := buildRequests(b, events, recordsPerRequest, eventlog.BodyJSON)
	b.Run("build-only", func(b *testing.B) {
		measure(b, large, func(plog.Logs) {}, func() {})
	})
	b.Run("build-only-json-body", func(b *testing.B) {
		measure(b, largeJSON, func(plog.Logs) {}, func() {})
	})
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			sink := startSink(b)
			exp := startExporter(b, s, sink.addr)
			requests := large
			switch {
			case s.small:
				requests = small
			case s.jsonBody:
				requests = largeJSON
			}
			var pushed int
			events := measure(b, requests, func(ld plog.Logs) {
				pushed += ld.LogRecordCount()
				deadline := time.Now().Add(time.Minute)
				for err := exp.ConsumeLogs(context.Background(), ld); err != nil; err = exp.ConsumeLogs(context.Background(), ld) {
					if time.Now().After(deadline) {
						b.Fatalf("the exporter refused a request for a minute: %v", err)
					}
					time.Sleep(time.Millisecond) // the queue is full: wait as the receiver does
				}
			}, func() { sink.waitFor(b, pushed) })
			b.ReportMetric(float64(sink.exports.Load())*1000/float64(events), "exports/1k-events")
		})
	}
}

// measure runs b.N ops of opEvents events, in requests taken in turn, through push,
// then done, and reports the CPU time they cost an event. It returns the events pushed.
// (Wall time says little here: a request under the batch's min_size waits for its
// flush_timeout.)
func measure(b *testing.B, requests []request, push func(plog.Logs), done func()) int {
	var events, next int
	b.ReportAllocs()
	before := cpuTime()
	b.ResetTimer()
	for range b.N {
		for op := 0; op < opEvents; next++ {
			r := requests[next%len(requests)]
			op += r.count
			events += r.count
			push(r.build())
		}
	}
	done()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(events), "cpu-µs/event")
	b.ReportMetric(0, "ns/op")
	return events
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// request is the data of one call to the pipeline; build makes its logs as the receiver
// does, anew each time, since an exporter takes the logs it is handed.
type request struct {
	count int
	build func() plog.Logs
}

// buildRequests cuts the events into requests as the receiver does, of at most
// perRequest records and bytesPerRequest bytes, their bodies in format.
func buildRequests(b *testing.B, ev perftest.Events, perRequest int, format eventlog.BodyFormat) []request {
	builder := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(), eventlog.WithBodyFormat(format))
	var out []request
	for lo := 0; lo < len(ev.Data); {
		hi, size := lo, 0
		for hi < len(ev.Data) && hi-lo < perRequest && size+len(ev.Data[hi]) <= bytesPerRequest {
			size += len(ev.Data[hi])
			hi++
		}
		data, ids := ev.Data[lo:hi], ev.IDs[lo:hi]
		out = append(out, request{count: len(data), build: func() plog.Logs {
			recs := builder.NewRecords(eventlog.Source{Stream: "connect-agent-events", Shard: "shardId-000000000000"}, len(data), time.Now(), true)
			defer recs.Release()
			for i, d := range data {
				if _, err := recs.Decode(d); err != nil {
					b.Fatal(err)
				}
				recs.AddEvent(ids[i])
			}
			return recs.Logs()
		}})
		lo = hi
	}
	return out
}

// shippedExporter is config/datadog-agent.yaml's exporter section, each ${env:NAME:-default}
// at its default.
func shippedExporter(b *testing.B) map[string]any {
	raw, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(b), "config", "datadog-agent.yaml"))
	require.NoError(b, err)
	raw = regexp.MustCompile(`\$\{env:[A-Z0-9_]+(?::-([^}]*))?\}`).ReplaceAll(raw, []byte("$1"))
	var cfg struct {
		Exporters map[string]map[string]any `yaml:"exporters"`
	}
	require.NoError(b, yaml.Unmarshal(raw, &cfg))
	section, ok := cfg.Exporters["otlp_grpc/datadog-agent"]
	require.True(b, ok, "datadog-agent.yaml has no otlp_grpc/datadog-agent exporter")
	return section
}

func startExporter(b *testing.B, s shape, endpoint string) exporter.Logs {
	section := shippedExporter(b)
	section["endpoint"] = endpoint
	queue := section["sending_queue"].(map[string]any)
	if !s.batch {
		delete(queue, "batch")
	}
	queue["wait_for_result"] = s.wait
	host := &host{extensions: map[component.ID]component.Component{}}
	switch s.storage {
	case "none":
		queue["storage"] = nil
	case "free":
		queue["storage"] = "free_storage"
		host.extensions[component.MustNewID("free_storage")] = &freeStorage{}
	case "queue_storage":
		queue["storage"] = "queue_storage"
		f := queuestorage.NewFactory()
		cfg := f.CreateDefaultConfig()
		require.NoError(b, confmap.NewFromStringMap(map[string]any{"directory": b.TempDir()}).Unmarshal(cfg))
		startExtension(b, host, f, cfg)
	default:
		queue["storage"] = "file_storage"
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory = b.TempDir()
		startExtension(b, host, f, cfg)
	}
	f := otlpexporter.NewFactory()
	cfg := f.CreateDefaultConfig()
	require.NoError(b, confmap.NewFromStringMap(section).Unmarshal(cfg))
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(b, err)
	require.NoError(b, exp.Start(context.Background(), host))
	b.Cleanup(func() { require.NoError(b, exp.Shutdown(context.Background())) })
	return exp
}

func startExtension(b *testing.B, host *host, f extension.Factory, cfg component.Config) {
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(b, err)
	require.NoError(b, ext.Start(context.Background(), host))
	b.Cleanup(func() { require.NoError(b, ext.Shutdown(context.Background())) })
	host.extensions[component.NewID(f.Type())] = ext
}

type host struct {
	extensions map[component.ID]component.Component
}

func (h *host) GetExtensions() map[component.ID]component.Component { return h.extensions }

// freeStorage keeps values in a map: a storage that costs a copy of each value and
// nothing else, the least any storage could cost.
type freeStorage struct {
	mu     sync.Mutex
	values map[string][]byte
}

var _ storage.Extension = (*freeStorage)(nil)

func (*freeStorage) Start(context.Context, component.Host) error { return nil }
func (*freeStorage) Shutdown(context.Context) error              { return nil }

func (f *freeStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values = map[string][]byte{}
	return f, nil
}

func (f *freeStorage) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	return op.Value, f.Batch(ctx, op)
}

func (f *freeStorage) Set(ctx context.Context, key string, value []byte) error {
	return f.Batch(ctx, storage.SetOperation(key, value))
}

func (f *freeStorage) Delete(ctx context.Context, key string) error {
	return f.Batch(ctx, storage.DeleteOperation(key))
}

func (f *freeStorage) Batch(_ context.Context, ops ...*storage.Operation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			if v, ok := f.values[op.Key]; ok {
				op.Value = append([]byte(nil), v...)
			}
		case storage.Set:
			f.values[op.Key] = append([]byte(nil), op.Value...)
		case storage.Delete:
			delete(f.values, op.Key)
		}
	}
	return nil
}

func (*freeStorage) Close(context.Context) error { return nil }

// sink is an OTLP/gRPC logs endpoint that counts the requests and records it is sent.
type sink struct {
	plogotlp.UnimplementedGRPCServer
	addr             string
	records, exports atomic.Int64
}

func (s *sink) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	s.exports.Add(1)
	s.records.Add(int64(req.Logs().LogRecordCount()))
	return plogotlp.NewExportResponse(), nil
}

func startSink(b *testing.B) *sink {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	srv := grpc.NewServer()
	s := &sink{addr: lis.Addr().String()}
	plogotlp.RegisterGRPCServer(srv, s)
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	return s
}

func (s *sink) waitFor(b *testing.B, records int) {
	deadline := time.Now().Add(time.Minute)
	for s.records.Load() < int64(records) {
		if time.Now().After(deadline) {
			b.Fatalf("the sink has %d of %d records", s.records.Load(), records)
		}
		time.Sleep(time.Millisecond)
	}
}
