package kinesisconsumer_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// collector records what a consumer delivered, per partition key, in delivery order.
type collector struct {
	mu    sync.Mutex
	byKey map[string][]string
	count map[string]int
	total int
}

func newCollector() *collector {
	return &collector{byKey: map[string][]string{}, count: map[string]int{}}
}

func (c *collector) Process(_ context.Context, b kinesisconsumer.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range b.Records {
		c.byKey[r.PartitionKey] = append(c.byKey[r.PartitionKey], string(r.Data))
		c.count[string(r.Data)]++
		c.total++
	}
	return nil
}

func (c *collector) delivered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// records makes n records for each of the keys, numbered from start.
func records(keys []string, start, n int) (ks []string, data [][]byte) {
	for i := start; i < start+n; i++ {
		for _, k := range keys {
			ks = append(ks, k)
			data = append(data, fmt.Appendf(nil, "%s#%03d", k, i))
		}
	}
	return ks, data
}

func shardByID(t *testing.T, client *kinesis.Client, stream, id string) types.Shard {
	out, err := client.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: &stream})
	require.NoError(t, err)
	for _, s := range out.Shards {
		if *s.ShardId == id {
			return s
		}
	}
	t.Fatalf("shard %s not found", id)
	return types.Shard{}
}

func openShards(t *testing.T, client *kinesis.Client, stream string) []types.Shard {
	out, err := client.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: &stream})
	require.NoError(t, err)
	var open []types.Shard
	for _, s := range out.Shards {
		if s.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, s)
		}
	}
	return open
}

// localOptions reads stream on kinesis-local from TRIM_HORIZON into col, checkpointing
// in store, polling fast.
func localOptions(srv *kinesistest.Server, stream string, store kinesisconsumer.CheckpointStore, col kinesisconsumer.Processor) kinesisconsumer.Options {
	return kinesisconsumer.Options{
		Checkpoints:       store,
		API:               srv.Client,
		Stream:            kinesisconsumer.StreamRef{Name: stream},
		Processor:         col,
		StartPosition:     kinesisconsumer.Position{Type: types.ShardIteratorTypeTrimHorizon},
		PollInterval:      100 * time.Millisecond,
		DiscoveryInterval: time.Second,
		ReadBackoff:       kinesisconsumer.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5},
	}
}

// startLocal starts a consumer, shut down when the test ends.
func startLocal(t *testing.T, opts kinesisconsumer.Options) {
	t.Helper()
	c, err := kinesisconsumer.New(opts)
	require.NoError(t, err)
	c.Start()
	t.Cleanup(func() { require.NoError(t, c.Shutdown(context.Background())) })
}

// TestKinesisLocalReshardingKeepsEveryRecordInOrder reads a stream through a split and a
// merge made while records are being written and read: every record arrives once, and
// each partition key's records arrive in the order they were written.
func TestKinesisLocalReshardingKeepsEveryRecordInOrder(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "resharding"
	srv.CreateStream(t, stream, 2)

	keys := make([]string, 24)
	for i := range keys {
		keys[i] = fmt.Sprintf("arn:aws:connect:us-east-1:123456789012:instance/i/agent/agent-%02d", i)
	}
	col := newCollector()
	store := kinesisconsumer.NewMemoryStore()
	startLocal(t, localOptions(srv, stream, store, col))

	written := 0
	put := func(start, n int) {
		ks, data := records(keys, start, n)
		srv.Put(t, stream, ks, data)
		written += len(data)
	}
	waitDelivered := func() {
		require.Eventually(t, func() bool { return col.delivered() >= written }, 60*time.Second, 50*time.Millisecond,
			"delivered %d of %d", col.delivered(), written)
	}

	put(0, 4)
	waitDelivered()

	// Split the first shard in the middle of its hash range.
	first := openShards(t, srv.Client, stream)[0]
	lo, _ := new(big.Int).SetString(*first.HashKeyRange.StartingHashKey, 10)
	hi, _ := new(big.Int).SetString(*first.HashKeyRange.EndingHashKey, 10)
	mid := new(big.Int).Add(lo, hi)
	mid.Rsh(mid, 1)
	_, err := srv.Client.SplitShard(context.Background(), &kinesis.SplitShardInput{
		StreamName: aws.String(stream), ShardToSplit: first.ShardId, NewStartingHashKey: aws.String(mid.String()),
	})
	require.NoError(t, err)
	srv.WaitActive(t, stream)
	put(4, 4)

	// Merge the two open shards whose hash ranges touch.
	open := openShards(t, srv.Client, stream)
	var a, b *types.Shard
	for i := range open {
		for j := range open {
			end, _ := new(big.Int).SetString(*open[i].HashKeyRange.EndingHashKey, 10)
			start, _ := new(big.Int).SetString(*open[j].HashKeyRange.StartingHashKey, 10)
			if new(big.Int).Add(end, big.NewInt(1)).Cmp(start) == 0 && a == nil {
				a, b = &open[i], &open[j]
			}
		}
	}
	require.NotNil(t, a, "no adjacent open shards to merge")
	_, err = srv.Client.MergeShards(context.Background(), &kinesis.MergeShardsInput{
		StreamName: aws.String(stream), ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId,
	})
	require.NoError(t, err)
	srv.WaitActive(t, stream)
	put(8, 4)
	waitDelivered()

	// The parents were read to their end and checkpointed as such.
	closedAfter := shardByID(t, srv.Client, stream, *first.ShardId)
	require.NotNil(t, closedAfter.SequenceNumberRange.EndingSequenceNumber)
	for _, parent := range []string{*first.ShardId, *a.ShardId, *b.ShardId} {
		cp, ok, err := store.Load(context.Background(), parent)
		require.NoError(t, err)
		assert.True(t, ok && cp.ShardEnd, "parent %s checkpointed at its end: %+v", parent, cp)
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	assert.Equal(t, written, col.total, "every record delivered exactly once")
	for data, n := range col.count {
		assert.Equal(t, 1, n, "record %s delivered %d times", data, n)
	}
	for _, k := range keys {
		want := make([]string, 0, 12)
		for i := range 12 {
			want = append(want, fmt.Sprintf("%s#%03d", k, i))
		}
		assert.Equal(t, want, col.byKey[k], "order of key %s", k)
	}
}

// TestKinesisLocalLatestStartIgnoresTheCollectorsClock starts at LATEST with a collector
// clock an hour ahead of Kinesis's: records written after the start are all read, since
// the start time is taken on Kinesis's clock.
func TestKinesisLocalLatestStartIgnoresTheCollectorsClock(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "skewed-clock"
	srv.CreateStream(t, stream, 1)

	col := newCollector()
	store := kinesisconsumer.NewMemoryStore()
	opts := localOptions(srv, stream, store, col)
	opts.StartPosition = kinesisconsumer.Position{Type: types.ShardIteratorTypeLatest}
	// The replay turns LATEST into a start at a time, which is where skew bites.
	opts.Replay = 150 * time.Second
	opts.Clock = func() time.Time { return time.Now().Add(time.Hour) }
	startLocal(t, opts)

	shard := *openShards(t, srv.Client, stream)[0].ShardId
	var started time.Time
	require.Eventually(t, func() bool {
		cp, ok, _ := store.Load(context.Background(), shard)
		started = cp.StartedAt
		return ok && !started.IsZero()
	}, 20*time.Second, 50*time.Millisecond, "the reader never recorded its start")
	assert.WithinDuration(t, time.Now(), started, 5*time.Second, "the start was not taken on Kinesis's clock")

	ks, data := records([]string{"agent-a", "agent-b"}, 0, 5)
	srv.Put(t, stream, ks, data)
	require.Eventually(t, func() bool { return col.delivered() >= len(data) }, 30*time.Second, 50*time.Millisecond,
		"delivered %d of %d records written after a LATEST start", col.delivered(), len(data))
}
