package awsconnectreceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// A Kinesis endpoint with a certificate nobody vouches for is refused, unless
// tls::insecure_skip_verify says otherwise.
func TestTLSVerificationStaysOn(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"no such stream"}`))
	}))
	defer srv.Close()

	run := func(skipVerify bool) *observer.ObservedLogs {
		core, logs := observer.New(zap.DebugLevel)
		cfg := createDefaultConfig().(*Config)
		cfg.StreamName, cfg.Region, cfg.Endpoint = "s", "us-east-1", srv.URL
		cfg.TLS.InsecureSkipVerify = skipVerify
		set := receivertest.NewNopSettings(metadata.Type)
		set.Logger = zap.New(core)
		r, err := newReceiver(cfg, set)
		require.NoError(t, err)
		r.nextLogs = consumertest.NewNop()
		require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
		// The access check, the first call made, fails either way, and logs why.
		require.Eventually(t, func() bool { return failures(logs).Len() > 0 }, 10*time.Second, 20*time.Millisecond)
		require.NoError(t, r.Shutdown(context.Background()))
		return logs
	}

	logs := run(false)
	assert.Zero(t, requests.Load(), "no request gets through an unverified TLS handshake")
	failure := failures(logs).All()[0]
	assert.Contains(t, failure.ContextMap()["error"], "certificate")

	logs = run(true)
	assert.Positive(t, requests.Load(), "with insecure_skip_verify the request reaches the endpoint")
	assert.Equal(t, 1, logs.FilterMessageSnippet("insecure_skip_verify is set").Len())
}

// failures are the log lines that carry an error.
func failures(logs *observer.ObservedLogs) *observer.ObservedLogs {
	return logs.Filter(func(e observer.LoggedEntry) bool {
		_, ok := e.ContextMap()["error"]
		return ok
	})
}
