package leases

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// handOverCall is one call of a worker's OnHandOver fn.
type handOverCall struct {
	shard string
	done  func()
}

// handOvers registers an OnHandOver fn on w that passes each call on.
func handOvers(w *Coordinator) chan handOverCall {
	calls := make(chan handOverCall, 8)
	w.OnHandOver(func(id string, done func()) { calls <- handOverCall{id, done} })
	return calls
}

func nextHandOver(t *testing.T, calls chan handOverCall) handOverCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the holder's renewer never began the hand-over")
		return handOverCall{}
	}
}

// TestAStealIsHandedOverByTheHolder: a steal only asks (pendingOwner); the holder's
// renewer hears of it and keeps the lease renewed until its consumer calls done; the
// checkpoint the holder saved meanwhile is the one the thief starts from; the thief
// takes the lease at its next Assign. Nobody loses a lease.
func TestAStealIsHandedOverByTheHolder(t *testing.T) {
	api := start(t)
	ctx := context.Background()
	var aLog, bLog changeLog
	quick := func(c *Config) { c.LeaseDuration, c.RenewInterval = 2*time.Second, 200*time.Millisecond }
	a := worker(t, api, "a", quick, aLog.on)
	calls := handOvers(a)
	b := worker(t, api, "b", quick, bLog.on)
	shards := open(2)
	require.Len(t, assign(t, a, shards), 2)
	for _, id := range a.Held() {
		require.NoError(t, a.Save(ctx, id, kinesisconsumer.Checkpoint{SequenceNumber: "100"}))
	}
	before := map[string]*lease{}
	for _, s := range shards {
		before[*s.ShardId] = rawLease(t, api, *s.ShardId)
	}

	require.Empty(t, assign(t, b, shards), "a steal takes nothing at once")
	asked := askedBy(t, b)
	l := rawLease(t, api, asked)
	assert.Equal(t, "a", l.owner, "the holder stays the owner")
	assert.Equal(t, "b", l.pendingOwner)
	assert.Equal(t, before[asked].counter, l.counter, "the counter is left to the holder")
	require.Empty(t, assign(t, b, shards), "b asks once for its gap, and nothing more")

	call := nextHandOver(t, calls)
	assert.Equal(t, asked, call.shard)
	assert.ElementsMatch(t, []string{shardID(0), shardID(1)}, a.Held(), "the holder holds the lease until it hands it over")
	// Its reader finishes the batch in flight and checkpoints it, under the lease.
	require.NoError(t, a.Save(ctx, asked, kinesisconsumer.Checkpoint{SequenceNumber: "150"}))
	// Renewals go on meanwhile: the lease does not expire.
	renewedFrom := rawLease(t, api, asked).counter
	require.Eventually(t, func() bool { return rawLease(t, api, asked).counter > renewedFrom }, 10*time.Second, 20*time.Millisecond)
	assert.Empty(t, calls, "the hand-over begins once")

	call.done()
	l = rawLease(t, api, asked)
	assert.Equal(t, "b", l.owner)
	assert.Empty(t, l.pendingOwner)
	assert.Equal(t, "150", l.checkpoint, "the holder's last checkpoint is kept")
	assert.EqualValues(t, 1, l.ownerSwitches)
	assert.NotContains(t, a.Held(), asked)
	call.done() // a second call does nothing
	assert.Empty(t, b.Held(), "b takes it only at its next Assign")

	assert.Contains(t, assign(t, b, shards), asked)
	cp, ok, err := b.Load(ctx, asked)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "150", cp.SequenceNumber)
	require.NoError(t, b.Save(ctx, asked, kinesisconsumer.Checkpoint{SequenceNumber: "160"}))
	assert.Contains(t, aLog.all(), "handed_over "+asked)
	assert.NotContains(t, aLog.all(), "lost "+asked)
	assert.Contains(t, bLog.all(), "stolen "+asked)
}

// TestAHolderThatDoesNotHandOverLosesTheLeaseAfterLeaseDuration: a holder that keeps
// renewing but never hands over (an older version, or stuck) has the lease taken the
// old way once the request has stood for LeaseDuration on the thief's clock.
func TestAHolderThatDoesNotHandOverLosesTheLeaseAfterLeaseDuration(t *testing.T) {
	api := start(t)
	ctx := context.Background()
	quick := func(c *Config) { c.LeaseDuration, c.RenewInterval = 2*time.Second, 200*time.Millisecond }
	a := worker(t, api, "a", quick)
	calls := handOvers(a) // never calls done
	revoked := make(chan string, 4)
	a.OnRevoke(func(id string) { revoked <- id })
	clock := newFakeClock()
	b := worker(t, api, "b", quick, func(c *Config) { c.Clock = clock.Now })
	shards := open(2)
	require.Len(t, assign(t, a, shards), 2)
	require.Empty(t, assign(t, b, shards))
	asked := askedBy(t, b)
	nextHandOver(t, calls)

	// a renews on: b never sees its leases expire.
	waitRenewed := func() {
		from := rawLease(t, api, asked).counter
		require.Eventually(t, func() bool { return rawLease(t, api, asked).counter > from }, 10*time.Second, 20*time.Millisecond)
	}
	waitRenewed()
	clock.Advance(time.Second)
	assert.Empty(t, assign(t, b, shards), "taken before the holder had LeaseDuration to hand over")
	waitRenewed()
	clock.Advance(time.Second)
	// The take is conditional on the counter scanned, which a's renewals may move in
	// between: b tries again at each Assign, as it would every renew interval.
	require.Eventually(t, func() bool { return slices.Equal([]string{asked}, assign(t, b, shards)) }, 10*time.Second, 50*time.Millisecond)
	l := rawLease(t, api, asked)
	assert.Equal(t, "b", l.owner)
	assert.Empty(t, l.pendingOwner)
	select {
	case id := <-revoked:
		assert.Equal(t, asked, id)
	case <-time.After(10 * time.Second):
		t.Fatal("the holder was not told it lost the lease")
	}
	assert.ErrorIs(t, a.Save(ctx, asked, kinesisconsumer.Checkpoint{SequenceNumber: "1"}), kinesisconsumer.ErrLeaseLost)
}

// TestALeaseAskedForOfAHolderThatDiedExpiresAndTheRequestIsRemoved: a holder that stops
// renewing leaves its leases to expire, as before; whoever takes one removes the request
// another worker made of it.
func TestALeaseAskedForOfAHolderThatDiedExpiresAndTheRequestIsRemoved(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a")
	handOvers(a) // never calls done
	b := worker(t, api, "b")
	shards := open(2)
	require.Len(t, assign(t, a, shards), 2)
	require.Empty(t, assign(t, b, shards))
	asked := askedBy(t, b)
	a.Close() // a crash

	clock := newFakeClock()
	c := worker(t, api, "c", func(c *Config) { c.Clock = clock.Now })
	require.Empty(t, assign(t, c, shards), "a's leases are not expired yet on c's clock")
	clock.Advance(c.cfg.LeaseDuration)
	assert.ElementsMatch(t, []string{shardID(0), shardID(1)}, assign(t, c, shards), "c, alone, takes both expired leases")
	l := rawLease(t, api, asked)
	assert.Equal(t, "c", l.owner)
	assert.Empty(t, l.pendingOwner, "the request to the dead holder was left")
}

// TestReleaseAndShardEndRemoveTheRequest: a holder stopping gracefully, or reaching the
// shard's end, leaves no pendingOwner behind.
func TestReleaseAndShardEndRemoveTheRequest(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"release", "shard end"} {
		t.Run(how, func(t *testing.T) {
			api := start(t)
			a := worker(t, api, "a")
			handOvers(a) // never calls done
			b := worker(t, api, "b")
			shards := open(2)
			require.Len(t, assign(t, a, shards), 2)
			require.Empty(t, assign(t, b, shards))
			asked := askedBy(t, b)
			require.Equal(t, "b", rawLease(t, api, asked).pendingOwner)
			if how == "release" {
				require.NoError(t, a.Release(ctx))
			} else {
				require.NoError(t, a.Save(ctx, asked, kinesisconsumer.Checkpoint{SequenceNumber: "9", ShardEnd: true}))
			}
			l := rawLease(t, api, asked)
			assert.Empty(t, l.owner)
			assert.Empty(t, l.pendingOwner)
		})
	}
}
