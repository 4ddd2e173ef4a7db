package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
)

// PollingSource reads shards with GetShardIterator and GetRecords.
type PollingSource struct {
	API    KinesisAPI
	Stream StreamRef
	// MaxRecords is the Limit of each GetRecords call (at most 10,000).
	MaxRecords int32
	// Recycle, if set, is given the ResultMetadata of each GetRecords output once every
	// record of it has been accepted: the API's decoder may then reuse the memory of the
	// records' data (getrecords.Recycle).
	Recycle func(middleware.Metadata)
}

// Open implements Source. It asks for no iterator yet: the first Next does, so an Open
// never fails and a failure to get an iterator is retried like any read.
func (p *PollingSource) Open(_ context.Context, shardID string, from Position) (ShardStream, error) {
	return &pollingStream{src: p, shardID: shardID, from: from}, nil
}

type pollingStream struct {
	src      *PollingSource
	shardID  string
	from     Position
	iterator *string
	// lastSeq is the last sequence number handed out; the caller asks for more only after
	// accepting a batch, so this is also where to resume when an iterator expires.
	lastSeq string
	ended   bool
}

func (s *pollingStream) Close() {}

func (s *pollingStream) resumePosition() Position {
	if s.lastSeq != "" {
		return Position{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: s.lastSeq}
	}
	return s.from
}

func (s *pollingStream) getIterator(ctx context.Context) error {
	pos := s.resumePosition()
	in := &kinesis.GetShardIteratorInput{
		ShardId:           &s.shardID,
		ShardIteratorType: pos.Type,
		StreamName:        s.src.Stream.namePtr(),
		StreamARN:         s.src.Stream.arnPtr(),
	}
	switch pos.Type {
	case types.ShardIteratorTypeAfterSequenceNumber, types.ShardIteratorTypeAtSequenceNumber:
		in.StartingSequenceNumber = &pos.SequenceNumber
	case types.ShardIteratorTypeAtTimestamp:
		in.Timestamp = aws.Time(pos.Timestamp)
	}
	asked := time.Now()
	out, err := s.src.API.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("get shard iterator for %s (%s): %w", s.shardID, pos, err)
	}
	s.iterator = out.ShardIterator
	if pos.Type == types.ShardIteratorTypeLatest {
		// Should this iterator expire before a record arrives, a new LATEST would skip
		// whatever arrived meanwhile; resume from when this one was asked for instead, on
		// Kinesis's clock where its answer says (its Date, truncated to the second, less a
		// second for the time the answer took), else on ours.
		if server, ok := awsmiddleware.GetServerTime(out.ResultMetadata); ok && !server.IsZero() {
			asked = server.Add(-time.Second)
		}
		s.from = Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: asked}
	}
	return nil
}

// Next implements ShardStream.
func (s *pollingStream) Next(ctx context.Context) (Batch, error) {
	if s.ended {
		return Batch{ShardID: s.shardID, End: true}, nil
	}
	if s.iterator == nil {
		if err := s.getIterator(ctx); err != nil {
			return Batch{}, err
		}
		if s.iterator == nil { // a closed shard with nothing left after the position
			s.ended = true
			return Batch{StreamName: s.src.Stream.Label(), ShardID: s.shardID, End: true}, nil
		}
	}
	out, err := s.src.API.GetRecords(ctx, &kinesis.GetRecordsInput{
		ShardIterator: s.iterator,
		Limit:         aws.Int32(s.src.MaxRecords),
		StreamARN:     s.src.Stream.arnPtr(),
	})
	if err != nil {
		if _, expired := errors.AsType[*types.ExpiredIteratorException](err); expired {
			// Resume from the last record handed out, which the caller has accepted.
			s.iterator = nil
		}
		return Batch{}, fmt.Errorf("get records from %s: %w", s.shardID, err)
	}
	b := Batch{
		StreamName:         s.src.Stream.Label(),
		ShardID:            s.shardID,
		Records:            make([]Record, 0, len(out.Records)),
		MillisBehindLatest: aws.ToInt64(out.MillisBehindLatest),
	}
	for _, r := range out.Records {
		b.Records = append(b.Records, Record{
			Data:           r.Data,
			SequenceNumber: aws.ToString(r.SequenceNumber),
			PartitionKey:   aws.ToString(r.PartitionKey),
			ArrivalTime:    aws.ToTime(r.ApproximateArrivalTimestamp),
		})
	}
	if n := len(b.Records); n > 0 {
		s.lastSeq = b.Records[n-1].SequenceNumber
		if recycle := s.src.Recycle; recycle != nil {
			md := out.ResultMetadata
			b.done = func() { recycle(md) }
		}
	}
	s.iterator = out.NextShardIterator
	if s.iterator == nil {
		s.ended = true
		b.End = true
		b.ChildShards = out.ChildShards
	}
	return b, nil
}
