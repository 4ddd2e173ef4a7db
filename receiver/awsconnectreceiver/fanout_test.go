package awsconnectreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// fanOutConfig is testConfig reading through enhanced fan-out from an efotest server.
func fanOutConfig(t *testing.T, efo *efotest.Server, stream string) *Config {
	t.Helper()
	ca, err := efo.WriteCAFile(t.TempDir())
	require.NoError(t, err)
	cfg := testConfig(efo.URL, stream)
	cfg.TLS.CAFile = ca
	cfg.EnhancedFanOut.Enabled = true
	return cfg
}

// A consumer that is missing, with register: false, is a permanent error saying how to
// register it, and nothing is read; once someone registers it, reading starts without a
// restart, through subscriptions.
func TestUnregisteredConsumerReportedUntilRegistered(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "efo-unregistered"
	srv.CreateStream(t, stream, 1)
	efo := efotest.Start(t, efotest.Options{Backend: srv.Endpoint, ActivateAfter: -1})
	cfg := fanOutConfig(t, efo, stream)
	cfg.EnhancedFanOut.Register = false
	cfg.EnhancedFanOut.ConsumerName = "wallboard"
	cfg.ShardDiscoveryInterval = time.Second
	host := newStatusHost(t)
	sink := newEventSink()
	r := startReceiver(t, cfg, sink, host)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	keys, ids, data := sampleEvents(t, "efo", 20)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, statusNow(host, componentstatus.StatusPermanentError), 10*time.Second, 20*time.Millisecond)
	streamARN := "arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + stream
	assert.Contains(t, host.latest().Err().Error(), `no consumer "wallboard" on stream `+streamARN+", and register is false")
	assert.Contains(t, host.latest().Err().Error(), "aws kinesis register-stream-consumer --stream-arn "+streamARN+" --consumer-name wallboard")
	assert.Zero(t, sink.count(), "nothing is read without the consumer")
	assert.Zero(t, efo.Registers())

	_, err := efo.NewKinesisClient().RegisterStreamConsumer(context.Background(), &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String(streamARN), ConsumerName: aws.String("wallboard"),
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 20*time.Second, 50*time.Millisecond,
		"once registered, reading starts without a restart")
	for _, id := range ids {
		assert.Equal(t, 1, sink.ids[id], id)
	}
	subs := efo.Subscriptions()
	require.NotEmpty(t, subs)
	assert.Contains(t, subs[0].ConsumerARN, "/consumer/wallboard:")
	assert.Empty(t, efo.Violations())
}

// With leases, each collector subscribes to the shards it holds only, with one shared
// registration, and every event is read once.
func TestFanOutWithLeasesSubscribesToHeldShardsOnly(t *testing.T) {
	srv := kinesistest.Start(t)
	dyn := dynamotest.Start(t)
	const stream, table = "efo-leases", "efo-leases"
	srv.CreateStream(t, stream, 4)
	efo := efotest.Start(t, efotest.Options{Backend: srv.Endpoint})
	sink := newEventSink()
	var rs []*awsConnectReceiver
	for _, worker := range []string{"collector-a", "collector-b"} {
		cfg := fanOutConfig(t, efo, stream)
		l := withLeases(cfg, table, dyn.Endpoint)
		l.MaxLeasesToSteal = 1
		r := startLeaseReceiver(t, cfg, sink, componenttest.NewNopHost(), worker, zaptest.NewLogger(t).Named(worker))
		rs = append(rs, r)
	}
	defer func() {
		for _, r := range rs {
			require.NoError(t, r.Shutdown(context.Background()))
		}
	}()
	keys, ids, data := sampleEvents(t, "efo-fleet", 400)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 60*time.Second, 50*time.Millisecond)
	// Both collectors hold leases; no shard has two open subscriptions.
	require.Eventually(t, func() bool {
		held := map[string]int{}
		for _, it := range leaseItems(t, dyn.Client, table) {
			held[owner(it)]++
		}
		return held["collector-a"] > 0 && held["collector-b"] > 0
	}, 60*time.Second, 100*time.Millisecond, "the leases were never shared out")
	keys, more, data := sampleEvents(t, "efo-fleet-more", 200)
	srv.Put(t, stream, keys, data)
	ids = append(ids, more...)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 60*time.Second, 50*time.Millisecond)
	for _, id := range ids {
		assert.Equal(t, 1, sink.ids[id], id)
	}
	open := map[string]int{}
	arns := map[string]bool{}
	for _, s := range efo.Subscriptions() {
		arns[s.ConsumerARN] = true
		if s.End == "" {
			open[s.ShardID]++
		}
	}
	assert.Len(t, open, 4, "every shard is subscribed to")
	for shard, n := range open {
		assert.Equal(t, 1, n, "shard %s has %d subscriptions open", shard, n)
	}
	assert.Len(t, arns, 1, "one registration for the fleet")
	consumers, err := efo.NewKinesisClient().ListStreamConsumers(context.Background(), &kinesis.ListStreamConsumersInput{
		StreamARN: aws.String("arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + stream),
	})
	require.NoError(t, err)
	assert.Len(t, consumers.Consumers, 1, "one registration for the fleet")
	assert.Empty(t, efo.Violations())
}
