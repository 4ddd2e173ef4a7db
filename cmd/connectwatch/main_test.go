package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
