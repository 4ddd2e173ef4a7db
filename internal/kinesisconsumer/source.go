package kinesisconsumer

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Record is one Kinesis record.
type Record struct {
	Data           []byte
	SequenceNumber string
	PartitionKey   string
	ArrivalTime    time.Time
}

// Batch is what one read of a shard returned.
type Batch struct {
	StreamName string
	ShardID    string
	Records    []Record
	// MillisBehindLatest is how far the read is behind the tip of the shard.
	MillisBehindLatest int64
	// End is set when the shard is closed and this batch holds its last records.
	End bool
	// ChildShards are the closed shard's children, when the read at its end named them:
	// they are read as soon as this shard is done, without waiting for a listing to show
	// them.
	ChildShards []types.ChildShard
	// Attempt counts the offers of this batch to the Processor, from 1.
	Attempt int
	// Replay marks records read again only to rebuild state: they were handed on before
	// (or predate where reading starts), so they are not to be emitted again, and their
	// shard's checkpoint does not move for them.
	Replay bool
	// Recent is the shard's window of recently handed-on keys, for the Processor to drop
	// records it has handed on before; nil without duplicate removal, and for replays.
	Recent *RecentKeys

	// done is called once every record of the batch has been accepted, when its source
	// can reuse what the records' data lie in; nil when it cannot.
	done func()
}

// finish says that the batch's records are done with: their data may be overwritten.
func (b *Batch) finish() {
	if b.done != nil {
		b.done()
		b.done = nil
	}
}

// Position is where reading a shard starts.
type Position struct {
	Type           types.ShardIteratorType
	SequenceNumber string    // for AFTER_SEQUENCE_NUMBER
	Timestamp      time.Time // for AT_TIMESTAMP

	// arrival is when the record at SequenceNumber arrived, when the checkpoint says.
	arrival time.Time
}

func (p Position) String() string {
	switch p.Type {
	case types.ShardIteratorTypeAfterSequenceNumber:
		return "after " + p.SequenceNumber
	case types.ShardIteratorTypeAtTimestamp:
		return "at " + p.Timestamp.UTC().Format(time.RFC3339Nano)
	default:
		return string(p.Type)
	}
}

// Source opens shards for reading.
type Source interface {
	Open(ctx context.Context, shardID string, from Position) (ShardStream, error)
}

// ShardStream yields a shard's records in order.
type ShardStream interface {
	// Next returns the next batch, possibly empty. After a batch with End set there is
	// nothing more. An error leaves the stream where it was: calling Next again retries.
	// Next is called again only once the records it returned were accepted, so where
	// the last batch ended is where a stream that must reconnect resumes.
	Next(ctx context.Context) (Batch, error)
	Close()
}

// Pusher is a ShardStream whose Next waits for records to be pushed to it (a
// subscription), rather than asking for them once (polling). Its reader neither pauses
// between batches nor takes one of the consumer's turns (MaxBatchesInFlight) until a
// batch has arrived: a turn held while waiting on a quiet shard would starve the others.
type Pusher interface {
	ShardStream
	Pushes() bool
}

// pushes says whether s waits for pushed records.
func pushes(s ShardStream) bool {
	p, ok := s.(Pusher)
	return ok && p.Pushes()
}
