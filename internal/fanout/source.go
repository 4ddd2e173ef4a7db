package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// Kinesis ends a subscription after 5 minutes; Source renews it a little before.
const (
	DefaultRenewAfter  = 4*time.Minute + 30*time.Second
	DefaultIdleTimeout = time.Minute
	// inUseGrace is how long after a shard's subscription ended a Source quietly retries
	// a subscribe answered ResourceInUseException: Kinesis takes a moment to see the old
	// one closed.
	inUseGrace = 10 * time.Second
	inUseRetry = 500 * time.Millisecond
)

// Source is a kinesisconsumer.Source that subscribes to each shard with SubscribeToShard.
type Source struct {
	API    API
	Stream kinesisconsumer.StreamRef
	// Registrar finds the consumer to subscribe as, at the first subscription and again
	// should the consumer be found gone.
	Registrar *Registrar
	// RenewAfter is how long a subscription is read before it is closed and another
	// opened where it left off, ahead of Kinesis ending it at 5 minutes.
	RenewAfter time.Duration
	// IdleTimeout is how long a subscription may push nothing (Kinesis pushes an event at
	// least every few seconds, records or not) before it is taken as broken and replaced.
	IdleTimeout time.Duration
	Logger      *zap.Logger
	// Clock is time.Now by default.
	Clock func() time.Time
	// StreamClientOptions are applied to the client each subscription opens (see
	// streamClient), as API's own were given when it was made: kinesis.New does not carry
	// them over.
	StreamClientOptions []func(*kinesis.Options)

	// ensuring serializes the Registrar's work: shards starting together wait for one
	// registration rather than each make one.
	ensuring chan struct{}
	once     sync.Once
	mu       sync.Mutex
	arn      string
}

func (s *Source) init() {
	s.once.Do(func() {
		s.ensuring = make(chan struct{}, 1)
		if s.RenewAfter <= 0 {
			s.RenewAfter = DefaultRenewAfter
		}
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = DefaultIdleTimeout
		}
		if s.Logger == nil {
			s.Logger = zap.NewNop()
		}
		if s.Clock == nil {
			s.Clock = time.Now
		}
	})
}

// SetConsumerARN gives the Source the ARN a Registrar already ensured.
func (s *Source) SetConsumerARN(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arn = arn
}

// consumerARN is the consumer's ARN, ensured by the Registrar if not known yet.
func (s *Source) consumerARN(ctx context.Context) (string, error) {
	s.mu.Lock()
	arn := s.arn
	s.mu.Unlock()
	if arn != "" {
		return arn, nil
	}
	select {
	case s.ensuring <- struct{}{}:
		defer func() { <-s.ensuring }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	s.mu.Lock()
	arn = s.arn
	s.mu.Unlock()
	if arn != "" {
		return arn, nil // ensured while this one waited
	}
	arn, err := s.Registrar.Ensure(ctx)
	if err != nil {
		return "", err
	}
	s.SetConsumerARN(arn)
	return arn, nil
}

// streamClient is the client a subscription is opened with: a client of its own, when
// API is a *kinesis.Client. aws-sdk-go-v2's event-stream codec keeps scratch state in the
// client, which every stream open on it shares without a lock: a data race between
// shards (aws/smithy-go#714, unfixed in v1.28.9). A copy is cheap: it shares the
// original's HTTP transport and credentials, with a codec of its own.
func (s *Source) streamClient() API {
	if c, ok := s.API.(*kinesis.Client); ok {
		return kinesis.New(c.Options(), s.StreamClientOptions...)
	}
	return s.API
}

// forget drops a consumer ARN found gone, so that the next subscription ensures it again.
func (s *Source) forget(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.arn == arn {
		s.arn = ""
	}
}

// Open implements kinesisconsumer.Source. It subscribes at the first Next, so an Open
// never fails and a failed subscription is retried like any read.
func (s *Source) Open(_ context.Context, shardID string, from kinesisconsumer.Position) (kinesisconsumer.ShardStream, error) {
	s.init()
	return &subscription{src: s, shardID: shardID, from: from, log: s.Logger.With(zap.String("shard_id", shardID))}, nil
}

// subscription reads one shard through a succession of SubscribeToShard calls.
type subscription struct {
	src     *Source
	shardID string
	log     *zap.Logger
	// from is where to subscribe while no record has been handed out.
	from kinesisconsumer.Position
	// lastSeq is the last record handed out. Next is called only once the pipeline has
	// accepted it, so it is where every new subscription starts after; records received
	// but not handed out are read again.
	lastSeq string

	stream   *kinesis.SubscribeToShardEventStream
	openedAt time.Time
	// closedAt is when the last subscription ended, whoever ended it.
	closedAt time.Time
	ended    bool
}

var _ kinesisconsumer.Pusher = (*subscription)(nil)

// Pushes implements kinesisconsumer.Pusher.
func (s *subscription) Pushes() bool { return true }

// Close implements kinesisconsumer.ShardStream.
func (s *subscription) Close() { s.closeStream() }

func (s *subscription) closeStream() {
	if s.stream == nil {
		return
	}
	_ = s.stream.Close()
	s.stream = nil
	s.closedAt = s.src.Clock()
}

// Next implements kinesisconsumer.ShardStream: the next event pushed, as a batch.
func (s *subscription) Next(ctx context.Context) (kinesisconsumer.Batch, error) {
	if s.ended {
		return kinesisconsumer.Batch{StreamName: s.src.Stream.Label(), ShardID: s.shardID, End: true}, nil
	}
	for {
		if s.stream != nil && s.src.Clock().Sub(s.openedAt) >= s.src.RenewAfter {
			s.log.Debug("Renewing the subscription before Kinesis ends it")
			s.closeStream()
		}
		if s.stream == nil {
			if err := s.subscribe(ctx); err != nil {
				return kinesisconsumer.Batch{}, err
			}
		}
		ev, err := s.receive(ctx)
		if err != nil {
			s.closeStream()
			return kinesisconsumer.Batch{}, err
		}
		if ev == nil {
			// Ended by Kinesis, or silent too long: the next one opens where it left off.
			s.closeStream()
			continue
		}
		return s.batch(ev), nil
	}
}

// position is where the next subscription starts: after the last record handed out,
// else where reading began.
func (s *subscription) position() *types.StartingPosition {
	if s.lastSeq != "" {
		return &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(s.lastSeq)}
	}
	p := &types.StartingPosition{Type: s.from.Type}
	switch s.from.Type {
	case types.ShardIteratorTypeAfterSequenceNumber, types.ShardIteratorTypeAtSequenceNumber:
		p.SequenceNumber = aws.String(s.from.SequenceNumber)
	case types.ShardIteratorTypeAtTimestamp:
		p.Timestamp = aws.Time(s.from.Timestamp)
	}
	return p
}

// subscribe opens a subscription at position. Answered ResourceInUseException just after
// the shard's last subscription ended, it retries quietly while Kinesis catches up.
func (s *subscription) subscribe(ctx context.Context) error {
	for {
		arn, err := s.src.consumerARN(ctx)
		if err != nil {
			return fmt.Errorf("enhanced fan-out consumer: %w", err)
		}
		pos := s.position()
		out, err := s.src.streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
			ConsumerARN:      aws.String(arn),
			ShardId:          aws.String(s.shardID),
			StartingPosition: pos,
		})
		if err == nil {
			s.stream, s.openedAt = out.GetStream(), s.src.Clock()
			if pos.Type == types.ShardIteratorTypeLatest {
				// A later subscription must not skip what arrived meanwhile: it starts at
				// this one's start, on Kinesis's clock where the answer says (its Date,
				// truncated to the second, less a second for the time the answer took).
				at := s.openedAt.Add(-time.Second)
				if server, ok := awsmiddleware.GetServerTime(out.ResultMetadata); ok && !server.IsZero() {
					at = server.Add(-time.Second)
				}
				s.from = kinesisconsumer.Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: at}
			}
			return nil
		}
		if _, inUse := errors.AsType[*types.ResourceInUseException](err); inUse &&
			!s.closedAt.IsZero() && s.src.Clock().Sub(s.closedAt) < inUseGrace {
			if !sleep(ctx, inUseRetry) {
				return ctx.Err()
			}
			continue
		}
		if _, notFound := errors.AsType[*types.ResourceNotFoundException](err); notFound {
			return s.notFound(ctx, arn, err)
		}
		return fmt.Errorf("subscribe to shard %s (%s): %w", s.shardID, describe(pos), err)
	}
}

// notFound tells a shard gone (err, which stops the shard's reader) from a consumer gone,
// which is registered again at the next subscription if allowed.
func (s *subscription) notFound(ctx context.Context, arn string, err error) error {
	before := s.src.Registrar.registered.Load()
	s.src.forget(arn)
	if _, ensureErr := s.src.consumerARN(ctx); ensureErr != nil {
		return fmt.Errorf("subscribe to shard %s: the enhanced fan-out consumer is gone: %v", s.shardID, ensureErr)
	}
	if s.src.Registrar.registered.Load() != before {
		// Registered anew (here, or by a shard that found it gone first): not the
		// shard's fault. Retried, not reported as the shard gone.
		return fmt.Errorf("subscribe to shard %s: the enhanced fan-out consumer %s was gone, and is registered again", s.shardID, arn)
	}
	return fmt.Errorf("subscribe to shard %s: %w", s.shardID, err)
}

// receive waits for the subscription's next event: nil with no error when Kinesis ended
// the subscription or it stayed silent for IdleTimeout, an error when it broke.
func (s *subscription) receive(ctx context.Context) (*types.SubscribeToShardEvent, error) {
	idle := time.NewTimer(s.src.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case ev, ok := <-s.stream.Events():
			if !ok {
				if err := s.stream.Err(); err != nil {
					return nil, fmt.Errorf("subscription to shard %s broke: %w", s.shardID, err)
				}
				s.log.Debug("Kinesis ended the subscription; subscribing again")
				return nil, nil
			}
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				return &e.Value, nil
			}
			// An event type newer than this SDK: not records, so nothing to hand on.
		case <-idle.C:
			// Kinesis pushes an event every few seconds, records or not: a silent
			// subscription is a connection gone quietly, which a new one replaces.
			s.log.Debug("The subscription pushed nothing; subscribing again", zap.Duration("idle_timeout", s.src.IdleTimeout))
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// batch turns an event into a batch, leaving out any record at or before the last one
// handed out, which a subscription must not push again.
func (s *subscription) batch(ev *types.SubscribeToShardEvent) kinesisconsumer.Batch {
	b := kinesisconsumer.Batch{
		StreamName:         s.src.Stream.Label(),
		ShardID:            s.shardID,
		Records:            make([]kinesisconsumer.Record, 0, len(ev.Records)),
		MillisBehindLatest: aws.ToInt64(ev.MillisBehindLatest),
	}
	for _, r := range ev.Records {
		seq := aws.ToString(r.SequenceNumber)
		if s.lastSeq != "" && kinesisconsumer.CompareSequence(seq, s.lastSeq) <= 0 {
			continue
		}
		b.Records = append(b.Records, kinesisconsumer.Record{
			Data:           r.Data,
			SequenceNumber: seq,
			PartitionKey:   aws.ToString(r.PartitionKey),
			ArrivalTime:    aws.ToTime(r.ApproximateArrivalTimestamp),
		})
	}
	if n := len(b.Records); n > 0 {
		s.lastSeq = b.Records[n-1].SequenceNumber
	}
	// The shard's last event has no continuation, and names the children that follow on.
	if ev.ContinuationSequenceNumber == nil && len(ev.ChildShards) > 0 {
		s.ended = true
		s.closeStream()
		b.End, b.ChildShards = true, ev.ChildShards
	}
	return b
}

func describe(p *types.StartingPosition) string {
	switch p.Type {
	case types.ShardIteratorTypeAfterSequenceNumber, types.ShardIteratorTypeAtSequenceNumber:
		return string(p.Type) + " " + aws.ToString(p.SequenceNumber)
	case types.ShardIteratorTypeAtTimestamp:
		return "AT_TIMESTAMP " + aws.ToTime(p.Timestamp).UTC().Format(time.RFC3339Nano)
	default:
		return string(p.Type)
	}
}
