package contactstate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

const (
	usInstance = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444"
	euInstance = "arn:aws:connect:eu-west-2:111122223333:instance/ffffffff-1111-2222-3333-444444444444"
	queueID    = "/queue/dddddddd-1111-2222-3333-444444444444"
	queue2ID   = "/queue/eeeeeeee-1111-2222-3333-444444444444"
	usQueue    = usInstance + queueID
	usQueue2   = usInstance + queue2ID
	euQueue    = euInstance + queueID
	agentARN   = usInstance + "/agent/bbbbbbbb-1111-2222-3333-444444444444"

	voice = "VOICE"
	chat  = "CHAT"
)

// t0 is the contacts' morning; wall is the wall clock of the store, unrelated to it.
var (
	t0   = time.Date(2024, 5, 6, 9, 15, 0, 0, time.UTC)
	wall = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

// contact describes one contact; its events carry what AWS's do (reference 3.3 and 3.6):
// each event repeats the earlier ones' fields.
type contact struct {
	instance, id, channel, method, previous, queue string
	initiated, enqueued, connected, disconnected   time.Time
}

func inbound(id, queue string, enqueued time.Time) contact {
	return contact{
		instance: usInstance, id: id, channel: voice, method: contactevent.InitiationInbound,
		queue: queue, initiated: enqueued.Add(-20 * time.Second), enqueued: enqueued,
	}
}

func (c contact) answered(after time.Duration) contact {
	c.connected = c.enqueued.Add(after)
	c.disconnected = c.connected.Add(5 * time.Minute)
	return c
}

func (c contact) abandoned(after time.Duration) contact {
	c.disconnected = c.enqueued.Add(after)
	return c
}

// event is the contact's event of type typ.
func (c contact) event(typ string) *contactevent.Event {
	ev := &contactevent.Event{
		Envelope:            contactevent.Envelope{Source: contactevent.Source, DetailType: contactevent.DetailType},
		EventType:           typ,
		ContactID:           c.id,
		PreviousContactID:   c.previous,
		Channel:             c.channel,
		InstanceARN:         c.instance,
		InitiationMethod:    c.method,
		InitiationTimestamp: c.initiated,
	}
	withQueue := func() {
		if c.queue != "" && c.method != contactevent.InitiationOutbound {
			ev.Queue = &contactevent.QueueInfo{ARN: c.queue, Type: "STANDARD", EnqueueTimestamp: c.enqueued}
		}
	}
	withAgent := func() {
		if !c.connected.IsZero() {
			ev.Agent = &contactevent.AgentInfo{ARN: agentARN, ConnectedToAgentTimestamp: c.connected}
		}
	}
	switch typ {
	case contactevent.TypeInitiated:
		ev.Envelope.Time = c.initiated
	case contactevent.TypeQueued:
		withQueue()
		ev.Envelope.Time = c.enqueued
	case contactevent.TypeConnectedToAgent:
		withQueue()
		withAgent()
		ev.Envelope.Time = c.connected
	case contactevent.TypeDisconnected, contactevent.TypeCompleted:
		withQueue()
		withAgent()
		ev.DisconnectTimestamp = c.disconnected
		ev.Envelope.Time = c.disconnected
	default:
		withQueue()
		ev.Envelope.Time = c.initiated
	}
	return ev
}

// lifecycle is the events an inbound contact's history produced, in order.
func (c contact) lifecycle() []*contactevent.Event {
	evs := []*contactevent.Event{c.event(contactevent.TypeInitiated)}
	if c.queue != "" {
		evs = append(evs, c.event(contactevent.TypeQueued))
	}
	if !c.connected.IsZero() {
		evs = append(evs, c.event(contactevent.TypeConnectedToAgent))
	}
	if !c.disconnected.IsZero() {
		evs = append(evs, c.event(contactevent.TypeDisconnected))
	}
	return evs
}

func applyAll(s *contactstate.Store, now time.Time, evs ...*contactevent.Event) []contactstate.Dequeue {
	var out []contactstate.Dequeue
	for _, ev := range evs {
		out = s.ApplyEvent(ev, now, out)
	}
	return out
}

func queues(s *contactstate.Store, now time.Time) map[contactstate.QueueKey]contactstate.QueueStats {
	m := map[contactstate.QueueKey]contactstate.QueueStats{}
	s.Queues(now, func(k contactstate.QueueKey, st contactstate.QueueStats) {
		if _, dup := m[k]; dup {
			panic(fmt.Sprintf("queue %v reported twice", k))
		}
		m[k] = st
	})
	return m
}

func key(instance, queue, channel string) contactstate.QueueKey {
	return contactstate.QueueKey{Instance: instance, QueueARN: queue, Channel: channel}
}

func waiting(s *contactstate.Store, now time.Time, k contactstate.QueueKey) int64 {
	return queues(s, now)[k].Waiting
}

func dq(queue string, o contactstate.Outcome, wait time.Duration) contactstate.Dequeue {
	inst := usInstance
	if queue == euQueue {
		inst = euInstance
	}
	return contactstate.Dequeue{Instance: inst, QueueARN: queue, Channel: voice, Outcome: o, Wait: wait}
}

func record(instance, id string, updated time.Time) *contactrecord.Record {
	return &contactrecord.Record{
		FormatVersion: "2017-03-10", InstanceARN: instance, ContactID: id, Channel: voice,
		InitiationMethod: contactevent.InitiationInbound, LastUpdateTimestamp: updated,
	}
}

func uuid(n int) string { return fmt.Sprintf("%08x-7b1d-4c39-8f7e-%012x", n, n*7919) }

func newStore(tb testing.TB, mod func(*contactstate.Config)) *contactstate.Store {
	tb.Helper()
	cfg := contactstate.DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	return contactstate.New(cfg)
}
