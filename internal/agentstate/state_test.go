package agentstate_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
)

const eventsDir = "../../testdata/events"

const (
	usInstance = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333"
	euInstance = "arn:aws:connect:eu-west-2:210987654321:instance/f0e1d2c3-b4a5-4968-8776-655443322110"

	basicProfile = "Basic Routing Profile"
	salesProfile = "Sales Routing Profile"

	basicQueue = "BasicQueue"
	salesQueue = "SalesQueue"

	voice = "VOICE"
	chat  = "CHAT"
	task  = "TASK"

	inbound  = "INBOUND"
	outbound = "OUTBOUND"
	api      = "API"
	transfer = "TRANSFER"
	callback = "CALLBACK"

	routable = agentevent.StatusRoutable
	custom   = agentevent.StatusCustom
	offline  = agentevent.StatusOffline

	// testShard is the shard of every event a test does not place on a shard of its own.
	testShard = "shardId-000000000000"
)

// t0 is an arbitrary morning; wall is the wall clock handed to Apply, unrelated to event times.
var (
	t0   = time.Date(2019, 5, 25, 9, 0, 0, 0, time.UTC)
	wall = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

func agentARN(instance string, n int) string {
	return fmt.Sprintf("%s/agent/%08x-5a14-4c72-92fb-%012x", instance, n, n)
}

var eventSeq atomic.Int64

func nextEventID() string {
	n := eventSeq.Add(1)
	return fmt.Sprintf("%08x-cd1a-4785-b1a8-%012x", n, n)
}

func status(typ, name string, start time.Time) agentevent.AgentStatus {
	return agentevent.AgentStatus{Type: typ, Name: name, StartTimestamp: start}
}

func available(start time.Time) agentevent.AgentStatus { return status(routable, "Available", start) }

func conc(channel string, availableSlots, maximumSlots int64) agentevent.Concurrency {
	return agentevent.Concurrency{Channel: channel, AvailableSlots: availableSlots, MaximumSlots: maximumSlots}
}

// standardSlots is one call, three chats and one task, all free.
func standardSlots() []agentevent.Concurrency {
	return []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 3, 3), conc(task, 1, 1)}
}

func contact(id, channel, state, initiation, queue string, stateStart time.Time) agentevent.Contact {
	return agentevent.Contact{
		ContactID:           id,
		Channel:             channel,
		State:               state,
		InitiationMethod:    initiation,
		StateStartTimestamp: stateStart,
		Queue:               agentevent.Queue{Name: queue},
	}
}

// event builds a STATE_CHANGE of the US instance with a fresh EventId and no previous snapshot.
func event(agent string, at time.Time, st agentevent.AgentStatus, profile string, slots []agentevent.Concurrency, contacts ...agentevent.Contact) *agentevent.Event {
	return &agentevent.Event{
		EventID:        nextEventID(),
		EventType:      agentevent.TypeStateChange,
		EventTimestamp: at,
		AgentARN:       agent,
		InstanceARN:    usInstance,
		Version:        "2019-05-25",
		Current: agentevent.Snapshot{
			AgentStatus: st,
			Configuration: agentevent.Configuration{
				RoutingProfile: agentevent.RoutingProfile{Name: profile, Concurrency: slots},
			},
			Contacts: contacts,
		},
	}
}

func withPrevious(ev *agentevent.Event, st agentevent.AgentStatus, contacts ...agentevent.Contact) *agentevent.Event {
	ev.HasPrevious = true
	ev.Previous = agentevent.Snapshot{
		AgentStatus:   st,
		Configuration: ev.Current.Configuration,
		Contacts:      contacts,
	}
	return ev
}

func decodeFixture(t testing.TB, name string) *agentevent.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	require.NoError(t, err)
	var ev agentevent.Event
	require.NoError(t, agentevent.NewDecoder().Decode(data, &ev, nil))
	return &ev
}

// counts is a copy of one instance's Counts, with values instead of pointers, for comparisons.
type counts struct {
	Agents   map[agentstate.StatusKey]int64
	Profiles map[string]agentstate.Profile
	Slots    map[agentstate.SlotKey]agentstate.Slots
	Contacts map[agentstate.ContactKey]int64
}

func newCounts() counts {
	return counts{
		Agents:   map[agentstate.StatusKey]int64{},
		Profiles: map[string]agentstate.Profile{},
		Slots:    map[agentstate.SlotKey]agentstate.Slots{},
		Contacts: map[agentstate.ContactKey]int64{},
	}
}

// countAll copies what Count reports, per instance ARN; Count must not call fn twice for one instance.
func countAll(t testing.TB, s *agentstate.Store) map[string]counts {
	t.Helper()
	out := map[string]counts{}
	s.Count(func(c *agentstate.Counts) {
		_, dup := out[c.InstanceARN]
		require.False(t, dup, "instance %s counted twice", c.InstanceARN)
		cp := newCounts()
		for k, v := range c.Agents {
			cp.Agents[k] = v
		}
		for k, v := range c.Profiles {
			require.NotNil(t, v)
			cp.Profiles[k] = *v
		}
		for k, v := range c.Slots {
			require.NotNil(t, v)
			cp.Slots[k] = *v
		}
		for k, v := range c.Contacts {
			cp.Contacts[k] = v
		}
		out[c.InstanceARN] = cp
	})
	return out
}

// countOne is countAll for a store that must hold only the US instance.
func countOne(t testing.TB, s *agentstate.Store) counts {
	t.Helper()
	all := countAll(t, s)
	require.Len(t, all, 1)
	c, ok := all[usInstance]
	require.True(t, ok, "instance %s not counted; got %v", usInstance, all)
	return c
}

func apply(t testing.TB, s *agentstate.Store, ev *agentevent.Event, now time.Time) []agentstate.Observation {
	t.Helper()
	obs, ok := s.Apply(ev, testShard, now, nil)
	require.True(t, ok, "event %s at %s not applied", ev.EventID, ev.EventTimestamp)
	return obs
}

type sk = agentstate.StatusKey
type slk = agentstate.SlotKey
type ck = agentstate.ContactKey

// TestCountDefinitions checks every per-agent definition with one agent at a time.
func TestCountDefinitions(t *testing.T) {
	start := t0.Add(-time.Hour)
	at := t0
	c := func(channel, state, initiation, queue string) agentevent.Contact {
		return contact("c-"+channel+"-"+state+"-"+initiation, channel, state, initiation, queue, at)
	}
	// busySlots: the voice slot taken, chats and task free.
	busySlots := func() []agentevent.Concurrency {
		return []agentevent.Concurrency{conc(voice, 0, 1), conc(chat, 3, 3), conc(task, 1, 1)}
	}
	slotsOf := func(voiceA, voiceM, voiceActive, chatA, chatM, chatActive, taskA, taskM, taskActive int64) map[slk]agentstate.Slots {
		return map[slk]agentstate.Slots{
			{Channel: voice, RoutingProfile: basicProfile}: {Available: voiceA, Maximum: voiceM, Active: voiceActive},
			{Channel: chat, RoutingProfile: basicProfile}:  {Available: chatA, Maximum: chatM, Active: chatActive},
			{Channel: task, RoutingProfile: basicProfile}:  {Available: taskA, Maximum: taskM, Active: taskActive},
		}
	}
	availableKey := map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 1}
	breakKey := map[sk]int64{{StatusType: custom, StatusName: "Break", RoutingProfile: basicProfile}: 1}

	tests := []struct {
		name     string
		status   agentevent.AgentStatus
		slots    []agentevent.Concurrency
		contacts []agentevent.Contact
		want     counts
	}{
		{
			name:   "routable, no contact: available",
			status: available(start),
			slots:  standardSlots(),
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Available: 1}},
				Slots:    slotsOf(1, 1, 0, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{},
			},
		},
		{
			name:     "routable, voice connected: on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactConnected, inbound, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, OnContact: 1}},
				Slots:    slotsOf(0, 1, 1, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactConnected, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:     "routable, voice on hold: on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactConnectedOnHold, transfer, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, OnContact: 1}},
				Slots:    slotsOf(0, 1, 1, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactConnectedOnHold, Channel: voice, Queue: basicQueue, InitiationMethod: transfer}: 1},
			},
		},
		{
			name:     "routable, chat in after contact work (ENDED): on contact, not available",
			status:   available(start),
			slots:    []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 2, 3), conc(task, 1, 1)},
			contacts: []agentevent.Contact{c(chat, agentevent.ContactEnded, api, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, OnContact: 1}},
				Slots:    slotsOf(1, 1, 0, 2, 3, 1, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactEnded, Channel: chat, Queue: basicQueue, InitiationMethod: api}: 1},
			},
		},
		{
			name:     "routable, outbound call ringing (CONNECTING OUTBOUND, no queue name): on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactConnecting, outbound, "")},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, OnContact: 1}},
				Slots:    slotsOf(0, 1, 1, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactConnecting, Channel: voice, Queue: "", InitiationMethod: outbound}: 1},
			},
		},
		{
			name:     "routable, inbound call connecting: neither available nor on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactConnecting, inbound, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1}},
				Slots:    slotsOf(0, 1, 0, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactConnecting, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:     "routable, incoming call: neither available nor on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactIncoming, inbound, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1}},
				Slots:    slotsOf(0, 1, 0, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactIncoming, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:     "routable, pending callback: neither available nor on contact",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactPending, callback, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1}},
				Slots:    slotsOf(0, 1, 0, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactPending, Channel: voice, Queue: basicQueue, InitiationMethod: callback}: 1},
			},
		},
		{
			// AWS counts a paused contact in both Active slots and Agents on contact.
			name:     "routable, paused task: on contact, its slot active, not available",
			status:   available(start),
			slots:    []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 3, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{c(task, agentevent.ContactPaused, api, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, OnContact: 1}},
				Slots:    slotsOf(1, 1, 0, 3, 3, 0, 0, 1, 1),
				Contacts: map[ck]int64{{State: agentevent.ContactPaused, Channel: task, Queue: basicQueue, InitiationMethod: api}: 1},
			},
		},
		{
			name:     "routable, missed call: error, not available",
			status:   available(start),
			slots:    []agentevent.Concurrency{conc(voice, 0, 1), conc(chat, 0, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{c(voice, agentevent.ContactMissed, inbound, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Error: 1}},
				Slots:    slotsOf(0, 1, 0, 0, 3, 0, 0, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactMissed, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:     "routable, rejected chat: error",
			status:   available(start),
			slots:    []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 2, 3), conc(task, 1, 1)},
			contacts: []agentevent.Contact{c(chat, agentevent.ContactRejected, api, salesQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Error: 1}},
				Slots:    slotsOf(1, 1, 0, 2, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactRejected, Channel: chat, Queue: salesQueue, InitiationMethod: api}: 1},
			},
		},
		{
			name:     "routable, connection error: error",
			status:   available(start),
			slots:    busySlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactError, callback, basicQueue)},
			want: counts{
				Agents:   availableKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Error: 1}},
				Slots:    slotsOf(0, 1, 0, 3, 3, 0, 1, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactError, Channel: voice, Queue: basicQueue, InitiationMethod: callback}: 1},
			},
		},
		{
			name:   "custom status with free slots: non-productive, zero available slots, maximum slots counted",
			status: status(custom, "Break", start),
			slots:  standardSlots(),
			want: counts{
				Agents:   breakKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1}},
				Slots:    slotsOf(0, 1, 0, 0, 3, 0, 0, 1, 0),
				Contacts: map[ck]int64{},
			},
		},
		{
			name:     "custom status with a connected chat: non-productive and on contact",
			status:   status(custom, "Break", start),
			slots:    []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 2, 3), conc(task, 1, 1)},
			contacts: []agentevent.Contact{c(chat, agentevent.ContactConnected, inbound, basicQueue)},
			want: counts{
				Agents:   breakKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1, OnContact: 1}},
				Slots:    slotsOf(0, 1, 0, 0, 3, 1, 0, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactConnected, Channel: chat, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:     "custom status with a paused task: non-productive and on contact",
			status:   status(custom, "Break", start),
			slots:    []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 3, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{c(task, agentevent.ContactPaused, api, basicQueue)},
			want: counts{
				Agents:   breakKey,
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1, OnContact: 1}},
				Slots:    slotsOf(0, 1, 0, 0, 3, 0, 0, 1, 1),
				Contacts: map[ck]int64{{State: agentevent.ContactPaused, Channel: task, Queue: basicQueue, InitiationMethod: api}: 1},
			},
		},
		{
			name:     "custom status with a missed call: non-productive and error",
			status:   status(custom, "Missed", start),
			slots:    standardSlots(),
			contacts: []agentevent.Contact{c(voice, agentevent.ContactMissed, inbound, basicQueue)},
			want: counts{
				Agents:   map[sk]int64{{StatusType: custom, StatusName: "Missed", RoutingProfile: basicProfile}: 1},
				Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1, Error: 1}},
				Slots:    slotsOf(0, 1, 0, 0, 3, 0, 0, 1, 0),
				Contacts: map[ck]int64{{State: agentevent.ContactMissed, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1},
			},
		},
		{
			name:   "offline status: in the agent count only",
			status: status(offline, "Offline", start),
			slots:  standardSlots(),
			want: counts{
				Agents:   map[sk]int64{{StatusType: offline, StatusName: "Offline", RoutingProfile: basicProfile}: 1},
				Profiles: map[string]agentstate.Profile{},
				Slots:    map[slk]agentstate.Slots{},
				Contacts: map[ck]int64{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := agentstate.New(time.Hour)
			apply(t, s, event(agentARN(usInstance, 1), at, tt.status, basicProfile, tt.slots, tt.contacts...), wall)
			assert.Equal(t, tt.want, countOne(t, s))
			assert.Equal(t, 1, s.Agents())
		})
	}
}

// TestCountSeveralContactsOnSeveralChannels: one agent handling several contacts at once.
func TestCountSeveralContactsOnSeveralChannels(t *testing.T) {
	at := t0
	tests := []struct {
		name     string
		status   agentevent.AgentStatus
		slots    []agentevent.Concurrency
		contacts []agentevent.Contact
		profile  agentstate.Profile
		slotsW   map[slk]agentstate.Slots
		contactW map[ck]int64
	}{
		{
			name:   "voice connected, chat ended, chat connected, task connecting inbound",
			status: available(t0.Add(-time.Hour)),
			slots:  []agentevent.Concurrency{conc(voice, 0, 1), conc(chat, 1, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{
				contact("v1", voice, agentevent.ContactConnected, inbound, basicQueue, at),
				contact("c1", chat, agentevent.ContactEnded, api, salesQueue, at),
				contact("c2", chat, agentevent.ContactConnected, api, salesQueue, at),
				contact("t1", task, agentevent.ContactConnecting, inbound, basicQueue, at),
			},
			profile: agentstate.Profile{Online: 1, Staffed: 1, OnContact: 1},
			slotsW: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: basicProfile}: {Available: 0, Maximum: 1, Active: 1},
				{Channel: chat, RoutingProfile: basicProfile}:  {Available: 1, Maximum: 3, Active: 2},
				{Channel: task, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 1, Active: 0},
			},
			contactW: map[ck]int64{
				{State: agentevent.ContactConnected, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1,
				{State: agentevent.ContactEnded, Channel: chat, Queue: salesQueue, InitiationMethod: api}:          1,
				{State: agentevent.ContactConnected, Channel: chat, Queue: salesQueue, InitiationMethod: api}:      1,
				{State: agentevent.ContactConnecting, Channel: task, Queue: basicQueue, InitiationMethod: inbound}: 1,
			},
		},
		{
			name:   "outbound call ringing, missed chat, task connected, two chats in ACW",
			status: available(t0.Add(-time.Hour)),
			slots:  []agentevent.Concurrency{conc(voice, 0, 1), conc(chat, 0, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{
				contact("v1", voice, agentevent.ContactConnecting, outbound, "", at),
				contact("c1", chat, agentevent.ContactMissed, inbound, basicQueue, at),
				contact("t1", task, agentevent.ContactConnected, api, basicQueue, at),
				contact("c2", chat, agentevent.ContactEnded, inbound, basicQueue, at),
				contact("c3", chat, agentevent.ContactEnded, inbound, basicQueue, at),
			},
			profile: agentstate.Profile{Online: 1, Staffed: 1, OnContact: 1, Error: 1},
			slotsW: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: basicProfile}: {Available: 0, Maximum: 1, Active: 1},
				{Channel: chat, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 3, Active: 2},
				{Channel: task, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 1, Active: 1},
			},
			contactW: map[ck]int64{
				{State: agentevent.ContactConnecting, Channel: voice, Queue: "", InitiationMethod: outbound}:   1,
				{State: agentevent.ContactMissed, Channel: chat, Queue: basicQueue, InitiationMethod: inbound}: 1,
				{State: agentevent.ContactConnected, Channel: task, Queue: basicQueue, InitiationMethod: api}:  1,
				{State: agentevent.ContactEnded, Channel: chat, Queue: basicQueue, InitiationMethod: inbound}:  2,
			},
		},
		{
			name:   "custom status: chat on hold and an incoming task, free slots not available",
			status: status(custom, "Training", t0.Add(-time.Hour)),
			slots:  []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 2, 3), conc(task, 0, 1)},
			contacts: []agentevent.Contact{
				contact("c1", chat, agentevent.ContactConnectedOnHold, inbound, basicQueue, at),
				contact("t1", task, agentevent.ContactIncoming, api, basicQueue, at),
			},
			profile: agentstate.Profile{Online: 1, NonProductive: 1, OnContact: 1},
			slotsW: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: basicProfile}: {Available: 0, Maximum: 1, Active: 0},
				{Channel: chat, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 3, Active: 1},
				{Channel: task, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 1, Active: 0},
			},
			contactW: map[ck]int64{
				{State: agentevent.ContactConnectedOnHold, Channel: chat, Queue: basicQueue, InitiationMethod: inbound}: 1,
				{State: agentevent.ContactIncoming, Channel: task, Queue: basicQueue, InitiationMethod: api}:            1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := agentstate.New(time.Hour)
			apply(t, s, event(agentARN(usInstance, 7), at, tt.status, basicProfile, tt.slots, tt.contacts...), wall)
			got := countOne(t, s)
			assert.Equal(t, map[sk]int64{{StatusType: tt.status.Type, StatusName: tt.status.Name, RoutingProfile: basicProfile}: 1}, got.Agents)
			assert.Equal(t, map[string]agentstate.Profile{basicProfile: tt.profile}, got.Profiles)
			assert.Equal(t, tt.slotsW, got.Slots)
			assert.Equal(t, tt.contactW, got.Contacts)
		})
	}
}

// TestCountSumsAgentsPerProfile: several agents, two profiles, every gauge summed.
func TestCountSumsAgentsPerProfile(t *testing.T) {
	s := agentstate.New(time.Hour)
	start := t0.Add(-time.Hour)
	basic := []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 3, 3)}
	basicBusy := []agentevent.Concurrency{conc(voice, 0, 1), conc(chat, 3, 3)}
	sales := []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 2, 2)}
	evs := []*agentevent.Event{
		// basic: two idle available, one on a call, one on break, one offline, one missed a call.
		event(agentARN(usInstance, 1), t0, available(start), basicProfile, basic),
		event(agentARN(usInstance, 2), t0, available(start), basicProfile, basic),
		event(agentARN(usInstance, 3), t0, available(start), basicProfile, basicBusy,
			contact("x3", voice, agentevent.ContactConnected, inbound, basicQueue, t0)),
		event(agentARN(usInstance, 4), t0, status(custom, "Break", start), basicProfile, basic),
		event(agentARN(usInstance, 5), t0, status(offline, "Offline", start), basicProfile, basic),
		event(agentARN(usInstance, 6), t0, available(start), basicProfile, basicBusy,
			contact("x6", voice, agentevent.ContactMissed, inbound, basicQueue, t0)),
		// sales: one in ACW on chat, one on lunch with a chat, one available.
		event(agentARN(usInstance, 7), t0, available(start), salesProfile, []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 1, 2)},
			contact("x7", chat, agentevent.ContactEnded, api, salesQueue, t0)),
		event(agentARN(usInstance, 8), t0, status(custom, "Lunch", start), salesProfile, []agentevent.Concurrency{conc(voice, 1, 1), conc(chat, 1, 2)},
			contact("x8", chat, agentevent.ContactConnected, api, salesQueue, t0)),
		event(agentARN(usInstance, 9), t0, available(start), salesProfile, sales),
	}
	for _, ev := range evs {
		apply(t, s, ev, wall)
	}
	require.Equal(t, len(evs), s.Agents())

	got := countOne(t, s)
	assert.Equal(t, map[sk]int64{
		{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 4,
		{StatusType: custom, StatusName: "Break", RoutingProfile: basicProfile}:       1,
		{StatusType: offline, StatusName: "Offline", RoutingProfile: basicProfile}:    1,
		{StatusType: routable, StatusName: "Available", RoutingProfile: salesProfile}: 2,
		{StatusType: custom, StatusName: "Lunch", RoutingProfile: salesProfile}:       1,
	}, got.Agents)
	assert.Equal(t, map[string]agentstate.Profile{
		basicProfile: {Online: 5, Staffed: 4, Available: 2, OnContact: 1, NonProductive: 1, Error: 1},
		salesProfile: {Online: 3, Staffed: 2, Available: 1, OnContact: 2, NonProductive: 1},
	}, got.Profiles)
	assert.Equal(t, map[slk]agentstate.Slots{
		// Available over agents 1, 2, 3, 6 (routable); maximum over 1, 2, 3, 4, 6 (online).
		{Channel: voice, RoutingProfile: basicProfile}: {Available: 2, Maximum: 5, Active: 1},
		{Channel: chat, RoutingProfile: basicProfile}:  {Available: 12, Maximum: 15, Active: 0},
		// Available over agents 7 and 9; maximum over 7, 8, 9.
		{Channel: voice, RoutingProfile: salesProfile}: {Available: 2, Maximum: 3, Active: 0},
		{Channel: chat, RoutingProfile: salesProfile}:  {Available: 3, Maximum: 6, Active: 2},
	}, got.Slots)
	assert.Equal(t, map[ck]int64{
		{State: agentevent.ContactConnected, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1,
		{State: agentevent.ContactMissed, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}:    1,
		{State: agentevent.ContactEnded, Channel: chat, Queue: salesQueue, InitiationMethod: api}:          1,
		{State: agentevent.ContactConnected, Channel: chat, Queue: salesQueue, InitiationMethod: api}:      1,
	}, got.Contacts)
}

// TestCountFollowsTheLatestSnapshot: counts describe only the current snapshot of each agent.
func TestCountFollowsTheLatestSnapshot(t *testing.T) {
	s := agentstate.New(time.Hour)
	a := agentARN(usInstance, 1)
	start := t0.Add(-time.Hour)
	apply(t, s, event(a, t0, available(start), basicProfile, standardSlots(),
		contact("k1", voice, agentevent.ContactConnected, inbound, basicQueue, t0),
		contact("k2", chat, agentevent.ContactConnected, inbound, basicQueue, t0)), wall)
	apply(t, s, event(a, t0.Add(time.Minute), available(start), salesProfile, []agentevent.Concurrency{conc(chat, 2, 2)}), wall)

	got := countOne(t, s)
	assert.Equal(t, map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: salesProfile}: 1}, got.Agents)
	assert.Equal(t, map[string]agentstate.Profile{salesProfile: {Online: 1, Staffed: 1, Available: 1}}, got.Profiles)
	assert.Equal(t, map[slk]agentstate.Slots{{Channel: chat, RoutingProfile: salesProfile}: {Available: 2, Maximum: 2}}, got.Slots)
	assert.Empty(t, got.Contacts)
	assert.Equal(t, 1, s.Agents())
}

func TestFixturesCount(t *testing.T) {
	tests := []struct {
		fixture string
		agents  map[sk]int64
		profile agentstate.Profile
		slots   map[slk]agentstate.Slots
		contact map[ck]int64
	}{
		{
			fixture: "state_change_two_contacts.json",
			agents:  map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 1},
			profile: agentstate.Profile{Online: 1, Staffed: 1, OnContact: 1},
			slots: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: basicProfile}: {Available: 0, Maximum: 1, Active: 1},
				{Channel: chat, RoutingProfile: basicProfile}:  {Available: 2, Maximum: 3, Active: 1},
				{Channel: task, RoutingProfile: basicProfile}:  {Available: 1, Maximum: 1, Active: 0},
			},
			contact: map[ck]int64{
				{State: agentevent.ContactConnected, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1,
				{State: agentevent.ContactEnded, Channel: chat, Queue: basicQueue, InitiationMethod: transfer}:     1,
			},
		},
		{
			fixture: "nulls.json",
			agents:  map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 1},
			profile: agentstate.Profile{Online: 1, Staffed: 1, OnContact: 1},
			slots: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: basicProfile}: {Available: 0, Maximum: 1, Active: 1},
				{Channel: chat, RoutingProfile: basicProfile}:  {Available: 0, Maximum: 2, Active: 0},
			},
			contact: map[ck]int64{{State: agentevent.ContactConnecting, Channel: voice, Queue: "", InitiationMethod: outbound}: 1},
		},
		{
			fixture: "rejected_chat.json",
			agents:  map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: salesProfile}: 1},
			profile: agentstate.Profile{Online: 1, Staffed: 1, Error: 1},
			slots: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: salesProfile}: {Available: 1, Maximum: 1},
				{Channel: chat, RoutingProfile: salesProfile}:  {Available: 1, Maximum: 2},
			},
			contact: map[ck]int64{{State: agentevent.ContactRejected, Channel: chat, Queue: salesQueue, InitiationMethod: api}: 1},
		},
		{
			fixture: "state_change_status.json",
			agents:  map[sk]int64{{StatusType: custom, StatusName: "Break", RoutingProfile: salesProfile}: 1},
			profile: agentstate.Profile{Online: 1, NonProductive: 1},
			slots: map[slk]agentstate.Slots{
				{Channel: voice, RoutingProfile: salesProfile}: {Maximum: 1},
				{Channel: chat, RoutingProfile: salesProfile}:  {Maximum: 2},
			},
			contact: map[ck]int64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ev := decodeFixture(t, tt.fixture)
			s := agentstate.New(time.Hour)
			apply(t, s, ev, wall)
			got := countOne(t, s)
			assert.Equal(t, tt.agents, got.Agents)
			var profile string
			for k := range tt.agents {
				profile = k.RoutingProfile
			}
			assert.Equal(t, map[string]agentstate.Profile{profile: tt.profile}, got.Profiles)
			assert.Equal(t, tt.slots, got.Slots)
			assert.Equal(t, tt.contact, got.Contacts)
		})
	}
}

// TestEventWithoutStatusType: old events have no AgentStatus.Type; the decoder derives it
// from the name, and the store counts "Lunch" as a custom status.
func TestEventWithoutStatusType(t *testing.T) {
	ev := decodeFixture(t, "old_version_no_type.json")
	require.Equal(t, custom, ev.Current.AgentStatus.Type)
	require.True(t, ev.Current.AgentStatus.TypeDerived)
	require.Equal(t, routable, ev.Previous.AgentStatus.Type)

	s := agentstate.New(time.Hour)
	obs := apply(t, s, ev, wall)
	got := countOne(t, s)
	assert.Equal(t, map[sk]int64{{StatusType: custom, StatusName: "Lunch", RoutingProfile: basicProfile}: 1}, got.Agents)
	assert.Equal(t, map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1}}, got.Profiles)
	assert.Equal(t, map[slk]agentstate.Slots{
		{Channel: voice, RoutingProfile: basicProfile}: {Maximum: 1},
		{Channel: chat, RoutingProfile: basicProfile}:  {Maximum: 3},
		{Channel: task, RoutingProfile: basicProfile}:  {Maximum: 1},
	}, got.Slots)

	// First seen: the time in "Available" comes from the previous snapshot,
	// 08:02:44.090 to 09:30:05.312.
	require.Len(t, obs, 1)
	assert.Equal(t, agentstate.StatusDuration, obs[0].Kind)
	assert.Equal(t, routable, obs[0].StatusType)
	assert.Equal(t, "Available", obs[0].StatusName)
	assert.InDelta(t, 5241.222, obs[0].Seconds, 1e-9)
}

func TestApplyIgnoresEventWithoutAgent(t *testing.T) {
	s := agentstate.New(time.Hour)
	ev := event("", t0, available(t0), basicProfile, standardSlots())
	obs, ok := s.Apply(ev, testShard, wall, nil)
	assert.False(t, ok)
	assert.Empty(t, obs)
	assert.Equal(t, 0, s.Agents())
	assert.Empty(t, countAll(t, s))
}

func TestOutOfOrderEvents(t *testing.T) {
	a := agentARN(usInstance, 1)
	start := t0.Add(-time.Hour)
	breakAt := t0.Add(10 * time.Minute)
	newer := event(a, breakAt, status(custom, "Break", breakAt), basicProfile, standardSlots())
	older := event(a, t0, available(start), salesProfile, standardSlots(),
		contact("late", voice, agentevent.ContactConnected, inbound, basicQueue, t0))
	wantAfterNewer := map[sk]int64{{StatusType: custom, StatusName: "Break", RoutingProfile: basicProfile}: 1}

	t.Run("older event is ignored", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, newer, wall)
		before := countAll(t, s)
		prior := []agentstate.Observation{{Kind: agentstate.AfterContactWork, Seconds: 1}}
		obs, ok := s.Apply(older, testShard, wall.Add(time.Second), prior)
		assert.False(t, ok)
		assert.Equal(t, prior, obs, "an ignored event measures nothing")
		assert.Equal(t, before, countAll(t, s))
		assert.Equal(t, wantAfterNewer, countOne(t, s).Agents)
	})

	t.Run("same event twice is ignored", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, older, wall)
		apply(t, s, newer, wall)
		before := countAll(t, s)
		obs, ok := s.Apply(newer, testShard, wall.Add(time.Second), nil)
		assert.False(t, ok)
		assert.Empty(t, obs)
		assert.Equal(t, before, countAll(t, s))
	})

	t.Run("equal timestamp with another EventId is applied", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, newer, wall)
		same := event(a, breakAt, status(custom, "Break", breakAt), basicProfile, standardSlots(),
			contact("k", chat, agentevent.ContactConnected, api, basicQueue, breakAt))
		require.NotEqual(t, newer.EventID, same.EventID)
		obs, ok := s.Apply(same, testShard, wall, nil)
		assert.True(t, ok)
		assert.Empty(t, obs, "the status did not change")
		got := countOne(t, s)
		assert.Equal(t, map[string]agentstate.Profile{basicProfile: {Online: 1, NonProductive: 1, OnContact: 1}}, got.Profiles)
		assert.Equal(t, map[ck]int64{{State: agentevent.ContactConnected, Channel: chat, Queue: basicQueue, InitiationMethod: api}: 1}, got.Contacts)
	})

	t.Run("a duplicate decoded separately is still the same event", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, decodeFixture(t, "state_change_status.json"), wall)
		obs, ok := s.Apply(decodeFixture(t, "state_change_status.json"), testShard, wall, nil)
		assert.False(t, ok)
		assert.Empty(t, obs)
	})

	t.Run("events applied in order after an ignored one", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, newer, wall)
		_, ok := s.Apply(older, testShard, wall, nil)
		require.False(t, ok)
		backAt := breakAt.Add(5 * time.Minute)
		obs := apply(t, s, event(a, backAt, available(backAt), basicProfile, standardSlots()), wall)
		require.Len(t, obs, 1)
		assert.Equal(t, agentstate.Observation{Kind: agentstate.StatusDuration, Seconds: 300, StatusType: custom, StatusName: "Break"}, obs[0])
	})
}

// TestRedeliveredBatchWithSharedTimestamp: two events of one agent share a timestamp (A then
// B), then the batch holding both is delivered again, as a retried Kinesis batch is. Each is
// then the same event twice, to be ignored, and must measure nothing a second time.
func TestRedeliveredBatchWithSharedTimestamp(t *testing.T) {
	s := agentstate.New(time.Hour)
	a := agentARN(usInstance, 1)
	start := t0.Add(-time.Hour)
	evA := event(a, t0, available(start), basicProfile, standardSlots(),
		contact("k", voice, agentevent.ContactConnected, inbound, basicQueue, t0))
	evB := event(a, t0, status(custom, "Break", t0), basicProfile, standardSlots())
	apply(t, s, evA, wall)
	obs := apply(t, s, evB, wall)
	require.Equal(t, []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 3600, StatusType: routable, StatusName: "Available"}}, obs)
	want := countAll(t, s)

	obsA, okA := s.Apply(evA, testShard, wall, nil)
	obsB, okB := s.Apply(evB, testShard, wall, nil)
	assert.False(t, okA, "event A delivered again is a duplicate")
	assert.False(t, okB, "event B delivered again is a duplicate")
	assert.Empty(t, obsA)
	assert.Empty(t, obsB)
	assert.Equal(t, want, countAll(t, s))
}

func TestLogout(t *testing.T) {
	const ttl = 10 * time.Minute
	a := agentARN(usInstance, 1)
	start := t0.Add(-time.Hour)
	logoutAt := t0.Add(30 * time.Minute)

	tests := []struct {
		name   string
		status agentevent.AgentStatus
	}{
		{name: "current snapshot says Offline", status: status(offline, "Offline", logoutAt)},
		{name: "current snapshot still says Available", status: available(start)},
		{name: "current snapshot has no status", status: agentevent.AgentStatus{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := agentstate.New(ttl)
			apply(t, s, event(a, t0, available(start), basicProfile, standardSlots()), wall)
			logout := event(a, logoutAt, tt.status, basicProfile, standardSlots())
			logout.EventType = agentevent.TypeLogout
			now := wall.Add(time.Minute)
			apply(t, s, logout, now)

			got := countOne(t, s)
			assert.Equal(t, map[sk]int64{{StatusType: offline, StatusName: "Offline", RoutingProfile: basicProfile}: 1}, got.Agents)
			assert.Zero(t, got.Profiles[basicProfile].Online, "an offline agent is not online")
			assert.Empty(t, got.Profiles)
			assert.Empty(t, got.Slots, "an offline agent has no slots")
			assert.Empty(t, got.Contacts)

			// Kept until the TTL has passed since the LOGOUT was applied.
			assert.Equal(t, 0, s.Expire(now.Add(ttl)))
			assert.Equal(t, 1, s.Agents())
			assert.Equal(t, 1, s.Expire(now.Add(ttl+time.Nanosecond)))
			assert.Equal(t, 0, s.Agents())
			assert.Empty(t, countAll(t, s))
		})
	}
}

// TestLogoutWithStaleStatus: a LOGOUT whose current snapshot still shows the status the agent
// was in. The store counts the agent Offline from then on, so the status it leaves lasted until
// the LOGOUT, and Offline starts at the LOGOUT.
func TestLogoutWithStaleStatus(t *testing.T) {
	s := agentstate.New(time.Hour)
	a := agentARN(usInstance, 1)
	start := t0.Add(-time.Hour)
	apply(t, s, event(a, t0, available(start), basicProfile, standardSlots()), wall)
	logout := event(a, t0.Add(30*time.Minute), available(start), basicProfile, standardSlots())
	logout.EventType = agentevent.TypeLogout
	obsOut := apply(t, s, logout, wall)
	loginAt := t0.Add(40 * time.Minute)
	obsIn := apply(t, s, event(a, loginAt, available(loginAt), basicProfile, standardSlots()), wall)

	require.Len(t, obsOut, 1)
	require.Len(t, obsIn, 1)
	assert.Equal(t, agentstate.Observation{Kind: agentstate.StatusDuration, Seconds: 5400, StatusType: routable, StatusName: "Available"}, obsOut[0])
	assert.Equal(t, agentstate.Observation{Kind: agentstate.StatusDuration, Seconds: 600, StatusType: offline, StatusName: "Offline"}, obsIn[0])
}

func TestLogoutFixture(t *testing.T) {
	s := agentstate.New(time.Hour)
	apply(t, s, decodeFixture(t, "login.json"), wall)
	got := countOne(t, s)
	assert.Equal(t, map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Available: 1}}, got.Profiles)

	obs := apply(t, s, decodeFixture(t, "logout.json"), wall.Add(time.Minute))
	got = countOne(t, s)
	assert.Equal(t, map[sk]int64{{StatusType: offline, StatusName: "Offline", RoutingProfile: basicProfile}: 1}, got.Agents)
	assert.Empty(t, got.Profiles)
	assert.Empty(t, got.Slots)
	assert.Equal(t, 1, s.Agents())

	// Available from 18:43:59.049 until the Offline status started at 21:01:58.003.
	require.Len(t, obs, 1)
	assert.Equal(t, agentstate.StatusDuration, obs[0].Kind)
	assert.Equal(t, routable, obs[0].StatusType)
	assert.Equal(t, "Available", obs[0].StatusName)
	assert.InDelta(t, 2*3600+17*60+58.954, obs[0].Seconds, 1e-9)
}

func TestExpire(t *testing.T) {
	const ttl = 5 * time.Minute
	s := agentstate.New(ttl)
	a1, a2, a3 := agentARN(usInstance, 1), agentARN(usInstance, 2), agentARN(euInstance, 3)

	// Event times are years before the wall clock: only the wall clock counts.
	apply(t, s, event(a1, t0, available(t0), basicProfile, standardSlots()), wall)
	apply(t, s, event(a2, t0, available(t0), basicProfile, standardSlots()), wall.Add(4*time.Minute))
	e3 := event(a3, t0, available(t0), basicProfile, standardSlots())
	e3.InstanceARN = euInstance
	apply(t, s, e3, wall.Add(2*time.Minute))
	require.Equal(t, 3, s.Agents())

	assert.Equal(t, 0, s.Expire(wall.Add(time.Minute)))
	assert.Equal(t, 0, s.Expire(wall.Add(ttl)), "idle for exactly the TTL: kept")
	assert.Equal(t, 3, s.Agents())

	assert.Equal(t, 1, s.Expire(wall.Add(ttl+time.Millisecond)))
	assert.Equal(t, 2, s.Agents())
	all := countAll(t, s)
	require.Len(t, all, 2)
	assert.Equal(t, map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 1}, all[usInstance].Agents)

	// A new event refreshes the agent: a2 gets one at +8 min, the EU agent does not.
	apply(t, s, event(a2, t0.Add(time.Minute), available(t0), basicProfile, standardSlots()), wall.Add(8*time.Minute))
	assert.Equal(t, 1, s.Expire(wall.Add(10*time.Minute)), "the EU agent, idle 8 minutes")
	all = countAll(t, s)
	require.Len(t, all, 1, "an instance without agents is dropped")
	_, ok := all[usInstance]
	assert.True(t, ok)

	assert.Equal(t, 1, s.Expire(wall.Add(14*time.Minute)))
	assert.Equal(t, 0, s.Agents())
	assert.Empty(t, countAll(t, s))
	assert.Equal(t, 0, s.Expire(wall.Add(time.Hour)))

	// An expired agent seen again starts afresh.
	obs := apply(t, s, event(a1, t0.Add(2*time.Minute), status(custom, "Break", t0.Add(2*time.Minute)), basicProfile, standardSlots()), wall.Add(time.Hour))
	assert.Empty(t, obs, "first seen again, and no previous snapshot")
	assert.Equal(t, 1, s.Agents())
}

func TestExpireIgnoredEventDoesNotRefresh(t *testing.T) {
	const ttl = 5 * time.Minute
	s := agentstate.New(ttl)
	a := agentARN(usInstance, 1)
	ev := event(a, t0, available(t0), basicProfile, standardSlots())
	apply(t, s, ev, wall)
	_, ok := s.Apply(ev, testShard, wall.Add(4*time.Minute), nil)
	require.False(t, ok)
	assert.Equal(t, 1, s.Expire(wall.Add(ttl+time.Second)))
}

func TestInstancesStayApart(t *testing.T) {
	s := agentstate.New(time.Hour)
	start := t0.Add(-time.Hour)
	// The same agent ARN under two instances is two agents (keys are per instance).
	same := agentARN(usInstance, 1)
	us := event(same, t0, available(start), basicProfile, standardSlots())
	eu := event(same, t0, status(custom, "Break", start), salesProfile, []agentevent.Concurrency{conc(chat, 2, 2)},
		contact("eu1", chat, agentevent.ContactConnected, inbound, salesQueue, t0))
	eu.InstanceARN = euInstance
	apply(t, s, us, wall)
	apply(t, s, eu, wall)
	eu2 := event(agentARN(euInstance, 2), t0, available(start), salesProfile, []agentevent.Concurrency{conc(chat, 2, 2)})
	eu2.InstanceARN = euInstance
	apply(t, s, eu2, wall)
	require.Equal(t, 3, s.Agents())

	all := countAll(t, s)
	require.Len(t, all, 2)
	assert.Equal(t, counts{
		Agents:   map[sk]int64{{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}: 1},
		Profiles: map[string]agentstate.Profile{basicProfile: {Online: 1, Staffed: 1, Available: 1}},
		Slots: map[slk]agentstate.Slots{
			{Channel: voice, RoutingProfile: basicProfile}: {Available: 1, Maximum: 1},
			{Channel: chat, RoutingProfile: basicProfile}:  {Available: 3, Maximum: 3},
			{Channel: task, RoutingProfile: basicProfile}:  {Available: 1, Maximum: 1},
		},
		Contacts: map[ck]int64{},
	}, all[usInstance])
	assert.Equal(t, counts{
		Agents: map[sk]int64{
			{StatusType: custom, StatusName: "Break", RoutingProfile: salesProfile}:       1,
			{StatusType: routable, StatusName: "Available", RoutingProfile: salesProfile}: 1,
		},
		Profiles: map[string]agentstate.Profile{salesProfile: {Online: 2, Staffed: 1, Available: 1, NonProductive: 1, OnContact: 1}},
		Slots:    map[slk]agentstate.Slots{{Channel: chat, RoutingProfile: salesProfile}: {Available: 2, Maximum: 4, Active: 1}},
		Contacts: map[ck]int64{{State: agentevent.ContactConnected, Channel: chat, Queue: salesQueue, InitiationMethod: inbound}: 1},
	}, all[euInstance])

	// An older event for the US agent is ignored there, whatever the EU agent of the same ARN saw.
	older := event(same, t0.Add(-time.Minute), status(custom, "Lunch", start), basicProfile, standardSlots())
	_, ok := s.Apply(older, testShard, wall, nil)
	assert.False(t, ok)
	// A newer one in the US leaves the EU agent alone.
	apply(t, s, event(same, t0.Add(time.Minute), status(custom, "Lunch", t0.Add(time.Minute)), basicProfile, standardSlots()), wall)
	all = countAll(t, s)
	assert.Equal(t, map[sk]int64{{StatusType: custom, StatusName: "Lunch", RoutingProfile: basicProfile}: 1}, all[usInstance].Agents)
	assert.Equal(t, int64(1), all[euInstance].Agents[sk{StatusType: custom, StatusName: "Break", RoutingProfile: salesProfile}])
}

// TestAfterContactWorkAWSExample is AWS's own worked example: a chat ENDED at 18:55:27.017,
// gone from the snapshot at 18:55:32.022, spent 5.005 s in after contact work.
func TestAfterContactWorkAWSExample(t *testing.T) {
	first := decodeFixture(t, "state_change_two_contacts.json")
	s := agentstate.New(time.Hour)
	obs := apply(t, s, first, wall)
	assert.Empty(t, obs, "nothing ended yet, and the status did not change")

	gone := *first
	gone.EventID = "0b5fc1c5-7d83-4d58-9d3b-6a3d4e9f0c11"
	gone.EventTimestamp = time.Date(2019, 5, 25, 18, 55, 32, 22_000_000, time.UTC)
	gone.Previous = first.Current
	gone.Current = first.Current
	gone.Current.Contacts = first.Current.Contacts[:1:1] // the voice call only
	require.Equal(t, voice, gone.Current.Contacts[0].Channel)

	obs = apply(t, s, &gone, wall.Add(5*time.Second))
	require.Len(t, obs, 1)
	assert.Equal(t, agentstate.AfterContactWork, obs[0].Kind)
	assert.InDelta(t, 5.005, obs[0].Seconds, 1e-9)
	assert.Equal(t, chat, obs[0].Channel)
	assert.Equal(t, basicQueue, obs[0].Queue)
	assert.Empty(t, obs[0].StatusType)
	assert.Empty(t, obs[0].StatusName)

	got := countOne(t, s)
	assert.Equal(t, map[ck]int64{{State: agentevent.ContactConnected, Channel: voice, Queue: basicQueue, InitiationMethod: inbound}: 1}, got.Contacts)
}

func TestAfterContactWork(t *testing.T) {
	a := agentARN(usInstance, 1)
	st := available(t0.Add(-time.Hour))
	endedAt := t0.Add(3 * time.Minute)
	ended := func(id, channel, queue string) agentevent.Contact {
		return contact(id, channel, agentevent.ContactEnded, inbound, queue, endedAt)
	}

	t.Run("still listed as ENDED: no duration yet", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, event(a, endedAt, st, basicProfile, standardSlots(), ended("k1", voice, basicQueue)), wall)
		obs := apply(t, s, event(a, endedAt.Add(2*time.Second), st, basicProfile, standardSlots(), ended("k1", voice, basicQueue)), wall)
		assert.Empty(t, obs)
		obs = apply(t, s, event(a, endedAt.Add(9*time.Second), st, basicProfile, standardSlots()), wall)
		require.Len(t, obs, 1)
		assert.Equal(t, agentstate.Observation{Kind: agentstate.AfterContactWork, Seconds: 9, Channel: voice, Queue: basicQueue}, obs[0])
	})

	t.Run("a connected contact that disappears is not after contact work", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, event(a, endedAt, st, basicProfile, standardSlots(),
			contact("k1", voice, agentevent.ContactConnected, inbound, basicQueue, t0)), wall)
		obs := apply(t, s, event(a, endedAt.Add(time.Second), st, basicProfile, standardSlots()), wall)
		assert.Empty(t, obs)
	})

	t.Run("two contacts leave ACW at once, each with its channel and queue", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		c2 := ended("k2", chat, salesQueue)
		c2.StateStartTimestamp = endedAt.Add(-1500 * time.Millisecond)
		apply(t, s, event(a, endedAt, st, basicProfile, standardSlots(),
			ended("k1", voice, basicQueue), c2,
			contact("k3", task, agentevent.ContactConnected, api, basicQueue, t0)), wall)
		obs := apply(t, s, event(a, endedAt.Add(4*time.Second), st, basicProfile, standardSlots(),
			contact("k3", task, agentevent.ContactConnected, api, basicQueue, t0)), wall)
		assert.ElementsMatch(t, []agentstate.Observation{
			{Kind: agentstate.AfterContactWork, Seconds: 4, Channel: voice, Queue: basicQueue},
			{Kind: agentstate.AfterContactWork, Seconds: 5.5, Channel: chat, Queue: salesQueue},
		}, obs)
	})

	t.Run("ACW ends with a status change: both measured", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, event(a, endedAt, st, basicProfile, standardSlots(), ended("k1", voice, basicQueue)), wall)
		breakAt := endedAt.Add(20 * time.Second)
		obs := apply(t, s, event(a, breakAt, status(custom, "Break", breakAt), basicProfile, standardSlots()), wall)
		assert.ElementsMatch(t, []agentstate.Observation{
			{Kind: agentstate.StatusDuration, Seconds: 3600 + 3*60 + 20, StatusType: routable, StatusName: "Available"},
			{Kind: agentstate.AfterContactWork, Seconds: 20, Channel: voice, Queue: basicQueue},
		}, obs)
	})

	t.Run("ACW ends with LOGOUT", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, event(a, endedAt, st, basicProfile, standardSlots(), ended("k1", chat, "")), wall)
		logout := event(a, endedAt.Add(7*time.Second), status(offline, "Offline", endedAt.Add(7*time.Second)), basicProfile, standardSlots())
		logout.EventType = agentevent.TypeLogout
		obs := apply(t, s, logout, wall)
		assert.Contains(t, obs, agentstate.Observation{Kind: agentstate.AfterContactWork, Seconds: 7, Channel: chat, Queue: ""})
	})

	t.Run("first seen: from the previous snapshot", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		ev := withPrevious(event(a, endedAt.Add(2500*time.Millisecond), st, basicProfile, standardSlots()),
			st, ended("k1", chat, salesQueue))
		obs := apply(t, s, ev, wall)
		require.Len(t, obs, 1)
		assert.Equal(t, agentstate.AfterContactWork, obs[0].Kind)
		assert.InDelta(t, 2.5, obs[0].Seconds, 1e-9)
		assert.Equal(t, chat, obs[0].Channel)
		assert.Equal(t, salesQueue, obs[0].Queue)
	})

	t.Run("first seen: still in ACW in the current snapshot", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		ev := withPrevious(event(a, endedAt.Add(time.Second), st, basicProfile, standardSlots(), ended("k1", chat, salesQueue)),
			st, ended("k1", chat, salesQueue))
		assert.Empty(t, apply(t, s, ev, wall))
	})
}

func TestStatusDurations(t *testing.T) {
	a := agentARN(usInstance, 1)
	at := func(h, m, s int, ms int) time.Time {
		return time.Date(2019, 5, 25, h, m, s, ms*int(time.Millisecond), time.UTC)
	}
	type step struct {
		at       time.Time
		status   agentevent.AgentStatus
		contacts []agentevent.Contact
		logout   bool
	}
	tests := []struct {
		name  string
		steps []step
		want  []agentstate.Observation // observations of the last step
	}{
		{
			name: "Available to Break",
			steps: []step{
				{at: at(9, 0, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 12, 30, 500), status: status(custom, "Break", at(9, 12, 30, 500))},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 750.5, StatusType: routable, StatusName: "Available"}},
		},
		{
			name: "Break to Lunch: the old custom status",
			steps: []step{
				{at: at(9, 0, 0, 0), status: status(custom, "Break", at(8, 45, 0, 0))},
				{at: at(9, 30, 0, 0), status: status(custom, "Lunch", at(9, 29, 59, 750))},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 44*60 + 59.75, StatusType: custom, StatusName: "Break"}},
		},
		{
			name: "duration is between status start times, not event times",
			steps: []step{
				{at: at(9, 5, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 10, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 20, 0, 0), status: status(custom, "Training", at(9, 15, 0, 0))},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 900, StatusType: routable, StatusName: "Available"}},
		},
		{
			name: "no duration when the status does not change (heart beat)",
			steps: []step{
				{at: at(9, 0, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 2, 0, 0), status: available(at(9, 0, 0, 0))},
			},
		},
		{
			name: "no duration when only contacts change",
			steps: []step{
				{at: at(9, 0, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 1, 0, 0), status: available(at(9, 0, 0, 0)), contacts: []agentevent.Contact{
					contact("k1", voice, agentevent.ContactConnected, inbound, basicQueue, at(9, 1, 0, 0)),
				}},
			},
		},
		{
			name: "LOGOUT ends the status",
			steps: []step{
				{at: at(9, 0, 0, 0), status: status(custom, "Break", at(9, 0, 0, 0))},
				{at: at(9, 0, 42, 0), status: status(offline, "Offline", at(9, 0, 40, 0)), logout: true},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 40, StatusType: custom, StatusName: "Break"}},
		},
		{
			name: "Offline back to Available",
			steps: []step{
				{at: at(9, 0, 0, 0), status: status(offline, "Offline", at(8, 0, 0, 0)), logout: true},
				{at: at(9, 30, 0, 0), status: available(at(9, 30, 0, 0))},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 5400, StatusType: offline, StatusName: "Offline"}},
		},
		{
			name: "a series: each step measures the status it leaves",
			steps: []step{
				{at: at(9, 0, 0, 0), status: available(at(9, 0, 0, 0))},
				{at: at(9, 10, 0, 0), status: status(custom, "Break", at(9, 10, 0, 0))},
				{at: at(9, 25, 0, 0), status: available(at(9, 25, 0, 0))},
				{at: at(9, 25, 1, 0), status: status(custom, "Break", at(9, 25, 0, 999))},
			},
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 0.999, StatusType: routable, StatusName: "Available"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := agentstate.New(time.Hour)
			var obs []agentstate.Observation
			for i, st := range tt.steps {
				ev := event(a, st.at, st.status, basicProfile, standardSlots(), st.contacts...)
				if st.logout {
					ev.EventType = agentevent.TypeLogout
				}
				var ok bool
				obs, ok = s.Apply(ev, testShard, wall, nil)
				require.True(t, ok, "step %d", i)
			}
			require.Len(t, obs, len(tt.want))
			for i := range tt.want {
				assert.Equal(t, tt.want[i].Kind, obs[i].Kind)
				assert.Equal(t, tt.want[i].StatusType, obs[i].StatusType)
				assert.Equal(t, tt.want[i].StatusName, obs[i].StatusName)
				assert.InDelta(t, tt.want[i].Seconds, obs[i].Seconds, 1e-9)
			}
		})
	}
}

// TestApplyAppendsObservations: Apply appends to the slice it is given.
func TestApplyAppendsObservations(t *testing.T) {
	s := agentstate.New(time.Hour)
	a := agentARN(usInstance, 1)
	apply(t, s, event(a, t0, available(t0), basicProfile, standardSlots()), wall)
	prior := make([]agentstate.Observation, 1, 4)
	prior[0] = agentstate.Observation{Kind: agentstate.AfterContactWork, Seconds: 42, Channel: "X"}
	obs, ok := s.Apply(event(a, t0.Add(time.Minute), status(custom, "Break", t0.Add(time.Minute)), basicProfile, standardSlots()), testShard, wall, prior)
	require.True(t, ok)
	require.Len(t, obs, 2)
	assert.Equal(t, prior[0], obs[0])
	assert.Equal(t, agentstate.Observation{Kind: agentstate.StatusDuration, Seconds: 60, StatusType: routable, StatusName: "Available"}, obs[1])
}

func TestStatusDurationsFromPreviousSnapshot(t *testing.T) {
	a := agentARN(usInstance, 1)
	tests := []struct {
		name string
		ev   *agentevent.Event
		want []agentstate.Observation
	}{
		{
			name: "status changed in this event",
			ev: withPrevious(event(a, t0.Add(30*time.Minute), status(custom, "Break", t0.Add(30*time.Minute)), basicProfile, standardSlots()),
				available(t0.Add(-90*time.Second))),
			want: []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 1890, StatusType: routable, StatusName: "Available"}},
		},
		{
			name: "same status in both snapshots",
			ev: withPrevious(event(a, t0, available(t0.Add(-time.Hour)), basicProfile, standardSlots(),
				contact("k1", voice, agentevent.ContactConnected, inbound, basicQueue, t0)),
				available(t0.Add(-time.Hour))),
		},
		{
			name: "no previous snapshot (LOGIN)",
			ev:   event(a, t0, available(t0), basicProfile, standardSlots()),
		},
		{
			name: "previous status without a start time",
			ev: withPrevious(event(a, t0, status(custom, "Break", t0), basicProfile, standardSlots()),
				status(routable, "Available", time.Time{})),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := agentstate.New(time.Hour)
			obs := apply(t, s, tt.ev, wall)
			assert.Equal(t, tt.want, obs)
		})
	}

	t.Run("fixture state_change_status.json", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		obs := apply(t, s, decodeFixture(t, "state_change_status.json"), wall)
		// Available from 18:30:00.518 to Break at 19:12:03.412.
		require.Len(t, obs, 1)
		assert.Equal(t, routable, obs[0].StatusType)
		assert.Equal(t, "Available", obs[0].StatusName)
		assert.InDelta(t, 42*60+2.894, obs[0].Seconds, 1e-9)
	})

	t.Run("previous snapshot is not used once the agent is known", func(t *testing.T) {
		s := agentstate.New(time.Hour)
		apply(t, s, event(a, t0, status(custom, "Lunch", t0.Add(-10*time.Minute)), basicProfile, standardSlots()), wall)
		// The event claims the agent came from Available; the store knows it was at Lunch.
		ev := withPrevious(event(a, t0.Add(5*time.Minute), status(custom, "Break", t0.Add(5*time.Minute)), basicProfile, standardSlots()),
			available(t0.Add(-time.Hour)))
		obs := apply(t, s, ev, wall)
		assert.Equal(t, []agentstate.Observation{{Kind: agentstate.StatusDuration, Seconds: 900, StatusType: custom, StatusName: "Lunch"}}, obs)
	})
}

func TestHistogram(t *testing.T) {
	bounds := []float64{1, 5, 10, 60}
	h := agentstate.NewHistogram[string](bounds)

	tests := []struct {
		v      float64
		bucket int
	}{
		{0, 0},
		{0.5, 0},
		{1, 0}, // equal to a bound: that bound's bucket
		{math.Nextafter(1, 2), 1},
		{4.999, 1},
		{5, 1},
		{10, 2},
		{10.0001, 3},
		{60, 3},
		{61, 4},
		{3600, 4},
	}
	for _, tt := range tests {
		one := agentstate.NewHistogram[string](bounds)
		one.Record("k", tt.v)
		var got agentstate.Series
		n := 0
		one.Each(func(k string, s agentstate.Series) {
			n++
			assert.Equal(t, "k", k)
			got = s
		})
		require.Equal(t, 1, n)
		want := make([]uint64, len(bounds)+1)
		want[tt.bucket] = 1
		assert.Equal(t, want, got.Counts, "value %v", tt.v)
		assert.Equal(t, uint64(1), got.Count)
		assert.Equal(t, tt.v, got.Sum)
		assert.Equal(t, tt.v, got.Min)
		assert.Equal(t, tt.v, got.Max)

		h.Record("all", tt.v)
	}
	h.Record("other", 7)
	h.Record("other", 3)

	series := map[string]agentstate.Series{}
	h.Each(func(k string, s agentstate.Series) { series[k] = s })
	require.Len(t, series, 2)

	all := series["all"]
	assert.Equal(t, []uint64{3, 3, 1, 2, 2}, all.Counts)
	assert.Equal(t, uint64(len(tests)), all.Count)
	sum := 0.0
	for _, tt := range tests {
		sum += tt.v
	}
	assert.InDelta(t, sum, all.Sum, 1e-9)
	assert.Equal(t, 0.0, all.Min)
	assert.Equal(t, 3600.0, all.Max)

	other := series["other"]
	assert.Equal(t, []uint64{0, 1, 1, 0, 0}, other.Counts)
	assert.Equal(t, uint64(2), other.Count)
	assert.Equal(t, 10.0, other.Sum)
	assert.Equal(t, 3.0, other.Min)
	assert.Equal(t, 7.0, other.Max)
}

func TestHistogramEachReturnsCopies(t *testing.T) {
	h := agentstate.NewHistogram[agentstate.StatusKey]([]float64{1, 2})
	k := agentstate.StatusKey{StatusType: routable, StatusName: "Available", RoutingProfile: basicProfile}
	h.Record(k, 1.5)

	// Changing what Each hands out changes nothing in the histogram.
	h.Each(func(_ agentstate.StatusKey, s agentstate.Series) {
		s.Counts[0], s.Counts[1] = 99, 99
		s.Count, s.Sum, s.Min, s.Max = 99, 99, 99, 99
	})
	// A copy taken now does not move with later records.
	var kept agentstate.Series
	h.Each(func(_ agentstate.StatusKey, s agentstate.Series) { kept = s })
	assert.Equal(t, agentstate.Series{Counts: []uint64{0, 1, 0}, Count: 1, Sum: 1.5, Min: 1.5, Max: 1.5}, kept)

	h.Record(k, 0.5)
	h.Record(k, 3)
	assert.Equal(t, agentstate.Series{Counts: []uint64{0, 1, 0}, Count: 1, Sum: 1.5, Min: 1.5, Max: 1.5}, kept)

	var now agentstate.Series
	h.Each(func(_ agentstate.StatusKey, s agentstate.Series) { now = s })
	assert.Equal(t, []uint64{1, 1, 1}, now.Counts)
	assert.Equal(t, uint64(3), now.Count)
	assert.Equal(t, 5.0, now.Sum)
	assert.Equal(t, 0.5, now.Min)
	assert.Equal(t, 3.0, now.Max)
}

func TestHistogramEmpty(t *testing.T) {
	h := agentstate.NewHistogram[string]([]float64{1})
	called := false
	h.Each(func(string, agentstate.Series) { called = true })
	assert.False(t, called)
}

// TestConcurrentUse runs Apply, Count, Expire and Agents at once; run it with -race.
func TestConcurrentUse(t *testing.T) {
	const (
		writers = 4
		agents  = 50
		events  = 200
	)
	s := agentstate.New(time.Hour)
	h := agentstate.NewHistogram[agentstate.StatusKey]([]float64{1, 10, 100})
	shared := agentARN(usInstance, 999_999)
	var wg sync.WaitGroup
	stop := make(chan struct{})

	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.Count(func(c *agentstate.Counts) {
				var n int64
				for _, v := range c.Agents {
					n += v
				}
				_ = n
				for _, p := range c.Profiles {
					_ = p.Online
				}
			})
			_ = s.Agents()
			h.Each(func(_ agentstate.StatusKey, s agentstate.Series) { _ = s.Counts[0] })
		}
	}()
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Nothing is older than an hour of wall clock here: Expire drops nobody.
			s.Expire(wall)
		}
	}()

	for w := range writers {
		wg.Go(func() {
			var obs []agentstate.Observation
			for i := range events {
				at := t0.Add(time.Duration(i) * time.Second)
				st := available(t0)
				if i%3 == 1 {
					st = status(custom, "Break", at)
				}
				var contacts []agentevent.Contact
				if i%2 == 0 {
					contacts = append(contacts, contact(fmt.Sprintf("w%d-%d", w, i), voice, agentevent.ContactConnected, inbound, basicQueue, at))
				}
				for j := range agents / writers {
					ev := event(agentARN(usInstance, w*1000+j), at, st, basicProfile, standardSlots(), contacts...)
					if w%2 == 1 {
						ev.InstanceARN = euInstance
					}
					obs, _ = s.Apply(ev, testShard, wall, obs[:0])
					for _, o := range obs {
						if o.Kind == agentstate.StatusDuration {
							h.Record(agentstate.StatusKey{StatusType: o.StatusType, StatusName: o.StatusName, RoutingProfile: basicProfile}, o.Seconds)
						}
					}
				}
				// Every writer also feeds one shared agent, out of order across writers.
				s.Apply(event(shared, at, st, salesProfile, standardSlots()), testShard, wall, nil)
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	assert.Equal(t, writers*(agents/writers)+1, s.Agents())
	var total int64
	s.Count(func(c *agentstate.Counts) {
		for _, v := range c.Agents {
			total += v
		}
	})
	assert.Equal(t, int64(writers*(agents/writers)+1), total)
	assert.Equal(t, writers*(agents/writers)+1, s.Expire(wall.Add(2*time.Hour)))
}

// TestStringsDoNotAliasDecoderBuffers: the store keeps strings of a decoded event past the
// decoder's next records and the reuse of the record's bytes.
func TestStringsDoNotAliasDecoderBuffers(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(eventsDir, "state_change_two_contacts.json"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))

	// render gives the fixture with n's names; every name keeps the same length, so a
	// reused buffer would be overwritten at the same offsets.
	render := func(n int, instance string) []byte {
		cur := doc["CurrentAgentSnapshot"].(map[string]any)
		cur["AgentStatus"].(map[string]any)["Name"] = fmt.Sprintf("Status-%05d", n)
		cur["AgentStatus"].(map[string]any)["Type"] = custom
		rp := cur["Configuration"].(map[string]any)["RoutingProfile"].(map[string]any)
		rp["Name"] = fmt.Sprintf("Profile-%05d", n)
		for i, c := range cur["Contacts"].([]any) {
			c := c.(map[string]any)
			c["Queue"].(map[string]any)["Name"] = fmt.Sprintf("Queue-%05d", n)
			c["Channel"] = fmt.Sprintf("CH%05d", n)
			c["InitiationMethod"] = fmt.Sprintf("IM%05d", n)
			c["State"] = []string{agentevent.ContactConnected, agentevent.ContactEnded}[i%2]
		}
		doc["AgentARN"] = agentARN(instance, n)
		doc["InstanceARN"] = instance
		doc["EventId"] = fmt.Sprintf("%08x-cd1a-4785-b1a8-d1b10c6b2d1f", n)
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		return out
	}

	s := agentstate.New(time.Hour)
	dec := agentevent.NewDecoder()
	var ev agentevent.Event
	var buf []byte
	decodeApply := func(data []byte) {
		buf = append(buf[:0], data...)
		require.NoError(t, dec.Decode(buf, &ev, nil))
		apply(t, s, &ev, wall)
	}

	decodeApply(render(0, usInstance))
	// Overwrite the record's bytes at once, then decode many others with the same decoder
	// (more distinct names than its intern table holds), into the same Event.
	for i := range buf {
		buf[i] = 'Z'
	}
	const others = 12_000
	for n := 1; n <= others; n++ {
		decodeApply(render(n, euInstance))
	}
	for i := range buf {
		buf[i] = 'Z'
	}

	all := countAll(t, s)
	require.Len(t, all, 2)
	us := all[usInstance]
	assert.Equal(t, map[sk]int64{{StatusType: custom, StatusName: "Status-00000", RoutingProfile: "Profile-00000"}: 1}, us.Agents)
	assert.Equal(t, map[string]agentstate.Profile{"Profile-00000": {Online: 1, NonProductive: 1, OnContact: 1}}, us.Profiles)
	assert.Equal(t, map[ck]int64{
		{State: agentevent.ContactConnected, Channel: "CH00000", Queue: "Queue-00000", InitiationMethod: "IM00000"}: 1,
		{State: agentevent.ContactEnded, Channel: "CH00000", Queue: "Queue-00000", InitiationMethod: "IM00000"}:     1,
	}, us.Contacts)
	assert.Equal(t, map[slk]agentstate.Slots{
		{Channel: voice, RoutingProfile: "Profile-00000"}:     {Maximum: 1},
		{Channel: chat, RoutingProfile: "Profile-00000"}:      {Maximum: 3},
		{Channel: task, RoutingProfile: "Profile-00000"}:      {Maximum: 1},
		{Channel: "CH00000", RoutingProfile: "Profile-00000"}: {Active: 2},
	}, us.Slots)

	eu := all[euInstance]
	assert.Len(t, eu.Agents, others)
	for n := 1; n <= others; n += 997 {
		assert.Equal(t, int64(1), eu.Agents[sk{StatusType: custom, StatusName: fmt.Sprintf("Status-%05d", n), RoutingProfile: fmt.Sprintf("Profile-%05d", n)}], "agent %d", n)
		assert.Equal(t, int64(1), eu.Contacts[ck{State: agentevent.ContactEnded, Channel: fmt.Sprintf("CH%05d", n), Queue: fmt.Sprintf("Queue-%05d", n), InitiationMethod: fmt.Sprintf("IM%05d", n)}])
	}
	for k := range eu.Agents {
		require.Regexp(t, `^Status-\d{5}$`, k.StatusName)
		require.Regexp(t, `^Profile-\d{5}$`, k.RoutingProfile)
	}

	// The agent keys survived too: a later event of the first agent updates it in place,
	// and the same event again is recognized.
	raw0 := render(0, usInstance)
	var again agentevent.Event
	require.NoError(t, agentevent.NewDecoder().Decode(raw0, &again, nil))
	_, ok := s.Apply(&again, testShard, wall, nil)
	assert.False(t, ok, "the same event again")
	again.EventTimestamp = again.EventTimestamp.Add(time.Second)
	again.EventID = "another"
	apply(t, s, &again, wall)
	assert.Equal(t, others+1, s.Agents())

	// The ACW of the first agent's chat, measured from what the store kept.
	ended := again
	ended.EventID = "gone"
	ended.EventTimestamp = again.EventTimestamp.Add(time.Second)
	ended.Current.Contacts = nil
	obs := apply(t, s, &ended, wall)
	var acw []agentstate.Observation
	for _, o := range obs {
		if o.Kind == agentstate.AfterContactWork {
			acw = append(acw, o)
		}
	}
	require.Len(t, acw, 1)
	assert.Equal(t, "CH00000", acw[0].Channel)
	assert.Equal(t, "Queue-00000", acw[0].Queue)
}
