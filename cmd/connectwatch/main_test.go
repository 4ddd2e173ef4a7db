package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/wallboard"
)

func endpoint(t *testing.T, body string, status int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// TestScrapeAllAddsUpCollectors: the board of several collectors' endpoints is their sum;
// one endpoint that does not answer shows no board at all, rather than a part.
func TestScrapeAllAddsUpCollectors(t *testing.T) {
	a := endpoint(t, "# TYPE aws_connect_agent_online gauge\naws_connect_agent_online{instance=\"a\",aws_connect_routing_profile_name=\"Sales\"} 3\n", http.StatusOK)
	b := endpoint(t, "# TYPE aws_connect_agent_online gauge\naws_connect_agent_online{instance=\"b\",aws_connect_routing_profile_name=\"Sales\"} 4\n", http.StatusOK)
	down := endpoint(t, "", http.StatusServiceUnavailable)

	board, err := scrapeAll(context.Background(), http.DefaultClient, []string{a, " " + b})
	require.NoError(t, err)
	assert.Equal(t, int64(7), board.Online)

	_, err = scrapeAll(context.Background(), http.DefaultClient, []string{a, down})
	require.Error(t, err)
	assert.Contains(t, err.Error(), down)
}

// board is a scrape with one queue whose answered contacts number n, m of them within 20 s.
func board(t *testing.T, n, m int) *wallboard.Board {
	t.Helper()
	b, err := wallboard.Parse(strings.NewReader(fmt.Sprintf(`# TYPE aws_connect_queue_wait_duration_seconds histogram
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_queue_arn="arn:aws:connect:us-east-1:1:instance/i/queue/q",aws_connect_queue_outcome="answered",le="20"} %d
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_queue_arn="arn:aws:connect:us-east-1:1:instance/i/queue/q",aws_connect_queue_outcome="answered",le="+Inf"} %d
aws_connect_queue_wait_duration_seconds_sum{aws_connect_queue_arn="arn:aws:connect:us-east-1:1:instance/i/queue/q",aws_connect_queue_outcome="answered"} 1
aws_connect_queue_wait_duration_seconds_count{aws_connect_queue_arn="arn:aws:connect:us-east-1:1:instance/i/queue/q",aws_connect_queue_outcome="answered"} %d
`, m, n, n)))
	require.NoError(t, err)
	return b
}

// TestRecentWindow: the service level counts the contacts of the last window only.
func TestRecentWindow(t *testing.T) {
	const q = "arn:aws:connect:us-east-1:1:instance/i/queue/q"
	var r recent
	t0 := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	first := r.since(t0, board(t, 10, 10), 10*time.Minute)
	assert.InDelta(t, 10, first.Queues[q].Dequeued, 1e-9, "nothing older: since the start")
	r.since(t0.Add(5*time.Minute), board(t, 20, 15), 10*time.Minute)
	w := r.since(t0.Add(12*time.Minute), board(t, 30, 16), 10*time.Minute)
	// The oldest board within 10 minutes is the one at 5 minutes: 10 more, 1 within.
	assert.InDelta(t, 10, w.Queues[q].Dequeued, 1e-9)
	assert.InDelta(t, 1, w.Queues[q].WithinThreshold, 1e-9)
	all := (&recent{}).since(t0, board(t, 30, 16), 0)
	assert.InDelta(t, 30, all.Queues[q].Dequeued, 1e-9, "no window: since the collector started")
}
