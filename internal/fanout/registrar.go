// Package fanout reads Kinesis shards through enhanced fan-out: a registered stream
// consumer (RegisterStreamConsumer) gets each shard's records pushed to it over HTTP/2
// (SubscribeToShard), with 2 MB/s per shard of its own instead of a share of the 2 MB/s
// and 5 reads a second that polling consumers divide between them.
//
// Registrar registers the consumer, or finds the registration another collector made;
// Source is a kinesisconsumer.Source whose streams are subscriptions, renewed before
// Kinesis ends them and resumed after the last record the pipeline accepted.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// API is the part of the Kinesis client enhanced fan-out uses; *kinesis.Client has it.
type API interface {
	RegisterStreamConsumer(ctx context.Context, in *kinesis.RegisterStreamConsumerInput, opts ...func(*kinesis.Options)) (*kinesis.RegisterStreamConsumerOutput, error)
	DescribeStreamConsumer(ctx context.Context, in *kinesis.DescribeStreamConsumerInput, opts ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error)
	SubscribeToShard(ctx context.Context, in *kinesis.SubscribeToShardInput, opts ...func(*kinesis.Options)) (*kinesis.SubscribeToShardOutput, error)
}

// Registrar finds the stream consumer to subscribe as, registering it when it is
// missing and allowed to, and waits until it is ACTIVE.
type Registrar struct {
	API       API
	StreamARN string
	// ConsumerName is registered or looked up on the stream, unless ConsumerARN names
	// an existing registration.
	ConsumerName string
	ConsumerARN  string
	// Register allows RegisterStreamConsumer when ConsumerName is not registered.
	Register bool
	// PollInterval is the wait between DescribeStreamConsumer calls while the consumer
	// is being created (a few seconds on AWS); throttled calls wait longer.
	PollInterval time.Duration
	Logger       *zap.Logger

	// registered counts the registrations this Registrar made.
	registered atomic.Int64
}

// ErrNotRegistered says the consumer does not exist and Register forbids registering it.
var ErrNotRegistered = errors.New("enhanced fan-out consumer not registered")

// maxActivePoll bounds the wait between describes when they are throttled.
const maxActivePoll = 20 * time.Second

// Ensure returns the ARN of the consumer once it is ACTIVE, registering it first if it
// is missing and Register allows. Several collectors with the same consumer name share
// one registration: a registration racing another's finds it. Errors are Kinesis's (the
// caller retries them) or wrap ErrNotRegistered.
func (g *Registrar) Ensure(ctx context.Context) (string, error) {
	log := g.Logger
	if log == nil {
		log = zap.NewNop()
	}
	poll := g.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	wait := poll
	registered := false
	for {
		desc, err := g.describe(ctx)
		_, notFound := errors.AsType[*types.ResourceNotFoundException](err)
		_, throttled := errors.AsType[*types.LimitExceededException](err)
		switch {
		case throttled:
			// DescribeStreamConsumer allows 20 calls a second per stream, shared by every
			// collector starting at once: back off and ask again.
			wait = min(2*wait, maxActivePoll)
		case notFound && g.ConsumerARN != "":
			return "", fmt.Errorf("%w: consumer_arn %s does not exist (deregistered?): register it again, or leave consumer_arn unset to register consumer_name", ErrNotRegistered, g.ConsumerARN)
		case notFound && !g.Register:
			return "", fmt.Errorf("%w: no consumer %q on stream %s, and register is false: register it with `aws kinesis register-stream-consumer --stream-arn %s --consumer-name %s`, or set register: true", ErrNotRegistered, g.ConsumerName, g.StreamARN, g.StreamARN, g.ConsumerName)
		case notFound:
			if err := g.register(ctx, log); err != nil {
				return "", err
			}
			registered = true
			wait = poll
			continue
		case err != nil:
			return "", kinesisconsumer.Classify("kinesis:DescribeStreamConsumer", g.resource(), err)
		default:
			arn := aws.ToString(desc.ConsumerARN)
			switch desc.ConsumerStatus {
			case types.ConsumerStatusActive:
				if registered {
					log.Info("Registered the enhanced fan-out consumer", zap.String("consumer_arn", arn))
				}
				return arn, nil
			case types.ConsumerStatusDeleting:
				// Being deregistered: registered again once it is gone, if allowed.
				log.Warn("The enhanced fan-out consumer is being deleted; waiting for it to go", zap.String("consumer_arn", arn))
			default:
				log.Debug("Waiting for the enhanced fan-out consumer to be ACTIVE", zap.String("consumer_arn", arn), zap.String("status", string(desc.ConsumerStatus)))
			}
			wait = poll
		}
		if !sleep(ctx, wait) {
			return "", ctx.Err()
		}
	}
}

// resource names the consumer in errors, as IAM policies name it.
func (g *Registrar) resource() string {
	if g.ConsumerARN != "" {
		return g.ConsumerARN
	}
	return g.StreamARN + "/consumer/" + g.ConsumerName
}

func (g *Registrar) describe(ctx context.Context) (*types.ConsumerDescription, error) {
	in := &kinesis.DescribeStreamConsumerInput{}
	if g.ConsumerARN != "" {
		in.ConsumerARN = aws.String(g.ConsumerARN)
	} else {
		in.StreamARN, in.ConsumerName = aws.String(g.StreamARN), aws.String(g.ConsumerName)
	}
	out, err := g.API.DescribeStreamConsumer(ctx, in)
	if err != nil {
		return nil, err
	}
	if out.ConsumerDescription == nil {
		return nil, errors.New("describe stream consumer: the answer has no ConsumerDescription")
	}
	return out.ConsumerDescription, nil
}

// register registers the consumer; one registered meanwhile by another collector is as
// good.
func (g *Registrar) register(ctx context.Context, log *zap.Logger) error {
	_, err := g.API.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN:    aws.String(g.StreamARN),
		ConsumerName: aws.String(g.ConsumerName),
	})
	if _, inUse := errors.AsType[*types.ResourceInUseException](err); inUse {
		return nil
	}
	if err != nil {
		return kinesisconsumer.Classify("kinesis:RegisterStreamConsumer", g.resource(), err)
	}
	g.registered.Add(1)
	log.Info("Registering the enhanced fan-out consumer; it is billed per shard-hour until deregistered", zap.String("consumer_name", g.ConsumerName), zap.String("stream_arn", g.StreamARN))
	return nil
}

// sleep waits d, false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
