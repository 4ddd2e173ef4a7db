package leases

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// TestCheckpointsFromBeforeLeasesSeedTheItems: turning leases on keeps the checkpoints
// the storage extension held: they seed the items nobody owned yet, whichever worker
// created them, and never overwrite a lease's own progress.
func TestCheckpointsFromBeforeLeasesSeedTheItems(t *testing.T) {
	api := start(t)
	ctx := context.Background()
	before := kinesisconsumer.NewMemoryStore()
	arrival := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	seeds := map[string]kinesisconsumer.Checkpoint{
		shardID(0): {SequenceNumber: "77", ArrivalTime: arrival, RecentKeys: []byte{1, 2}},
		shardID(1): {SequenceNumber: "88", ShardEnd: true},
		shardID(2): {StartedAt: arrival},
		shardID(3): {SequenceNumber: "1"},
	}
	for id, cp := range seeds {
		require.NoError(t, before.Save(ctx, id, cp))
	}
	shards := open(5)

	// b, without the old checkpoints, creates the items of shards 3 and 0, and reads
	// shard 3 on; a creates the others.
	b := worker(t, api, "b", func(c *Config) { c.MaxLeasesPerWorker = 1 })
	_, err := b.createMissingOnly(shards[3:4])
	require.NoError(t, err)
	require.Equal(t, []string{shardID(3)}, assign(t, b, shards[3:4]))
	require.NoError(t, b.Save(ctx, shardID(3), kinesisconsumer.Checkpoint{SequenceNumber: "500"}))
	_, err = b.createMissingOnly(shards[:1])
	require.NoError(t, err)

	a := worker(t, api, "a", func(c *Config) { c.Initial = before })
	assign(t, a, shards)
	for _, id := range []string{shardID(0), shardID(1), shardID(2)} {
		cp, ok, err := a.Load(ctx, id)
		require.NoError(t, err)
		require.True(t, ok, id)
		assert.Equal(t, seeds[id], normalize(cp), id)
	}
	cp, ok, err := a.Load(ctx, shardID(3))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "500", cp.SequenceNumber, "a lease's own checkpoint is never overwritten")
	_, ok, err = a.Load(ctx, shardID(4))
	require.NoError(t, err)
	assert.False(t, ok, "no old checkpoint: none")
	assert.NotContains(t, a.Held(), shardID(1), "a shard ended before leases is not taken")
}

// TestSeedSurvivesLosingTheRaceToCreateTheItem: a worker with the old checkpoints whose
// PutItem finds the item just created by another still seeds it.
func TestSeedSurvivesLosingTheRaceToCreateTheItem(t *testing.T) {
	api := start(t)
	ctx := context.Background()
	before := kinesisconsumer.NewMemoryStore()
	require.NoError(t, before.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "77"}))
	b := worker(t, api, "b")
	_, err := b.createMissingOnly(open(1))
	require.NoError(t, err)

	a := worker(t, api, "a", func(c *Config) { c.Initial = before })
	stale := map[string]*lease{} // a scanned before b created the item
	require.NoError(t, a.createMissing(ctx, open(1), stale))
	require.NoError(t, a.seedFromInitial(ctx, stale))
	cp, ok, err := a.Load(ctx, shardID(0))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "77", cp.SequenceNumber)
}
