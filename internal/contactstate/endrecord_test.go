package contactstate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

// recordOf is the contact record c's contact would get once over.
func recordOf(c contact) *contactrecord.Record {
	r := record(c.instance, c.id, c.disconnected.Add(3*time.Minute))
	r.Channel, r.InitiationMethod, r.PreviousContactID = c.channel, c.method, c.previous
	r.DisconnectTimestamp = c.disconnected
	if c.queue != "" {
		r.Queue = &contactrecord.Queue{ARN: c.queue, EnqueueTimestamp: c.enqueued}
	}
	if !c.connected.IsZero() {
		r.Agent = &contactrecord.Agent{ARN: agentARN, ConnectedToAgentTimestamp: c.connected}
	}
	return r
}

// A contact whose DISCONNECTED was lost waits until its contact record says it is over:
// answered if an agent took it, with its wait; else held as an abandon for the grace.
func TestEndFromRecordCuresALostDisconnected(t *testing.T) {
	answered := inbound(uuid(1), usQueue, t0).answered(40 * time.Second)
	gone := inbound(uuid(2), usQueue, t0).abandoned(70 * time.Second)
	s := newStore(t, func(cfg *contactstate.Config) { cfg.AbandonGrace = 20 * time.Second })
	applyAll(s, wall, answered.event(contactevent.TypeQueued), gone.event(contactevent.TypeQueued))
	assert.Equal(t, int64(2), waiting(s, wall, usKey), "both DISCONNECTED lost: both wait on")

	out := s.EndFromRecord(recordOf(answered), wall.Add(time.Minute), nil)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAnswered, 40*time.Second)}, out)
	assert.Empty(t, s.EndFromRecord(recordOf(gone), wall.Add(time.Minute), nil), "held for the grace")
	assert.Equal(t, int64(0), waiting(s, wall.Add(time.Minute), usKey))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 70*time.Second)},
		s.Tick(wall.Add(time.Minute+20*time.Second), nil))

	// The record again, or the events after it, change nothing.
	assert.Empty(t, s.EndFromRecord(recordOf(answered), wall.Add(2*time.Minute), nil))
	assert.Empty(t, applyAll(s, wall.Add(2*time.Minute), answered.lifecycle()...))
	assert.Empty(t, applyAll(s, wall.Add(2*time.Minute), gone.lifecycle()...))
}

// A record of a contact the events already ended, or of one the store never held (a
// record updated long after, its contact forgotten), changes nothing: counting it would
// count it twice.
func TestEndFromRecordLeavesEndedAndUnknownContacts(t *testing.T) {
	ended := inbound(uuid(1), usQueue, t0).answered(10 * time.Second)
	s := newStore(t, nil)
	assert.Len(t, applyAll(s, wall, ended.lifecycle()...), 1)
	before := s.Stats()
	assert.Empty(t, s.EndFromRecord(recordOf(ended), wall.Add(time.Minute), nil))
	assert.Empty(t, s.EndFromRecord(recordOf(inbound(uuid(2), usQueue, t0).answered(5*time.Second)), wall.Add(time.Minute), nil))
	assert.Equal(t, before.Live+before.Ended, s.Stats().Live+s.Stats().Ended, "no contact added")
}

// A contact whose DISCONNECTED was lost, and whose customer asked for a callback, leaves
// its queue as a callback when its record comes: the callback contact's events said so.
func TestEndFromRecordOfACallbackRequest(t *testing.T) {
	in := inbound(uuid(1), usQueue, t0).abandoned(45 * time.Second)
	cb := contact{instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationCallback,
		previous: in.id, queue: usQueue, initiated: in.disconnected, enqueued: in.disconnected.Add(time.Minute)}
	s := newStore(t, nil)
	assert.Empty(t, applyAll(s, wall, in.event(contactevent.TypeQueued), cb.event(contactevent.TypeInitiated)))
	assert.Equal(t, int64(1), waiting(s, wall, usKey), "its DISCONNECTED lost, it waits on")
	out := s.EndFromRecord(recordOf(in), wall.Add(time.Second), nil)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeCallback, 45*time.Second)}, out)
}
