package awsconnectreceiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awstest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadatatest"
)

// withLeases turns the leases block on with short durations, for tests.
func withLeases(cfg *Config, table, endpoint string) *LeasesConfig {
	l := cfg.Leases.GetOrInsertDefault()
	l.TableName = table
	l.Endpoint = endpoint
	l.LeaseDuration = 3 * time.Second
	l.RenewInterval = time.Second
	return l
}

// startLeaseReceiver starts a receiver as a collector whose service.instance.id is
// instanceID, its logs going to sink and its own log to logger.
func startLeaseReceiver(t *testing.T, cfg *Config, sink *eventSink, host component.Host, instanceID string, logger *zap.Logger) *awsConnectReceiver {
	t.Helper()
	return startLeaseReceiverWith(t, receivertest.NewNopSettings(metadata.Type), cfg, sink, host, instanceID, logger)
}

// startLeaseReceiverWith is startLeaseReceiver with the settings given (telemetry, say).
func startLeaseReceiverWith(t *testing.T, set receiver.Settings, cfg *Config, sink *eventSink, host component.Host, instanceID string, logger *zap.Logger) *awsConnectReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	next, err := consumer.NewLogs(sink.ConsumeLogs)
	require.NoError(t, err)
	set.ID = component.NewID(metadata.Type)
	set.Logger = logger
	set.Resource.Attributes().PutStr("service.instance.id", instanceID)
	r, err := newReceiver(cfg, set)
	require.NoError(t, err)
	r.nextLogs = next
	require.NoError(t, r.Start(context.Background(), host))
	return r
}

// leaseItems returns the table's lease items by shard ID.
func leaseItems(t *testing.T, client *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	items := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		items[it["leaseKey"].(*types.AttributeValueMemberS).Value] = it
	}
	return items
}

func owner(item map[string]types.AttributeValue) string {
	if v, ok := item["leaseOwner"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// TestCrossAccountLeases: the stream is read through one role (role_arn), the lease
// table through another (leases::role_arn) in another region, and each service gets only
// its own role's credentials: every Kinesis request carries the stream role's access key,
// every DynamoDB request the table role's, each role assumed through STS in its own
// service's region, with the collector's own credentials.
func TestCrossAccountLeases(t *testing.T) {
	const (
		streamRole = "arn:aws:iam::111111111111:role/connect-stream-reader"
		tableRole  = "arn:aws:iam::222222222222:role/otelcol-lease-table"
		stream     = "xacct"
		table      = "otelcol-amazonconnect-leases"
	)
	sts := awstest.StartSTS(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 2)
	dyn := dynamotest.Start(t)
	kinRec := awstest.StartRecorder(t, kin.Endpoint)
	dynRec := awstest.StartRecorder(t, dyn.Endpoint)

	cfg := testConfig(kinRec.URL, stream)
	cfg.RoleARN, cfg.ExternalID = streamRole, "stream-external-id"
	l := withLeases(cfg, table, dynRec.URL)
	l.Region, l.RoleARN, l.ExternalID = "eu-west-1", tableRole, "table-external-id"
	sink := newEventSink()
	r := startLeaseReceiver(t, cfg, sink, componenttest.NewNopHost(), "collector-a", zaptest.NewLogger(t))

	keys, ids, data := sampleEvents(t, "xacct", 20)
	kin.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 30*time.Second, 50*time.Millisecond,
		"the stream is read with the leases of the table")
	items := leaseItems(t, dyn.Client, table)
	require.Len(t, items, 2, "a lease item per shard, in the table the table role reaches")
	for id, item := range items {
		assert.Equal(t, "collector-a", owner(item), "shard %s is held by the worker named by service.instance.id", id)
	}
	require.NoError(t, r.Shutdown(context.Background()))
	for id, item := range leaseItems(t, dyn.Client, table) {
		assert.Empty(t, owner(item), "shard %s was released at shutdown, for another collector to take at once", id)
		cp, _ := item["checkpoint"].(*types.AttributeValueMemberS)
		require.NotNil(t, cp, "shard %s has a checkpoint", id)
		assert.NotContains(t, []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, cp.Value, "shard %s: the checkpoint of what was read", id)
	}

	kinKeys, dynKeys := kinRec.AccessKeyIDs(), dynRec.AccessKeyIDs()
	require.NotEmpty(t, kinKeys)
	require.NotEmpty(t, dynKeys)
	assert.Equal(t, []string{sts.AccessKeyID(streamRole)}, keysOf(kinKeys), "every Kinesis request carries the stream role's key")
	assert.Equal(t, []string{sts.AccessKeyID(tableRole)}, keysOf(dynKeys), "every DynamoDB request carries the table role's key")
	for _, req := range kinRec.Requests() {
		assert.Equal(t, "us-east-1", req.Signature.Region, req.Target)
	}
	for _, req := range dynRec.Requests() {
		assert.Equal(t, "eu-west-1", req.Signature.Region, req.Target)
		assert.True(t, strings.HasPrefix(req.Target, "DynamoDB_20120810."), req.Target)
	}
	byRole := map[string]awstest.AssumeRoleCall{}
	for _, call := range sts.Calls() {
		byRole[call.RoleARN] = call
		assert.Equal(t, "test-access-key", call.Signature.AccessKeyID, "the collector's own credentials assume each role")
	}
	require.Len(t, byRole, 2)
	assert.Equal(t, "us-east-1", byRole[streamRole].Signature.Region)
	assert.Equal(t, "stream-external-id", byRole[streamRole].ExternalID)
	assert.Equal(t, "eu-west-1", byRole[tableRole].Signature.Region, "the table role is assumed through STS in the table's region")
	assert.Equal(t, "table-external-id", byRole[tableRole].ExternalID)
}

func keysOf(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestMissingLeaseTableReportedUntilCreated: with create_table off and no table, the
// receiver reports a permanent error naming the table and reads nothing; once the table
// exists, it reads without a restart. With storage beside leases, it says once, at info,
// what the storage extension still does.
func TestMissingLeaseTableReportedUntilCreated(t *testing.T) {
	const (
		stream = "no-table"
		table  = "created-by-hand"
	)
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 1)
	dyn := dynamotest.Start(t)
	ext := startFileStorage(t, t.TempDir())
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	host := newStatusHost(t)
	host.Host = storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}

	cfg := testConfig(kin.Endpoint, stream)
	cfg.ShardDiscoveryInterval = time.Second
	cfg.Storage = &fileStorageID
	withLeases(cfg, table, dyn.Endpoint).CreateTable = false
	core, logs := observer.New(zap.InfoLevel)
	sink := newEventSink()
	r := startLeaseReceiver(t, cfg, sink, host, "collector-a", zap.New(core))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, statusNow(host, componentstatus.StatusPermanentError), 20*time.Second, 20*time.Millisecond)
	assert.Contains(t, host.latest().Err().Error(), "lease table "+table+" does not exist and create_table is off")
	keys, ids, data := sampleEvents(t, "notable", 10)
	kin.Put(t, stream, keys, data)
	time.Sleep(2 * cfg.ShardDiscoveryInterval) // checked again at least once
	assert.Zero(t, sink.count(), "nothing is read without the lease table")

	_, err := dyn.Client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseKey"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("leaseKey"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 30*time.Second, 50*time.Millisecond,
		"once the table exists, reading starts without a restart")
	assert.Equal(t, 1, logs.FilterMessageSnippet("The lease table can be used now").Len())
	assert.Equal(t, 1, logs.FilterMessageSnippet("the storage extension's checkpoints only seed lease items").Len(),
		"storage beside leases is said once, at info")
}

// TestLeaseTableFailingTransientlyRecovers: a DynamoDB answering 500 is a recoverable
// error, retried, and reading starts once it answers again.
func TestLeaseTableFailingTransientlyRecovers(t *testing.T) {
	const stream = "flaky-table"
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 1)
	dyn := dynamotest.Start(t)
	target, err := url.Parse(dyn.Endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failing atomic.Bool
	var failed atomic.Int32
	failing.Store(true)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			failed.Add(1)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer flaky.Close()

	host := newStatusHost(t)
	cfg := testConfig(kin.Endpoint, stream)
	withLeases(cfg, "flaky-leases", flaky.URL)
	sink := newEventSink()
	r := startLeaseReceiver(t, cfg, sink, host, "collector-a", zaptest.NewLogger(t))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, statusNow(host, componentstatus.StatusRecoverableError), 20*time.Second, 20*time.Millisecond)
	assert.Contains(t, host.latest().Err().Error(), "InternalServerError")
	require.Eventually(t, func() bool { return failed.Load() >= 6 }, 20*time.Second, 20*time.Millisecond, "retried")
	failing.Store(false)
	require.Eventually(t, statusNow(host, componentstatus.StatusOK), 20*time.Second, 20*time.Millisecond)
	keys, ids, data := sampleEvents(t, "flakytable", 10)
	kin.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 30*time.Second, 50*time.Millisecond)
}

// TestStorageCheckpointsSeedLeases: a collector that kept checkpoints in file_storage,
// turned to leases, resumes each shard after its stored checkpoint instead of reading
// the stream again from trim_horizon.
func TestStorageCheckpointsSeedLeases(t *testing.T) {
	const stream = "migrate"
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 2)
	dyn := dynamotest.Start(t)
	ext := startFileStorage(t, t.TempDir())
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}

	cfg := testConfig(kin.Endpoint, stream)
	cfg.Storage = &fileStorageID
	before := newEventSink()
	r := startReceiver(t, cfg, before, host)
	keys, ids, data := sampleEvents(t, "before", 20)
	kin.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return before.count() >= len(ids) }, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))

	withLeases(cfg, "migrated", dyn.Endpoint)
	after := newEventSink()
	r = startLeaseReceiver(t, cfg, after, host, "collector-a", zaptest.NewLogger(t))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	keys, ids, data = sampleEvents(t, "after", 20)
	kin.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return after.count() >= len(ids) }, 30*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second) // anything read again would have arrived by now
	after.mu.Lock()
	defer after.mu.Unlock()
	for id := range after.ids {
		assert.True(t, strings.HasPrefix(id, "after-"), "event %s, checkpointed in file_storage before leases, was read again", id)
	}
}

func TestWorkerID(t *testing.T) {
	set := receivertest.NewNopSettings(metadata.Type)
	a, b := workerID(&LeasesConfig{}, set), workerID(&LeasesConfig{}, set)
	assert.NotEqual(t, a, b, "without service.instance.id, each start gets an ID of its own")
	assert.Regexp(t, `^.+-[0-9a-f]{12}$`, a, "the host's name and a random suffix")

	set.Resource.Attributes().PutStr("service.instance.id", "0b5e1c4e-9a57-4a4c-8d1f-2f3f6a1d9e10")
	assert.Equal(t, "0b5e1c4e-9a57-4a4c-8d1f-2f3f6a1d9e10", workerID(&LeasesConfig{}, set), "the collector's service.instance.id by default")
	assert.Equal(t, "collector-a", workerID(&LeasesConfig{WorkerID: "collector-a"}, set), "worker_id wins")
}

// TestShutdownWhileWaitingForLeaseTable: Shutdown while the lease table does not answer
// returns at once and leaves no goroutine behind (the package's goleak TestMain checks).
func TestShutdownWhileWaitingForLeaseTable(t *testing.T) {
	const stream = "table-hangs"
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 1)
	var asked atomic.Int32
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer hang.Close()
	defer close(release)

	cfg := testConfig(kin.Endpoint, stream)
	withLeases(cfg, "never-answers", hang.URL)
	r := startLeaseReceiver(t, cfg, newEventSink(), componenttest.NewNopHost(), "collector-a", zaptest.NewLogger(t))
	require.Eventually(t, func() bool { return asked.Load() > 0 }, 20*time.Second, 20*time.Millisecond, "the access check passed and the table was asked")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	require.NoError(t, r.Shutdown(ctx))
	assert.Less(t, time.Since(began), time.Second, "Shutdown waits for no answer of the table")
}

// TestLeaseTelemetry: the collector's own telemetry counts the leases it takes and
// releases, and how many it holds.
func TestLeaseTelemetry(t *testing.T) {
	const stream, table = "telemetry", "otelcol-amazonconnect-leases"
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 3)
	dyn := dynamotest.Start(t)
	cfg := testConfig(kin.Endpoint, stream)
	withLeases(cfg, table, dyn.Endpoint)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startLeaseReceiverWith(t, metadatatest.NewSettings(tt), cfg, newEventSink(), componenttest.NewNopHost(), "collector-a", zaptest.NewLogger(t))
	change := func(c string) attribute.Set { return attribute.NewSet(attribute.String("change", c)) }
	require.Eventually(t, func() bool {
		m, err := tt.GetMetric("otelcol_receiver_aws_connect_leases_held")
		if err != nil {
			return false
		}
		points := m.Data.(metricdata.Gauge[int64]).DataPoints
		return len(points) == 1 && points[0].Value == 3
	}, 30*time.Second, 50*time.Millisecond, "the three leases are not counted as held")
	require.NoError(t, r.Shutdown(context.Background()))
	metadatatest.AssertEqualReceiverAwsConnectLeaseChanges(t, tt, []metricdata.DataPoint[int64]{
		{Value: 3, Attributes: change("released")},
		{Value: 3, Attributes: change("taken")},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualReceiverAwsConnectLeasesHeld(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
}
