// Package health runs the built collector with the health_check extension and asks its
// endpoint what it makes of the aws_connect receiver: a stream that does not exist,
// credentials or permissions that are refused, and a healthy stream.
package health

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// statusGate makes health_check v0.161.0 answer from the components' status.
const statusGate = "--feature-gates=+extension.healthcheck.useComponentStatus"

// The health_check block as the configs in config/ ship it.

type answer struct {
	code int
	body string
}

func (a answer) String() string { return fmt.Sprintf("HTTP %d %s", a.code, a.body) }

// collector runs the built binary against stream at endpoint, with flags, and returns it
// and its health endpoint.
func collector(t *testing.T, stream, endpoint string, flags ...string) (*collectortest.Process, string) {
	t.Helper()
	port := kinesistest.FreePort(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: endpoint,
		Extensions: map[string]any{"health_check": map[string]any{
			"endpoint": fmt.Sprintf("127.0.0.1:%d", port),
			"component_health": map[string]any{
				"include_permanent_errors": true, "include_recoverable_errors": true, "recovery_duration": "5m",
			},
		}},
		Exporters: map[string]any{"debug": map[string]any{"verbosity": "basic"}},
		Logs:      &collectortest.Pipeline{Exporters: []string{"debug"}},
	}.Write(t, cfgPath)
	p := collectortest.StartWithFlags(t, cfgPath, flags, kinesistest.CollectorEnv()...)
	return p, fmt.Sprintf("http://127.0.0.1:%d/", port)
}

func ask(url string) (answer, bool) {
	resp, err := http.Get(url)
	if err != nil {
		return answer{}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, false
	}
	return answer{code: resp.StatusCode, body: string(body)}, true
}

// await asks the endpoint until it answers code, and returns that answer.
func await(t *testing.T, p *collectortest.Process, url string, code int) answer {
	t.Helper()
	var last answer
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.Exited:
			t.Fatalf("the collector exited; output:\n%s", p.Output())
		default:
		}
		if a, ok := ask(url); ok {
			last = a
			if a.code == code {
				t.Logf("%s answered %s", url, a)
				return a
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the health endpoint never answered %d; last answer: %s", code, last)
	return answer{}
}

// healthBody is what health_check answers, in the part the test reads.
type healthBody struct {
	Healthy bool   `json:"healthy"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

func parse(t *testing.T, a answer) healthBody {
	t.Helper()
	var b healthBody
	require.NoError(t, json.Unmarshal([]byte(a.body), &b), "body: %s", a.body)
	return b
}

func TestStreamNotFoundIsUnhealthy(t *testing.T) {
	srv := kinesistest.Start(t)
	p, url := collector(t, "no-such-stream", srv.Endpoint, statusGate)
	b := parse(t, await(t, p, url, http.StatusInternalServerError))
	assert.False(t, b.Healthy)
	assert.Equal(t, "StatusPermanentError", b.Status)
	assert.Contains(t, b.Error, "stream no-such-stream was not found in region us-east-1: ResourceNotFoundException")
	assert.Contains(t, p.Output(), "stream no-such-stream was not found in region us-east-1", "the log says it too")
	p.Stop(t)
}

func TestReadDeniedIsUnhealthy(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "read-denied"
	srv.CreateStream(t, stream, 1)
	proxy := kinesistest.StartProxy(t, srv.Endpoint)
	proxy.Deny("GetRecords")
	p, url := collector(t, stream, proxy.URL, statusGate)
	b := parse(t, await(t, p, url, http.StatusInternalServerError))
	assert.False(t, b.Healthy)
	assert.Equal(t, "StatusPermanentError", b.Status)
	assert.Contains(t, b.Error, "kinesis:GetRecords on arn:aws:kinesis:us-east-1:"+kinesistest.Account+":stream/"+stream+" is not allowed: AccessDeniedException")
	p.Stop(t)
}

func TestRefusedCredentialsAreUnhealthy(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "bad-key"
	srv.CreateStream(t, stream, 1)
	proxy := kinesistest.StartProxy(t, srv.Endpoint)
	proxy.RefuseCredentials()
	p, url := collector(t, stream, proxy.URL, statusGate)
	b := parse(t, await(t, p, url, http.StatusInternalServerError))
	assert.False(t, b.Healthy)
	assert.Equal(t, "StatusPermanentError", b.Status)
	assert.Contains(t, b.Error, "the AWS credentials were refused calling kinesis:DescribeStreamSummary on stream "+stream+": UnrecognizedClientException: The security token included in the request is invalid.")
	p.Stop(t)
}

func TestHealthyStreamIsHealthy(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "healthy"
	srv.CreateStream(t, stream, 2)
	p, url := collector(t, stream, srv.Endpoint, statusGate)
	b := parse(t, await(t, p, url, http.StatusOK))
	assert.True(t, b.Healthy)
	assert.Equal(t, "StatusOK", b.Status)
	require.Eventually(t, func() bool { return strings.Contains(p.Output(), "Reading shard") }, 30*time.Second, 100*time.Millisecond)
	a, ok := ask(url)
	require.True(t, ok)
	assert.Equal(t, http.StatusOK, a.code, "still healthy once reading: %s", a)
	p.Stop(t)
}

// TestWithoutTheGateTheReceiverSaysSo: without the feature gate, health_check v0.161.0
// answers healthy whatever the components report; the receiver says so at start rather
// than leave it silent.
func TestWithoutTheGateTheReceiverSaysSo(t *testing.T) {
	srv := kinesistest.Start(t)
	p, url := collector(t, "no-such-stream", srv.Endpoint)
	a := await(t, p, url, http.StatusOK)
	assert.Contains(t, a.body, "Server available", "the legacy answer, blind to the receiver")
	require.Eventually(t, func() bool { return strings.Contains(p.Output(), "was not found") }, 30*time.Second, 100*time.Millisecond)
	assert.Contains(t, p.Output(), "The health_check extension answers healthy whatever this receiver reports")
	assert.Contains(t, p.Output(), statusGate)
	p.Stop(t)
}
