package awsconnectreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// With leases, two collectors read a stream through enhanced fan-out on one shared
// registration: every shard has its subscription, and every event is read once.
func TestFanOutWithLeasesSharesOneRegistration(t *testing.T) {
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
	// Both collectors hold leases before anything is written (the table is created by
	// the first to start).
	require.Eventually(t, func() bool {
		out, err := dyn.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false
		}
		held := map[string]int{}
		for _, it := range out.Items {
			held[owner(it)]++
		}
		return held["collector-a"] > 0 && held["collector-b"] > 0
	}, 60*time.Second, 100*time.Millisecond, "the leases were never shared out")
	keys, ids, data := sampleEvents(t, "efo-fleet", 300)
	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return sink.count() >= len(ids) }, 60*time.Second, 50*time.Millisecond)
	for _, id := range ids {
		assert.Equal(t, 1, sink.ids[id], id)
	}
	// Once hand-overs settle, every shard has its one subscription open (Kinesis, and
	// efotest, refuse a second one for a consumer and shard).
	require.Eventually(t, func() bool {
		open := map[string]bool{}
		for _, s := range efo.Subscriptions() {
			if s.End == "" {
				open[s.ShardID] = true
			}
		}
		return len(open) == 4
	}, 30*time.Second, 50*time.Millisecond, "not every shard is subscribed to")
	arns := map[string]bool{}
	for _, s := range efo.Subscriptions() {
		arns[s.ConsumerARN] = true
	}
	assert.Len(t, arns, 1, "one registration for the fleet")
	consumers, err := efo.NewKinesisClient().ListStreamConsumers(context.Background(), &kinesis.ListStreamConsumersInput{
		StreamARN: aws.String("arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + stream),
	})
	require.NoError(t, err)
	assert.Len(t, consumers.Consumers, 1, "one registration for the fleet")
	assert.Empty(t, efo.Violations())
}
