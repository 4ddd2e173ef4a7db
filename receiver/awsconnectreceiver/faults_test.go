package awsconnectreceiver

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadatatest"
)

// faultProxy stands in front of kinesis-local and, at a given rate, answers a read call
// with a fault instead of passing it on.
type faultProxy struct {
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	rnd    *rand.Rand
	rate   float64
	next   int // the kinds take turns, so that each comes up
	faults map[string]int
	passed int
}

var faultKinds = []string{"throttle", "500", "503", "reset", "slow", "expired"}

func newFaultProxy(t *testing.T, target string, seed uint64) *faultProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	t.Logf("fault proxy seed %d", seed)
	return &faultProxy{proxy: httputil.NewSingleHostReverseProxy(u), rnd: rand.New(rand.NewPCG(seed, seed)), faults: map[string]int{}}
}

func (p *faultProxy) setRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	kind := ""
	p.mu.Lock()
	if (op == "GetRecords" || op == "GetShardIterator" || op == "ListShards") && p.rnd.Float64() < p.rate {
		kind = faultKinds[p.next%len(faultKinds)]
		if kind == "expired" && op != "GetRecords" {
			kind = "throttle" // only GetRecords has an iterator to expire; its turn waits
		} else {
			p.next++
		}
		p.faults[kind]++
	} else {
		p.passed++
	}
	p.mu.Unlock()

	awsError := func(status int, typ string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"__type":"` + typ + `","message":"injected"}`))
	}
	switch kind {
	case "throttle":
		awsError(http.StatusBadRequest, "ProvisionedThroughputExceededException")
	case "500":
		awsError(http.StatusInternalServerError, "InternalFailure")
	case "503":
		awsError(http.StatusServiceUnavailable, "ServiceUnavailable")
	case "expired":
		awsError(http.StatusBadRequest, "ExpiredIteratorException")
	case "reset":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // an RST, not a clean close
			}
			conn.Close()
		}
	case "slow":
		time.Sleep(1500 * time.Millisecond)
		p.proxy.ServeHTTP(w, r)
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// deliverySink counts what the receiver hands on, by EventId and by shard and sequence
// number: the same record handed on twice repeats both, the same event written twice
// only its EventId.
type deliverySink struct {
	mu       sync.Mutex
	byEvent  map[string]int
	byRecord map[string]int
}

func newDeliverySink() *deliverySink {
	return &deliverySink{byEvent: map[string]int{}, byRecord: map[string]int{}}
}

func (s *deliverySink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				attrs := lrs.At(k).Attributes()
				id, _ := attrs.Get(eventlog.AttrEventID)
				shard, _ := attrs.Get(eventlog.AttrShardID)
				seq, _ := attrs.Get(eventlog.AttrSequenceNumber)
				s.byEvent[id.Str()]++
				s.byRecord[shard.Str()+"/"+seq.Str()]++
			}
		}
	}
	return nil
}

func (s *deliverySink) events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byEvent)
}

// duplicatesDropped reads the receiver's own count of records dropped as duplicates; a
// counter never added to is not reported at all.
func duplicatesDropped(t *testing.T, tt *componenttest.Telemetry) int64 {
	var rm metricdata.ResourceMetrics
	require.NoError(t, tt.Reader.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "otelcol_receiver_aws_connect_records_duplicate" {
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// repeats counts the deliveries beyond the first of each key.
func repeats(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += max(c-1, 0)
	}
	return n
}

// TestKinesisFaultsLoseNothing reads a stream through a proxy that answers a third of the
// read calls with throttling, 500 and 503 answers, connection resets, expired iterators
// or slow answers: every event still arrives, exactly once, and once the faults stop the
// readers catch up at once, stalled in no long backoff. It runs with duplicate removal on
// (the default) and, at the same time on a stream of its own, off: off, nothing hides a
// record the reader hands on twice, so no sequence number and no EventId may come twice.
func TestKinesisFaultsLoseNothing(t *testing.T) {
	srv := kinesistest.Start(t)
	for _, dedup := range []bool{true, false} {
		name := map[bool]string{true: "deduplication_on", false: "deduplication_off"}[dedup]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			faultsLoseNothing(t, srv, "faults-"+name, dedup)
		})
	}
}

func faultsLoseNothing(t *testing.T, srv *kinesistest.Server, stream string, dedup bool) {
	srv.CreateStream(t, stream, 2)
	proxy := newFaultProxy(t, srv.Endpoint, uint64(time.Now().UnixNano()))
	front := httptest.NewServer(proxy)
	defer front.Close()
	proxy.setRate(0.35)

	cfg := testConfig(front.URL, stream)
	cfg.ErrorBackoff.InitialInterval = 50 * time.Millisecond
	cfg.ErrorBackoff.MaxInterval = time.Second
	cfg.Deduplication.Enabled = dedup
	require.NoError(t, cfg.Validate())
	sink := newDeliverySink()
	next, err := consumer.NewLogs(sink.ConsumeLogs)
	require.NoError(t, err)
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	set := metadatatest.NewSettings(tt)
	set.Logger = zaptest.NewLogger(t)
	r, err := newReceiver(cfg, set)
	require.NoError(t, err)
	r.nextLogs = next
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	var ids, seqs []string
	for round := range 3 {
		keys, roundIDs, data := sampleEvents(t, stream+"-"+string(rune('a'+round)), 80)
		seqs = append(seqs, srv.Put(t, stream, keys, data)...)
		ids = append(ids, roundIDs...)
		time.Sleep(2 * time.Second)
	}
	everyKind := func() bool {
		proxy.mu.Lock()
		defer proxy.mu.Unlock()
		for _, kind := range faultKinds {
			if proxy.faults[kind] == 0 {
				return false
			}
		}
		return true
	}
	require.Eventually(t, func() bool { return everyKind() && sink.events() >= len(ids)*9/10 }, 90*time.Second, 100*time.Millisecond,
		"most events arrive while every kind of fault is injected")

	proxy.setRate(0)
	require.Eventually(t, func() bool { return sink.events() >= len(ids) }, 10*time.Second, 50*time.Millisecond,
		"once the faults stop, the rest arrives within seconds: no reader sits in a long backoff")
	time.Sleep(3 * cfg.PollInterval) // room for a repeat, were there one

	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.Len(t, seqs, len(ids), "each event was written once")
	t.Logf("deduplication %v: %d events written; repeats by sequence number %d, by EventId %d; dropped as duplicates %d",
		dedup, len(ids), repeats(sink.byRecord), repeats(sink.byEvent), duplicatesDropped(t, tt))
	for _, id := range ids {
		assert.Equal(t, 1, sink.byEvent[id], "event %s", id)
	}
	assert.Len(t, sink.byRecord, len(ids), "records handed on")
	assert.Zero(t, repeats(sink.byRecord), "records handed on more than once (the same shard and sequence number)")
	assert.Zero(t, repeats(sink.byEvent), "events handed on more than once (the same EventId)")
	// Each event was written once, so an EventId the window caught is a record the reader
	// read twice: with duplicate removal on, that is where a repeat would show.
	assert.Zero(t, duplicatesDropped(t, tt), "records dropped as duplicates")
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	t.Logf("faults injected: %v; calls passed: %d", proxy.faults, proxy.passed)
	for _, kind := range faultKinds {
		assert.Positive(t, proxy.faults[kind], "no %s fault was injected: the test proves less than it says", kind)
	}
}
