package leases

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// received keeps what a consumer handed on, by record, and each shard's last sequence
// number.
type received struct {
	mu    sync.Mutex
	count map[string]int
	last  map[string]string
}

func newReceived() *received {
	return &received{count: map[string]int{}, last: map[string]string{}}
}

func (r *received) Process(_ context.Context, b kinesisconsumer.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range b.Records {
		r.count[string(rec.Data)]++
		r.last[b.ShardID] = rec.SequenceNumber
	}
	return nil
}

func (r *received) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.count {
		n += c
	}
	return n
}

// TestUnderAKinesisConsumer runs the coordinator as a real consumer's Assigner and
// CheckpointStore on kinesis-local: the records are read, and each shard's checkpoint
// lands in its lease item. Released, the leases go to a second worker, whose consumer
// goes on from those checkpoints: nothing is read twice.
func TestUnderAKinesisConsumer(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "leased"
	srv.CreateStream(t, stream, 2)
	desc, err := srv.Client.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	arn := aws.ToString(desc.StreamDescriptionSummary.StreamARN)
	api := start(t)
	ctx := context.Background()

	put := func(from, n int) {
		var keys []string
		var data [][]byte
		for i := from; i < from+n; i++ {
			keys = append(keys, fmt.Sprintf("agent-%02d", i%16))
			data = append(data, fmt.Appendf(nil, "record-%03d", i))
		}
		srv.Put(t, stream, keys, data)
	}
	run := func(c *Coordinator, got *received) *kinesisconsumer.Consumer {
		return runConsumer(t, srv, stream, c, got, ktypes.ShardIteratorTypeTrimHorizon)
	}
	withStream := func(c *Config) { c.StreamARN = arn }

	a := worker(t, api, "a", withStream)
	gotA := newReceived()
	consA := run(a, gotA)
	put(0, 60)
	require.Eventually(t, func() bool { return gotA.total() >= 60 }, 60*time.Second, 50*time.Millisecond, "a read %d of 60", gotA.total())
	shards := []string{"shardId-000000000000", "shardId-000000000001"}
	assert.Equal(t, shards, a.Held())
	for _, id := range shards {
		gotA.mu.Lock()
		want := gotA.last[id]
		gotA.mu.Unlock()
		require.NotEmpty(t, want, "records on %s", id)
		require.Eventually(t, func() bool { l, err := a.get(ctx, id); return err == nil && l != nil && l.checkpoint == want }, 10*time.Second, 50*time.Millisecond,
			"%s: the lease item's checkpoint reaches the last record handed on", id)
		l := rawLease(t, api, id)
		assert.Equal(t, "a", l.owner)
		assert.Equal(t, arn, l.stream)
	}

	// A graceful stop: the consumer stops its readers, then releases the leases.
	require.NoError(t, consA.Shutdown(ctx))
	assert.Empty(t, a.Held())
	for _, id := range shards {
		assert.Empty(t, rawLease(t, api, id).owner, "released: %s", id)
	}

	b := worker(t, api, "b", withStream)
	gotB := newReceived()
	consB := run(b, gotB)
	t.Cleanup(func() { _ = consB.Shutdown(context.Background()) })
	put(60, 40)
	require.Eventually(t, func() bool {
		gotB.mu.Lock()
		defer gotB.mu.Unlock()
		for i := 60; i < 100; i++ {
			if gotB.count[fmt.Sprintf("record-%03d", i)] == 0 {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond, "b read %d records", gotB.total())
	assert.Equal(t, shards, b.Held())
	gotB.mu.Lock()
	defer gotB.mu.Unlock()
	for rec, n := range gotB.count {
		assert.Equal(t, 1, n, rec)
		gotA.mu.Lock()
		assert.Zero(t, gotA.count[rec], "%s read by a and by b", rec)
		gotA.mu.Unlock()
	}
	assert.Len(t, gotB.count, 40)
}

// runConsumer starts a consumer of stream reading through c, polling fast, assigning
// every renew interval.
func runConsumer(t *testing.T, srv *kinesistest.Server, stream string, c *Coordinator, got kinesisconsumer.Processor, from ktypes.ShardIteratorType) *kinesisconsumer.Consumer {
	t.Helper()
	cons, err := kinesisconsumer.New(kinesisconsumer.Options{
		API:               srv.Client,
		Stream:            kinesisconsumer.StreamRef{Name: stream},
		Processor:         got,
		Assigner:          c,
		Checkpoints:       c,
		StartPosition:     kinesisconsumer.Position{Type: from},
		PollInterval:      100 * time.Millisecond,
		DiscoveryInterval: time.Second,
		AssignInterval:    c.cfg.RenewInterval,
		ReadBackoff:       kinesisconsumer.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5},
	})
	require.NoError(t, err)
	cons.Start()
	return cons
}

// TestAtLatestAParentClosedBeforeReadingHoldsNoChildBack: a stream split before the
// fleet started, read from LATEST. Nothing of the closed parent is read, and the consumer
// says so with a SHARD_END checkpoint in its lease item, so the children are leased and
// read (Redpanda Connect's and Telegraf's stuck parent shards).
func TestAtLatestAParentClosedBeforeReadingHoldsNoChildBack(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "split-before"
	srv.CreateStream(t, stream, 1)
	ctx := context.Background()
	list := func() []ktypes.Shard {
		out, err := srv.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
		require.NoError(t, err)
		return out.Shards
	}
	parent := list()[0]
	lo, _ := new(big.Int).SetString(*parent.HashKeyRange.StartingHashKey, 10)
	hi, _ := new(big.Int).SetString(*parent.HashKeyRange.EndingHashKey, 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	_, err := srv.Client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: parent.ShardId, NewStartingHashKey: aws.String(mid.String())})
	require.NoError(t, err)
	srv.WaitActive(t, stream)
	var children []string
	for _, s := range list() {
		if aws.ToString(s.ParentShardId) == *parent.ShardId {
			children = append(children, *s.ShardId)
		}
	}
	require.Len(t, children, 2)

	api := start(t)
	a := worker(t, api, "a", func(c *Config) { c.InitialPosition = sentinelLatest })
	got := newReceived()
	cons := runConsumer(t, srv, stream, a, got, ktypes.ShardIteratorTypeLatest)
	t.Cleanup(func() { _ = cons.Shutdown(context.Background()) })

	// The children are leased.
	require.Eventually(t, func() bool {
		for _, id := range children {
			l, err := a.get(ctx, id)
			if err != nil || l == nil || l.owner != "a" {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond)
	assert.True(t, rawLease(t, api, *parent.ShardId).shardEnd(), "the parent's item says it ended")
	assert.Empty(t, rawLease(t, api, *parent.ShardId).owner)

	var keys []string
	var data [][]byte
	for i := range 20 {
		keys = append(keys, fmt.Sprintf("agent-%02d", i))
		data = append(data, fmt.Appendf(nil, "after-%02d", i))
	}
	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool { return got.total() >= 20 }, 60*time.Second, 50*time.Millisecond, "read %d of 20", got.total())
}
