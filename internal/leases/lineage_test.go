package leases

import (
	"context"
	"testing"

	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// TestChildrenWaitForTheirParents: after a split (one parent) and a merge (two parents),
// no worker takes a child's lease until every parent's item is at SHARD_END; then a
// worker does.
func TestChildrenWaitForTheirParents(t *testing.T) {
	api := start(t)
	const (
		split, left, right = "shardId-000000000000", "shardId-000000000010", "shardId-000000000011"
		m1, m2, merged     = "shardId-000000000001", "shardId-000000000002", "shardId-000000000012"
	)
	shards := []ktypes.Shard{
		closed(shard(split)), shard(left, split), shard(right, split),
		closed(shard(m1)), closed(shard(m2)), shard(merged, m1, m2),
	}
	a := worker(t, api, "a")
	b := worker(t, api, "b")
	ctx := context.Background()
	// held runs an Assign round and returns the shards whose leases are owned.
	held := func() []string {
		assign(t, a, shards)
		assign(t, b, shards)
		f := &fleet{t: t, api: api}
		var owned []string
		for id, o := range f.owners() {
			if o != "" {
				owned = append(owned, id)
			}
		}
		return owned
	}
	// Two rounds, so each worker sees the other's leases.
	held()
	assert.ElementsMatch(t, []string{split, m1, m2}, held(), "only the parents are taken")

	owner := func(id string) *Coordinator {
		if rawLease(t, api, id).owner == "a" {
			return a
		}
		return b
	}
	end := kinesisconsumer.Checkpoint{SequenceNumber: "9", ShardEnd: true}

	require.NoError(t, owner(split).Save(ctx, split, end))
	assert.ElementsMatch(t, []string{m1, m2, left, right}, held(), "the split's children, once it ended")

	require.NoError(t, owner(m1).Save(ctx, m1, end))
	got := held()
	assert.NotContains(t, got, merged, "a merge's child waits for both parents")
	assert.ElementsMatch(t, []string{m2, left, right}, got)

	require.NoError(t, owner(m2).Save(ctx, m2, end))
	assert.ElementsMatch(t, []string{left, right, merged}, held())
}

// TestChildOfAParentGoneFromTheListingIsTaken: a parent past the stream's retention is
// no longer listed, and holds nothing up.
func TestChildOfAParentGoneFromTheListingIsTaken(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	assert.Equal(t, []string{"shardId-000000000010"}, assign(t, a, []ktypes.Shard{shard("shardId-000000000010", "shardId-000000000000")}))
}

// TestLeaseOfAShardNoLongerListedIsGivenUp: a shard past the stream's retention is no
// longer listed; its lease is released rather than renewed forever.
func TestLeaseOfAShardNoLongerListedIsGivenUp(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	require.Len(t, assign(t, a, open(2)), 2)
	assert.Equal(t, []string{shardID(1)}, assign(t, a, open(2)[1:]))
	assert.Equal(t, []string{shardID(1)}, a.Held())
	assert.Empty(t, rawLease(t, api, shardID(0)).owner)
}
