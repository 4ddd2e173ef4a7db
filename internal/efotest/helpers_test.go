package efotest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// fixture is kinesis-local with a stream, the server in front of it, and a client of
// the server that registered an ACTIVE consumer.
type fixture struct {
	k           *kinesistest.Server
	stream      string
	s           *Server
	c           *kinesis.Client
	streamARN   string
	consumerARN string
	// violationsExpected turns off the check that the SDK's requests broke nothing.
	violationsExpected bool
}

func setup(t *testing.T, shards int32, opts Options) *fixture {
	t.Helper()
	f := &fixture{k: local, stream: kinesistest.StreamName(t)}
	f.k.CreateStream(t, f.stream, shards)
	opts.Backend = f.k.Endpoint
	f.s = Start(t, opts)
	f.c = f.s.NewKinesisClient()
	f.streamARN = "arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + f.stream
	f.consumerARN = f.register(t, "consumer")
	t.Cleanup(func() {
		if v := f.s.Violations(); len(v) > 0 && !f.violationsExpected {
			t.Errorf("the SDK's calls broke the wire protocol:\n%s", strings.Join(v, "\n"))
		}
	})
	return f
}

// register registers a consumer and describes it until it is ACTIVE.
func (f *fixture) register(t *testing.T, name string) string {
	t.Helper()
	out, err := f.c.RegisterStreamConsumer(t.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: &f.streamARN, ConsumerName: &name})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Consumer.ConsumerARN)
	for range 10 {
		d, err := f.c.DescribeStreamConsumer(t.Context(), &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn})
		if err != nil {
			t.Fatal(err)
		}
		if d.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			return arn
		}
	}
	t.Fatalf("consumer %s never became ACTIVE", arn)
	return ""
}

// subscribe opens a subscription through the SDK; it is closed when the test ends.
func (f *fixture) subscribe(t *testing.T, c *kinesis.Client, shard string, pos types.StartingPosition) (*kinesis.SubscribeToShardEventStream, error) {
	t.Helper()
	out, err := c.SubscribeToShard(t.Context(), &kinesis.SubscribeToShardInput{ConsumerARN: &f.consumerARN, ShardId: &shard, StartingPosition: &pos})
	if err != nil {
		return nil, err
	}
	es := out.GetStream()
	t.Cleanup(func() { es.Close() })
	return es, nil
}

func (f *fixture) mustSubscribe(t *testing.T, shard string, pos types.StartingPosition) *kinesis.SubscribeToShardEventStream {
	t.Helper()
	es, err := f.subscribe(t, f.c, shard, pos)
	if err != nil {
		t.Fatalf("subscribe to %s: %v", shard, err)
	}
	return es
}

var trimHorizon = types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}

const shard0 = "shardId-000000000000"

// next is the stream's next event; ok is false once the stream has ended. The test
// fails if nothing comes within timeout.
func next(t *testing.T, es *kinesis.SubscribeToShardEventStream, timeout time.Duration) (ev types.SubscribeToShardEvent, ok bool) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	ev, ok, timedOut := nextBefore(t, es, timer.C)
	if timedOut {
		t.Fatalf("no event within %v", timeout)
	}
	return ev, ok
}

func nextBefore(t *testing.T, es *kinesis.SubscribeToShardEventStream, stop <-chan time.Time) (ev types.SubscribeToShardEvent, ok, timedOut bool) {
	t.Helper()
	select {
	case e, open := <-es.Events():
		if !open {
			return ev, false, false
		}
		m, isEvent := e.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !isEvent {
			t.Fatalf("unexpected member %T", e)
		}
		return m.Value, true, false
	case <-stop:
		return ev, false, true
	}
}

// drain reads the stream to its end, which must come within `within` (heartbeats would
// keep a stream that never ends going), and returns its events.
func drain(t *testing.T, es *kinesis.SubscribeToShardEventStream, within time.Duration) []types.SubscribeToShardEvent {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	var evs []types.SubscribeToShardEvent
	for {
		ev, ok, timedOut := nextBefore(t, es, timer.C)
		if timedOut {
			t.Fatalf("the stream had not ended after %v (%d events)", within, len(evs))
		}
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
}

// put writes n records with data "<prefix>-<i>" and returns their sequence numbers.
func (f *fixture) put(t *testing.T, prefix string, n int) []string {
	t.Helper()
	keys, data := make([]string, n), make([][]byte, n)
	for i := range n {
		keys[i], data[i] = fmt.Sprintf("agent-%d", i%7), fmt.Appendf(nil, "%s-%d", prefix, i)
	}
	return f.k.Put(t, f.stream, keys, data)
}

// sub is the server's view of its only or latest subscription.
func (f *fixture) sub(t *testing.T) Subscription {
	t.Helper()
	subs := f.s.Subscriptions()
	if len(subs) == 0 {
		t.Fatal("no subscription")
	}
	return subs[len(subs)-1]
}

// waitClosed waits until the server's latest subscription has ended.
func (f *fixture) waitClosed(t *testing.T, within time.Duration) Subscription {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s := f.sub(t); !s.Closed.IsZero() {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the subscription was still open after %v", within)
	return Subscription{}
}

func noRetries(o *kinesis.Options) { o.RetryMaxAttempts = 1 }
