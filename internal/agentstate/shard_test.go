package agentstate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
)

const (
	shardA = "shardId-000000000001"
	shardB = "shardId-000000000002"
	childC = "shardId-000000000003"
)

// TestForgetShardDropsOnlyItsAgents: forgetting a shard leaves exactly the state of the
// other shards' events, in every instance, and an instance left without agents is gone.
func TestForgetShardDropsOnlyItsAgents(t *testing.T) {
	type placed struct {
		shard string
		ev    *agentevent.Event
	}
	var events []placed
	for i := range 12 {
		ev := event(agentARN(usInstance, i), t0.Add(time.Duration(i)*time.Second), available(t0), basicProfile, standardSlots())
		if i%3 == 0 {
			ev.Current.AgentStatus = status(custom, "Break", t0)
			ev.Current.Configuration.RoutingProfile.Name = salesProfile
		}
		if i%4 == 1 {
			ev.Current.Contacts = []agentevent.Contact{contact(nextEventID(), voice, agentevent.ContactConnected, inbound, basicQueue, t0)}
		}
		shard := shardA
		if i%2 == 1 {
			shard = shardB
		}
		events = append(events, placed{shard, ev})
	}
	// The EU instance has agents on shard A only.
	for i := range 3 {
		ev := event(agentARN(euInstance, i), t0, available(t0), basicProfile, standardSlots())
		ev.InstanceARN = euInstance
		events = append(events, placed{shardA, ev})
	}

	all := agentstate.New(time.Hour)
	onlyB := agentstate.New(time.Hour)
	forgottenA := 0
	for _, p := range events {
		_, ok := all.Apply(p.ev, p.shard, wall, nil)
		require.True(t, ok)
		if p.shard == shardB {
			_, ok = onlyB.Apply(p.ev, p.shard, wall, nil)
			require.True(t, ok)
		} else {
			forgottenA++
		}
	}
	require.Equal(t, len(events), all.Agents())

	assert.Zero(t, all.ForgetShard("shardId-000000000099"), "a shard no agent came from")
	assert.Equal(t, forgottenA, all.ForgetShard(shardA))
	assert.Equal(t, onlyB.Agents(), all.Agents())
	assert.Equal(t, countAll(t, onlyB), countAll(t, all), "what is left counts as the other shard's events alone")
	assert.NotContains(t, countAll(t, all), euInstance, "an instance without agents is not counted")
	assert.Zero(t, all.ForgetShard(shardA), "forgotten once")
}

// TestLatestShardWins: an agent belongs to the shard its events last came from, applied or
// not, so a child's replay of its parent's tail (the same events again) moves it to the
// child.
func TestLatestShardWins(t *testing.T) {
	t.Run("newer event on a child", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		a := agentARN(usInstance, 1)
		_, ok := s.Apply(event(a, t0, available(t0), basicProfile, standardSlots()), shardA, wall, nil)
		require.True(t, ok)
		_, ok = s.Apply(event(a, t0.Add(time.Minute), status(custom, "Break", t0.Add(time.Minute)), basicProfile, standardSlots()), childC, wall, nil)
		require.True(t, ok)
		assert.Zero(t, s.ForgetShard(shardA))
		assert.Equal(t, 1, s.ForgetShard(childC))
		assert.Zero(t, s.Agents())
	})
	t.Run("the same event replayed on a child", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		ev := event(agentARN(usInstance, 2), t0, available(t0), basicProfile, standardSlots())
		_, ok := s.Apply(ev, shardA, wall, nil)
		require.True(t, ok)
		_, ok = s.Apply(ev, childC, wall, nil)
		require.False(t, ok, "the same event changes nothing")
		assert.Zero(t, s.ForgetShard(shardA))
		assert.Equal(t, 1, s.Agents())
		assert.Equal(t, 1, s.ForgetShard(childC))
	})
	t.Run("an older event replayed on a child", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		a := agentARN(usInstance, 3)
		older := event(a, t0, available(t0), basicProfile, standardSlots())
		_, ok := s.Apply(event(a, t0.Add(time.Minute), available(t0), basicProfile, standardSlots()), shardA, wall, nil)
		require.True(t, ok)
		_, ok = s.Apply(older, childC, wall, nil)
		require.False(t, ok)
		assert.Zero(t, s.ForgetShard(shardA))
		assert.Equal(t, 1, s.ForgetShard(childC))
	})
}

// TestForgottenShardRebuiltByReplay: the events of a forgotten shard applied again (the
// replay of a collector that takes the shard back) rebuild the same counts.
func TestForgottenShardRebuiltByReplay(t *testing.T) {
	s := agentstate.New(time.Hour)
	var evs []*agentevent.Event
	for i := range 5 {
		a := agentARN(usInstance, 10+i)
		evs = append(evs,
			withPrevious(event(a, t0, available(t0), basicProfile, standardSlots()), status(custom, "Break", t0.Add(-time.Minute))),
			event(a, t0.Add(time.Second), available(t0), basicProfile, standardSlots(),
				contact(nextEventID(), chat, agentevent.ContactConnected, inbound, salesQueue, t0.Add(time.Second))))
	}
	for _, ev := range evs {
		_, ok := s.Apply(ev, shardB, wall, nil)
		require.True(t, ok)
	}
	before := countAll(t, s)
	require.Equal(t, 5, s.ForgetShard(shardB))
	require.Empty(t, countAll(t, s))
	for _, ev := range evs {
		_, _ = s.Apply(ev, shardB, wall, nil)
	}
	assert.Equal(t, before, countAll(t, s))
}
