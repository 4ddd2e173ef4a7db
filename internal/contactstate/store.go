package contactstate

import (
	"sync"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/intern"
)

// Config bounds the store in time and in size. A zero field takes its DefaultConfig value.
type Config struct {
	// ContactTTL forgets a contact with no event for that long: its terminal event was lost.
	ContactTTL time.Duration
	// Retention is how long an ended contact is remembered, so that a late event cannot
	// make it wait again.
	Retention time.Duration
	// AbandonGrace is how long a contact that left the queue unanswered waits for a
	// successor showing a callback or a queue transfer before it counts as abandoned.
	AbandonGrace time.Duration
	// RecordWindow is how long a contact record's contact is remembered as seen.
	RecordWindow time.Duration
	// MaxContacts bounds the contacts remembered, live and ended.
	MaxContacts int
	// MaxRecords bounds the contact records remembered as seen.
	MaxRecords int
}

// DefaultConfig returns the defaults: a day's TTL, an hour's retention, 30 s of grace, a
// day of records, 200,000 contacts and 1,000,000 records.
func DefaultConfig() Config {
	return Config{
		ContactTTL:   24 * time.Hour,
		Retention:    time.Hour,
		AbandonGrace: 30 * time.Second,
		RecordWindow: 24 * time.Hour,
		MaxContacts:  200_000,
		MaxRecords:   1_000_000,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ContactTTL <= 0 {
		c.ContactTTL = d.ContactTTL
	}
	if c.Retention <= 0 {
		c.Retention = d.Retention
	}
	if c.AbandonGrace <= 0 {
		c.AbandonGrace = d.AbandonGrace
	}
	if c.RecordWindow <= 0 {
		c.RecordWindow = d.RecordWindow
	}
	if c.MaxContacts <= 0 {
		c.MaxContacts = d.MaxContacts
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = d.MaxRecords
	}
	return c
}

// QueueKey identifies a queue's series: the same queue ARN in two instances is two queues.
type QueueKey struct {
	Instance, QueueARN, Channel string
}

// QueueStats is a queue's state now.
type QueueStats struct {
	// Waiting is the number of contacts waiting in the queue.
	Waiting int64
	// Oldest is the enqueue time of the contact waiting longest; zero when none waits or
	// no waiting contact's enqueue time is known.
	Oldest time.Time
}

// Outcome is how a contact left its queue.
type Outcome string

const (
	// OutcomeAnswered: connected to an agent; the wait runs to the connection.
	OutcomeAnswered Outcome = "answered"
	// OutcomeAbandoned: the customer left the queue; the wait runs to the disconnect.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeCallback: the customer asked for a callback. AWS counts it as removed from
	// the queue (for service level), not as abandoned.
	OutcomeCallback Outcome = "callback"
	// OutcomeTransferred: a flow moved it to another queue (a QUEUE_TRANSFER contact
	// follows it). Not abandoned.
	OutcomeTransferred Outcome = "transferred"
)

// Dequeue is one contact leaving its queue, reported once per contact.
type Dequeue struct {
	Instance, QueueARN, Channel string
	Outcome                     Outcome
	Wait                        time.Duration
}

// Stats are the store's counts, for the receiver's own telemetry.
type Stats struct {
	Live    int // contacts not ended
	Ended   int // ended contacts remembered
	Waiting int // contacts waiting in a queue
	Pending int // ended contacts whose abandon is not settled yet
	Records int // contact records remembered as seen
	// EvictedContacts and EvictedRecords count what the bounds evicted so far.
	EvictedContacts, EvictedRecords int64
}

// Contact flags.
const (
	fQueued       uint16 = 1 << iota // an event showed it in a queue
	fOutbound                        // OUTBOUND: never in queue metrics
	fConnected                       // connected to an agent
	fEnded                           // disconnected or completed
	fDequeued                        // its Dequeue was reported
	fPending                         // unanswered and ended: abandon held for the grace
	fNextCallback                    // a CALLBACK contact follows it
	fNextTransfer                    // a QUEUE_TRANSFER contact follows it
	flagsKnown    = fNextTransfer<<1 - 1
)

// contact holds what the queue metrics need of one contact, compactly: the key is a hash,
// strings are shared, times are unix nanoseconds (0: unknown).
type contact struct {
	key        uint64
	prev, next *contact // in the live list (by lastSeen) or the ended list (by ended)

	instance, queue, channel string
	shard                    string // the Kinesis shard its last event came from, if told

	enqueued, connected, disconnected int64 // event times
	lastSeen                          int64 // wall clock of its last event, for the TTL
	ended                             int64 // wall clock it was seen ended, for the retention
	grace                             int64 // wall clock deadline of a pending abandon
	flags                             uint16
}

func (c *contact) waiting() bool {
	return c.flags&(fQueued|fOutbound|fConnected|fEnded) == fQueued
}

// membership is a contact's part in the per-queue index.
type membership struct {
	qk      QueueKey
	member  bool
	waiting bool
}

func (c *contact) membership() membership {
	if c.flags&(fQueued|fOutbound) != fQueued || c.queue == "" {
		return membership{}
	}
	return membership{qk: QueueKey{c.instance, c.queue, c.channel}, member: true, waiting: c.waiting()}
}

func (c *contact) dequeue(o Outcome, until int64) Dequeue {
	w := until - c.enqueued
	if c.enqueued == 0 || until == 0 || w < 0 {
		w = 0
	}
	return Dequeue{Instance: c.instance, QueueARN: c.queue, Channel: c.channel, Outcome: o, Wait: time.Duration(w)}
}

// queueAgg indexes a queue's contacts: how many the store remembers, and those waiting.
type queueAgg struct {
	members int
	waiting map[uint64]*contact
}

// Store is the state of the contacts seen, keyed by instance ARN and contact ID. It is safe
// for concurrent use.
type Store struct {
	cfg Config

	mu      sync.Mutex
	buckets [Buckets]bucket
	queues  map[QueueKey]*queueAgg

	live, ended   list // contacts by last event, ended contacts by end
	listsUnsorted bool // after LoadBucket, until the next eviction sorts them
	nLive, nEnded int
	nPending      int

	pending  fifo // pending abandons by deadline
	records  fifo // records by first sighting
	nRecords int

	clock int64 // the latest wall clock seen
	// loadedClock is the newest clock the loaded buckets were saved at, and unanchored
	// the buckets loaded since the last call; see advance.
	loadedClock int64
	unanchored  []int

	evictedContacts, evictedRecords int64

	// replaying is the key of the contact a replayed event is applied to, while it is:
	// its leaving the queue was reported by whoever read the event first.
	replaying   uint64
	isReplaying bool

	// strs shares instance, queue and channel strings, bounded like agentstate's.
	strs *intern.Strings
}

// New returns an empty Store; zero fields of cfg take DefaultConfig's.
func New(cfg Config) *Store {
	s := &Store{cfg: cfg.withDefaults(), queues: map[QueueKey]*queueAgg{}, strs: intern.New(maxShared, maxSharedBytes)}
	for i := range s.buckets {
		s.buckets[i].contacts = map[uint64]*contact{}
		s.buckets[i].records = map[uint64]int64{}
	}
	return s
}

const (
	maxShared      = 1 << 14
	maxSharedBytes = 2 << 20
)

// share returns the shared copy of v, which may point into a decoder's buffer.
func (s *Store) share(v string) string { return s.strs.Get(v) }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// ApplyEvent merges ev, applied at wall clock now, into its contact, and appends to out
// the Dequeues it settles. Applying an event again changes nothing. An event of a type
// this package does not know only refreshes a known contact's last-seen time.
func (s *Store) ApplyEvent(ev *contactevent.Event, now time.Time, out []Dequeue) []Dequeue {
	if ev == nil || ev.ContactID == "" {
		return out
	}
	at := now.UnixNano()
	key := contactKey(ev.InstanceARN, ev.ContactID)

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(ev, key, at, out)
}

// ApplyShardEvent is ApplyEvent for an event read from Kinesis shard shardID: the
// contact is the shard's until an event of it comes from another (see ForgetShard).
func (s *Store) ApplyShardEvent(ev *contactevent.Event, shardID string, now time.Time, out []Dequeue) []Dequeue {
	if ev == nil || ev.ContactID == "" {
		return out
	}
	key := contactKey(ev.InstanceARN, ev.ContactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	out = s.apply(ev, key, now.UnixNano(), out)
	s.setShard(key, shardID)
	return out
}

// ReplayShardEvent applies an event read again from shard shardID to rebuild the state of
// a shard taken over from another reader, which counted the event's contact leaving its
// queue: the contact waits if it still waits, and its leaving is never reported here. A
// contact of another shard it settles (a pending abandon its callback shows) is
// reported, as ApplyEvent would.
func (s *Store) ReplayShardEvent(ev *contactevent.Event, shardID string, now time.Time, out []Dequeue) []Dequeue {
	if ev == nil || ev.ContactID == "" {
		return out
	}
	key := contactKey(ev.InstanceARN, ev.ContactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replaying, s.isReplaying = key, true
	out = s.apply(ev, key, now.UnixNano(), out)
	s.isReplaying = false
	s.setShard(key, shardID)
	return out
}

func (s *Store) setShard(key uint64, shardID string) {
	if c := s.buckets[bucketOf(key)].contacts[key]; c != nil && c.shard != shardID {
		c.shard = s.share(shardID)
	}
}

// ForgetShard forgets every contact whose events last came from shard shardID, now read
// elsewhere: its reader counts them from a replay of the shard. A pending abandon is
// settled first, and reported in out, as an eviction does. It returns how many contacts
// it forgot.
func (s *Store) ForgetShard(shardID string, out []Dequeue) ([]Dequeue, int) {
	if shardID == "" {
		return out, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := range s.buckets {
		for _, c := range s.buckets[i].contacts {
			if c.shard == shardID {
				out = s.evict(c, out)
				n++
			}
		}
	}
	return out, n
}

// apply is ApplyEvent under s.mu.
func (s *Store) apply(ev *contactevent.Event, key uint64, at int64, out []Dequeue) []Dequeue {
	s.advance(at)

	b := &s.buckets[bucketOf(key)]
	c := b.contacts[key]
	known := knownTypes[ev.EventType]
	switch {
	case c == nil && !known:
		return out
	case c == nil:
		c = s.insert(b, key, ev.InstanceARN, at)
	case c.flags&fEnded == 0 && c.lastSeen != at:
		s.live.moveToBack(c)
	}
	c.lastSeen = at
	b.changed()
	if !known {
		// A type AWS added since: what its fields mean is not known.
		return out
	}
	before := c.membership()

	if ev.InitiationMethod == contactevent.InitiationOutbound {
		c.flags |= fOutbound
	}
	if c.channel == "" && ev.Channel != "" {
		c.channel = s.share(ev.Channel)
	}
	if q := ev.Queue; q != nil && q.ARN != "" {
		c.flags |= fQueued
		if c.queue == "" {
			c.queue = s.share(q.ARN)
		}
		if c.enqueued == 0 {
			c.enqueued = unixNano(q.EnqueueTimestamp)
			if c.enqueued == 0 && ev.EventType == contactevent.TypeQueued {
				c.enqueued = unixNano(ev.Timestamp())
			}
		}
	}
	if ag := ev.Agent; ag != nil && !ag.ConnectedToAgentTimestamp.IsZero() {
		c.flags |= fConnected
		if c.connected == 0 {
			c.connected = ag.ConnectedToAgentTimestamp.UnixNano()
		}
	} else if ev.EventType == contactevent.TypeConnectedToAgent {
		c.flags |= fConnected
		if c.connected == 0 {
			c.connected = unixNano(ev.Timestamp())
		}
	}
	if c.disconnected == 0 {
		c.disconnected = unixNano(ev.DisconnectTimestamp)
	}
	if ev.EventType == contactevent.TypeDisconnected || ev.EventType == contactevent.TypeCompleted || c.disconnected != 0 {
		if c.disconnected == 0 {
			c.disconnected = unixNano(ev.Timestamp())
		}
		s.end(c, at)
	}
	out = s.decide(c, at, out)
	s.reindex(c, before, c.membership())

	// A successor shows how its predecessor left the queue; every event of the successor
	// repeats its initiation method and previous contact, so any of them will do.
	if ev.PreviousContactID != "" {
		var flag uint16
		switch ev.InitiationMethod {
		case contactevent.InitiationCallback:
			flag = fNextCallback
		case contactevent.InitiationQueueTransfer:
			flag = fNextTransfer
		}
		if flag != 0 {
			out = s.link(ev.InstanceARN, ev.PreviousContactID, flag, at, out)
		}
	}
	return s.enforceBound(c, out)
}

// knownTypes are the event types whose fields ApplyEvent reads. Others only refresh a
// known contact's last-seen time.
var knownTypes = map[string]bool{
	contactevent.TypeInitiated:          true,
	contactevent.TypeConnectedToSystem:  true,
	contactevent.TypeContactDataUpdated: true,
	contactevent.TypeQueued:             true,
	contactevent.TypeConnectedToAgent:   true,
	contactevent.TypeDisconnected:       true,
	contactevent.TypeCompleted:          true,
	contactevent.TypePaused:             true,
	contactevent.TypeResumed:            true,
}

// insert adds a new, live contact.
func (s *Store) insert(b *bucket, key uint64, instance string, at int64) *contact {
	c := &contact{key: key, instance: s.share(instance), lastSeen: at}
	b.contacts[key] = c
	s.live.pushBack(c)
	s.nLive++
	return c
}

// end marks c ended at wall clock at, moving it from the live list to the ended one.
func (s *Store) end(c *contact, at int64) {
	if c.flags&fEnded != 0 {
		return
	}
	c.flags |= fEnded
	c.ended = at
	s.live.remove(c)
	s.ended.pushBack(c)
	s.nLive--
	s.nEnded++
}

// decide reports c's leaving the queue once it is known, or holds an apparent abandon.
func (s *Store) decide(c *contact, at int64, out []Dequeue) []Dequeue {
	if c.flags&fDequeued != 0 || c.flags&fQueued == 0 {
		return out
	}
	if s.isReplaying && c.key == s.replaying {
		if c.flags&(fConnected|fEnded) != 0 {
			s.unpend(c)
			c.flags |= fDequeued
		}
		return out
	}
	if c.flags&fOutbound != 0 {
		s.unpend(c)
		return out
	}
	var o Outcome
	until := c.disconnected
	switch {
	case c.flags&fConnected != 0:
		o, until = OutcomeAnswered, c.connected
	case c.flags&fEnded == 0:
		return out
	case c.flags&fNextCallback != 0:
		o = OutcomeCallback
	case c.flags&fNextTransfer != 0:
		o = OutcomeTransferred
	default:
		if c.flags&fPending == 0 {
			c.flags |= fPending
			c.grace = at + int64(s.cfg.AbandonGrace)
			s.pending.push(c.key, c.grace)
			s.nPending++
		}
		return out
	}
	s.unpend(c)
	c.flags |= fDequeued
	return append(out, c.dequeue(o, until))
}

// unpend drops c's pending abandon, if any.
func (s *Store) unpend(c *contact) {
	if c.flags&fPending != 0 {
		s.nPending--
	}
	c.flags &^= fPending
}

// link remembers on the predecessor (instance, id) that a successor of kind flag follows
// it, and settles its outcome if it was pending.
func (s *Store) link(instance, id string, flag uint16, at int64, out []Dequeue) []Dequeue {
	key := contactKey(instance, id)
	b := &s.buckets[bucketOf(key)]
	c := b.contacts[key]
	if c == nil {
		c = s.insert(b, key, instance, at)
	}
	if c.flags&(fNextCallback|fNextTransfer) != 0 {
		return out
	}
	c.flags |= flag
	out = s.decide(c, at, out)
	b.changed()
	return out
}

// reindex moves c in the per-queue index from before to after.
func (s *Store) reindex(c *contact, before, after membership) {
	if before == after {
		return
	}
	if before.member {
		agg := s.queues[before.qk]
		agg.members--
		if before.waiting {
			delete(agg.waiting, c.key)
		}
		if agg.members == 0 {
			delete(s.queues, before.qk)
		}
	}
	if after.member {
		agg := s.queues[after.qk]
		if agg == nil {
			agg = &queueAgg{waiting: map[uint64]*contact{}}
			s.queues[after.qk] = agg
		}
		agg.members++
		if after.waiting {
			agg.waiting[c.key] = c
		}
	}
}

// advance moves the store's clock to at. At the first call after a load, it shifts the
// loaded buckets' wall clock times by the time since they were saved, so that a downtime
// does not count towards the TTL, the retention, the record window or a pending grace:
// the events of the downtime are still to be read. Otherwise a contact ended just before
// a long downtime would be forgotten at once, and its events read again after the restart
// would count it twice.
func (s *Store) advance(at int64) {
	if at > s.clock {
		s.clock = at
	}
	if len(s.unanchored) == 0 {
		return
	}
	d := int64(0)
	if s.loadedClock != 0 && at > s.loadedClock {
		d = at - s.loadedClock
	}
	for _, i := range s.unanchored {
		b := &s.buckets[i]
		for _, c := range b.contacts {
			c.lastSeen += d
			if c.flags&fEnded != 0 {
				c.ended += d
			}
			if c.flags&fPending != 0 {
				c.grace += d
				s.pending.push(c.key, c.grace)
			}
		}
		for k := range b.records {
			b.records[k] += d
			s.records.push(k, b.records[k])
		}
		b.unanchored = false
	}
	s.unanchored = s.unanchored[:0]
	s.pending.unsorted, s.records.unsorted, s.listsUnsorted = true, true, true
}

// Queues calls fn for every queue with a contact in the store: the contacts waiting in it
// at now and the oldest one's enqueue time. A queue whose contacts have all left stays, at
// zero, until the store forgets them, so the caller can end its series. Contacts past the
// TTL at now are not counted, even before Tick forgets them. fn is called without the
// store's lock held.
func (s *Store) Queues(now time.Time, fn func(QueueKey, QueueStats)) {
	type row struct {
		k  QueueKey
		st QueueStats
	}
	at := now.UnixNano()
	cutoff := at - int64(s.cfg.ContactTTL)
	s.mu.Lock()
	s.advance(at)
	rows := make([]row, 0, len(s.queues))
	for k, agg := range s.queues {
		var st QueueStats
		var oldest int64
		for _, c := range agg.waiting {
			if c.lastSeen < cutoff {
				continue
			}
			st.Waiting++
			if c.enqueued != 0 && (oldest == 0 || c.enqueued < oldest) {
				oldest = c.enqueued
			}
		}
		if oldest != 0 {
			st.Oldest = time.Unix(0, oldest).UTC()
		}
		rows = append(rows, row{k, st})
	}
	s.mu.Unlock()
	for _, r := range rows {
		fn(r.k, r.st)
	}
}

// Stats returns the store's counts.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Live: s.nLive, Ended: s.nEnded, Pending: s.nPending, Records: s.nRecords,
		EvictedContacts: s.evictedContacts, EvictedRecords: s.evictedRecords,
	}
	for _, agg := range s.queues {
		st.Waiting += len(agg.waiting)
	}
	return st
}
