package fleet

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fleettest"
)

// TestFleetReachesAFairSplitAndKeepsIt starts three collectors at once on a four-shard
// stream with records waiting: within 3 lease durations they hold 2/1/1, each under its
// service.instance.id, over the next four lease durations no lease moves more than once
// and the split stays fair, and no record is exported twice: a lease stolen to balance
// the fleet is handed over once its holder has exported and checkpointed what it had in
// flight.
func TestFleetReachesAFairSplitAndKeepsIt(t *testing.T) {
	f := newFleet(t, "balance", 4)
	require.NoError(t, f.writer.Put(context.Background(), 200))
	ld := f.settings.LeaseDuration

	started := time.Now()
	ids := f.startFleet(3)
	owners := f.waitFair(ids, 3*ld)
	fairAfter := time.Since(started)
	t.Logf("fair split after %s: %s", fairAfter.Round(10*time.Millisecond), describe(owners))

	moves := map[string]int{}
	watchUntil := time.Now().Add(4 * ld)
	for time.Now().Before(watchUntil) {
		f.checkRunning()
		now := f.owners()
		for shard, owner := range now {
			if owner != owners[shard] {
				moves[shard]++
				t.Logf("%s moved from %q to %q", shard, owners[shard], owner)
			}
		}
		owners = now
		time.Sleep(100 * time.Millisecond)
	}
	for shard, n := range moves {
		assert.LessOrEqual(t, n, 1, "lease %s moved %d times after the fair split", shard, n)
	}
	assert.True(t, fleettest.Fair(owners, ids), "the split is no longer fair: %s", describe(owners))
	for shard, owner := range owners {
		assert.Contains(t, ids, owner, "shard %s held under a worker id other than a collector's service.instance.id", shard)
	}

	f.waitArrived(60 * time.Second)
	assert.Zero(t, f.rec.Repeats(), "records exported twice while the fleet formed")
	t.Logf("balance: fair after %s; %d lease moves in the %s after; %d events, %d exported again",
		fairAfter.Round(10*time.Millisecond), len(moves), 4*ld, len(f.writer.Written()), f.rec.Repeats())
}

// TestFleetSIGKILLFailsOverWithinALease SIGKILLs the collector holding the most shards
// while events flow: another collector reads each of its shards again within
// lease_duration + 2 renew intervals (the last renewal is seen up to one late; the
// other is room for the scans and the take, the lease being taken the moment it
// expires) + one poll + a second for the replay's read, which reading goes on from;
// every event written arrives, and events written again after the failover are dropped:
// the duplicate window moved with the lease.
func TestFleetSIGKILLFailsOverWithinALease(t *testing.T) {
	f := newFleet(t, "sigkill", 4)
	s := f.settings
	// The kill comes while the slow backend holds a batch of the killed collector's
	// shards: the worst moment, a batch exported and not checkpointed.
	ids, stop := f.startFlowing(3)
	f.waitWritten(200, 30*time.Second) // a few seconds of flow, to write again below

	owners := f.owners()
	victim := busiest(owners, ids)
	moved := shardsOf(owners, victim)
	require.Eventually(t, func() bool { return f.rec.InFlight(victim, moved...) > 0 }, 30*time.Second, 5*time.Millisecond,
		"%s never had a batch of %v in flight", victim, moved)
	killedAt := f.kill(victim)
	survivors := without(ids, victim)

	bound := s.LeaseDuration + 2*s.RenewInterval + s.PollInterval + time.Second
	for _, shard := range moved {
		var first fleettest.Arrival
		require.Eventually(t, func() bool {
			var ok bool
			first, ok = f.rec.FirstFrom(shard, victim, killedAt)
			return ok
		}, 60*time.Second, 50*time.Millisecond, "no collector read %s again after %s was killed", shard, victim)
		failover := first.At.Sub(killedAt)
		t.Logf("failover of %s: %s after the kill, read again by %s", shard, failover.Round(10*time.Millisecond), first.Member)
		assert.LessOrEqual(t, failover, bound, "%s read again %s after the kill, over %s", shard, failover, bound)
	}

	// The duplicate window moved with the leases: events the killed collector exported
	// (and checkpointed: a second before the kill) are written again, as a producer's
	// retry would, and the collectors now reading those shards drop them.
	var again []string
	for _, a := range f.rec.Arrivals() {
		if a.Member == victim && a.At.Before(killedAt.Add(-time.Second)) && a.At.After(killedAt.Add(-5*time.Second)) {
			again = append(again, a.EventID)
		}
	}
	require.NotEmpty(t, again, "%s exported nothing in the seconds before the kill", victim)
	require.NoError(t, f.writer.Again(context.Background(), again))

	f.waitWritten(200, 30*time.Second)
	stop()
	f.waitArrived(90 * time.Second)
	f.waitFair(survivors, 3*s.LeaseDuration)
	assert.Zero(t, f.rec.FromTwoRecords(), "of %d events the killed collector had exported, written again after the failover, some were exported again", len(again))

	// What is exported again is at most the last batch of each shard the killed
	// collector handed on, not yet checkpointed: everything before was.
	repeated, beyond := repeatsAfterKill(f.rec.Arrivals(), victim, moved, killedAt)
	assert.Empty(t, beyond, "records exported again after the kill that were not in the killed collector's last batch of their shard")
	t.Logf("SIGKILL of %s (%d shards): %d events written, all arrived; %d records exported again after the kill, %d of them beyond its last batch of a shard; %d events written again after the failover, %d let through",
		victim, len(moved), len(f.writer.Written()), repeated, len(beyond), len(again), f.rec.FromTwoRecords())
}

// repeatsAfterKill counts the records of shards the victim exported that others
// exported again after killedAt, and lists those of them that were not in the victim's
// last export of their shard.
func repeatsAfterKill(arrivals []fleettest.Arrival, victim string, shards []string, killedAt time.Time) (repeated int, beyond []string) {
	last := map[string]time.Time{} // shard -> when the victim's last export of it came
	byVictim := map[string]time.Time{}
	for _, a := range arrivals {
		if a.Member == victim && slices.Contains(shards, a.Shard) {
			last[a.Shard] = a.At
			byVictim[a.Shard+"/"+a.Sequence] = a.At
		}
	}
	seen := map[string]bool{}
	for _, a := range arrivals {
		key := a.Shard + "/" + a.Sequence
		at, exported := byVictim[key]
		if a.Member == victim || a.At.Before(killedAt) || !exported || seen[key] {
			continue
		}
		seen[key] = true
		repeated++
		if !at.Equal(last[a.Shard]) {
			beyond = append(beyond, key)
		}
	}
	return repeated, beyond
}

// TestFleetGracefulStopHandsOverAtOnce stops a collector with SIGTERM while events
// flow: the others hold its shards well within a lease duration (it released them),
// and none of the records it exported is exported again.
func TestFleetGracefulStopHandsOverAtOnce(t *testing.T) {
	f := newFleet(t, "graceful", 4)
	s := f.settings
	// The stop comes while the slow backend holds a batch of the stopped collector's:
	// that batch must be finished and checkpointed before the leases are released.
	ids, stop := f.startFlowing(3)

	owners := f.owners()
	victim := busiest(owners, ids)
	moved := shardsOf(owners, victim)
	survivors := without(ids, victim)
	require.Eventually(t, func() bool { return f.rec.InFlight(victim, moved...) > 0 }, 30*time.Second, 5*time.Millisecond,
		"%s never had a batch of %v in flight", victim, moved)
	stoppedAt, done := f.terminate(victim)

	var takenAfter time.Duration
	require.Eventually(t, func() bool {
		now := f.owners()
		for _, shard := range moved {
			if now[shard] == "" || now[shard] == victim {
				return false
			}
		}
		takenAfter = time.Since(stoppedAt)
		return true
	}, 30*time.Second, 50*time.Millisecond, "the shards %v of %s were not taken", moved, victim)
	require.NoError(t, <-done, "graceful stop of %s", victim)
	t.Logf("graceful stop of %s: its shards %v held by others %s after SIGTERM", victim, moved, takenAfter.Round(10*time.Millisecond))
	assert.Less(t, takenAfter, s.LeaseDuration, "the shards waited for their leases to expire instead of being released")
	for _, shard := range moved {
		require.Eventually(t, func() bool { _, ok := f.rec.FirstFrom(shard, victim, stoppedAt); return ok },
			30*time.Second, 50*time.Millisecond, "no collector read %s after %s stopped", shard, victim)
		first, _ := f.rec.FirstFrom(shard, victim, stoppedAt)
		t.Logf("%s: first record from %s %s after SIGTERM", shard, first.Member, first.At.Sub(stoppedAt).Round(10*time.Millisecond))
	}

	f.waitWritten(200, 30*time.Second)
	stop()
	f.waitArrived(90 * time.Second)
	f.waitFair(survivors, 3*s.LeaseDuration)
	again := f.rec.ExportedAgain(victim, moved, stoppedAt)
	assert.Zero(t, again, "records %s exported that were exported again after it stopped", victim)
	assert.Zero(t, f.rec.Repeats(), "records exported twice, by the stop or by the lease moves while the fleet formed")
	t.Logf("graceful stop: %d events written, all arrived; %d of the records of its shards exported again after the stop; %d repeats in all, with those of lease moves while the fleet formed",
		len(f.writer.Written()), again, f.rec.Repeats())
}

// TestFleetReshardingKeepsEachAgentInOrder splits a shard and merges two while three
// collectors read and events flow: every event arrives, each agent's events arrive in
// the order written, and each child's lease names its parents, read to their end.
func TestFleetReshardingKeepsEachAgentInOrder(t *testing.T) {
	f := newFleet(t, "reshard", 4)
	ids := f.startFleet(3)
	f.waitFair(ids, 3*f.settings.LeaseDuration)
	stop := f.write(30, 400*time.Millisecond)
	f.waitWritten(90, 30*time.Second)

	// Each resharding happens while the reader of a parent is frozen (SIGSTOP) with
	// records of the parent unread, until the parent's lease has expired and moved: a
	// child read before its parents' end would put agents out of order.
	ctx := context.Background()
	first := openShards(t, f.stream)[0]
	thaw := f.freeze(f.owners()[*first.ShardId])
	require.NoError(t, f.writer.Put(ctx, 60))
	lo, _ := new(big.Int).SetString(*first.HashKeyRange.StartingHashKey, 10)
	hi, _ := new(big.Int).SetString(*first.HashKeyRange.EndingHashKey, 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	_, err := kin.Client.SplitShard(ctx, &kinesis.SplitShardInput{
		StreamName: aws.String(f.stream), ShardToSplit: first.ShardId, NewStartingHashKey: aws.String(mid.String()),
	})
	require.NoError(t, err)
	kin.WaitActive(t, f.stream)
	f.waitMoved(*first.ShardId, 30*time.Second)
	thaw()
	f.waitWritten(150, 30*time.Second)

	a, b := adjacentOpenShards(t, f.stream)
	thaw = f.freeze(f.owners()[*a.ShardId])
	require.NoError(t, f.writer.Put(ctx, 60))
	_, err = kin.Client.MergeShards(ctx, &kinesis.MergeShardsInput{
		StreamName: aws.String(f.stream), ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId,
	})
	require.NoError(t, err)
	kin.WaitActive(t, f.stream)
	f.waitMoved(*a.ShardId, 30*time.Second)
	thaw()
	f.waitWritten(150, 30*time.Second)
	stop()

	f.waitArrived(90 * time.Second)
	byAgent := f.writer.ByAgent()
	outOfOrder := f.rec.OutOfOrder(byAgent)
	assert.Empty(t, outOfOrder, "agents whose events arrived out of the order written")

	parents := map[string][]string{}
	ended := map[string]bool{}
	for _, l := range f.leases() {
		parents[l.Shard] = l.Parents
		ended[l.Shard] = l.Checkpoint == "SHARD_END"
	}
	for _, p := range []string{*first.ShardId, *a.ShardId, *b.ShardId} {
		assert.True(t, ended[p], "parent %s not checkpointed at SHARD_END", p)
	}
	children := 0
	for shard, ps := range parents {
		if len(ps) > 0 {
			children++
			for _, p := range ps {
				assert.Contains(t, parents, p, "child %s names parent %s, which has no lease", shard, p)
			}
		}
	}
	assert.Equal(t, 3, children, "a split makes two children, a merge one: %v", parents)
	t.Logf("resharding: %d events of %d agents, %d agents out of order, %d records exported again",
		len(f.writer.Written()), len(byAgent), len(outOfOrder), f.rec.Repeats())
}

func openShards(t *testing.T, stream string) []types.Shard {
	t.Helper()
	out, err := kin.Client.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: &stream})
	require.NoError(t, err)
	var open []types.Shard
	for _, s := range out.Shards {
		if s.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, s)
		}
	}
	return open
}

// adjacentOpenShards finds two open shards whose hash ranges touch, for a merge.
func adjacentOpenShards(t *testing.T, stream string) (a, b types.Shard) {
	t.Helper()
	open := openShards(t, stream)
	for i := range open {
		for j := range open {
			end, _ := new(big.Int).SetString(*open[i].HashKeyRange.EndingHashKey, 10)
			start, _ := new(big.Int).SetString(*open[j].HashKeyRange.StartingHashKey, 10)
			if new(big.Int).Add(end, big.NewInt(1)).Cmp(start) == 0 {
				return open[i], open[j]
			}
		}
	}
	t.Fatal("no adjacent open shards to merge")
	return a, b
}
