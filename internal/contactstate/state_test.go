package contactstate_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

var usKey = key(usInstance, usQueue, voice)

// permutations calls fn with every order of n items.
func permutations(n int, fn func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(int)
	rec = func(k int) {
		if k == n {
			fn(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

// An inbound call queued then answered gives, whatever the order of its four events, one
// answered dequeue with the wait from enqueue to connection, and never waits once an
// event showed it connected or disconnected; its events delivered again change nothing.
func TestOutOfOrderAnsweredCallInEveryOrder(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0).answered(37 * time.Second)
	evs := c.lifecycle()
	require.Len(t, evs, 4)
	orders := 0
	permutations(len(evs), func(order []int) {
		orders++
		s := newStore(t, nil)
		var out []contactstate.Dequeue
		for step, i := range order {
			out = s.ApplyEvent(evs[i], wall.Add(time.Duration(step)*time.Second), out)
			applied := order[:step+1]
			want := int64(0)
			if contains(applied, 1) && !contains(applied, 2) && !contains(applied, 3) {
				want = 1 // QUEUED, and neither CONNECTED_TO_AGENT nor DISCONNECTED
			}
			assert.Equal(t, want, waiting(s, wall, usKey), "order %v after event %d (%s)", order, step, evs[i].EventType)
		}
		assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 37*time.Second)}, out, "order %v", order)
		assert.Empty(t, applyAll(s, wall.Add(time.Minute), evs...), "order %v: events again", order)
		assert.Empty(t, s.Tick(wall.Add(time.Hour-time.Second), nil), "order %v: tick", order)
		assert.Equal(t, map[contactstate.QueueKey]contactstate.QueueStats{usKey: {}}, queues(s, wall), "order %v", order)
	})
	assert.Equal(t, 24, orders)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestDuplicateQueuedAfterConnected(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0).answered(10 * time.Second)
	s := newStore(t, nil)
	out := applyAll(s, wall, c.event(contactevent.TypeQueued))
	assert.Equal(t, int64(1), waiting(s, wall, usKey))
	out = applyAll(s, wall, c.event(contactevent.TypeConnectedToAgent))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 10*time.Second)}, out)
	assert.Empty(t, applyAll(s, wall, c.event(contactevent.TypeQueued), c.event(contactevent.TypeQueued)))
	assert.Equal(t, int64(0), waiting(s, wall, usKey))
}

func TestOutOfOrderQueuedAfterDisconnected(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		c := inbound(uuid(1), usQueue, t0).answered(12 * time.Second)
		s := newStore(t, nil)
		out := applyAll(s, wall, c.event(contactevent.TypeDisconnected))
		assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 12*time.Second)}, out, "DISCONNECTED carries both times")
		assert.Empty(t, applyAll(s, wall, c.event(contactevent.TypeQueued), c.event(contactevent.TypeInitiated), c.event(contactevent.TypeConnectedToAgent)))
		assert.Equal(t, int64(0), waiting(s, wall, usKey))
	})
	t.Run("abandoned", func(t *testing.T) {
		c := inbound(uuid(1), usQueue, t0).abandoned(50 * time.Second)
		s := newStore(t, nil)
		assert.Empty(t, applyAll(s, wall, c.event(contactevent.TypeDisconnected), c.event(contactevent.TypeQueued), c.event(contactevent.TypeInitiated)))
		assert.Equal(t, int64(0), waiting(s, wall, usKey))
		out := s.Tick(wall.Add(30*time.Second), nil)
		assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 50*time.Second)}, out)
		assert.Empty(t, applyAll(s, wall.Add(time.Minute), c.event(contactevent.TypeQueued), c.event(contactevent.TypeCompleted)))
		assert.Equal(t, int64(0), waiting(s, wall.Add(time.Minute), usKey))
	})
}

// A contact that left the queue unanswered counts as abandoned once its grace ran out, and
// leaves the waiting count at once.
func TestAbandonedSettledAfterGrace(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0).abandoned(90 * time.Second)
	s := newStore(t, func(cfg *contactstate.Config) { cfg.AbandonGrace = 20 * time.Second })
	assert.Empty(t, applyAll(s, wall, c.event(contactevent.TypeInitiated), c.event(contactevent.TypeQueued)))
	assert.Equal(t, int64(1), waiting(s, wall, usKey))
	assert.Empty(t, applyAll(s, wall.Add(time.Second), c.event(contactevent.TypeDisconnected)), "held for the grace")
	assert.Equal(t, int64(0), waiting(s, wall, usKey))
	assert.Equal(t, 1, s.Stats().Pending)

	assert.Empty(t, s.Tick(wall.Add(21*time.Second-time.Nanosecond), nil), "grace not over")
	out := s.Tick(wall.Add(21*time.Second), nil)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 90*time.Second)}, out)
	assert.Empty(t, s.Tick(wall.Add(time.Minute), nil))
	assert.Empty(t, applyAll(s, wall.Add(time.Minute), c.lifecycle()...), "duplicates after settling")
	assert.Equal(t, 0, s.Stats().Pending)

	// A successor too late for the grace changes nothing either: the outcome is reported.
	cb := contact{instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationCallback, previous: c.id, initiated: c.disconnected}
	assert.Empty(t, applyAll(s, wall.Add(2*time.Minute), cb.event(contactevent.TypeInitiated)))
}

// The contact's DISCONNECTED misses its agentInfo, but its CONNECTED_TO_AGENT comes within
// the grace: it was answered.
func TestOutOfOrderConnectedWithinGraceIsAnswered(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0).answered(8 * time.Second)
	s := newStore(t, nil)
	disc := c.event(contactevent.TypeDisconnected)
	disc.Agent = nil
	assert.Empty(t, applyAll(s, wall, disc))
	out := applyAll(s, wall.Add(time.Second), c.event(contactevent.TypeConnectedToAgent))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 8*time.Second)}, out)
	assert.Empty(t, s.Tick(wall.Add(time.Minute), nil))
}

// The customer asks for a callback: the inbound contact leaves the queue as a callback,
// not an abandon, whether the callback contact's INITIATED comes before or after its
// DISCONNECTED; the callback contact then waits and is answered on its own, its wait
// running from its own enqueue time (not from its creation, reference 2.7).
func TestCallbackRequest(t *testing.T) {
	for _, successorFirst := range []bool{false, true} {
		name := "successor after"
		if successorFirst {
			name = "successor before"
		}
		t.Run(name, func(t *testing.T) {
			in := inbound(uuid(1), usQueue, t0).abandoned(45 * time.Second)
			cb := contact{
				instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationCallback,
				previous: in.id, queue: usQueue, initiated: in.disconnected, enqueued: in.disconnected.Add(99 * time.Second),
			}
			cb = cb.answered(21 * time.Second)
			s := newStore(t, nil)

			var out []contactstate.Dequeue
			out = applyAll(s, wall, in.event(contactevent.TypeInitiated), in.event(contactevent.TypeQueued))
			assert.Equal(t, int64(1), waiting(s, wall, usKey))
			if successorFirst {
				out = applyAll(s, wall, cb.event(contactevent.TypeInitiated))
				assert.Empty(t, out)
				assert.Equal(t, int64(1), waiting(s, wall, usKey), "still waiting until it disconnects")
				out = applyAll(s, wall, in.event(contactevent.TypeDisconnected))
			} else {
				out = applyAll(s, wall, in.event(contactevent.TypeDisconnected))
				assert.Empty(t, out, "held for the grace")
				out = applyAll(s, wall.Add(10*time.Second), cb.event(contactevent.TypeInitiated))
			}
			assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeCallback, 45*time.Second)}, out)
			assert.Equal(t, int64(0), waiting(s, wall, usKey), "the callback contact is scheduled, not in queue")

			assert.Empty(t, applyAll(s, wall.Add(99*time.Second), cb.event(contactevent.TypeQueued)))
			assert.Equal(t, int64(1), waiting(s, wall, usKey), "the callback contact is in queue")
			out = applyAll(s, wall.Add(2*time.Minute), cb.event(contactevent.TypeConnectedToAgent), cb.event(contactevent.TypeDisconnected))
			assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 21*time.Second)}, out)
			assert.Empty(t, s.Tick(wall.Add(10*time.Minute), nil), "no abandon after the grace")
			assert.Empty(t, applyAll(s, wall.Add(10*time.Minute), append(in.lifecycle(), cb.lifecycle()...)...), "duplicates")
		})
	}
}

// A flow moves a waiting contact to another queue: the first contact leaves queue A as
// transferred (not abandoned), the QUEUE_TRANSFER contact waits in queue B.
func TestQueueTransfer(t *testing.T) {
	for _, successorFirst := range []bool{false, true} {
		in := inbound(uuid(1), usQueue, t0).abandoned(2 * time.Minute)
		qt := contact{
			instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationQueueTransfer,
			previous: in.id, queue: usQueue2, initiated: in.disconnected, enqueued: in.disconnected,
		}
		s := newStore(t, nil)
		var out []contactstate.Dequeue
		out = applyAll(s, wall, in.event(contactevent.TypeQueued))
		if successorFirst {
			out = applyAll(s, wall, qt.event(contactevent.TypeInitiated), qt.event(contactevent.TypeQueued), in.event(contactevent.TypeDisconnected))
		} else {
			out = applyAll(s, wall, in.event(contactevent.TypeDisconnected), qt.event(contactevent.TypeInitiated), qt.event(contactevent.TypeQueued))
		}
		assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeTransferred, 2*time.Minute)}, out, "successor first: %v", successorFirst)
		assert.Equal(t, map[contactstate.QueueKey]contactstate.QueueStats{
			usKey:                            {},
			key(usInstance, usQueue2, voice): {Waiting: 1, Oldest: qt.enqueued},
		}, queues(s, wall))
		assert.Empty(t, s.Tick(wall.Add(time.Minute), nil))
	}
}

// A quick-connect transfer to a queue is a new contact and a new arrival in the target
// queue, even the same queue: never deduplicated with the contact it came from.
func TestQuickConnectTransferIsNewArrival(t *testing.T) {
	in := inbound(uuid(1), usQueue, t0).answered(5 * time.Second)
	tr := contact{
		instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationTransfer,
		previous: in.id, queue: usQueue, initiated: in.connected.Add(time.Minute), enqueued: in.connected.Add(time.Minute),
	}
	s := newStore(t, nil)
	out := applyAll(s, wall, in.lifecycle()...)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 5*time.Second)}, out)
	assert.Empty(t, applyAll(s, wall, tr.event(contactevent.TypeInitiated), tr.event(contactevent.TypeQueued)))
	assert.Equal(t, contactstate.QueueStats{Waiting: 1, Oldest: tr.enqueued}, queues(s, wall)[usKey])
	tr = tr.answered(15 * time.Second)
	out = applyAll(s, wall, tr.event(contactevent.TypeConnectedToAgent))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 15*time.Second)}, out)
}

// OUTBOUND contacts are in no queue metric (pitfall 12), even with a queue ARN.
func TestOutboundCountsNowhere(t *testing.T) {
	out := contact{instance: usInstance, id: uuid(1), channel: voice, method: contactevent.InitiationOutbound, initiated: t0}
	out.connected, out.disconnected = t0.Add(20*time.Second), t0.Add(3*time.Minute)
	s := newStore(t, nil)
	evs := out.lifecycle()
	for _, ev := range evs {
		ev.Queue = &contactevent.QueueInfo{ARN: usQueue, EnqueueTimestamp: t0} // as AWS's agent-event sample shows
	}
	assert.Empty(t, applyAll(s, wall, evs...))
	assert.Empty(t, s.Tick(wall.Add(time.Minute), nil))
	assert.Empty(t, queues(s, wall))

	// Learnt late: the contact had no initiation method on its first event.
	late := newStore(t, nil)
	q := out.event(contactevent.TypeQueued)
	q.InitiationMethod, q.Queue = "", &contactevent.QueueInfo{ARN: usQueue, EnqueueTimestamp: t0}
	assert.Empty(t, applyAll(late, wall, q))
	assert.Equal(t, int64(1), waiting(late, wall, usKey))
	assert.Empty(t, applyAll(late, wall, out.event(contactevent.TypeDisconnected)))
	assert.Empty(t, queues(late, wall))
	assert.Empty(t, late.Tick(wall.Add(time.Hour), nil))
}

// The same queue ID, and the same contact ID, in two instances are two queues and two
// contacts.
func TestInstancesDoNotMix(t *testing.T) {
	us := inbound(uuid(1), usQueue, t0).answered(3 * time.Second)
	eu := inbound(uuid(1), euQueue, t0.Add(time.Second))
	eu.instance = euInstance
	s := newStore(t, nil)
	out := applyAll(s, wall, append(us.lifecycle(), eu.lifecycle()...)...)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 3*time.Second)}, out)
	assert.Equal(t, map[contactstate.QueueKey]contactstate.QueueStats{
		usKey:                           {},
		key(euInstance, euQueue, voice): {Waiting: 1, Oldest: eu.enqueued},
	}, queues(s, wall))
	assert.True(t, s.ApplyRecord(record(usInstance, us.id, t0), wall))
	assert.True(t, s.ApplyRecord(record(euInstance, us.id, t0), wall), "the same contact ID in another instance")
}

// A QUEUED or CONNECTED_TO_AGENT that was lost is rebuilt from the events after it.
func TestLostEventsRebuilt(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0).answered(30 * time.Second)
	s := newStore(t, nil)
	out := applyAll(s, wall, c.event(contactevent.TypeConnectedToAgent))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 30*time.Second)}, out)

	// A contact known from a CONTACT_DATA_UPDATED with queueInfo waits.
	w := inbound(uuid(2), usQueue, t0.Add(time.Minute))
	assert.Empty(t, applyAll(s, wall, w.event(contactevent.TypeContactDataUpdated)))
	assert.Equal(t, contactstate.QueueStats{Waiting: 1, Oldest: w.enqueued}, queues(s, wall)[usKey])

	// COMPLETED alone, with no agent: left the queue unanswered.
	a := inbound(uuid(3), usQueue, t0).abandoned(time.Minute)
	assert.Empty(t, applyAll(s, wall, a.event(contactevent.TypeCompleted)))
	out = s.Tick(wall.Add(time.Minute), nil)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, time.Minute)}, out)
}

// Unknown event types change nothing but a known contact's last-seen time.
func TestUnknownEventType(t *testing.T) {
	c := inbound(uuid(1), usQueue, t0)
	s := newStore(t, func(cfg *contactstate.Config) { cfg.ContactTTL = time.Hour })
	ev := c.event("CONTACT_TELEPORTED")
	ev.Queue = &contactevent.QueueInfo{ARN: usQueue, EnqueueTimestamp: t0}
	ev.DisconnectTimestamp = t0.Add(time.Minute)
	assert.Empty(t, applyAll(s, wall, ev))
	assert.Empty(t, queues(s, wall))
	assert.Equal(t, contactstate.Stats{}, s.Stats(), "an unknown contact is not created")

	applyAll(s, wall, c.event(contactevent.TypeQueued))
	applyAll(s, wall.Add(50*time.Minute), ev)
	assert.Equal(t, int64(1), waiting(s, wall.Add(50*time.Minute), usKey), "not ended by an unknown type")
	s.Tick(wall.Add(90*time.Minute), nil)
	assert.Equal(t, int64(1), waiting(s, wall.Add(90*time.Minute), usKey), "its last-seen time moved")
}

// The oldest waiting contact's enqueue time, per queue and channel.
func TestOldest(t *testing.T) {
	s := newStore(t, nil)
	a := inbound(uuid(1), usQueue, t0.Add(2*time.Minute))
	b := inbound(uuid(2), usQueue, t0)
	ch := inbound(uuid(3), usQueue, t0.Add(-time.Hour))
	ch.channel = chat
	applyAll(s, wall, a.event(contactevent.TypeQueued), b.event(contactevent.TypeQueued), ch.event(contactevent.TypeQueued))
	assert.Equal(t, map[contactstate.QueueKey]contactstate.QueueStats{
		usKey:                          {Waiting: 2, Oldest: t0},
		key(usInstance, usQueue, chat): {Waiting: 1, Oldest: ch.enqueued},
	}, queues(s, wall))
	applyAll(s, wall, b.answered(time.Minute).event(contactevent.TypeConnectedToAgent))
	assert.Equal(t, contactstate.QueueStats{Waiting: 1, Oldest: a.enqueued}, queues(s, wall)[usKey])
}

// A contact with no event for the TTL is forgotten (its terminal event was lost); it no
// longer counts even before Tick forgets it.
func TestContactTTLEviction(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.ContactTTL = time.Hour })
	lost := inbound(uuid(1), usQueue, t0)
	kept := inbound(uuid(2), usQueue, t0.Add(time.Second))
	applyAll(s, wall, lost.event(contactevent.TypeQueued), kept.event(contactevent.TypeQueued))
	applyAll(s, wall.Add(30*time.Minute), kept.event(contactevent.TypeContactDataUpdated))

	assert.Equal(t, int64(2), waiting(s, wall.Add(time.Hour), usKey))
	assert.Equal(t, contactstate.QueueStats{Waiting: 1, Oldest: kept.enqueued}, queues(s, wall.Add(time.Hour+time.Nanosecond))[usKey])
	assert.Empty(t, s.Tick(wall.Add(time.Hour+time.Nanosecond), nil))
	assert.Equal(t, 1, s.Stats().Live)
	s.Tick(wall.Add(91*time.Minute), nil)
	assert.Equal(t, contactstate.Stats{}, s.Stats())
	assert.Empty(t, queues(s, wall.Add(91*time.Minute)), "the series ends with its last contact")
}

// An ended contact is remembered for the retention, so a late event cannot revive it,
// and its queue stays at zero meanwhile; then it is forgotten.
func TestRetentionEviction(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.Retention = 10 * time.Minute })
	c := inbound(uuid(1), usQueue, t0).answered(time.Second)
	applyAll(s, wall, c.lifecycle()...)
	s.Tick(wall.Add(10*time.Minute), nil)
	assert.Empty(t, applyAll(s, wall.Add(10*time.Minute), c.event(contactevent.TypeQueued)), "a late QUEUED")
	assert.Equal(t, map[contactstate.QueueKey]contactstate.QueueStats{usKey: {}}, queues(s, wall.Add(10*time.Minute)))
	assert.Equal(t, contactstate.Stats{Ended: 1}, s.Stats())
	s.Tick(wall.Add(10*time.Minute+time.Nanosecond), nil)
	assert.Equal(t, contactstate.Stats{}, s.Stats())
	assert.Empty(t, queues(s, wall))
}

// Past MaxContacts, the oldest ended contacts go first, then the oldest by last event; a
// pending abandon evicted is settled first.
func TestBound(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.MaxContacts = 4 })
	w1 := inbound(uuid(1), usQueue, t0)
	w2 := inbound(uuid(2), usQueue, t0.Add(time.Second))
	e1 := inbound(uuid(3), usQueue, t0).answered(time.Second)
	e2 := inbound(uuid(4), usQueue, t0).abandoned(4 * time.Second)
	applyAll(s, wall, w1.event(contactevent.TypeQueued))
	applyAll(s, wall.Add(time.Second), w2.event(contactevent.TypeQueued))
	applyAll(s, wall.Add(2*time.Second), e1.lifecycle()...)
	applyAll(s, wall.Add(3*time.Second), e2.lifecycle()...)
	assert.Equal(t, contactstate.Stats{Live: 2, Ended: 2, Waiting: 2, Pending: 1}, s.Stats())

	n := inbound(uuid(5), usQueue, t0.Add(time.Hour))
	assert.Empty(t, applyAll(s, wall.Add(4*time.Second), n.event(contactevent.TypeQueued)), "the oldest ended, e1, goes")
	assert.Equal(t, contactstate.Stats{Live: 3, Ended: 1, Waiting: 3, Pending: 1, EvictedContacts: 1}, s.Stats())

	n = inbound(uuid(6), usQueue, t0.Add(time.Hour))
	out := applyAll(s, wall.Add(5*time.Second), n.event(contactevent.TypeQueued))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 4*time.Second)}, out, "e2 goes, settled")
	assert.Equal(t, contactstate.Stats{Live: 4, Waiting: 4, EvictedContacts: 2}, s.Stats())

	// w1 has the oldest last event, though w2 waited longer now that it was refreshed.
	applyAll(s, wall.Add(6*time.Second), w1.event(contactevent.TypeContactDataUpdated))
	n = inbound(uuid(7), usQueue, t0.Add(time.Hour))
	applyAll(s, wall.Add(7*time.Second), n.event(contactevent.TypeQueued))
	assert.Equal(t, contactstate.QueueStats{Waiting: 4, Oldest: w1.enqueued}, queues(s, wall)[usKey], "w2 went")
	assert.Equal(t, int64(3), s.Stats().EvictedContacts)

	// The contact just applied is never the one evicted, even when it is the oldest ended.
	d := inbound(uuid(8), usQueue, t0).answered(time.Second)
	out = applyAll(s, wall.Add(8*time.Second), d.event(contactevent.TypeDisconnected))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, time.Second)}, out)
	assert.Equal(t, contactstate.Stats{Live: 3, Ended: 1, Waiting: 3, EvictedContacts: 4}, s.Stats())
}

// A contact record counts its contact once: duplicates and later updates are not new,
// within the record window and the bound.
func TestContactRecordsCountOnce(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.RecordWindow = time.Hour; cfg.MaxRecords = 3 })
	assert.True(t, s.ApplyRecord(record(usInstance, uuid(1), t0), wall))
	assert.False(t, s.ApplyRecord(record(usInstance, uuid(1), t0), wall), "duplicate")
	assert.False(t, s.ApplyRecord(record(usInstance, uuid(1), t0.Add(24*time.Hour)), wall.Add(time.Minute)), "updated later")
	assert.False(t, s.ApplyRecord(record(usInstance, "", t0), wall), "no contact ID")
	assert.True(t, s.ApplyRecord(record(usInstance, uuid(2), t0), wall.Add(time.Second)))
	assert.True(t, s.ApplyRecord(record(usInstance, uuid(3), t0), wall.Add(2*time.Second)))
	assert.Equal(t, contactstate.Stats{Records: 3}, s.Stats())

	assert.True(t, s.ApplyRecord(record(usInstance, uuid(4), t0), wall.Add(3*time.Second)), "the bound evicts the oldest, 1")
	assert.Equal(t, contactstate.Stats{Records: 3, EvictedRecords: 1}, s.Stats())
	assert.False(t, s.ApplyRecord(record(usInstance, uuid(2), t0), wall.Add(4*time.Second)))
	assert.True(t, s.ApplyRecord(record(usInstance, uuid(1), t0), wall.Add(5*time.Second)), "forgotten by the bound: seen anew")

	assert.Equal(t, contactstate.Stats{Records: 3, EvictedRecords: 2}, s.Stats(), "and 2 went")

	s.Tick(wall.Add(time.Hour+3*time.Second), nil)
	assert.Equal(t, 2, s.Stats().Records, "3, seen at +2s, is past the window")
	assert.True(t, s.ApplyRecord(record(usInstance, uuid(3), t0), wall.Add(time.Hour+4*time.Second)), "past the window: seen anew")
	assert.False(t, s.ApplyRecord(record(usInstance, uuid(4), t0), wall.Add(time.Hour+4*time.Second)), "at the window's edge")
	assert.Equal(t, int64(2), s.Stats().EvictedRecords, "the window's evictions are not the bound's")
}

// Shards apply their events concurrently: the totals are the sum of the parts.
func TestConcurrentApply(t *testing.T) {
	s := newStore(t, nil)
	const shards, perShard = 4, 500
	var wg sync.WaitGroup
	outs := make([][]contactstate.Dequeue, shards)
	for sh := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perShard {
				c := inbound(uuid(sh*perShard+i), usQueue, t0.Add(time.Duration(i)*time.Second))
				if i%2 == 0 {
					c = c.answered(time.Second)
				}
				for _, ev := range c.lifecycle() {
					outs[sh] = s.ApplyEvent(ev, wall, outs[sh])
				}
				s.ApplyRecord(record(usInstance, c.id, t0), wall)
				_ = queues(s, wall)
				_ = s.Stats()
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, o := range outs {
		n += len(o)
	}
	assert.Equal(t, shards*perShard/2, n)
	assert.Equal(t, int64(shards*perShard/2), waiting(s, wall, usKey))
	assert.Equal(t, contactstate.Stats{Live: shards * perShard / 2, Ended: shards * perShard / 2, Waiting: shards * perShard / 2, Records: shards * perShard}, s.Stats())
}
