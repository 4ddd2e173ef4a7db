// Package agentstate keeps the live state of every agent of one or more Amazon Connect
// instances, from their agent events, and counts it the way Amazon Connect's real-time
// metrics do. It knows nothing of the collector.
package agentstate

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/intern"
)

// Store is the state of every agent seen, keyed by agent ARN within its instance. It is
// safe for concurrent use.
type Store struct {
	ttl time.Duration

	mu        sync.Mutex
	instances map[string]*instance
	// strs shares the strings that repeat across agents (status, profile, queue and
	// channel names...), so each is held once however many agents use it.
	strs *intern.Strings
	seed maphash.Seed
}

type instance struct {
	agents map[string]*agent
}

// agent holds only what the metrics need, compactly: shared strings, times as unix
// nanoseconds, IDs as hashes.
type agent struct {
	eventTime int64 // EventTimestamp of the last applied event
	// eventIDs hashes the EventIds applied at eventTime, to skip the same events
	// delivered again; one, nearly always.
	eventIDs []uint64
	applied  int64 // when it was applied (wall clock), for agent_ttl
	// shard is the Kinesis shard its events last came from (shared): an agent's events
	// stay on one shard, the partition key being its ARN, so whoever holds the shard
	// owns the agent (see ForgetShard).
	shard       string
	statusName  string
	statusType  string
	statusStart int64
	profile     string
	slots       []slot
	contacts    []contact
}

type slot struct {
	channel            string
	available, maximum int32
}

type contact struct {
	id         uint64 // hash of ContactId
	state      string
	channel    string
	queue      string
	initiation string
	stateStart int64
}

// New returns a Store that forgets an agent agentTTL after its last event.
func New(agentTTL time.Duration) *Store {
	return &Store{
		ttl:       agentTTL,
		instances: map[string]*instance{},
		strs:      intern.New(maxShared, maxSharedBytes),
		seed:      maphash.MakeSeed(),
	}
}

// maxShared and maxSharedBytes bound the shared strings in number and in bytes (a status
// or queue name can be long); past either, strings are cloned per agent, and go when the
// agent goes.
const (
	maxShared      = 1 << 16
	maxSharedBytes = 4 << 20
)

// share returns the shared copy of v, which may point into a decoder's buffer.
func (s *Store) share(v string) string { return s.strs.Get(v) }

// ObservationKind says what an Observation measured.
type ObservationKind uint8

const (
	// StatusDuration is the time an agent spent in a status, taken when it leaves it.
	StatusDuration ObservationKind = iota
	// AfterContactWork is the time a contact spent in after contact work (ENDED), from
	// its StateStartTimestamp to the event whose snapshot no longer lists it.
	AfterContactWork
)

// Observation is a duration measured by applying an event.
type Observation struct {
	Kind    ObservationKind
	Seconds float64
	// StatusType and StatusName are set for StatusDuration: the status left.
	StatusType, StatusName string
	// Channel and Queue are set for AfterContactWork.
	Channel, Queue string
}

// Apply updates the agent of ev, read from shard at now, and appends the durations it
// measured to obs. An event older than the one last applied for its agent (or the same
// one again) changes nothing and returns false; its log record is still worth emitting.
// Either way the agent is tagged with shard: the latest shard wins, since after a
// reshard an agent's events, and the replay of its parents' tail, arrive on a child.
func (s *Store) Apply(ev *agentevent.Event, shard string, now time.Time, obs []Observation) ([]Observation, bool) {
	if ev.AgentARN == "" {
		return obs, false
	}
	at := ev.EventTimestamp.UnixNano()
	id := maphash.String(s.seed, ev.EventID)

	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[ev.InstanceARN]
	if inst == nil {
		inst = &instance{agents: map[string]*agent{}}
		s.instances[strings.Clone(ev.InstanceARN)] = inst
	}
	a := inst.agents[ev.AgentARN]
	if a != nil && a.shard != shard {
		a.shard = s.share(shard)
	}
	if a != nil && (at < a.eventTime || (at == a.eventTime && slices.Contains(a.eventIDs, id))) {
		return obs, false
	}

	cur := &ev.Current
	statusType, statusName := cur.AgentStatus.Type, cur.AgentStatus.Name
	if ev.EventType == agentevent.TypeLogout {
		statusType = agentevent.StatusOffline
		if statusName == "" || agentevent.DeriveStatusType(statusName) != agentevent.StatusOffline {
			statusName = "Offline"
		}
	}
	statusStart := cur.AgentStatus.StartTimestamp
	if statusStart.IsZero() || statusType != cur.AgentStatus.Type {
		// No start given, or Offline put in place of a status the LOGOUT still showed:
		// the status began with this event.
		statusStart = ev.EventTimestamp
	}

	if a == nil {
		a = &agent{shard: s.share(shard)}
		inst.agents[strings.Clone(ev.AgentARN)] = a
		obs = s.observeFromPrevious(ev, statusType, statusName, statusStart, obs)
	} else {
		obs = a.observe(ev, statusType, statusName, statusStart, s, obs)
	}

	if at != a.eventTime {
		a.eventIDs = a.eventIDs[:0]
	}
	a.eventTime, a.eventIDs, a.applied = at, append(a.eventIDs, id), now.UnixNano()
	a.statusName, a.statusType = s.share(statusName), s.share(statusType)
	a.statusStart = statusStart.UnixNano()
	a.profile = s.share(cur.Configuration.RoutingProfile.Name)
	a.slots = a.slots[:0]
	for _, c := range cur.Configuration.RoutingProfile.Concurrency {
		a.slots = append(a.slots, slot{channel: s.share(c.Channel), available: int32(c.AvailableSlots), maximum: int32(c.MaximumSlots)})
	}
	a.contacts = a.contacts[:0]
	for i := range cur.Contacts {
		c := &cur.Contacts[i]
		a.contacts = append(a.contacts, contact{
			id:         maphash.String(s.seed, c.ContactID),
			state:      s.share(c.State),
			channel:    s.share(c.Channel),
			queue:      s.share(c.Queue.Name),
			initiation: s.share(c.InitiationMethod),
			stateStart: c.StateStartTimestamp.UnixNano(),
		})
	}
	return obs, true
}

// observe measures what changed between the agent's state and ev: a status left, and
// contacts whose after contact work ended.
func (a *agent) observe(ev *agentevent.Event, statusType, statusName string, statusStart time.Time, s *Store, obs []Observation) []Observation {
	if (statusName != a.statusName || statusType != a.statusType) && a.statusStart > 0 {
		if d := statusStart.UnixNano() - a.statusStart; d >= 0 {
			obs = append(obs, Observation{Kind: StatusDuration, Seconds: float64(d) / 1e9, StatusType: a.statusType, StatusName: a.statusName})
		}
	}
	for _, c := range a.contacts {
		if c.state != agentevent.ContactEnded || listed(s, ev.Current.Contacts, c.id) {
			continue
		}
		if d := ev.EventTimestamp.UnixNano() - c.stateStart; d >= 0 && c.stateStart > 0 {
			obs = append(obs, Observation{Kind: AfterContactWork, Seconds: float64(d) / 1e9, Channel: c.channel, Queue: c.queue})
		}
	}
	return obs
}

// observeFromPrevious measures the same for an agent first seen here, from the event's
// previous snapshot.
func (s *Store) observeFromPrevious(ev *agentevent.Event, statusType, statusName string, statusStart time.Time, obs []Observation) []Observation {
	if !ev.HasPrevious {
		return obs
	}
	prev := &ev.Previous
	if (prev.AgentStatus.Name != statusName || prev.AgentStatus.Type != statusType) && !prev.AgentStatus.StartTimestamp.IsZero() {
		if d := statusStart.Sub(prev.AgentStatus.StartTimestamp); d >= 0 {
			obs = append(obs, Observation{Kind: StatusDuration, Seconds: d.Seconds(), StatusType: s.share(prev.AgentStatus.Type), StatusName: s.share(prev.AgentStatus.Name)})
		}
	}
	for i := range prev.Contacts {
		c := &prev.Contacts[i]
		if c.State != agentevent.ContactEnded || c.StateStartTimestamp.IsZero() || listed(s, ev.Current.Contacts, maphash.String(s.seed, c.ContactID)) {
			continue
		}
		if d := ev.EventTimestamp.Sub(c.StateStartTimestamp); d >= 0 {
			obs = append(obs, Observation{Kind: AfterContactWork, Seconds: d.Seconds(), Channel: s.share(c.Channel), Queue: s.share(c.Queue.Name)})
		}
	}
	return obs
}

func listed(s *Store, contacts []agentevent.Contact, id uint64) bool {
	for i := range contacts {
		if maphash.String(s.seed, contacts[i].ContactID) == id {
			return true
		}
	}
	return false
}

// Expire forgets the agents whose last event was applied more than the TTL before now,
// and returns how many.
func (s *Store) Expire(now time.Time) int {
	cutoff := now.Add(-s.ttl).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for arn, inst := range s.instances {
		for id, a := range inst.agents {
			if a.applied < cutoff {
				delete(inst.agents, id)
				n++
			}
		}
		if len(inst.agents) == 0 {
			delete(s.instances, arn)
		}
	}
	return n
}

// ForgetShard forgets at once every agent whose events last came from shardID, and
// returns how many: the shard is read elsewhere now (its lease moved, or it ended and its
// children carry its agents on), so another state counts them.
func (s *Store) ForgetShard(shardID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for arn, inst := range s.instances {
		for id, a := range inst.agents {
			if a.shard == shardID {
				delete(inst.agents, id)
				n++
			}
		}
		if len(inst.agents) == 0 {
			delete(s.instances, arn)
		}
	}
	return n
}

// Agents returns how many agents the store tracks.
func (s *Store) Agents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, inst := range s.instances {
		n += len(inst.agents)
	}
	return n
}
