package leases

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// TestItemsAreCreatedOnceByAnyNumberOfWorkers: workers listing the same shards at once
// create one item per shard, KCL's attributes, unowned until taken.
func TestItemsAreCreatedOnceByAnyNumberOfWorkers(t *testing.T) {
	api := start(t)
	shards := append(open(2), shard("shardId-000000000009", shardID(0), shardID(1)))
	var workers []*Coordinator
	for _, id := range []string{"a", "b", "c"} {
		workers = append(workers, worker(t, api, id, func(c *Config) { c.MaxLeasesPerWorker = 1 }))
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			_, err := w.createMissingOnly(shards)
			assert.NoError(t, err)
		})
	}
	wg.Wait()

	out, err := api.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(testTable)})
	require.NoError(t, err)
	require.Len(t, out.Items, 3)
	for _, id := range []string{shardID(0), shardID(1)} {
		item := rawItem(t, api, id)
		assert.Equal(t, &types.AttributeValueMemberN{Value: "0"}, item[attrCounter], id)
		assert.Equal(t, &types.AttributeValueMemberS{Value: "TRIM_HORIZON"}, item[attrCheckpoint], id)
		assert.Equal(t, &types.AttributeValueMemberN{Value: "0"}, item[attrSubSequence], id)
		assert.Equal(t, &types.AttributeValueMemberN{Value: "0"}, item[attrOwnerSwitches], id)
		assert.Equal(t, &types.AttributeValueMemberS{Value: workers[0].cfg.StreamARN}, item[attrStream], id)
		assert.NotContains(t, item, attrOwner, id)
		assert.NotContains(t, item, attrParents, id)
	}
	merged := rawLease(t, api, "shardId-000000000009")
	assert.Equal(t, []string{shardID(0), shardID(1)}, merged.parents)

	// Created once: assigning again changes nothing but the owners.
	for _, w := range workers {
		assign(t, w, shards)
	}
	out, err = api.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(testTable)})
	require.NoError(t, err)
	assert.Len(t, out.Items, 3)
	owners := map[string]bool{}
	for _, id := range []string{shardID(0), shardID(1)} {
		l := rawLease(t, api, id)
		assert.Equal(t, int64(1), l.counter, "taken once: %+v", l)
		assert.Equal(t, int64(1), l.ownerSwitches)
		owners[l.owner] = true
	}
	assert.Len(t, owners, 2, "one lease each (MaxLeasesPerWorker 1)")
}

// createMissingOnly creates the items of shards without taking any.
func (c *Coordinator) createMissingOnly(shards []ktypes.Shard) (map[string]*lease, error) {
	items, err := c.scan(context.Background())
	if err != nil {
		return nil, err
	}
	return items, c.createMissing(context.Background(), shards, items)
}

// TestCheckpointRoundTrip saves every kind of checkpoint the consumer saves and loads it
// back, field for field, from the lease item.
func TestCheckpointRoundTrip(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	shards := open(1)
	require.Equal(t, []string{shardID(0)}, assign(t, a, shards))
	ctx := context.Background()

	_, ok, err := a.Load(ctx, shardID(0))
	require.NoError(t, err)
	assert.False(t, ok, "a new item holds no checkpoint")
	_, ok, err = a.Load(ctx, "shardId-unknown")
	require.NoError(t, err)
	assert.False(t, ok, "no item: no checkpoint")

	arrival := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	started := time.Date(2026, 3, 4, 5, 0, 0, 123456789, time.UTC)
	for _, cp := range []kinesisconsumer.Checkpoint{
		{StartedAt: started, RecentKeys: []byte{1, 2, 3}},
		{SequenceNumber: "49650000000000000000000000000000000000000000000000000001", ArrivalTime: arrival, RecentKeys: []byte{4, 5, 6, 7, 8, 9, 10, 11}},
		{SequenceNumber: "49650000000000000000000000000000000000000000000000000002", ArrivalTime: arrival, StartedAt: started},
		{SequenceNumber: "49650000000000000000000000000000000000000000000000000003"},
	} {
		require.NoError(t, a.Save(ctx, shardID(0), cp))
		got, ok, err := a.Load(ctx, shardID(0))
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, cp, normalize(got))
		assert.Equal(t, int64(0), rawLease(t, api, shardID(0)).ownerSwitches, "a checkpoint resets ownerSwitchesSinceCheckpoint")
	}
	l := rawLease(t, api, shardID(0))
	assert.Equal(t, "49650000000000000000000000000000000000000000000000000003", l.checkpoint)
	assert.Zero(t, l.arrival, "fields the checkpoint leaves empty are removed")
	assert.Nil(t, l.recent)

	// The end: SHARD_END, and the lease is given up.
	end := kinesisconsumer.Checkpoint{SequenceNumber: "49650000000000000000000000000000000000000000000000000004", ShardEnd: true, RecentKeys: []byte{9}}
	require.NoError(t, a.Save(ctx, shardID(0), end))
	got, ok, err := a.Load(ctx, shardID(0))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, end, normalize(got))
	l = rawLease(t, api, shardID(0))
	assert.Equal(t, "SHARD_END", l.checkpoint)
	assert.Empty(t, l.owner, "a shard read to its end is owned by nobody")
	assert.Empty(t, a.Held())
	assert.Empty(t, assign(t, a, closedAll(shards)), "an ended shard is not taken again")
	err = a.Save(ctx, shardID(0), end)
	assert.ErrorIs(t, err, kinesisconsumer.ErrLeaseLost, "nothing more is saved under a lease given up")
}

func closedAll(shards []ktypes.Shard) []ktypes.Shard {
	out := make([]ktypes.Shard, len(shards))
	for i, s := range shards {
		sr := *s.SequenceNumberRange
		s.SequenceNumberRange = &sr
		out[i] = closed(s)
	}
	return out
}

// normalize makes a loaded checkpoint comparable: times in UTC.
func normalize(cp kinesisconsumer.Checkpoint) kinesisconsumer.Checkpoint {
	if !cp.ArrivalTime.IsZero() {
		cp.ArrivalTime = cp.ArrivalTime.UTC()
	}
	if !cp.StartedAt.IsZero() {
		cp.StartedAt = cp.StartedAt.UTC()
	}
	return cp
}

// TestSentinelsLoadAsNoCheckpoint: KCL's sentinels mean "no checkpoint yet", except
// SHARD_END, which is the end of the shard.
func TestSentinelsLoadAsNoCheckpoint(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	ctx := context.Background()
	for _, s := range []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", "SHARD_END"} {
		_, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: map[string]types.AttributeValue{
			attrKey: str(s), attrCounter: num(3), attrCheckpoint: str(s),
		}})
		require.NoError(t, err)
		cp, ok, err := a.Load(ctx, s)
		require.NoError(t, err)
		if s == "SHARD_END" {
			assert.True(t, ok)
			assert.Equal(t, kinesisconsumer.Checkpoint{ShardEnd: true}, cp)
		} else {
			assert.False(t, ok, s)
		}
	}
}

// TestItemOfAnotherStreamIsRefused: one table serves one stream; an item of another
// stream is an error naming the table and both streams.
func TestItemOfAnotherStreamIsRefused(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	assign(t, a, open(1))
	other := "arn:aws:kinesis:us-east-1:000000000000:stream/other"
	b := worker(t, api, "b", func(c *Config) { c.StreamARN = other })
	_, err := b.Assign(context.Background(), open(1))
	require.Error(t, err)
	for _, want := range []string{testTable, other, a.cfg.StreamARN} {
		assert.Contains(t, err.Error(), want)
	}
	_, _, err = b.Load(context.Background(), shardID(0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), other)
}

// TestTheLargestWindowFitsTheItem: a checkpoint with MaxRecentKeys EventIds, the most the
// receiver allows with leases, is saved whole in the lease item (DynamoDB's items hold at
// most 400 KB), and one with 60,000 would not be.
func TestTheLargestWindowFitsTheItem(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	require.Equal(t, []string{shardID(0)}, assign(t, a, open(1)))
	ctx := context.Background()
	window := make([]byte, 8*MaxRecentKeys)
	for i := range window {
		window[i] = byte(i * 7)
	}
	cp := kinesisconsumer.Checkpoint{SequenceNumber: "49650000000000000000000000000000000000000000000000000001", ArrivalTime: time.Now().UTC(), RecentKeys: window}
	require.NoError(t, a.Save(ctx, shardID(0), cp))
	got, ok, err := a.Load(ctx, shardID(0))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, window, got.RecentKeys)

	cp.RecentKeys = make([]byte, 8*60000)
	err = a.Save(ctx, shardID(0), cp)
	require.Error(t, err, "a window of 60,000 EventIds fits an item: the bound could be higher")
	assert.NotErrorIs(t, err, kinesisconsumer.ErrLeaseLost)
}
