package fanout

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// A missing consumer is registered, and Ensure returns once it is ACTIVE.
func TestEnsureRegistersAndWaitsUntilActive(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{ActivateAfter: 3})
	arn, err := e.registrar("otelcol").Ensure(t.Context())
	require.NoError(t, err)
	assert.Regexp(t, `^`+regexp.QuoteMeta(e.streamARN)+`/consumer/otelcol:\d+$`, arn)
	out, err := e.c.DescribeStreamConsumer(t.Context(), &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn})
	require.NoError(t, err)
	assert.Equal(t, types.ConsumerStatusActive, out.ConsumerDescription.ConsumerStatus)
	assert.Equal(t, 1, e.s.Registers())
	assert.GreaterOrEqual(t, e.s.Describes(), 4, "returned before ACTIVE")
}

// Collectors started together with one consumer name share one registration: the one
// whose register loses the race finds the winner's.
func TestCollectorsWithOneNameShareOneRegistration(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{ActivateAfter: 2})
	const n = 5
	arns := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			arn, err := e.registrar("fleet").Ensure(t.Context())
			assert.NoError(t, err)
			arns[i] = arn
		})
	}
	wg.Wait()
	for _, arn := range arns {
		assert.Equal(t, arns[0], arn)
	}
	out, err := e.c.ListStreamConsumers(t.Context(), &kinesis.ListStreamConsumersInput{StreamARN: &e.streamARN})
	require.NoError(t, err)
	assert.Len(t, out.Consumers, 1, "one registration for the fleet")
}

// With register false, a missing consumer is an error naming what to do; consumer_arn
// uses an existing registration without registering anything.
func TestEnsureWithoutRegistering(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{ActivateAfter: -1})
	g := e.registrar("not-there")
	g.Register = false
	_, err := g.Ensure(t.Context())
	require.ErrorIs(t, err, ErrNotRegistered)
	assert.Contains(t, err.Error(), "aws kinesis register-stream-consumer --stream-arn "+e.streamARN+" --consumer-name not-there")
	assert.Zero(t, e.s.Registers())

	out, err := e.c.RegisterStreamConsumer(t.Context(), &kinesis.RegisterStreamConsumerInput{StreamARN: &e.streamARN, ConsumerName: aws.String("existing")})
	require.NoError(t, err)
	byARN := &Registrar{API: e.c, ConsumerARN: *out.Consumer.ConsumerARN, PollInterval: 20 * time.Millisecond}
	arn, err := byARN.Ensure(t.Context())
	require.NoError(t, err)
	assert.Equal(t, *out.Consumer.ConsumerARN, arn)
	assert.Equal(t, 1, e.s.Registers(), "consumer_arn registers nothing")

	gone := &Registrar{API: e.c, ConsumerARN: *out.Consumer.ConsumerARN + "0", PollInterval: 20 * time.Millisecond}
	_, err = gone.Ensure(t.Context())
	require.ErrorIs(t, err, ErrNotRegistered)
}

// Throttled DescribeStreamConsumer calls (20 a second per stream, shared by a fleet
// starting at once) are waited out, not returned.
func TestThrottledDescribesAreWaitedOut(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{})
	e.s.FailDescribe("LimitExceededException", 3)
	g := e.registrar("otelcol")
	g.PollInterval = 5 * time.Millisecond
	arn, err := g.Ensure(t.Context())
	require.NoError(t, err)
	assert.NotEmpty(t, arn)
}

// A refused call is an AccessError that IsPermanent recognizes: the receiver reports it
// and checks again slowly.
func TestRefusedRegistrationIsPermanent(t *testing.T) {
	_, err := (&Registrar{API: refusingAPI{}, StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s", ConsumerName: "c", Register: true}).Ensure(t.Context())
	require.Error(t, err)
	assert.True(t, kinesisconsumer.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "kinesis:DescribeStreamConsumer on arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c is not allowed")
}

type refusingAPI struct{ API }

func (refusingAPI) DescribeStreamConsumer(context.Context, *kinesis.DescribeStreamConsumerInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error) {
	return nil, &types.AccessDeniedException{Message: aws.String("User: x is not authorized to perform: kinesis:DescribeStreamConsumer")}
}

// A consumer deregistered while subscribed to is registered again, and reading goes on.
func TestDeregisteredConsumerIsRegisteredAgain(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{ActivateAfter: -1, SubscriptionLifetime: 500 * time.Millisecond})
	e.write(t, 50)
	r := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r, nil)
	e.waitAll(t, r)
	first := e.s.Subscriptions()[0].ConsumerARN
	e.expected = append(e.expected, "Consumer "+first+" not found")
	// Consumer ARNs end in the registration's second: make the next one differ.
	time.Sleep(1100 * time.Millisecond)
	_, err := e.c.DeregisterStreamConsumer(t.Context(), &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &first})
	require.NoError(t, err)
	e.write(t, 50)
	// The open subscription runs on to its end; the next one finds the consumer gone.
	require.Eventually(t, func() bool {
		subs := e.s.Subscriptions()
		return subs[len(subs)-1].ConsumerARN != first
	}, waitFor, tick, "never subscribed as a new registration")
	e.write(t, 50)
	e.waitAll(t, r)
	assertExactlyOnceInOrder(t, e, r)
	assert.Equal(t, 2, e.s.Registers())
}
