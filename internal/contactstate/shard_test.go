package contactstate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

func applyFrom(s *contactstate.Store, shard string, now time.Time, evs ...*contactevent.Event) []contactstate.Dequeue {
	var out []contactstate.Dequeue
	for _, ev := range evs {
		out = s.ApplyShardEvent(ev, shard, now, out)
	}
	return out
}

func replayFrom(s *contactstate.Store, shard string, now time.Time, evs ...*contactevent.Event) []contactstate.Dequeue {
	var out []contactstate.Dequeue
	for _, ev := range evs {
		out = s.ReplayShardEvent(ev, shard, now, out)
	}
	return out
}

// A shard read elsewhere now takes its contacts with it: those waiting stop being counted
// here at once, and an abandon held for its grace is reported, as an eviction would.
func TestForgetShard(t *testing.T) {
	s := newStore(t, nil)
	here := inbound(uuid(1), usQueue, t0)
	there := inbound(uuid(2), usQueue, t0)
	gone := inbound(uuid(3), usQueue, t0).abandoned(30 * time.Second)
	applyFrom(s, "shard-0", wall, here.event(contactevent.TypeQueued), gone.event(contactevent.TypeQueued), gone.event(contactevent.TypeDisconnected))
	applyFrom(s, "shard-1", wall, there.event(contactevent.TypeQueued))
	assert.Equal(t, int64(2), waiting(s, wall, usKey))

	out, n := s.ForgetShard("shard-0", nil)
	assert.Equal(t, 2, n)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 30*time.Second)}, out)
	assert.Equal(t, int64(1), waiting(s, wall, usKey), "the other shard's contact waits on")
	assert.Empty(t, s.Tick(wall.Add(time.Hour), nil), "nothing left to settle")
	_, n = s.ForgetShard("", nil)
	assert.Zero(t, n, "contacts of no known shard are kept")
}

// A shard taken over is replayed: its contacts still waiting wait here, and the contacts
// that left their queue before the takeover are not reported again, answered or not;
// what happens after the takeover is.
func TestReplayShardEvent(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.AbandonGrace = 20 * time.Second })
	answered := inbound(uuid(1), usQueue, t0).answered(10 * time.Second)
	abandoned := inbound(uuid(2), usQueue, t0).abandoned(40 * time.Second)
	waits := inbound(uuid(3), usQueue, t0.Add(time.Minute)).answered(50 * time.Second)

	assert.Empty(t, replayFrom(s, "shard-0", wall, answered.lifecycle()...))
	assert.Empty(t, replayFrom(s, "shard-0", wall, abandoned.lifecycle()...))
	assert.Empty(t, replayFrom(s, "shard-0", wall, waits.event(contactevent.TypeInitiated), waits.event(contactevent.TypeQueued)))
	assert.Equal(t, int64(1), waiting(s, wall, usKey))
	assert.Empty(t, s.Tick(wall.Add(time.Minute), nil), "the replayed abandon was reported by the shard's earlier reader")

	// Read live after the takeover.
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 50*time.Second)},
		applyFrom(s, "shard-0", wall.Add(time.Minute), waits.event(contactevent.TypeConnectedToAgent)))
	assert.Empty(t, applyFrom(s, "shard-0", wall.Add(time.Minute), answered.lifecycle()...), "read again live, still reported once")
}

// A replayed callback contact settles its predecessor, this reader's own pending abandon
// on another shard, as a callback: that is reported.
func TestReplayedSuccessorSettlesALivePredecessor(t *testing.T) {
	s := newStore(t, nil)
	in := inbound(uuid(1), usQueue, t0).abandoned(45 * time.Second)
	cb := contact{instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationCallback,
		previous: in.id, initiated: in.disconnected}
	assert.Empty(t, applyFrom(s, "shard-1", wall, in.event(contactevent.TypeQueued), in.event(contactevent.TypeDisconnected)), "held")
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeCallback, 45*time.Second)},
		replayFrom(s, "shard-0", wall, cb.event(contactevent.TypeInitiated)))
}
