package collectortest

import (
	"context"
	"maps"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// Backend is an OTLP/gRPC endpoint for the collector's otlp exporter. It counts the agent
// events it receives by EventId, and the Kinesis records (sequence numbers) each came
// from, and the metric data points.
type Backend struct {
	plogotlp.UnimplementedGRPCServer
	server      *grpc.Server
	httpServers []*http.Server

	// MaxRecvMsgSize, when above 0, replaces gRPC's default limit of 4 MiB on a request,
	// for a backend that must take whatever a gateway in front of it took.
	MaxRecvMsgSize int

	mu         sync.Mutex
	ids        map[string]int
	seqs       map[string]map[string]int // EventId -> sequence number -> times received
	received   int
	dataPoints int
	// bodies counts the agent events' log records by body type (Map, Str); unreadBodies,
	// those whose body does not carry their EventId.
	bodies       map[string]int
	unreadBodies int
	// decoder reads the EventId of a body that is JSON text: the receiver's own decoder,
	// a few µs an event, so that a busy sink keeps up.
	decoder *agentevent.Decoder
	event   agentevent.Event
}

// NewBackend returns a Backend that serves nothing yet: see Serve.
func NewBackend() *Backend {
	return &Backend{ids: map[string]int{}, seqs: map[string]map[string]int{}, bodies: map[string]int{}, decoder: agentevent.NewDecoder()}
}

// Serve listens on addr ("127.0.0.1:0" for any port) and returns the address; Down and
// Serve again on that address make an outage.
func (b *Backend) Serve(addr string) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	var opts []grpc.ServerOption
	if b.MaxRecvMsgSize > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(b.MaxRecvMsgSize))
	}
	b.server = grpc.NewServer(opts...)
	plogotlp.RegisterGRPCServer(b.server, b)
	pmetricotlp.RegisterGRPCServer(b.server, &metricsService{b: b})
	go func() { _ = b.server.Serve(lis) }()
	return lis.Addr().String(), nil
}

// Down stops the server: connections are closed, and new ones refused.
func (b *Backend) Down() {
	b.downHTTP()
	if b.server != nil {
		b.server.Stop()
		b.server = nil
	}
}

// Export implements the OTLP logs service.
func (b *Backend) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
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
				body := lrs.At(k).Body()
				b.bodies[body.Type().String()]++
				if b.bodyEventID(body) != id.Str() {
					b.unreadBodies++
				}
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

// bodyEventID is the EventId an agent event's body holds: a map's member, or the
// member of the JSON text. The caller holds b.mu.
func (b *Backend) bodyEventID(body pcommon.Value) string {
	switch body.Type() {
	case pcommon.ValueTypeMap:
		id, _ := body.Map().Get("EventId")
		return id.Str()
	case pcommon.ValueTypeStr:
		if b.decoder.Decode([]byte(body.Str()), &b.event, nil) != nil {
			return ""
		}
		return b.event.EventID
	}
	return ""
}

// Bodies counts the agent events' log records by body type ("Map", "Str"), and those
// whose body does not carry the record's EventId.
func (b *Backend) Bodies() (byType map[string]int, unread int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.bodies), b.unreadBodies
}

type metricsService struct {
	pmetricotlp.UnimplementedGRPCServer
	b *Backend
}

func (m *metricsService) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	m.b.dataPoints += req.Metrics().DataPointCount()
	return pmetricotlp.NewExportResponse(), nil
}

// Missing returns the EventIds of written that never arrived.
func (b *Backend) Missing(written []string) []string {
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

// Events is how many distinct EventIds arrived; Received counts every log record.
func (b *Backend) Events() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.ids)
}

// Received is how many log records arrived, duplicates and malformed records included.
func (b *Backend) Received() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.received
}

// DataPoints is how many metric data points arrived.
func (b *Backend) DataPoints() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dataPoints
}

// Duplicates sorts the repeats the backend received: an event exported again from the
// same Kinesis record (a batch handed on again after a crash), and an event exported
// from two records (the producer wrote it twice).
type Duplicates struct {
	Redelivered, FromRetries int
}

// Duplicates counts the repeats received so far.
func (b *Backend) Duplicates() Duplicates {
	b.mu.Lock()
	defer b.mu.Unlock()
	var d Duplicates
	for _, bySeq := range b.seqs {
		d.FromRetries += len(bySeq) - 1
		for _, n := range bySeq {
			d.Redelivered += n - 1
		}
	}
	return d
}
