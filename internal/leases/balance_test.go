package leases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fleet runs Assign rounds over workers, as their consumers would every renew interval.
type fleet struct {
	t       *testing.T
	api     *dynamodb.Client
	workers []*Coordinator
	// together: the workers of a round assign at the same time, else one after another.
	together bool
}

// round has the active workers assign, then waits until the leases asked for are
// handed over (by the holders' renewers: these workers have no consumer, so they hand
// over at their next renewal). It returns how many leases were asked for.
func (f *fleet) round(active int, shards []ktypes.Shard) int {
	if !f.together {
		for _, w := range f.workers[:active] {
			assign(f.t, w, shards)
		}
	} else {
		var wg sync.WaitGroup
		for _, w := range f.workers[:active] {
			wg.Go(func() {
				_, err := w.Assign(context.Background(), shards)
				assert.NoError(f.t, err)
			})
		}
		wg.Wait()
	}
	asked := len(f.pending())
	require.Eventually(f.t, func() bool { return len(f.pending()) == 0 }, 10*time.Second, 20*time.Millisecond, "leases asked for were not handed over")
	return asked
}

// pending are the table's pendingOwners, by shard.
func (f *fleet) pending() map[string]string {
	out, err := f.api.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(testTable), ConsistentRead: aws.Bool(true)})
	require.NoError(f.t, err)
	pending := map[string]string{}
	for _, item := range out.Items {
		l, err := decodeLease(item)
		require.NoError(f.t, err)
		if l.pendingOwner != "" {
			pending[l.key] = l.pendingOwner
		}
	}
	return pending
}

// owners are the table's lease owners, by shard.
func (f *fleet) owners() map[string]string {
	out, err := f.api.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(testTable), ConsistentRead: aws.Bool(true)})
	require.NoError(f.t, err)
	owners := map[string]string{}
	for _, item := range out.Items {
		l, err := decodeLease(item)
		require.NoError(f.t, err)
		owners[l.key] = l.owner
	}
	return owners
}

// fair says every shard is owned, the table and the workers agree on who holds what, and
// the counts differ by at most one.
func (f *fleet) fair(active int, shards []ktypes.Shard) bool {
	owners := f.owners()
	counts := map[string]int{}
	for _, s := range shards {
		o := owners[*s.ShardId]
		if o == "" {
			return false
		}
		counts[o]++
	}
	lo, hi := len(shards), 0
	for _, w := range f.workers[:active] {
		held := w.Held()
		for _, id := range held {
			if owners[id] != w.cfg.WorkerID {
				return false // not yet told of a steal
			}
		}
		if len(held) != counts[w.cfg.WorkerID] {
			return false
		}
		lo, hi = min(lo, len(held)), max(hi, len(held))
	}
	return hi-lo <= 1
}

// TestFleetConvergesToAFairSplitAndThenNothingMoves: three workers on four shards, then
// eight, starting together or one after the other, reach a fair split (counts within
// one) in a few Assign rounds, and then no lease moves nor is asked for, round after
// round: no stealing loop (vmware-go-kcl's bug). Every steal is a hand-over: no worker
// ever loses a lease.
func TestFleetConvergesToAFairSplitAndThenNothingMoves(t *testing.T) {
	const maxRounds, stableRounds = 12, 30
	for _, n := range []int{4, 8} {
		for _, together := range []bool{true, false} {
			t.Run(fmt.Sprintf("shards=%d,together=%v", n, together), func(t *testing.T) {
				api := start(t)
				f := &fleet{t: t, api: api, together: together}
				var logs [3]changeLog
				for i, id := range []string{"a", "b", "c"} {
					// Renewed often, as the hand-overs wait for a renewal.
					f.workers = append(f.workers, worker(t, api, id, logs[i].on, func(c *Config) { c.RenewInterval = 100 * time.Millisecond }))
				}
				shards := open(n)
				if !together {
					// One after the other: a alone first, then a and b, then all three.
					for active := 1; active < 3; active++ {
						for range 3 {
							f.round(active, shards)
						}
					}
				}
				rounds := 0
				for ; rounds < maxRounds && !f.fair(3, shards); rounds++ {
					f.round(3, shards)
				}
				require.True(t, f.fair(3, shards), "no fair split after %d rounds: %v", maxRounds, f.owners())
				t.Logf("fair after %d rounds: %v", rounds, f.owners())

				before := f.owners()
				moves, asked := 0, 0
				for range stableRounds {
					asked += f.round(3, shards)
					now := f.owners()
					for id, o := range now {
						if before[id] != o {
							moves++
						}
					}
					before = now
				}
				assert.Zero(t, moves, "leases moved after a fair split")
				assert.Zero(t, asked, "leases were asked for after a fair split")
				for i := range logs {
					for _, change := range logs[i].all() {
						assert.NotContains(t, change, string(Lost), "a steal was not a hand-over")
					}
				}
			})
		}
	}
}

// TestChooseLeases checks the taker's rules on counts alone.
func TestChooseLeases(t *testing.T) {
	// leases makes a table: owners[i] owns lease i ("" for none); "a>c" is owned by a
	// and asked for by c.
	leases := func(owners ...string) []*lease {
		var ls []*lease
		for i, o := range owners {
			owner, pending, _ := strings.Cut(o, ">")
			ls = append(ls, &lease{key: shardID(i), owner: owner, pendingOwner: pending})
		}
		return ls
	}
	heldBy := func(me string, ls []*lease) map[string]bool {
		h := map[string]bool{}
		for _, l := range ls {
			if l.owner == me {
				h[l.key] = true
			}
		}
		return h
	}
	owners := func(c choice) []string {
		var o []string
		for _, l := range c.take {
			o = append(o, l.owner)
		}
		slices.Sort(o)
		return o
	}
	for _, tc := range []struct {
		name     string
		me       string
		owners   []string
		expired  []int
		maxSteal int
		maxMine  int
		take     []string // previous owners of what is taken
		steal    bool
		notHeld  bool // me's leases in the table are not held (a restart, or handed over to me)
	}{
		{name: "free leases up to the target", me: "c", owners: []string{"a", "a", "", "", ""}, maxSteal: 1, take: []string{"", "", ""}},
		{name: "expired before stealing", me: "c", owners: []string{"a", "a", "a", "b", "b"}, expired: []int{3}, maxSteal: 1, take: []string{"b"}},
		{name: "steal from one over target", me: "c", owners: []string{"a", "a", "a", "b", "b"}, maxSteal: 1, take: []string{"a"}, steal: true},
		{name: "at most MaxLeasesToSteal", me: "c", owners: []string{"a", "a", "a", "a", "a", "a"}, maxSteal: 1, take: []string{"a"}, steal: true},
		{name: "up to MaxLeasesToSteal", me: "c", owners: []string{"a", "a", "a", "a", "a", "a"}, maxSteal: 5, take: []string{"a", "a", "a"}, steal: true},
		{name: "stealing off", me: "c", owners: []string{"a", "a", "a", "a"}, maxSteal: 0},
		{name: "two below a worker at target: steal one", me: "c", owners: []string{"a", "a", "b", "b"}, maxSteal: 1, take: []string{"a"}, steal: true},
		{name: "one below a worker at target: nothing moves", me: "c", owners: []string{"a", "a", "b", "c"}, maxSteal: 1},
		{name: "at target: nothing", me: "c", owners: []string{"a", "a", "b", "b", "c", "c"}, maxSteal: 1},
		{name: "capped by MaxLeasesPerWorker", me: "c", owners: []string{"", "", "", ""}, maxMine: 1, maxSteal: 1, take: []string{""}},
		{name: "mine from before a restart", me: "c", owners: []string{"c", "a"}, notHeld: true, maxSteal: 1, take: []string{"c"}},
		{name: "handed over to me", me: "c", owners: []string{"a", "a", "c", "b", "b"}, notHeld: true, maxSteal: 1, take: []string{"c"}},
		{name: "asked for counts as mine: no second steal", me: "c", owners: []string{"a", "a", "a>c", "b", "b"}, maxSteal: 1},
		{name: "asked for by another counts as its", me: "b", owners: []string{"a", "a", "a>c", "a"}, maxSteal: 1, take: []string{"a"}, steal: true},
		{name: "a lease asked for is not asked for again", me: "b", owners: []string{"a>c", "a>c", "a>c", "a", "a"}, maxSteal: 1},
		{name: "held and asked for counts as the asker's", me: "a", owners: []string{"a", "a>c", "b", "c"}, maxSteal: 1},
		{name: "expired and asked for is available", me: "c", owners: []string{"a>b", "a"}, expired: []int{0, 1}, maxSteal: 1, take: []string{"a", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := leases(tc.owners...)
			held := heldBy(tc.me, ls)
			if tc.notHeld {
				held = map[string]bool{}
			}
			expired := map[string]bool{}
			for _, i := range tc.expired {
				expired[shardID(i)] = true
			}
			c := chooseLeases(tc.me, ls, held, expired, tc.maxMine, tc.maxSteal)
			assert.Equal(t, tc.take, owners(c))
			assert.Equal(t, tc.steal, c.steal)
		})
	}
}
