package fastkinesis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

func records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{
			PartitionKey: fmt.Sprintf("arn:aws:connect:us-east-1:1:instance/x/agent/%d", i%7),
			Data:         fmt.Appendf(nil, `{"EventId":"e-%d","pad":"%0*d"}`, i, i%50, 0),
		}
	}
	return out
}

func start(t *testing.T, opts Options) (*Server, *kinesis.Client) {
	t.Helper()
	srv, err := Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, kinesistest.NewClient(srv.Endpoint)
}

// TestTheSDKReadsEveryShardWhole: the stock SDK client finds the stream and its shards
// (in pages) and reads every shard from TRIM_HORIZON to the tip, Limit records at most a
// call, each record as given with its shard's own increasing sequence numbers, behind the
// tip until the last call.
func TestTheSDKReadsEveryShardWhole(t *testing.T) {
	ctx := context.Background()
	want := records(25)
	srv, client := start(t, Options{Stream: "s", Shards: 3, Records: want})

	desc, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	require.NoError(t, err)
	assert.Equal(t, srv.ARN, aws.ToString(desc.StreamDescriptionSummary.StreamARN))
	assert.Equal(t, types.StreamStatusActive, desc.StreamDescriptionSummary.StreamStatus)
	assert.Equal(t, int32(3), aws.ToInt32(desc.StreamDescriptionSummary.OpenShardCount))

	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(2)}
	for pages := 1; ; pages++ {
		out, err := client.ListShards(ctx, in)
		require.NoError(t, err)
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			assert.Equal(t, 2, pages)
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(2)}
	}
	require.Len(t, shards, 3)
	assert.Equal(t, "0", aws.ToString(shards[0].HashKeyRange.StartingHashKey))
	assert.Equal(t, "340282366920938463463374607431768211455", aws.ToString(shards[2].HashKeyRange.EndingHashKey))

	seen := map[string]bool{}
	for i, shard := range shards {
		assert.Equal(t, srv.ShardIDs()[i], aws.ToString(shard.ShardId))
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamARN: aws.String(srv.ARN), ShardId: shard.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		iter := it.ShardIterator
		var got []types.Record
		for calls := 0; ; calls++ {
			require.Less(t, calls, 10)
			out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10), StreamARN: aws.String(srv.ARN)})
			require.NoError(t, err)
			assert.LessOrEqual(t, len(out.Records), 10)
			got = append(got, out.Records...)
			behind := aws.ToInt64(out.MillisBehindLatest)
			require.NotNil(t, out.NextShardIterator, "an open shard always gives a next iterator")
			assert.Nil(t, out.ChildShards)
			iter = out.NextShardIterator
			if len(got) < len(want) {
				assert.Positive(t, behind, "records remain after %d", len(got))
				continue
			}
			assert.Zero(t, behind, "at the tip")
			break
		}
		require.Len(t, got, len(want))
		var prev time.Time
		for j, r := range got {
			assert.Equal(t, want[j].Data, r.Data)
			assert.Equal(t, want[j].PartitionKey, aws.ToString(r.PartitionKey))
			seq := aws.ToString(r.SequenceNumber)
			assert.Len(t, seq, 56)
			assert.Equal(t, srv.SequenceNumber(i, j), seq)
			assert.False(t, seen[seq], "sequence number %s repeated", seq)
			seen[seq] = true
			ts := aws.ToTime(r.ApproximateArrivalTimestamp)
			assert.True(t, ts.After(prev), "arrival times increase")
			assert.WithinDuration(t, time.Now(), ts, 2*time.Minute)
			prev = ts
		}
		// At the tip an open shard answers no records and the same place again.
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		require.NoError(t, err)
		assert.Empty(t, out.Records)
		assert.Zero(t, aws.ToInt64(out.MillisBehindLatest))
		assert.Equal(t, aws.ToString(iter), aws.ToString(out.NextShardIterator))
	}
	assert.Equal(t, int64(75), srv.Served())
}

// TestIteratorTypesStartWhereKinesisWould: AT_ and AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP
// (the first record arrived at or after it) and LATEST (the tip).
func TestIteratorTypesStartWhereKinesisWould(t *testing.T) {
	ctx := context.Background()
	want := records(20)
	srv, client := start(t, Options{Stream: "s", Shards: 2, Records: want})
	shard := aws.String(srv.ShardIDs()[1])
	first := func(in *kinesis.GetShardIteratorInput) (string, int) {
		t.Helper()
		in.StreamName, in.ShardId = aws.String("s"), shard
		it, err := client.GetShardIterator(ctx, in)
		require.NoError(t, err)
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
		require.NoError(t, err)
		if len(out.Records) == 0 {
			return "", 0
		}
		return string(out.Records[0].Data), len(out.Records)
	}
	seq7 := srv.SequenceNumber(1, 7)
	got, _ := first(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seq7})
	assert.Equal(t, string(want[7].Data), got)
	got, _ = first(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seq7})
	assert.Equal(t, string(want[8].Data), got)
	got, n := first(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest})
	assert.Zero(t, n, "LATEST is the tip: %q", got)

	// Record 12's arrival time, read from the record itself.
	seq12 := srv.SequenceNumber(1, 12)
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: shard, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seq12})
	require.NoError(t, err)
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	require.NoError(t, err)
	at := out.Records[0].ApproximateArrivalTimestamp
	got, _ = first(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: at})
	assert.Equal(t, string(want[12].Data), got)
	got, _ = first(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(-24 * time.Hour))})
	assert.Equal(t, string(want[0].Data), got)
}

// TestRefusalsAreKinesisErrors: the SDK sees the typed exceptions Kinesis answers.
func TestRefusalsAreKinesisErrors(t *testing.T) {
	ctx := context.Background()
	srv, client := start(t, Options{Stream: "s", Shards: 1, Records: records(3)})
	_, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("other")})
	var notFound *types.ResourceNotFoundException
	assert.ErrorAs(t, err, &notFound)
	_, err = client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000009"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	assert.ErrorAs(t, err, &notFound)
	var invalid *types.InvalidArgumentException
	_, err = client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("not-an-iterator")})
	assert.ErrorAs(t, err, &invalid)
	_, err = client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(srv.ARN), ShardId: aws.String(srv.ShardIDs()[0]),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(srv.SequenceNumber(0, 3))})
	assert.ErrorAs(t, err, &invalid, "a sequence number past the last record")
	_, err = client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s")})
	assert.ErrorContains(t, err, "UnknownOperationException")
}

// TestOnFirstRecordsHearsTheFirstRealRead: the hook runs once, at the first answer of more
// than one record, not at a one-record access check.
func TestOnFirstRecordsHearsTheFirstRealRead(t *testing.T) {
	ctx := context.Background()
	calls := 0
	srv, client := start(t, Options{Stream: "s", Shards: 1, Records: records(5), OnFirstRecords: func() { calls++ }})
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(srv.ARN), ShardId: aws.String(srv.ShardIDs()[0]), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	require.NoError(t, err)
	require.Len(t, out.Records, 1)
	assert.Zero(t, calls)
	for range 2 {
		_, err = client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, calls)
}
