package connectsim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// fakeKinesis is an in-process PutRecords that fails entries and whole calls.
type fakeKinesis struct {
	t           *testing.T
	shards      int
	rng         *rand.Rand
	failEntry   float64 // chance an entry fails with ProvisionedThroughputExceededException
	failCallMod int     // every failCallMod-th call fails as a whole
	fatal       string  // if set, every call fails with this error code
	clock       *fakeClock

	calls      int
	written    map[string][][]byte // per key, in the order accepted
	shardBytes []int
	shardRecs  []int
}

func newFakeKinesis(t *testing.T, shards int, clock *fakeClock) *fakeKinesis {
	return &fakeKinesis{t: t, shards: shards, rng: rand.New(rand.NewPCG(7, 7)), clock: clock,
		written: map[string][][]byte{}, shardBytes: make([]int, shards), shardRecs: make([]int, shards)}
}

var hashSpace = new(big.Int).Lsh(big.NewInt(1), 128)

// shardOf splits the hash key space evenly, as CreateStream does.
func (f *fakeKinesis) shardOf(key string) int {
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	return int(new(big.Int).Div(new(big.Int).Mul(h, big.NewInt(int64(f.shards))), hashSpace).Int64())
}

func (f *fakeKinesis) ListShards(_ context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	var out kinesis.ListShardsOutput
	if in.NextToken == nil {
		// A shard closed by resharding comes first; the sink must skip it.
		out.Shards = append(out.Shards, types.Shard{ShardId: aws.String("shardId-closed"),
			HashKeyRange:        &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String(new(big.Int).Sub(hashSpace, big.NewInt(1)).String())},
			SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1"), EndingSequenceNumber: aws.String("2")}})
		out.NextToken = aws.String("page2")
		return &out, nil
	}
	require.Nil(f.t, in.StreamName, "ListShards takes no stream name with a NextToken")
	for i := range f.shards {
		start := new(big.Int).Div(new(big.Int).Mul(hashSpace, big.NewInt(int64(i))), big.NewInt(int64(f.shards)))
		end := new(big.Int).Sub(new(big.Int).Div(new(big.Int).Mul(hashSpace, big.NewInt(int64(i+1))), big.NewInt(int64(f.shards))), big.NewInt(1))
		out.Shards = append(out.Shards, types.Shard{ShardId: aws.String(fmt.Sprintf("shardId-%012d", i)),
			HashKeyRange:        &types.HashKeyRange{StartingHashKey: aws.String(start.String()), EndingHashKey: aws.String(end.String())},
			SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("3")}})
	}
	return &out, nil
}

func (f *fakeKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.calls++
	require.Equal(f.t, "events", aws.ToString(in.StreamName))
	require.NotEmpty(f.t, in.Records)
	require.LessOrEqual(f.t, len(in.Records), 500, "at most 500 records a call")
	size := 0
	keys := map[string]bool{}
	for _, e := range in.Records {
		size += len(e.Data) + len(aws.ToString(e.PartitionKey))
		require.False(f.t, keys[*e.PartitionKey], "one record per key a call, so that a retry keeps order")
		keys[*e.PartitionKey] = true
	}
	require.LessOrEqual(f.t, size, 5<<20, "at most 5 MiB a call")
	if f.fatal != "" {
		return nil, &smithy.GenericAPIError{Code: f.fatal, Message: "no"}
	}
	if f.failCallMod > 0 && f.calls%f.failCallMod == 0 {
		if f.calls%(2*f.failCallMod) == 0 {
			return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for stream events")}
		}
		return nil, &smithy.GenericAPIError{Code: "InternalFailure", Message: "try again"}
	}
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	for i, e := range in.Records {
		if f.rng.Float64() < f.failEntry {
			out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"),
				ErrorMessage: aws.String("Rate exceeded for shard")}
			out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
			continue
		}
		key := *e.PartitionKey
		f.written[key] = append(f.written[key], e.Data)
		sh := f.shardOf(key)
		f.shardBytes[sh] += len(e.Data) + len(key)
		f.shardRecs[sh]++
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String(fmt.Sprint(f.calls*1000 + i)), ShardId: aws.String(fmt.Sprint(sh))}
	}
	return out, nil
}

func TestKinesisSinkRetriesFailedEntries(t *testing.T) {
	recs := simulate(t, DefaultConfig(), 90*time.Minute)
	require.Greater(t, len(recs), 3000)
	recs = recs[:3000]

	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	wallStart := clock.now
	fake := newFakeKinesis(t, 2, clock)
	fake.failEntry = 0.2
	fake.failCallMod = 5
	var slept []time.Duration
	sink, err := NewKinesisSink(context.Background(), fake, KinesisOptions{Stream: "events", Now: clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			return clock.Sleep(ctx, d)
		}})
	require.NoError(t, err)
	require.Equal(t, 2, sink.Stats().Shards, "the closed shard is not counted")

	ctx := context.Background()
	want := map[string][][]byte{}
	var total int
	for _, r := range recs {
		require.NoError(t, sink.Write(ctx, r))
		want[r.Key] = append(want[r.Key], r.Data)
		total += len(r.Data) + len(r.Key)
	}
	require.NoError(t, sink.Close(ctx))
	assert.Zero(t, sink.Buffered())

	// Every record written once, each key's in order.
	require.Len(t, fake.written, len(want))
	for key, datas := range want {
		got := fake.written[key]
		require.Len(t, got, len(datas), "records of %s", key)
		for i := range datas {
			require.True(t, bytes.Equal(datas[i], got[i]), "record %d of %s out of order", i, key)
		}
	}
	st := sink.Stats()
	assert.Equal(t, int64(len(recs)), st.Written)
	assert.Positive(t, st.FailedEntries)
	assert.Positive(t, st.FailedCalls)
	t.Logf("%d calls, %d failed, %d failed entries; slept %d times, %s on the fake clock", st.Calls, st.FailedCalls, st.FailedEntries, len(slept), clock.now.Sub(wallStart))

	for _, d := range slept {
		assert.LessOrEqual(t, d, 5*time.Second, "backoff waits are bounded")
	}
}

func TestKinesisSinkPacing(t *testing.T) {
	recs := simulate(t, DefaultConfig(), 90*time.Minute)[:3000]
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	wallStart := clock.now
	fake := newFakeKinesis(t, 2, clock)
	sink, err := NewKinesisSink(context.Background(), fake, KinesisOptions{Stream: "events", Now: clock.Now, Sleep: clock.Sleep})
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, sink.Write(context.Background(), r))
	}
	require.NoError(t, sink.Flush(context.Background()))
	assert.Zero(t, sink.Stats().FailedEntries)

	// Paced to 1 MiB/s and 1,000 records/s per shard: what a shard took beyond its first
	// second's burst took at least that long, and not much longer.
	elapsed := clock.now.Sub(wallStart).Seconds()
	var longest float64
	for sh := range fake.shards {
		need := max(float64(fake.shardBytes[sh])/(1<<20), float64(fake.shardRecs[sh])/1000) - 1
		assert.GreaterOrEqual(t, elapsed+0.001, need, "shard %d: %d bytes, %d records", sh, fake.shardBytes[sh], fake.shardRecs[sh])
		longest = max(longest, need)
	}
	assert.Positive(t, sink.Stats().PacingWaitTime)
	assert.Less(t, elapsed, longest+2, "pacing does not wait much longer than it must")
	t.Logf("%d records in %d calls over %.1fs of the fake clock; shards took %v bytes", len(recs), fake.calls, elapsed, fake.shardBytes)
}

func TestKinesisSinkFatalError(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	fake := newFakeKinesis(t, 1, clock)
	fake.fatal = "ResourceNotFoundException"
	sink, err := NewKinesisSink(context.Background(), fake, KinesisOptions{Stream: "events", Now: clock.Now, Sleep: clock.Sleep})
	require.NoError(t, err)
	recs := simulate(t, DefaultConfig(), 5*time.Minute)
	require.NoError(t, sink.Write(context.Background(), recs[0]))
	err = sink.Flush(context.Background())
	require.ErrorContains(t, err, "ResourceNotFoundException")
	assert.Equal(t, 1, sink.Buffered(), "nothing is dropped")
	assert.Equal(t, 1, fake.calls, "no retries of a missing stream")
}

// TestKinesisSinkLocal writes to kinesis-local and reads everything back.
func TestKinesisSinkLocal(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "connectsim-events"
	srv.CreateStream(t, stream, 2)

	cfg := DefaultConfig()
	cfg.Agents = 20
	recs := simulate(t, cfg, 2*time.Hour)
	require.Greater(t, len(recs), 300)
	recs = recs[:300]

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sink, err := NewKinesisSink(ctx, srv.Client, KinesisOptions{Stream: stream})
	require.NoError(t, err)
	require.Equal(t, 2, sink.Stats().Shards)
	for _, r := range recs {
		require.NoError(t, sink.Write(ctx, r))
	}
	require.NoError(t, sink.Close(ctx))

	// Read every shard from its start.
	type got struct {
		key  string
		data []byte
	}
	byShard := map[string][]got{}
	shards, err := srv.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	read := 0
	for _, sh := range shards.Shards {
		it, err := srv.Client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		require.NoError(t, err)
		iter := it.ShardIterator
		for iter != nil {
			out, err := srv.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			require.NoError(t, err)
			for _, r := range out.Records {
				byShard[*sh.ShardId] = append(byShard[*sh.ShardId], got{key: aws.ToString(r.PartitionKey), data: r.Data})
				read++
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	require.Equal(t, len(recs), read, "every record read back once")

	want := map[string][][]byte{}
	ids := map[string]int{}
	for _, r := range recs {
		want[r.Key] = append(want[r.Key], r.Data)
		ids[eventID(t, r.Data)]++
	}
	gotByKey := map[string][][]byte{}
	keyShard := map[string]string{}
	for shard, rs := range byShard {
		for _, r := range rs {
			var ev struct{ AgentARN, EventId string }
			require.NoError(t, json.Unmarshal(r.data, &ev))
			require.Equal(t, ev.AgentARN, r.key, "partition key intact")
			ids[ev.EventId]--
			gotByKey[r.key] = append(gotByKey[r.key], r.data)
			if s, ok := keyShard[r.key]; ok {
				require.Equal(t, s, shard, "one shard per agent")
			}
			keyShard[r.key] = shard
		}
	}
	for id, n := range ids {
		require.Zero(t, n, "event %s written once", id)
	}
	for key, datas := range want {
		require.Len(t, gotByKey[key], len(datas))
		for i := range datas {
			require.True(t, bytes.Equal(datas[i], gotByKey[key][i]), "record %d of %s in order", i, key)
		}
	}
	assert.Len(t, byShard, 2, "records on both shards")
}

func eventID(t *testing.T, data []byte) string {
	var ev struct{ EventId string }
	require.NoError(t, json.Unmarshal(data, &ev))
	return ev.EventId
}
