package fanout

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

func record(seq string) types.Record {
	return types.Record{Data: []byte(seq), SequenceNumber: aws.String(seq), PartitionKey: aws.String("k"), ApproximateArrivalTimestamp: aws.Time(time.Unix(1700000000, 0))}
}

// An event's MillisBehindLatest becomes the batch's, which feeds the lag metric as
// polling's does; records are handed on once, in order.
func TestEventBecomesABatch(t *testing.T) {
	s := &subscription{src: &Source{Stream: kinesisconsumer.StreamRef{Name: "s"}}, shardID: "shardId-000000000001"}
	b := s.batch(&types.SubscribeToShardEvent{
		Records:                    []types.Record{record("101"), record("102")},
		ContinuationSequenceNumber: aws.String("102"),
		MillisBehindLatest:         aws.Int64(1234),
	})
	assert.Equal(t, int64(1234), b.MillisBehindLatest)
	assert.Equal(t, "s", b.StreamName)
	assert.Equal(t, "shardId-000000000001", b.ShardID)
	assert.Len(t, b.Records, 2)
	assert.Equal(t, "102", b.Records[1].SequenceNumber)
	assert.Equal(t, time.Unix(1700000000, 0), b.Records[0].ArrivalTime)
	assert.False(t, b.End)

	// A record pushed again (at or before the last handed on) is left out.
	b = s.batch(&types.SubscribeToShardEvent{Records: []types.Record{record("102"), record("103")}, ContinuationSequenceNumber: aws.String("103"), MillisBehindLatest: aws.Int64(0)})
	assert.Len(t, b.Records, 1)
	assert.Equal(t, "103", s.lastSeq)
}

// The shard's last event has no continuation and names the children; an event without a
// continuation that names none is not taken for the end, which would stop reading a live
// shard for good.
func TestOnlyTheLastEventEndsTheShard(t *testing.T) {
	s := &subscription{src: &Source{}, shardID: "shardId-000000000000"}
	b := s.batch(&types.SubscribeToShardEvent{Records: []types.Record{record("5")}, MillisBehindLatest: aws.Int64(0)})
	assert.False(t, b.End)
	children := []types.ChildShard{
		{ShardId: aws.String("shardId-000000000001"), ParentShards: []string{"shardId-000000000000"}},
		{ShardId: aws.String("shardId-000000000002"), ParentShards: []string{"shardId-000000000000"}},
	}
	b = s.batch(&types.SubscribeToShardEvent{Records: []types.Record{}, MillisBehindLatest: aws.Int64(0), ChildShards: children})
	assert.True(t, b.End)
	assert.Equal(t, children, b.ChildShards)
	assert.True(t, s.ended)
}
