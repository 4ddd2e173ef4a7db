package crashsafety

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip
)

// backend is an OTLP logs endpoint that counts the EventIds it receives, and the
// Kinesis records (sequence numbers) each came from.
type backend struct {
	plogotlp.UnimplementedGRPCServer
	server   *grpc.Server
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

// serve listens on addr ("127.0.0.1:0" for any port) and returns the address; down and
// serve again on that address make an outage.
func (b *backend) serve(t *testing.T, addr string) string {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	b.server = grpc.NewServer()
	plogotlp.RegisterGRPCServer(b.server, b)
	go func() { _ = b.server.Serve(lis) }()
	return lis.Addr().String()
}

// down stops the server: connections are closed, and new ones refused.
func (b *backend) down() {
	if b.server != nil {
		b.server.Stop()
		b.server = nil
	}
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.ids)
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
