package efotest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// continuation is the sequence number an empty event gives before any record was
// written: one that, resumed AFTER_SEQUENCE_NUMBER, reads on from the starting
// position. A heartbeat without one would read as the shard's end.
func (st *streamer) continuation() (string, error) {
	if st.last != "" {
		return st.last, nil
	}
	start := aws.ToString(st.shard.SequenceNumberRange.StartingSequenceNumber)
	switch types.ShardIteratorType(st.sub.StartingPosition) {
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		// Caught up with nothing read: no record at or after it exists, so reading
		// after it misses nothing.
		st.last = st.sub.SequenceNumber
	case types.ShardIteratorTypeTrimHorizon:
		st.last = start // kinesis-local reads every record after a shard's start
	default:
		// LATEST and AT_TIMESTAMP: the last record that arrived before the position.
		// Records arriving after it come through the subscription's own iterator.
		cutoff := st.sub.Timestamp
		if st.sub.StartingPosition == string(types.ShardIteratorTypeLatest) {
			cutoff = st.sub.Opened
		}
		last, err := st.lastBefore(cutoff.UnixMilli())
		if err != nil {
			return "", err
		}
		st.last = start
		if last != "" {
			st.last = last
		}
	}
	return st.last, nil
}

// lastBefore reads the shard from its start for the last record that arrived before
// cutoff (Unix milliseconds), "" if none did.
func (st *streamer) lastBefore(cutoff int64) (string, error) {
	it, err := st.s.backend.GetShardIterator(st.ctx, &kinesis.GetShardIteratorInput{
		StreamARN: &st.streamARN, ShardId: &st.sub.ShardID, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return "", err
	}
	last, iter := "", it.ShardIterator
	for iter != nil {
		out, err := st.s.backend.GetRecords(st.ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: &st.streamARN})
		if err != nil {
			return "", err
		}
		for _, r := range out.Records {
			if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.UnixMilli() >= cutoff {
				return last, nil
			}
			last = aws.ToString(r.SequenceNumber)
		}
		if len(out.Records) == 0 {
			return last, nil
		}
		iter = out.NextShardIterator
	}
	return last, nil
}

// children are the shards whose parent or adjacent parent is the subscription's shard,
// as ChildShards lists them.
func (st *streamer) children() ([]childShardJSON, error) {
	shards, err := st.s.listShards(st.ctx, st.streamARN)
	if err != nil {
		return nil, err
	}
	var out []childShardJSON
	for _, sh := range shards {
		parent, adjacent := aws.ToString(sh.ParentShardId), aws.ToString(sh.AdjacentParentShardId)
		if parent != st.sub.ShardID && adjacent != st.sub.ShardID {
			continue
		}
		c := childShardJSON{ShardId: aws.ToString(sh.ShardId), ParentShards: []string{}}
		for _, p := range []string{parent, adjacent} {
			if p != "" {
				c.ParentShards = append(c.ParentShards, p)
			}
		}
		if sh.HashKeyRange != nil {
			c.HashKeyRange.StartingHashKey = aws.ToString(sh.HashKeyRange.StartingHashKey)
			c.HashKeyRange.EndingHashKey = aws.ToString(sh.HashKeyRange.EndingHashKey)
		}
		out = append(out, c)
	}
	return out, nil
}
