package awsconnectreceiver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

func statusNow(host *statusHost, want componentstatus.Status) func() bool {
	return func() bool {
		ev := host.latest()
		return ev != nil && ev.Status() == want
	}
}

// TestAccessDeniedReportedUntilAllowed: an identity without kinesis:GetRecords gets a
// permanent error naming the action and the stream's ARN, and nothing is read; once the
// policy allows it, reading starts without a restart, with checkpoints kept under the
// stream's ARN in the real file_storage.
func TestAccessDeniedReportedUntilAllowed(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "denied"
	srv.CreateStream(t, stream, 1)
	proxy := kinesistest.StartProxy(t, srv.Endpoint)
	proxy.Deny("GetRecords")

	ext := startFileStorage(t, t.TempDir())
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	host := newStatusHost(t)
	host.Host = storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
	cfg := testConfig(proxy.URL, stream)
	cfg.ShardDiscoveryInterval = time.Second
	cfg.Storage = &fileStorageID
	sink := newEventSink()
	r := startReceiver(t, cfg, sink, host)

	keys, ids, data := sampleEvents(t, "denied", 20)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, statusNow(host, componentstatus.StatusPermanentError), 10*time.Second, 20*time.Millisecond)
	streamARN := "arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + stream
	assert.Contains(t, host.latest().Err().Error(),
		"kinesis:GetRecords on "+streamARN+" is not allowed: AccessDeniedException: User: arn:aws:iam::000000000000:user/otelcol is not authorized to perform: kinesis:GetRecords")
	require.Eventually(t, func() bool { return proxy.Refused("GetRecords") >= 2 }, 10*time.Second, 50*time.Millisecond,
		"checked again after shard_discovery_interval")
	assert.Zero(t, sink.count(), "nothing is read while access is denied")

	proxy.Allow("GetRecords")
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 20*time.Second, 50*time.Millisecond,
		"once allowed, reading starts without a restart")
	require.NoError(t, r.Shutdown(context.Background()))

	client, err := ext.(storage.Extension).GetClient(context.Background(), component.KindReceiver, component.NewID(typ), "")
	require.NoError(t, err)
	defer client.Close(context.Background())
	_, found, err := newStorageCheckpoints(client, streamARN).Load(context.Background(), "shardId-000000000000")
	require.NoError(t, err)
	assert.True(t, found, "the checkpoint is kept under the stream's ARN, its identity")
}

// TestStreamNotFoundReported: a stream that does not exist is a permanent error naming
// the stream and the region; once it is created, it is read without a restart.
func TestStreamNotFoundReported(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "created-later"
	host := newStatusHost(t)
	cfg := testConfig(srv.Endpoint, stream)
	cfg.ShardDiscoveryInterval = time.Second
	sink := newEventSink()
	r := startReceiver(t, cfg, sink, host)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, statusNow(host, componentstatus.StatusPermanentError), 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, host.latest().Err().Error(), "stream created-later was not found in region us-east-1: ResourceNotFoundException")

	srv.CreateStream(t, stream, 1)
	keys, ids, data := sampleEvents(t, "later", 10)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 20*time.Second, 50*time.Millisecond)
}

// TestAccessCheckFailingTransientlyRecovers: a Kinesis answering 500 is a recoverable
// error, retried after error_backoff, and OK once it answers again.
func TestAccessCheckFailingTransientlyRecovers(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "flaky"
	srv.CreateStream(t, stream, 1)
	proxy := kinesistest.StartProxy(t, srv.Endpoint)
	proxy.Fail("ListShards")
	host := newStatusHost(t)
	sink := newEventSink()
	r := startReceiver(t, testConfig(proxy.URL, stream), sink, host)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, statusNow(host, componentstatus.StatusRecoverableError), 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, host.latest().Err().Error(), "kinesis:ListShards on arn:aws:kinesis:us-east-1:000000000000:stream/flaky failed: InternalFailure")
	require.Eventually(t, func() bool { return proxy.Refused("ListShards") >= 3 }, 10*time.Second, 20*time.Millisecond, "retried after error_backoff")
	proxy.Allow("ListShards")
	require.Eventually(t, statusNow(host, componentstatus.StatusOK), 10*time.Second, 20*time.Millisecond)
	keys, ids, data := sampleEvents(t, "flaky", 10)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 20*time.Second, 50*time.Millisecond)
}

// TestShutdownDuringAccessCheck: Start returns at once even when Kinesis does not answer,
// and Shutdown, right after Start or while the check waits for an answer, returns at once
// and leaves no goroutine behind (the package's goleak TestMain checks).
func TestShutdownDuringAccessCheck(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	for _, wait := range []time.Duration{0, 300 * time.Millisecond} {
		cfg := testConfig(hang.URL, "never-answers")
		began := time.Now()
		r := startReceiver(t, cfg, newEventSink(), componenttest.NewNopHost())
		assert.Less(t, time.Since(began), time.Second, "Start waits for no stream")
		time.Sleep(wait)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		began = time.Now()
		require.NoError(t, r.Shutdown(ctx))
		cancel()
		assert.Less(t, time.Since(began), time.Second, "Shutdown waits for no answer")
	}
}

// TestStatusReachesEveryPipeline: one receiver in a logs and a metrics pipeline is started
// once, but each pipeline's host hears its status.
func TestStatusReachesEveryPipeline(t *testing.T) {
	srv := kinesistest.Start(t)
	f := NewFactory()
	cfg := testConfig(srv.Endpoint, "missing")
	set := receivertest.NewNopSettings(typ)
	logs, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	metrics, err := f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	logsHost, metricsHost := newStatusHost(t), newStatusHost(t)
	require.NoError(t, logs.Start(context.Background(), logsHost))
	require.NoError(t, metrics.Start(context.Background(), metricsHost))
	defer func() {
		require.NoError(t, logs.Shutdown(context.Background()))
		require.NoError(t, metrics.Shutdown(context.Background()))
	}()
	for name, host := range map[string]*statusHost{"logs": logsHost, "metrics": metricsHost} {
		require.Eventually(t, statusNow(host, componentstatus.StatusPermanentError), 10*time.Second, 20*time.Millisecond, name)
		assert.Contains(t, host.latest().Err().Error(), "stream missing was not found", name)
	}
}

// TestHeldShardIsARecoverableError: the consumer's health hook reaches the collector: a
// shard held by a checkpoint that cannot be read is a recoverable error naming it.
func TestHeldShardIsARecoverableError(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "held"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()
	client := fileStorageClient(t, dir)
	streamARN := "arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + stream
	require.NoError(t, client.Set(context.Background(), "kinesis_checkpoint/"+streamARN+"/shardId-000000000001", []byte("{damaged")))
	require.NoError(t, client.Close(context.Background()))

	ext := startFileStorage(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	host := newStatusHost(t)
	host.Host = storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
	cfg := testConfig(srv.Endpoint, stream)
	cfg.Storage = &fileStorageID
	r := startReceiver(t, cfg, newEventSink(), host)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	require.Eventually(t, statusNow(host, componentstatus.StatusRecoverableError), 20*time.Second, 20*time.Millisecond)
	msg := host.latest().Err().Error()
	assert.Contains(t, msg, "shardId-000000000001")
	assert.Contains(t, msg, "unreadable")
	assert.NotContains(t, msg, "shardId-000000000000", "the readable shard is no problem")
}

// TestWarnIfPdataPooling: pdata's pooling gate on, the receiver warns and names the gate
// and how to turn it off; off or unknown, it says nothing.
func TestWarnIfPdataPooling(t *testing.T) {
	for _, tc := range []struct {
		name     string
		register bool
		enable   bool
		want     bool
	}{
		{"on", true, true, true},
		{"off", true, false, false},
		{"not registered", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := featuregate.NewRegistry()
			if tc.register {
				reg.MustRegister(pdataslab.PoolingGate, featuregate.StageAlpha)
				require.NoError(t, reg.Set(pdataslab.PoolingGate, tc.enable))
			}
			core, logs := observer.New(zap.InfoLevel)
			assert.Equal(t, tc.want, warnIfPdataPooling(reg, zap.New(core)))
			warnings := logs.FilterLevelExact(zap.WarnLevel).All()
			if !tc.want {
				assert.Empty(t, warnings)
				return
			}
			require.Len(t, warnings, 1)
			assert.Contains(t, warnings[0].Message, "pdata.useProtoPooling is on")
			assert.Contains(t, warnings[0].Message, "--feature-gates=-pdata.useProtoPooling")
		})
	}
}
