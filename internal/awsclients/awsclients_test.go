package awsclients

import (
	"context"
	"encoding/pem"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awstest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const baseKey = "AKIACOLLECTORBASE"

// isolate gives the test the collector's own static credentials and nothing else from
// the environment: no shared config, no instance metadata, no region.
func isolate(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           baseKey,
		"AWS_SECRET_ACCESS_KEY":       "base-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_KINESIS":    "",
		"AWS_ENDPOINT_URL_DYNAMODB":   "",
		"AWS_ENDPOINT_URL_STS":        "",
		"AWS_CA_BUNDLE":               "",
	} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

func newClients(t *testing.T, region string, tlsCfg configtls.ClientConfig) *Clients {
	t.Helper()
	c, err := New(context.Background(), region, tlsCfg, zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestRegionOfEachService(t *testing.T) {
	isolate(t)
	c := newClients(t, "", configtls.NewDefaultClientConfig())
	_, err := c.Config(Settings{Field: "leases::"})
	require.EqualError(t, err, "leases::region: not set, and the AWS SDK found none in AWS_REGION or the shared config: set leases::region, e.g. us-east-1")
	_, err = c.Config(Settings{})
	require.EqualError(t, err, "region: not set, and the AWS SDK found none in AWS_REGION or the shared config: set region, e.g. us-east-1")

	t.Setenv("AWS_REGION", "eu-west-2")
	c = newClients(t, "", configtls.NewDefaultClientConfig())
	assert.Equal(t, "eu-west-2", c.Region())
	cfg, err := c.Config(Settings{})
	require.NoError(t, err)
	assert.Equal(t, "eu-west-2", cfg.Region, "the chain's region when the settings have none")
	cfg, err = c.Config(Settings{Region: "ap-southeast-2"})
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-2", cfg.Region, "the settings' region wins")
}

// Kinesis is read through one role and DynamoDB through another, each role assumed
// through STS in its own service's region: every request to the real stand-ins carries
// the key of its service's role, never the other's, nor the collector's own.
func TestEachServiceSignsWithItsOwnRole(t *testing.T) {
	isolate(t)
	const (
		streamRole = "arn:aws:iam::111111111111:role/connect-stream-reader"
		tableRole  = "arn:aws:iam::222222222222:role/lease-table-writer"
	)
	sts := awstest.StartSTS(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	kin := kinesistest.Start(t)
	dyn := dynamotest.Start(t)
	kinRec := awstest.StartRecorder(t, kin.Endpoint)
	dynRec := awstest.StartRecorder(t, dyn.Endpoint)

	c := newClients(t, "us-east-1", configtls.NewDefaultClientConfig())
	kc, err := c.Kinesis(Settings{Region: "us-east-1", Endpoint: kinRec.URL, RoleARN: streamRole, ExternalID: "connect-ext"})
	require.NoError(t, err)
	dc, err := c.DynamoDB(Settings{Field: "leases::", Region: "eu-west-1", Endpoint: dynRec.URL, RoleARN: tableRole})
	require.NoError(t, err)
	for range 3 {
		_, err = kc.ListStreams(context.Background(), &kinesis.ListStreamsInput{})
		require.NoError(t, err)
		_, err = dc.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		require.NoError(t, err)
	}

	require.Equal(t, map[string]int{sts.AccessKeyID(streamRole): 3}, kinRec.AccessKeyIDs(), "Kinesis requests carry the stream role's key only")
	require.Equal(t, map[string]int{sts.AccessKeyID(tableRole): 3}, dynRec.AccessKeyIDs(), "DynamoDB requests carry the table role's key only")
	for _, r := range kinRec.Requests() {
		assert.Equal(t, "us-east-1", r.Signature.Region)
	}
	for _, r := range dynRec.Requests() {
		assert.Equal(t, "eu-west-1", r.Signature.Region)
	}

	calls := sts.Calls()
	require.Len(t, calls, 2, "each role is assumed once, its credentials cached")
	byRole := map[string]awstest.AssumeRoleCall{}
	for _, call := range calls {
		byRole[call.RoleARN] = call
		assert.Equal(t, baseKey, call.Signature.AccessKeyID, "the collector's own credentials assume each role")
		assert.Equal(t, SessionName, call.SessionName)
	}
	assert.Equal(t, "us-east-1", byRole[streamRole].Signature.Region)
	assert.Equal(t, "connect-ext", byRole[streamRole].ExternalID)
	assert.Equal(t, "eu-west-1", byRole[tableRole].Signature.Region, "the table role is assumed through STS in the table's region")
	assert.Empty(t, byRole[tableRole].ExternalID, "an external ID goes only with its own role")
}

// The configured endpoint wins over AWS_ENDPOINT_URL_<SERVICE>: the configuration is the
// more specific of the two.
func TestEndpointWinsOverEnvironment(t *testing.T) {
	isolate(t)
	var hits sync.Map
	handler := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Store(name, true)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write([]byte(`{}`))
		})
	}
	configured := httptest.NewServer(handler("configured"))
	defer configured.Close()
	fromEnv := httptest.NewServer(handler("env"))
	defer fromEnv.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", fromEnv.URL)

	c := newClients(t, "us-east-1", configtls.NewDefaultClientConfig())
	dc, err := c.DynamoDB(Settings{Endpoint: configured.URL})
	require.NoError(t, err)
	_, err = dc.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	_, hitConfigured := hits.Load("configured")
	_, hitEnv := hits.Load("env")
	assert.True(t, hitConfigured)
	assert.False(t, hitEnv)

	// Without an endpoint in the settings, the environment's applies.
	dc, err = c.DynamoDB(Settings{})
	require.NoError(t, err)
	_, err = dc.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	_, hitEnv = hits.Load("env")
	assert.True(t, hitEnv)
}

// Every client shares one transport: after Close, no connection of either service stays
// open (a client with a transport of its own would keep its idle connection).
func TestCloseDropsIdleConnectionsOfEveryService(t *testing.T) {
	isolate(t)
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		body := []byte(`{"StreamNames":[],"HasMoreStreams":false,"TableNames":[]}`)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		// DynamoDB's client checks its answers' CRC32, and keeps a connection whose
		// answer fails the check out of the idle pool.
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		_, _ = w.Write(body)
	}))
	srv.Config.ConnState = func(conn net.Conn, state http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch state {
		case http.StateNew:
			open[conn] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, conn)
		}
	}
	srv.Start()
	defer srv.Close()
	openConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}

	c, err := New(context.Background(), "us-east-1", configtls.NewDefaultClientConfig(), zap.NewNop())
	require.NoError(t, err)
	kc, err := c.Kinesis(Settings{Endpoint: srv.URL})
	require.NoError(t, err)
	dc, err := c.DynamoDB(Settings{Endpoint: srv.URL, Region: "eu-west-1"})
	require.NoError(t, err)
	// Two calls at once, so that each takes a connection of its own.
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := kc.ListStreams(context.Background(), &kinesis.ListStreamsInput{})
		assert.NoError(t, err)
	})
	wg.Go(func() {
		_, err := dc.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		assert.NoError(t, err)
	})
	wg.Wait()
	require.Positive(t, openConns(), "the calls left idle connections")

	c.Close()
	require.Eventually(t, func() bool { return openConns() == 0 }, 5*time.Second, 10*time.Millisecond, "Close dropped every idle connection")
}

// tls::ca_file reaches every service: an endpoint whose certificate only that CA vouches
// for is trusted, and refused without it.
func TestTLSSettingsReachEveryService(t *testing.T) {
	isolate(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"TableNames":[]}`))
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	call := func(tlsCfg configtls.ClientConfig) error {
		c := newClients(t, "us-east-1", tlsCfg)
		dc, err := c.DynamoDB(Settings{Endpoint: srv.URL})
		require.NoError(t, err)
		_, err = dc.ListTables(context.Background(), &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	err := call(configtls.NewDefaultClientConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	withCA := configtls.NewDefaultClientConfig()
	withCA.CAFile = caFile
	require.NoError(t, call(withCA))
}
