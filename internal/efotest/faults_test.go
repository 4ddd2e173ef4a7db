package efotest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/eventstream"
)

// A second subscription to a consumer's shard while one is open is refused with
// ResourceInUseException, as AWS does; closing the first frees it at once, or after
// Linger.
func TestSecondSubscriptionInUse(t *testing.T) {
	f := setup(t, 1, Options{Linger: time.Second})
	first := f.mustSubscribe(t, shard0, trimHorizon)
	var inUse *types.ResourceInUseException
	if _, err := f.subscribe(t, f.c, shard0, trimHorizon); !errors.As(err, &inUse) {
		t.Fatalf("a second subscription got %v, want ResourceInUseException", err)
	}
	first.Close()
	closed := f.waitClosed(t, time.Second) // the handler noticed the client go
	if closed.End != EndClient {
		t.Errorf("it ended by %q, want %q", closed.End, EndClient)
	}
	if _, err := f.subscribe(t, f.c, shard0, trimHorizon); !errors.As(err, &inUse) {
		t.Fatalf("a subscription within Linger got %v, want ResourceInUseException", err)
	}
	time.Sleep(time.Until(closed.Closed.Add(1100 * time.Millisecond)))
	f.mustSubscribe(t, shard0, trimHorizon)
	if n := len(f.s.Subscriptions()); n != 2 {
		t.Errorf("the server opened %d subscriptions, want 2", n)
	}
}

func TestFailSubscribe(t *testing.T) {
	f := setup(t, 1, Options{})
	once := f.s.NewKinesisClient(noRetries)
	f.s.FailSubscribe("LimitExceededException", 2)
	for i := range 2 {
		var limit *types.LimitExceededException
		if _, err := f.subscribe(t, once, shard0, trimHorizon); !errors.As(err, &limit) {
			t.Fatalf("call %d got %v, want LimitExceededException", i, err)
		}
	}
	es := f.mustSubscribe(t, shard0, trimHorizon)
	es.Close()
	f.waitClosed(t, time.Second)

	f.s.FailSubscribe("InternalFailure", 1)
	var apiErr smithy.APIError
	if _, err := f.subscribe(t, once, shard0, trimHorizon); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalFailure" {
		t.Fatalf("got %v, want InternalFailure", err)
	}
	f.s.FailSubscribe("InternalFailure", 1)
	if _, err := f.subscribe(t, f.c, shard0, trimHorizon); err != nil {
		t.Fatalf("the SDK's retry of a 500 failed: %v", err)
	}
}

func TestFailDescribe(t *testing.T) {
	f := setup(t, 1, Options{})
	once := f.s.NewKinesisClient(noRetries)
	before := f.s.Describes()
	f.s.FailDescribe("LimitExceededException", 2)
	in := &kinesis.DescribeStreamConsumerInput{ConsumerARN: &f.consumerARN}
	for i := range 2 {
		var limit *types.LimitExceededException
		if _, err := once.DescribeStreamConsumer(t.Context(), in); !errors.As(err, &limit) {
			t.Fatalf("call %d got %v, want LimitExceededException", i, err)
		}
	}
	out, err := once.DescribeStreamConsumer(t.Context(), in)
	if err != nil || out.ConsumerDescription.ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("after the failures: %v, %+v", err, out)
	}
	if n := f.s.Describes() - before; n != 3 {
		t.Errorf("the server counted %d describes, want 3", n)
	}
}

// DropAfter resets the stream after its events: the SDK's stream ends with an error.
// The next subscription is whole again.
func TestDropAfter(t *testing.T) {
	f := setup(t, 1, Options{MaxRecordsPerEvent: 1})
	f.put(t, "r", 5)
	f.s.DropAfter(2)
	es := f.mustSubscribe(t, shard0, trimHorizon)
	evs := drain(t, es, 5*time.Second)
	if es.Err() == nil {
		t.Fatal("the dropped stream ended with no error")
	}
	t.Logf("the SDK saw %d events, then %v", len(evs), es.Err())
	// What was written before the reset is read first: HTTP/2 keeps frames in order.
	if len(evs) != 2 {
		t.Errorf("got %d events, want the 2 before the drop", len(evs))
	}
	if s := f.waitClosed(t, time.Second); s.End != EndDropped || s.Events != 2 {
		t.Errorf("it ended by %q after %d events, want %q after 2", s.End, s.Events, EndDropped)
	}
	es = f.mustSubscribe(t, shard0, trimHorizon)
	records := 0
	for records < 5 {
		ev, ok := next(t, es, 5*time.Second)
		if !ok {
			t.Fatalf("the next subscription ended after %d records: %v", records, es.Err())
		}
		records += len(ev.Records)
	}
}

// CorruptAfter writes a frame whose CRC is wrong: the SDK's stream ends with a
// checksum error after the good events.
func TestCorruptAfter(t *testing.T) {
	f := setup(t, 1, Options{MaxRecordsPerEvent: 1})
	f.put(t, "r", 5)
	f.s.CorruptAfter(3)
	es := f.mustSubscribe(t, shard0, trimHorizon)
	evs := drain(t, es, 5*time.Second)
	if len(evs) != 3 {
		t.Errorf("got %d events, want the 3 good ones", len(evs))
	}
	if !errors.As(es.Err(), new(eventstream.ChecksumError)) {
		t.Fatalf("the stream ended with %v, want a checksum error", es.Err())
	}
	if s := f.waitClosed(t, time.Second); s.End != EndCorrupt {
		t.Errorf("it ended by %q, want %q", s.End, EndCorrupt)
	}
}

// ExceptionAfter sends an exception message: the SDK's stream ends with its typed
// error.
func TestExceptionAfter(t *testing.T) {
	f := setup(t, 1, Options{MaxRecordsPerEvent: 1})
	f.put(t, "r", 5)
	f.s.ExceptionAfter(1, "InternalFailureException")
	es := f.mustSubscribe(t, shard0, trimHorizon)
	evs := drain(t, es, 5*time.Second)
	if len(evs) != 1 {
		t.Errorf("got %d events, want 1", len(evs))
	}
	var failure *types.InternalFailureException
	if !errors.As(es.Err(), &failure) {
		t.Fatalf("the stream ended with %v, want InternalFailureException", es.Err())
	}
	if s := f.waitClosed(t, time.Second); s.End != EndException {
		t.Errorf("it ended by %q, want %q", s.End, EndException)
	}
}

// A consumer is CREATING until described ActivateAfter times; registering its name
// again is ResourceInUseException; subscribing before it is ACTIVE, or to a shard that
// is not there, is refused and recorded.
func TestConsumerLifecycle(t *testing.T) {
	f := setup(t, 1, Options{ActivateAfter: 2})
	f.violationsExpected = true
	name := "second"
	reg, err := f.c.RegisterStreamConsumer(t.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: &f.streamARN, ConsumerName: &name})
	if err != nil {
		t.Fatal(err)
	}
	arn := *reg.Consumer.ConsumerARN
	if !strings.HasPrefix(arn, f.streamARN+"/consumer/second:") || reg.Consumer.ConsumerStatus != types.ConsumerStatusCreating {
		t.Errorf("registered %s %s", arn, reg.Consumer.ConsumerStatus)
	}
	var inUse *types.ResourceInUseException
	if _, err := f.c.RegisterStreamConsumer(t.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: &f.streamARN, ConsumerName: &name}); !errors.As(err, &inUse) {
		t.Errorf("registering again got %v, want ResourceInUseException", err)
	}
	if f.s.Registers() != 3 {
		t.Errorf("the server counted %d registers, want 3", f.s.Registers())
	}
	pos := trimHorizon
	sub := func(consumer, shard string) error {
		_, err := f.c.SubscribeToShard(t.Context(), &kinesis.SubscribeToShardInput{ConsumerARN: &consumer, ShardId: &shard, StartingPosition: &pos})
		return err
	}
	if err := sub(arn, shard0); !errors.As(err, &inUse) {
		t.Errorf("subscribing while CREATING got %v, want ResourceInUseException", err)
	}
	byName := &kinesis.DescribeStreamConsumerInput{StreamARN: &f.streamARN, ConsumerName: &name}
	for i, want := range []types.ConsumerStatus{"CREATING", "CREATING", "ACTIVE"} {
		d, err := f.c.DescribeStreamConsumer(t.Context(), byName)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.ConsumerDescription.ConsumerStatus; got != want || *d.ConsumerDescription.ConsumerARN != arn || *d.ConsumerDescription.StreamARN != f.streamARN {
			t.Errorf("describe %d: %s %s, want %s", i, got, *d.ConsumerDescription.ConsumerARN, want)
		}
	}
	var notFound *types.ResourceNotFoundException
	if err := sub(arn, "shardId-000000000009"); !errors.As(err, &notFound) {
		t.Errorf("subscribing to a missing shard got %v, want ResourceNotFoundException", err)
	}
	list, err := f.c.ListStreamConsumers(t.Context(), &kinesis.ListStreamConsumersInput{StreamARN: &f.streamARN})
	if err != nil || len(list.Consumers) != 2 {
		t.Fatalf("listed %v, %v", list, err)
	}
	if _, err := f.c.DeregisterStreamConsumer(t.Context(), &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.DescribeStreamConsumer(t.Context(), &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn}); !errors.As(err, &notFound) {
		t.Errorf("describing a deregistered consumer got %v, want ResourceNotFoundException", err)
	}
	if err := sub(arn, shard0); !errors.As(err, &notFound) {
		t.Errorf("subscribing with a deregistered consumer got %v, want ResourceNotFoundException", err)
	}
	if v := f.s.Violations(); len(v) != 3 {
		t.Errorf("recorded %d violations, want 3 (not ACTIVE, no shard, no consumer):\n%s", len(v), strings.Join(v, "\n"))
	}
	other := "arn:aws:kinesis:us-east-1:000000000000:stream/none"
	if _, err := f.c.RegisterStreamConsumer(t.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: &other, ConsumerName: &name}); !errors.As(err, &notFound) {
		t.Errorf("registering on a missing stream got %v, want ResourceNotFoundException", err)
	}
}
