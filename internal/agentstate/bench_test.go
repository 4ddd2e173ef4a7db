package agentstate_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
)

// Budgets of the store: memory per tracked agent, and time per applied event (the latter
// is only reported by BenchmarkApply, never asserted).
const (
	maxBytesPerAgent = 1024
	benchAgents      = 10_000
	memAgents        = 100_000
)

// A realistic contact centre: ~20 routing profiles, ~10 queues, a few custom statuses,
// agent ARNs of real length (127 characters), UUID event and contact IDs.
var (
	benchProfiles = func() []string {
		out := make([]string, 20)
		for i := range out {
			out[i] = fmt.Sprintf("Customer Support Tier %d - Region %02d", i%3+1, i)
		}
		return out
	}()
	benchQueues = func() []string {
		out := make([]string, 10)
		for i := range out {
			out[i] = fmt.Sprintf("Support Queue %02d", i)
		}
		return out
	}()
	benchCustom = []string{"Break", "Lunch", "Training", "Meeting"}
)

func uuid(kind, n int) string {
	return fmt.Sprintf("%08x-%04x-4c72-92fb-%012x", n, kind, n*7919)
}

// fillStore applies one event for each of n distinct agents: a realistic snapshot with a
// shared routing profile, three channels of concurrency and 0 to 2 contacts. It keeps
// nothing alive itself: whatever the store does not copy is garbage afterwards.
func fillStore(tb testing.TB, s *agentstate.Store, n int, now time.Time) {
	tb.Helper()
	ev := agentevent.Event{
		EventType:   agentevent.TypeStateChange,
		InstanceARN: usInstance,
		Version:     "2019-05-25",
	}
	contacts := make([]agentevent.Contact, 2)
	slotsBuf := make([]agentevent.Concurrency, 3)
	var obs []agentstate.Observation
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		ev.EventID = uuid(1, i)
		ev.EventTimestamp = at
		ev.AgentARN = agentARN(usInstance, i)
		st := available(at.Add(-time.Hour))
		if i%10 >= 6 {
			st = status(custom, benchCustom[i%len(benchCustom)], at.Add(-10*time.Minute))
		}
		ev.Current.AgentStatus = st
		ev.Current.Configuration.RoutingProfile.Name = benchProfiles[i%len(benchProfiles)]
		k := i % 3
		queue := benchQueues[i%len(benchQueues)]
		contacts[0] = contact(uuid(2, i), voice, agentevent.ContactConnected, inbound, queue, at.Add(-time.Minute))
		contacts[1] = contact(uuid(3, i), chat, agentevent.ContactEnded, api, queue, at)
		voiceFree, chatFree := int64(1), int64(3)
		if k >= 1 {
			voiceFree = 0
		}
		if k == 2 {
			chatFree = 2
		}
		slotsBuf[0], slotsBuf[1], slotsBuf[2] = agentevent.Concurrency{Channel: voice, AvailableSlots: voiceFree, MaximumSlots: 1},
			agentevent.Concurrency{Channel: chat, AvailableSlots: chatFree, MaximumSlots: 3},
			agentevent.Concurrency{Channel: task, AvailableSlots: 1, MaximumSlots: 1}
		ev.Current.Configuration.RoutingProfile.Concurrency = slotsBuf
		ev.Current.Contacts = contacts[:k]
		var ok bool
		obs, ok = s.Apply(&ev, testShard, now, obs[:0])
		if !ok {
			tb.Fatalf("agent %d: event not applied", i)
		}
	}
}

// heapBytesPerAgent fills a new store with n agents and returns the growth of the live heap
// per agent.
func heapBytesPerAgent(tb testing.TB, n int) float64 {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)

	s := agentstate.New(time.Hour)
	fillStore(tb, s, n, wall)

	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := s.Agents(); got != n {
		tb.Fatalf("store tracks %d agents, want %d", got, n)
	}
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestMemoryPerAgent holds the store to its memory budget: at most 1 KB of heap per
// tracked agent, at 100,000 agents.
func TestMemoryPerAgent(t *testing.T) {
	per := heapBytesPerAgent(t, memAgents)
	t.Logf("%.0f heap bytes per agent at %d agents", per, memAgents)
	if per > maxBytesPerAgent {
		t.Fatalf("%.0f heap bytes per agent at %d agents, budget %d", per, memAgents, maxBytesPerAgent)
	}
}

func TestFillStoreCounts(t *testing.T) {
	s := agentstate.New(time.Hour)
	fillStore(t, s, 600, wall)
	var agents, online, staffed, nonProductive, onContact, avail int64
	var contacts int64
	s.Count(func(c *agentstate.Counts) {
		for _, v := range c.Agents {
			agents += v
		}
		for _, p := range c.Profiles {
			online += p.Online
			staffed += p.Staffed
			nonProductive += p.NonProductive
			onContact += p.OnContact
			avail += p.Available
		}
		for _, v := range c.Contacts {
			contacts += v
		}
	})
	// i%10 < 6 routable (360), else custom (240); i%3 contacts: 0, 1 or 2.
	if agents != 600 || online != 600 || staffed != 360 || nonProductive != 240 || onContact != 400 || avail != 120 || contacts != 600 {
		t.Fatalf("agents %d online %d staffed %d non-productive %d on contact %d available %d contacts %d",
			agents, online, staffed, nonProductive, onContact, avail, contacts)
	}
}

// BenchmarkMemoryPerAgent reports the heap bytes per tracked agent at 100,000 agents.
func BenchmarkMemoryPerAgent(b *testing.B) {
	var per float64
	for b.Loop() {
		per = heapBytesPerAgent(b, memAgents)
	}
	b.ReportMetric(per, "bytes/agent")
}

// applyCycle is the day of an agent, one event per step, ten seconds apart: idle, a call
// rings, is answered, a chat joins, the call ends (after contact work), its ACW ends, the
// chat ends, a break, and back to Available.
const applyCycle = 8

type applyFleet struct {
	agents   []string
	profiles []string
	queues   []string
	events   [applyCycle]agentevent.Event
	ids      []string // event and contact IDs, recycled
	obs      []agentstate.Observation
}

func newApplyFleet(n int) *applyFleet {
	f := &applyFleet{}
	for i := range n {
		f.agents = append(f.agents, agentARN(usInstance, i))
		f.profiles = append(f.profiles, benchProfiles[i%len(benchProfiles)])
		f.queues = append(f.queues, benchQueues[i%len(benchQueues)])
	}
	for i := range 8192 {
		f.ids = append(f.ids, uuid(4, i))
	}
	for p := range f.events {
		ev := &f.events[p]
		ev.EventType = agentevent.TypeStateChange
		ev.InstanceARN = usInstance
		ev.Version = "2019-05-25"
		voiceFree, chatFree := int64(1), int64(3)
		var contacts []agentevent.Contact
		switch p {
		case 1:
			contacts = []agentevent.Contact{{Channel: voice, State: agentevent.ContactIncoming, InitiationMethod: inbound}}
		case 2:
			contacts = []agentevent.Contact{{Channel: voice, State: agentevent.ContactConnected, InitiationMethod: inbound}}
		case 3:
			contacts = []agentevent.Contact{
				{Channel: voice, State: agentevent.ContactConnected, InitiationMethod: inbound},
				{Channel: chat, State: agentevent.ContactConnected, InitiationMethod: api},
			}
		case 4:
			contacts = []agentevent.Contact{
				{Channel: voice, State: agentevent.ContactEnded, InitiationMethod: inbound},
				{Channel: chat, State: agentevent.ContactConnected, InitiationMethod: api},
			}
		case 5:
			contacts = []agentevent.Contact{{Channel: chat, State: agentevent.ContactConnected, InitiationMethod: api}}
		}
		for _, c := range contacts {
			if c.Channel == voice {
				voiceFree = 0
			} else {
				chatFree--
			}
		}
		ev.Current.Contacts = contacts
		ev.Current.Configuration.RoutingProfile.Concurrency = []agentevent.Concurrency{
			{Channel: voice, AvailableSlots: voiceFree, MaximumSlots: 1},
			{Channel: chat, AvailableSlots: chatFree, MaximumSlots: 3},
			{Channel: task, AvailableSlots: 1, MaximumSlots: 1},
		}
	}
	return f
}

// event returns the i-th event of the fleet's stream: agents in turn, each moving one step
// of its cycle per turn. Only pointers and times are set here, as a decoder would fill them.
func (f *applyFleet) event(i int) *agentevent.Event {
	n := len(f.agents)
	j, turn := i%n, i/n
	p := turn % applyCycle
	cycle := turn / applyCycle
	ev := &f.events[p]
	base := t0.Add(time.Duration(j) * time.Millisecond)
	at := base.Add(time.Duration(turn) * 10 * time.Second)
	stepAt := func(step int) time.Time { return base.Add(time.Duration(cycle*applyCycle+step) * 10 * time.Second) }

	ev.EventID = f.ids[i%len(f.ids)]
	ev.EventTimestamp = at
	ev.AgentARN = f.agents[j]
	ev.Current.Configuration.RoutingProfile.Name = f.profiles[j]
	if p == applyCycle-1 {
		ev.Current.AgentStatus = agentevent.AgentStatus{Type: custom, Name: benchCustom[j%len(benchCustom)], StartTimestamp: at}
	} else {
		ev.Current.AgentStatus = agentevent.AgentStatus{Type: routable, Name: "Available", StartTimestamp: stepAt(0)}
	}
	callID, chatID := f.ids[(j+cycle*31)%len(f.ids)], f.ids[(j+cycle*31+1)%len(f.ids)]
	for c := range ev.Current.Contacts {
		ct := &ev.Current.Contacts[c]
		ct.Queue.Name = f.queues[j]
		if ct.Channel == voice {
			ct.ContactID = callID
			switch ct.State {
			case agentevent.ContactIncoming:
				ct.StateStartTimestamp = stepAt(1)
			case agentevent.ContactConnected:
				ct.StateStartTimestamp = stepAt(2)
			case agentevent.ContactEnded:
				ct.StateStartTimestamp = stepAt(4)
			}
		} else {
			ct.ContactID = chatID
			ct.StateStartTimestamp = stepAt(3)
		}
	}
	return ev
}

// BenchmarkApply measures one applied event (ns/op) with 10,000 agents going through
// status changes and contacts coming and going.
func BenchmarkApply(b *testing.B) {
	f := newApplyFleet(benchAgents)
	s := agentstate.New(time.Hour)
	// One full cycle for every agent first: the store is warm and every agent known.
	i := 0
	for ; i < benchAgents*applyCycle; i++ {
		if _, ok := s.Apply(f.event(i), testShard, wall, nil); !ok {
			b.Fatalf("warm-up event %d not applied", i)
		}
	}
	var (
		obs []agentstate.Observation
		ok  bool
		n   int
	)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		obs, ok = s.Apply(f.event(i), testShard, wall, obs[:0])
		if !ok {
			b.Fatalf("event %d not applied", i)
		}
		n += len(obs)
		i++
	}
	b.StopTimer()
	if s.Agents() != benchAgents {
		b.Fatalf("store tracks %d agents, want %d", s.Agents(), benchAgents)
	}
	runtime.KeepAlive(n)
}

// TestApplyFleetObservations checks the benchmark's stream is what it claims: every event
// applied, and each cycle measures two status durations and one after contact work.
func TestApplyFleetObservations(t *testing.T) {
	const agents = 50
	f := newApplyFleet(agents)
	s := agentstate.New(time.Hour)
	var status, acw int
	for i := range agents * applyCycle * 3 {
		obs, ok := s.Apply(f.event(i), testShard, wall, nil)
		if !ok {
			t.Fatalf("event %d not applied", i)
		}
		for _, o := range obs {
			switch o.Kind {
			case agentstate.StatusDuration:
				status++
				if o.StatusName == "Available" && o.Seconds != 70 {
					t.Fatalf("event %d: Available lasted %v s, want 70", i, o.Seconds)
				}
				if o.StatusName != "Available" && o.Seconds != 10 {
					t.Fatalf("event %d: %s lasted %v s, want 10", i, o.StatusName, o.Seconds)
				}
			case agentstate.AfterContactWork:
				acw++
				if o.Seconds != 10 || o.Channel != voice || o.Queue == "" {
					t.Fatalf("event %d: after contact work %+v", i, o)
				}
			}
		}
	}
	// Three cycles: two Available→Break and Break→Available each, less the first cycle's
	// Break→Available that no agent had yet; one ACW per cycle.
	if status != agents*(3*2-1) || acw != agents*3 {
		t.Fatalf("status durations %d, after contact work %d", status, acw)
	}
	if s.Agents() != agents {
		t.Fatalf("store tracks %d agents", s.Agents())
	}
}

// BenchmarkCount measures counting 10,000 agents.
func BenchmarkCount(b *testing.B) {
	s := agentstate.New(time.Hour)
	fillStore(b, s, benchAgents, wall)
	b.ReportAllocs()
	for b.Loop() {
		s.Count(func(*agentstate.Counts) {})
	}
}
