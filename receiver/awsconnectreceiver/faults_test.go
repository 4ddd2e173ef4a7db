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

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
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

// TestKinesisFaultsLoseNothing reads a stream through a proxy that answers a third of the
// read calls with throttling, 500 and 503 answers, connection resets, expired iterators
// or slow answers: every event still arrives, exactly once, and once the faults stop the
// readers catch up at once, stalled in no long backoff.
func TestKinesisFaultsLoseNothing(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "faults"
	srv.CreateStream(t, stream, 2)
	proxy := newFaultProxy(t, srv.Endpoint, uint64(time.Now().UnixNano()))
	front := httptest.NewServer(proxy)
	defer front.Close()
	proxy.setRate(0.35)

	cfg := testConfig(front.URL, stream)
	cfg.ErrorBackoff.InitialInterval = 50 * time.Millisecond
	cfg.ErrorBackoff.MaxInterval = time.Second
	sink := newEventSink()
	r := startReceiver(t, cfg, sink, componenttest.NewNopHost())
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	var ids []string
	for round := range 3 {
		keys, roundIDs, data := sampleEvents(t, "fault-"+string(rune('a'+round)), 80)
		srv.Put(t, stream, keys, data)
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
	require.Eventually(t, func() bool { return everyKind() && sink.count() >= len(ids)*9/10 }, 90*time.Second, 100*time.Millisecond,
		"most events arrive while every kind of fault is injected")

	proxy.setRate(0)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 10*time.Second, 50*time.Millisecond,
		"once the faults stop, the rest arrives within seconds: no reader sits in a long backoff")
	time.Sleep(3 * cfg.PollInterval) // room for a duplicate, were there one

	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, id := range ids {
		assert.Equal(t, 1, sink.ids[id], "event %s", id)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	t.Logf("faults injected: %v; calls passed: %d", proxy.faults, proxy.passed)
	for _, kind := range faultKinds {
		assert.Positive(t, proxy.faults[kind], "no %s fault was injected: the test proves less than it says", kind)
	}
}
