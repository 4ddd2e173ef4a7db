package connectsim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Event types.
const (
	EventLogin       = "LOGIN"
	EventLogout      = "LOGOUT"
	EventStateChange = "STATE_CHANGE"
	EventHeartBeat   = "HEART_BEAT"
)

// Contact states the simulator produces.
const (
	StateIncoming   = "INCOMING"
	StateConnecting = "CONNECTING"
	StateConnected  = "CONNECTED"
	StateOnHold     = "CONNECTED_ONHOLD"
	StateEnded      = "ENDED"
	StateMissed     = "MISSED"
	StateRejected   = "REJECTED"
	StateError      = "ERROR"
)

// Agent status types.
const (
	StatusTypeRoutable = "ROUTABLE"
	StatusTypeCustom   = "CUSTOM"
	StatusTypeOffline  = "OFFLINE"
)

const (
	statusAvailable = "Available"
	statusOffline   = "Offline"

	// HeartBeatInterval is the silence after which an agent gets a HEART_BEAT.
	HeartBeatInterval = 120 * time.Second
	// HeartBeatAfterLogout is how long after LOGOUT heart beats go on.
	HeartBeatAfterLogout = time.Hour

	// maxOffers is how often a missed, rejected or failed inbound contact is offered
	// before the customer gives up.
	maxOffers = 3
)

// Kind tells which stream a record belongs on.
type Kind uint8

// Kinds of records: Amazon Connect publishes each to a stream of its own.
const (
	KindAgentEvent    Kind = iota // agent events; the only kind unless Config asks for more
	KindContactEvent              // contact events in their EventBridge envelopes
	KindContactRecord             // contact records (CTRs)
)

func (k Kind) String() string {
	switch k {
	case KindContactEvent:
		return "contact_event"
	case KindContactRecord:
		return "contact_record"
	default:
		return "agent_event"
	}
}

// Record is one agent event, contact event or contact record.
type Record struct {
	// Kind is the stream the record belongs on.
	Kind Kind
	// Key is the partition key: the agent ARN for agent events, the contact id for
	// contact events and contact records.
	Key string
	// Data is the event, one JSON document.
	Data []byte
	// At is the record's virtual time (an agent event's EventTimestamp, the moment a
	// contact event happened, a contact record's LastUpdateTimestamp).
	At time.Time
	// EventType is the event's type, for counting: an agent event's EventType, a
	// contact event's eventType, or CONTACT_RECORD.
	EventType string
}

// Simulator generates the events of a simulated contact center, in virtual-time order.
// It is not safe for concurrent use.
type Simulator struct {
	cfg   Config
	rng   *rand.Rand // the simulation and its ids
	vrng  *rand.Rand // the real-world variations, apart so they do not change the simulation
	crng  *rand.Rand // contact events and records, apart so that agent events stay the same with or without them
	start int64      // Unix milliseconds
	now   int64

	instanceARN string
	agents      []*agent
	profiles    []*profile
	available   *agentStatus
	offline     *agentStatus
	custom      []*agentStatus
	customRate  float64 // requests per agent-hour, all custom statuses together
	// servers lists, per queue name and channel ("Support/CHAT"), the agents whose
	// routing profile takes those contacts.
	servers map[string][]*agent

	actions actionHeap
	seq     uint64

	waiting         []*contact // queued contacts, oldest QueueTimestamp first
	dispatchPending bool
	dispatchAt      int64

	out     []Record
	outHead int
	buf     []byte
}

type agentStatus struct {
	name, arn, typ string
	mean           time.Duration // for custom statuses
	perHour        float64
}

type queue struct {
	name, arn string
	channels  []string
}

type profile struct {
	cfg       RoutingProfileConfig
	arn       string
	inbound   []*queue
	outbound  *queue
	queuesFor map[string][]*queue // per channel, the inbound queues serving it
	agents    []*agent
	loggedIn  int
	arrGen    uint64
}

type agent struct {
	idx        int
	id, arn    string
	queueARN   string // the agent queue
	profile    *profile
	slots      []ChannelSlots
	cfgPrefix  []byte // Configuration JSON up to the concurrency entries
	cfgSuffix  []byte // and after them
	loggedIn   bool
	shiftOver  bool
	status     *agentStatus
	statusAt   int64
	statusGen  uint64
	next       *agentStatus
	nextAt     int64
	contacts   []*contact
	busy       bool
	idleSince  int64
	lastAt     int64 // time of the last event
	events     uint64
	lastSnap   []byte
	logoutAt   int64
	username   string
	first      string
	last       string
	hierarchy  []string // ARN, name pairs per level
	hierarchyN bool     // AgentHierarchyGroups is null
}

type contact struct {
	id, initialID string
	previousID    string // the contact this one was transferred or called back from
	nextID        string // the contact created from this one
	channel       string
	method        string
	queueARN      string
	queueName     string // empty for agent queues (null)
	initiatedAt   int64
	queuedAt      int64 // 0: not queued (yet); null for outbound
	readyAt       int64 // routing may offer it from then on
	state         string
	shown         string // state as of the agent's last event
	stateAt       int64
	connectedAt   int64
	agent         *agent
	lastAgent     *agent
	target        *agent // for transfers to an agent queue
	offers        int
	waiting       bool
	waitGen       uint64

	// What only contact events and contact records tell.
	transferOut   bool   // the agent who takes it transfers it on (a TRANSFER contact follows)
	callbackAfter int64  // the customer asks for a callback after this long in queue; 0 never
	systemAt      int64  // connected to system: the customer answered (outbound, callback) or arrived
	agentAt       int64  // connected to agent, when it left its queue for an agent
	handler       *agent // the agent it was connected to
	holdStart     int64
	holdMs        int64
	longestHold   int64
	holds         int
	disconnectAt  int64
	reason        string // DisconnectReason
	transferAt    int64  // TransferCompletedTimestamp
	acwStart      int64
	acwEnd        int64
	completed     bool
	recordUpdates int // how often its contact record was updated after the first copy
}

// New returns a simulator of cfg whose clock starts at start (truncated to the
// millisecond). Agents log in over cfg.ShiftStagger from start.
func New(cfg Config, start time.Time) (*Simulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c0de_0000_0001)),
		vrng:        rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c0de_0000_0002)),
		crng:        rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c0de_0000_0003)),
		start:       start.UnixMilli(),
		instanceARN: cfg.InstanceARN(),
		servers:     map[string][]*agent{},
	}
	s.now = s.start
	s.build()
	for _, a := range s.agents {
		a.lastAt = math.MinInt64
		s.at(s.start+s.uniform(0, cfg.ShiftStagger), a, func() { s.login(a) })
	}
	return s, nil
}

func (s *Simulator) arn(kind, id string) string {
	return s.instanceARN + "/" + kind + "/" + id
}

var (
	firstNames = []string{"John", "Alice", "Maria", "Petra", "Wei", "Aisha", "Carlos", "Yuki", "Liam", "Fatima",
		"Noah", "Olga", "Ravi", "Emma", "Kwame", "Sofia", "Mateo", "Hana", "Lucas", "Zara", "Ivan", "Nia",
		"Omar", "Grace", "Tomas", "Leila", "Arjun", "Chloe", "Diego", "Ingrid"}
	lastNames = []string{"Doe", "Smith", "Garcia", "Novak", "Chen", "Khan", "Silva", "Tanaka", "Murphy", "Haddad",
		"Johnson", "Petrova", "Patel", "Brown", "Mensah", "Rossi", "Lopez", "Kim", "Martin", "Ahmed", "Ivanov",
		"Okafor", "Farouk", "Lee", "Dvorak", "Nasser", "Reddy", "Dubois", "Torres", "Larsen"}
	regions = []string{"North America", "Europe"}
)

// build creates the instance: statuses, queues, profiles and agents.
func (s *Simulator) build() {
	cfg := &s.cfg
	statusARN := func(name string) string {
		return s.arn("agent-state", nameUUID(s.instanceARN+"/agent-state/"+name))
	}
	s.available = &agentStatus{name: statusAvailable, arn: statusARN(statusAvailable), typ: StatusTypeRoutable}
	s.offline = &agentStatus{name: statusOffline, arn: statusARN(statusOffline), typ: StatusTypeOffline}
	for _, cs := range cfg.CustomStatuses {
		s.custom = append(s.custom, &agentStatus{name: cs.Name, arn: statusARN(cs.Name), typ: StatusTypeCustom, mean: cs.MeanDuration, perHour: cs.PerHour})
		s.customRate += cs.PerHour
	}
	queues := map[string]*queue{}
	for _, qc := range cfg.Queues {
		queues[qc.Name] = &queue{name: qc.Name, arn: cfg.QueueARN(qc.Name), channels: qc.Channels}
	}
	var shareSum float64
	for _, pc := range cfg.RoutingProfiles {
		p := &profile{cfg: pc, arn: s.arn("routing-profile", nameUUID(s.instanceARN+"/routing-profile/"+pc.Name)),
			outbound: queues[pc.DefaultOutboundQueue], queuesFor: map[string][]*queue{}}
		for _, qn := range pc.InboundQueues {
			q := queues[qn]
			p.inbound = append(p.inbound, q)
			for _, cs := range pc.Concurrency {
				if has(q.channels, cs.Channel) {
					p.queuesFor[cs.Channel] = append(p.queuesFor[cs.Channel], q)
				}
			}
		}
		s.profiles = append(s.profiles, p)
		shareSum += pc.Share
	}
	// Profiles get their shares of the roster, by cumulative rounding.
	var cum float64
	next := 0
	usernames := map[string]int{}
	for pi, p := range s.profiles {
		cum += p.cfg.Share
		upTo := int(math.Round(cum / shareSum * float64(cfg.Agents)))
		if pi == len(s.profiles)-1 {
			upTo = cfg.Agents
		}
		for ; next < upTo; next++ {
			a := s.newAgent(next, p, usernames)
			p.agents = append(p.agents, a)
			s.agents = append(s.agents, a)
		}
	}
	for _, a := range s.agents {
		for _, q := range a.profile.inbound {
			for _, cs := range a.slots {
				if has(q.channels, cs.Channel) {
					key := q.name + "/" + cs.Channel
					s.servers[key] = append(s.servers[key], a)
				}
			}
		}
		s.renderConfiguration(a)
	}
}

func (s *Simulator) newAgent(i int, p *profile, usernames map[string]int) *agent {
	id := nameUUID(fmt.Sprintf("%s/agent/%d/%d", s.instanceARN, s.cfg.Seed, i))
	a := &agent{
		idx:      i,
		id:       id,
		arn:      s.arn("agent", id),
		queueARN: s.arn("queue", "agent/"+id),
		profile:  p,
		slots:    p.cfg.Concurrency,
		first:    firstNames[s.rng.IntN(len(firstNames))],
		last:     lastNames[s.rng.IntN(len(lastNames))],
		status:   s.offline,
	}
	user := strings.ToLower(a.first[:1] + a.last)
	usernames[user]++
	if n := usernames[user]; n > 1 {
		user = fmt.Sprintf("%s%d", user, n)
	}
	a.username = user
	// One agent in ten has no hierarchy; the rest a region and a team.
	if i%10 == 9 {
		a.hierarchyN = true
	} else {
		region := regions[i%len(regions)]
		team := p.cfg.Name + " Team"
		a.hierarchy = []string{
			s.arn("agent-group", nameUUID(s.instanceARN+"/agent-group/"+region)), region,
			s.arn("agent-group", nameUUID(s.instanceARN+"/agent-group/"+region+"/"+team)), team,
		}
	}
	return a
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Config returns the simulator's configuration.
func (s *Simulator) Config() Config { return s.cfg }

// Start is the virtual time the simulation started at.
func (s *Simulator) Start() time.Time { return time.UnixMilli(s.start).UTC() }

// Now is the current virtual time.
func (s *Simulator) Now() time.Time { return time.UnixMilli(s.now).UTC() }

// Next runs the simulation until it has an event and returns it. The simulation never
// ends: callers stop by virtual time or count. Records come in EventTimestamp order.
func (s *Simulator) Next() Record {
	for s.outHead == len(s.out) {
		s.out, s.outHead = s.out[:0], 0
		s.step()
	}
	r := s.out[s.outHead]
	s.out[s.outHead] = Record{}
	s.outHead++
	return r
}

// step runs the earliest scheduled action.
func (s *Simulator) step() {
	it := heap.Pop(&s.actions).(action)
	if it.agent != nil && it.at <= it.agent.lastAt {
		// The agent already had an event this millisecond: its timestamps must increase.
		it.at = it.agent.lastAt + 1
		s.seq++
		it.seq = s.seq
		heap.Push(&s.actions, it)
		return
	}
	s.now = it.at
	it.fn()
}

// action is a scheduled piece of the simulation. One with an agent emits at most one
// event, for that agent.
type action struct {
	at    int64
	seq   uint64
	agent *agent
	fn    func()
}

type actionHeap []action

func (h actionHeap) Len() int { return len(h) }
func (h actionHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h actionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)   { *h = append(*h, x.(action)) }
func (h *actionHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = action{}
	*h = old[:len(old)-1]
	return it
}

func (s *Simulator) at(t int64, a *agent, fn func()) {
	if t < s.now {
		t = s.now
	}
	s.seq++
	heap.Push(&s.actions, action{at: t, seq: s.seq, agent: a, fn: fn})
}

// Random durations, in milliseconds.

func (s *Simulator) uniform(lo, hi time.Duration) int64 {
	l, h := lo.Milliseconds(), hi.Milliseconds()
	if h <= l {
		return l
	}
	return l + s.rng.Int64N(h-l+1)
}

// lognormal draws a duration with the given mean and shape sigma, at least min.
func (s *Simulator) lognormal(mean time.Duration, sigma float64, min time.Duration) int64 {
	mu := math.Log(float64(mean.Milliseconds())) - sigma*sigma/2
	d := int64(math.Exp(mu + sigma*s.rng.NormFloat64()))
	return max(d, min.Milliseconds())
}

func (s *Simulator) exponential(mean time.Duration) int64 {
	return int64(s.rng.ExpFloat64() * float64(mean.Milliseconds()))
}

func (s *Simulator) chance(p float64) bool { return p > 0 && s.rng.Float64() < p }

// Shifts and statuses.

func (s *Simulator) login(a *agent) {
	a.loggedIn, a.shiftOver = true, false
	a.status, a.statusAt, a.next = s.available, s.now, nil
	a.contacts, a.busy, a.idleSince = a.contacts[:0], false, s.now
	a.statusGen++
	s.emit(a, EventLogin)
	p := a.profile
	p.loggedIn++
	s.scheduleArrival(p)
	s.scheduleStatusRequest(a)
	length := time.Duration(float64(s.cfg.ShiftLength) * (0.95 + 0.1*s.rng.Float64()))
	s.at(s.now+length.Milliseconds(), a, func() { s.shiftEnd(a) })
	s.scheduleDispatch(s.now + s.uniform(500*time.Millisecond, 3*time.Second))
}

func (s *Simulator) shiftEnd(a *agent) {
	if !a.loggedIn {
		return
	}
	a.shiftOver = true
	if a.status == s.offline {
		return
	}
	s.requestStatus(a, s.offline)
}

func (s *Simulator) logout(a *agent) {
	if !a.loggedIn || a.status != s.offline || len(a.contacts) > 0 {
		return
	}
	a.loggedIn = false
	a.logoutAt = s.now
	a.statusGen++
	p := a.profile
	p.loggedIn--
	s.scheduleArrival(p)
	s.emit(a, EventLogout)
	gap := time.Duration(float64(s.cfg.ShiftGap) * (0.9 + 0.2*s.rng.Float64()))
	s.at(s.now+gap.Milliseconds(), a, func() { s.login(a) })
}

func (s *Simulator) scheduleStatusRequest(a *agent) {
	if s.customRate <= 0 {
		return
	}
	a.statusGen++
	gen := a.statusGen
	wait := s.exponential(time.Duration(float64(time.Hour) / s.customRate))
	s.at(s.now+wait, a, func() {
		if gen != a.statusGen || !a.loggedIn || a.shiftOver || a.status != s.available || a.next != nil {
			return
		}
		r := s.rng.Float64() * s.customRate
		st := s.custom[len(s.custom)-1]
		for _, c := range s.custom {
			if r < c.perHour {
				st = c
				break
			}
			r -= c.perHour
		}
		s.requestStatus(a, st)
	})
}

// requestStatus has the agent ask for a status: it starts now when the agent has no
// contacts, else it waits as NextAgentStatus and routing stops.
func (s *Simulator) requestStatus(a *agent, st *agentStatus) {
	a.next, a.nextAt = st, s.now
	s.stateChange(a)
}

// applyNext moves the agent into its next status (it has no contacts).
func (s *Simulator) applyNext(a *agent) {
	st := a.next
	a.status, a.statusAt, a.next = st, s.now, nil
	a.statusGen++
	gen := a.statusGen
	switch st.typ {
	case StatusTypeCustom:
		d := s.lognormal(st.mean, 0.4, time.Minute)
		s.at(s.now+d, a, func() {
			if gen != a.statusGen || !a.loggedIn || a.status != st {
				return
			}
			if a.shiftOver {
				s.requestStatus(a, s.offline)
				return
			}
			a.status, a.statusAt = s.available, s.now
			a.idleSince = s.now
			s.stateChange(a)
			s.scheduleStatusRequest(a)
			s.scheduleDispatch(s.now + s.uniform(500*time.Millisecond, 3*time.Second))
		})
	case StatusTypeOffline:
		s.at(s.now+s.uniform(2*time.Second, 20*time.Second), a, func() {
			if gen == a.statusGen {
				s.logout(a)
			}
		})
	}
}

// stateChange emits a STATE_CHANGE for the agent's current state. Missed, rejected and
// failed contacts that an earlier event already showed leave the snapshot with it; when
// no contacts are left, a next status the agent asked for begins.
func (s *Simulator) stateChange(a *agent) {
	kept := a.contacts[:0]
	var gone []*contact
	for _, c := range a.contacts {
		if problem(c.state) && c.shown == c.state {
			gone = append(gone, c)
			continue
		}
		kept = append(kept, c)
	}
	clear(a.contacts[len(kept):])
	a.contacts = kept
	if len(a.contacts) == 0 {
		if a.busy {
			a.busy, a.idleSince = false, s.now
		}
		if a.next != nil {
			s.applyNext(a)
		}
	}
	s.emit(a, EventStateChange)
	for _, c := range gone {
		c.agent = nil
		s.requeue(c)
	}
	if len(gone) > 0 {
		s.scheduleDispatch(s.now + s.uniform(500*time.Millisecond, 3*time.Second))
	}
}

func problem(state string) bool {
	return state == StateMissed || state == StateRejected || state == StateError
}

// holdsSlot reports whether a contact in state takes one of the agent's slots.
func holdsSlot(state string) bool { return !problem(state) }

// Heart beats.

func (s *Simulator) scheduleHeartBeat(a *agent) {
	gen := a.events
	t := s.now + HeartBeatInterval.Milliseconds()
	if !a.loggedIn && t > a.logoutAt+HeartBeatAfterLogout.Milliseconds() {
		return
	}
	s.at(t, a, func() {
		if gen != a.events {
			return
		}
		s.emit(a, EventHeartBeat)
	})
}

// Contacts: arrivals, routing and their lives.

func (s *Simulator) scheduleArrival(p *profile) {
	p.arrGen++
	gen := p.arrGen
	rate := s.cfg.ContactsPerAgentHour * float64(p.loggedIn)
	if rate <= 0 {
		return
	}
	wait := s.exponential(time.Duration(float64(time.Hour) / rate))
	s.at(s.now+wait, nil, func() {
		if gen != p.arrGen {
			return
		}
		s.arrive(p)
		s.scheduleArrival(p)
	})
}

func (s *Simulator) arrive(p *profile) {
	var total float64
	for _, cs := range p.cfg.Concurrency {
		if len(p.queuesFor[cs.Channel]) > 0 || cs.Channel == ChannelVoice {
			total += s.cfg.ChannelMix.of(cs.Channel)
		}
	}
	if total <= 0 {
		return
	}
	r := s.rng.Float64() * total
	ch := ""
	for _, cs := range p.cfg.Concurrency {
		if len(p.queuesFor[cs.Channel]) > 0 || cs.Channel == ChannelVoice {
			ch = cs.Channel
			if r < s.cfg.ChannelMix.of(cs.Channel) {
				break
			}
			r -= s.cfg.ChannelMix.of(cs.Channel)
		}
	}
	method := s.pickMethod(s.cfg.mixOf(ch), ch)
	if method == MethodOutbound {
		s.placeOutbound(p)
		return
	}
	qs := p.queuesFor[ch]
	if len(qs) == 0 {
		return
	}
	q := qs[s.rng.IntN(len(qs))]
	c := &contact{id: newUUID(s.rng), channel: ch, method: method, queueARN: q.arn, queueName: q.name, initiatedAt: s.now}
	switch method {
	case MethodTransfer:
		// The customer's first contact; the agent who takes it transfers it on.
		c.method, c.transferOut = firstMethod(ch), true
	case MethodCallback:
		// An inbound caller who will ask for a callback if kept waiting.
		c.method, c.callbackAfter = MethodInbound, s.uniform(15*time.Second, 90*time.Second)
	}
	s.initiate(c)
	// The inbound flow (a greeting, a menu) runs before the contact reaches its queue.
	flow := s.uniform(time.Second, 5*time.Second)
	if ch == ChannelVoice {
		flow = s.uniform(5*time.Second, 30*time.Second)
	}
	s.at(s.now+flow, nil, func() { s.enqueue(c) })
}

// firstMethod is how a customer's first contact on a channel starts.
func firstMethod(ch string) string {
	if ch == ChannelVoice {
		return MethodInbound
	}
	return MethodAPI
}

func (s *Simulator) pickMethod(m InitiationMix, ch string) string {
	weights := [...]float64{m.Inbound, m.Outbound, m.Transfer, m.Callback, m.API}
	methods := [...]string{MethodInbound, MethodOutbound, MethodTransfer, MethodCallback, MethodAPI}
	var total float64
	for _, w := range weights {
		total += w
	}
	if total <= 0 {
		if ch == ChannelVoice {
			return MethodInbound
		}
		return MethodAPI
	}
	r := s.rng.Float64() * total
	for i, w := range weights {
		if r < w {
			return methods[i]
		}
		r -= w
	}
	return methods[len(methods)-1]
}

func (s *Simulator) enqueue(c *contact) {
	if c.queuedAt == 0 {
		c.queuedAt = s.now
		s.queued(c)
	}
	c.waiting = true
	c.waitGen++
	gen := c.waitGen
	// Routing takes a moment to find an agent, even an idle one.
	c.readyAt = s.now + s.uniform(time.Second, 5*time.Second)
	s.scheduleDispatch(c.readyAt)
	i := sort.Search(len(s.waiting), func(i int) bool { return s.waiting[i].queuedAt > c.queuedAt })
	s.waiting = append(s.waiting, nil)
	copy(s.waiting[i+1:], s.waiting[i:])
	s.waiting[i] = c
	patience := s.exponential(s.cfg.Patience.of(c.channel))
	if c.method == MethodCallback || c.callbackAfter > 0 {
		patience = 2 * time.Hour.Milliseconds() // nobody hangs up on a callback, nor on the offer of one
	}
	s.at(s.now+patience, nil, func() {
		if c.waiting && c.waitGen == gen {
			s.unqueue(c)
			s.abandon(c)
		}
	})
	if gen != 1 {
		return // back in the queue after a miss: its first wait decided the rest
	}
	if c.callbackAfter > 0 {
		s.at(c.queuedAt+c.callbackAfter, nil, func() {
			if c.waiting {
				s.unqueue(c)
				s.callBack(c)
			}
		})
	} else if c.target == nil && (c.method == MethodInbound || c.method == MethodAPI) && s.chance(s.cfg.QueueTransferProbability) {
		s.at(s.now+s.uniform(30*time.Second, 90*time.Second), nil, func() {
			if c.waiting {
				s.moveQueue(c)
			}
		})
	}
}

// callBack ends a waiting contact whose customer asked for a callback, and queues the
// callback contact after the initial delay.
func (s *Simulator) callBack(c *contact) {
	cb := &contact{id: newUUID(s.rng), initialID: chainStart(c), previousID: c.id, channel: c.channel, method: MethodCallback,
		queueARN: c.queueARN, queueName: c.queueName, initiatedAt: s.now}
	c.nextID = cb.id
	s.leaveWithoutAgent(c, "CONTACT_FLOW_DISCONNECT")
	s.initiate(cb)
	d := s.cfg.CallbackDelay.Milliseconds()
	s.at(s.now+d/2+s.rng.Int64N(d+1), nil, func() { s.enqueue(cb) })
}

// moveQueue has a flow move a waiting contact to another queue that serves its channel,
// as a new QUEUE_TRANSFER contact; it stays put when there is none.
func (s *Simulator) moveQueue(c *contact) {
	var to []*queue
	for _, p := range s.profiles {
		for _, q := range p.queuesFor[c.channel] {
			if q.arn != c.queueARN && !slices.Contains(to, q) {
				to = append(to, q)
			}
		}
	}
	if len(to) == 0 {
		return
	}
	s.unqueue(c)
	q := to[s.rng.IntN(len(to))]
	nc := &contact{id: newUUID(s.rng), initialID: chainStart(c), previousID: c.id, channel: c.channel, method: MethodQueueTransfer,
		queueARN: q.arn, queueName: q.name, initiatedAt: s.now}
	c.nextID = nc.id
	s.leaveWithoutAgent(c, "CONTACT_FLOW_DISCONNECT")
	s.initiate(nc)
	s.enqueue(nc)
}

// transferOn has the agent who handled c transfer the customer: to a colleague's agent
// queue a quarter of the time, else to a queue of the agent's profile for the channel.
func (s *Simulator) transferOn(c *contact, a *agent) {
	p := a.profile
	nc := &contact{id: newUUID(s.rng), initialID: chainStart(c), previousID: c.id, channel: c.channel, method: MethodTransfer,
		initiatedAt: s.now}
	if t := p.agents[s.rng.IntN(len(p.agents))]; s.chance(0.25) && t != a && t.loggedIn && !t.shiftOver {
		nc.target, nc.queueARN = t, t.queueARN
	} else if qs := p.queuesFor[c.channel]; len(qs) > 0 {
		q := qs[s.rng.IntN(len(qs))]
		nc.queueARN, nc.queueName = q.arn, q.name
	} else {
		return
	}
	c.nextID, c.transferAt = nc.id, s.now
	s.initiate(nc)
	s.at(s.now+s.uniform(time.Second, 3*time.Second), nil, func() { s.enqueue(nc) })
}

// chainStart is the first contact of c's chain.
func chainStart(c *contact) string {
	if c.initialID != "" {
		return c.initialID
	}
	return c.id
}

func (s *Simulator) unqueue(c *contact) {
	for i, w := range s.waiting {
		if w == c {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			break
		}
	}
	c.waiting = false
}

// requeue puts an inbound contact an agent missed, rejected or failed back in its queue;
// when it does not go back, the contact ends.
func (s *Simulator) requeue(c *contact) {
	if c.method == MethodOutbound || c.method == MethodCallback || c.target != nil || c.offers >= maxOffers {
		if c.agentAt == 0 {
			s.abandon(c) // the customer gives up
		}
		return
	}
	s.enqueue(c)
}

func (s *Simulator) scheduleDispatch(t int64) {
	if s.dispatchPending && s.dispatchAt <= t {
		return
	}
	s.dispatchPending, s.dispatchAt = true, t
	s.at(t, nil, func() {
		if s.dispatchAt <= s.now {
			s.dispatchPending = false
		}
		s.dispatch()
	})
}

// dispatch routes queued contacts, oldest first, to the agent idle longest among those
// who can take them.
func (s *Simulator) dispatch() {
	retry := false
	var nextReady int64 = math.MaxInt64
	for i := 0; i < len(s.waiting); {
		c := s.waiting[i]
		if c.readyAt > s.now {
			nextReady = min(nextReady, c.readyAt)
			i++
			continue
		}
		a, blocked := s.pickAgent(c)
		retry = retry || blocked
		if a == nil {
			i++
			continue
		}
		s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
		c.waiting = false
		s.offer(a, c)
	}
	if retry {
		s.scheduleDispatch(s.now + 1)
	}
	if nextReady != math.MaxInt64 {
		s.scheduleDispatch(nextReady)
	}
}

func (s *Simulator) pickAgent(c *contact) (best *agent, blocked bool) {
	candidates := s.servers[c.queueName+"/"+c.channel]
	if c.target != nil {
		candidates = []*agent{c.target}
	}
	bestHeld := 0
	for _, a := range candidates {
		if a == c.lastAgent || !s.routable(a) {
			continue
		}
		held, ok := canTake(a, c.channel)
		if !ok {
			continue
		}
		if a.lastAt >= s.now {
			blocked = true
			continue
		}
		if best == nil || held < bestHeld || (held == bestHeld && a.idleSince < best.idleSince) {
			best, bestHeld = a, held
		}
	}
	return best, blocked
}

// routable reports whether inbound contacts may be routed to the agent.
func (s *Simulator) routable(a *agent) bool {
	return a.loggedIn && !a.shiftOver && a.status == s.available && a.next == nil
}

// canTake reports whether the agent has a free slot on the channel and nothing that
// blocks it (a missed, rejected or failed contact, or a contact on another channel
// where voice is involved), and how many contacts the agent holds.
func canTake(a *agent, ch string) (held int, ok bool) {
	sameChannel := 0
	for _, c := range a.contacts {
		if problem(c.state) {
			return 0, false
		}
		held++
		if c.channel == ch {
			sameChannel++
		} else if ch == ChannelVoice || c.channel == ChannelVoice {
			return 0, false
		}
	}
	for _, cs := range a.slots {
		if cs.Channel == ch {
			return held, sameChannel < cs.MaximumSlots
		}
	}
	return 0, false
}

// offer rings the agent with a queued contact.
func (s *Simulator) offer(a *agent, c *contact) {
	c.agent, c.lastAgent = a, a
	c.offers++
	c.state, c.stateAt = StateIncoming, s.now
	a.contacts = append(a.contacts, c)
	a.busy = true
	s.stateChange(a)

	cfg := &s.cfg
	r := s.rng.Float64()
	refuse, refused := cfg.RejectedProbability, StateRejected
	if c.channel == ChannelVoice {
		refuse, refused = cfg.MissedProbability, StateMissed
	}
	switch {
	case c.method != MethodCallback && r < refuse:
		// Rings until the routing timeout.
		s.transition(c, StateIncoming, refused, s.uniform(15*time.Second, 30*time.Second))
	case r < refuse+cfg.ErrorProbability && c.method != MethodCallback:
		s.transition(c, StateIncoming, StateError, s.uniform(time.Second, 8*time.Second))
	case c.method == MethodCallback:
		// The agent accepts the callback; Amazon Connect dials the customer.
		s.transition(c, StateIncoming, StateConnecting, s.uniform(2*time.Second, 10*time.Second))
	default:
		s.transition(c, StateIncoming, StateConnected, s.ringTime(c.channel))
	}
}

func (s *Simulator) ringTime(ch string) int64 {
	if ch == ChannelVoice {
		return s.uniform(2*time.Second, 12*time.Second)
	}
	return s.uniform(time.Second, 8*time.Second)
}

// placeOutbound has an idle available agent of the profile call a customer.
func (s *Simulator) placeOutbound(p *profile) {
	var idle []*agent
	for _, a := range p.agents {
		if s.routable(a) && len(a.contacts) == 0 && a.lastAt < s.now {
			idle = append(idle, a)
		}
	}
	if len(idle) == 0 {
		return
	}
	a := idle[s.rng.IntN(len(idle))]
	q := p.outbound
	c := &contact{id: newUUID(s.rng), channel: ChannelVoice, method: MethodOutbound, queueARN: q.arn, queueName: q.name,
		agent: a, lastAgent: a, offers: 1, state: StateConnecting, stateAt: s.now, initiatedAt: s.now}
	a.contacts = append(a.contacts, c)
	a.busy = true
	s.stateChange(a)
	s.initiate(c)
	s.connectToAgent(c, a) // the agent is on the call while it dials
	s.dial(c)
}

// dial resolves a CONNECTING contact (outbound or callback): answered, not answered,
// or failed.
func (s *Simulator) dial(c *contact) {
	cfg := &s.cfg
	r := s.rng.Float64()
	switch {
	case r < cfg.ErrorProbability:
		s.transition(c, StateConnecting, StateError, s.uniform(2*time.Second, 10*time.Second))
	case r < cfg.ErrorProbability+cfg.NoAnswerProbability:
		s.transition(c, StateConnecting, StateEnded, s.uniform(20*time.Second, 40*time.Second))
	default:
		s.transition(c, StateConnecting, StateConnected, s.uniform(4*time.Second, 25*time.Second))
	}
}

// transition schedules contact c to go from one state to another after wait ms, if it
// is still in from with the same agent by then.
func (s *Simulator) transition(c *contact, from, to string, wait int64) {
	a := c.agent
	s.at(s.now+wait, a, func() {
		if c.agent != a || c.state != from {
			return
		}
		c.state, c.stateAt = to, s.now
		first := to == StateConnected && c.connectedAt == 0
		if first {
			c.connectedAt = s.now
		}
		s.stateChange(a)
		s.contactMoved(c, a, from, to, first)
		s.entered(c)
	})
}

// entered schedules what follows a contact's new state.
func (s *Simulator) entered(c *contact) {
	a := c.agent
	cfg := &s.cfg
	switch c.state {
	case StateConnecting:
		s.dial(c)
	case StateConnected:
		if c.stateAt != c.connectedAt {
			return // back from hold: the end is scheduled already
		}
		handle := s.lognormal(cfg.HandleTime.of(c.channel), 0.6, 15*time.Second)
		if c.channel != ChannelVoice || !s.chance(cfg.HoldProbability) {
			s.transition(c, StateConnected, StateEnded, handle)
			return
		}
		holdAfter := int64(float64(handle) * (0.2 + 0.5*s.rng.Float64()))
		hold := s.lognormal(cfg.HoldTime, 0.5, 5*time.Second)
		rest := handle - holdAfter
		s.at(s.now+holdAfter, a, func() {
			if c.agent != a || c.state != StateConnected {
				return
			}
			c.state, c.stateAt = StateOnHold, s.now
			c.holdStart = s.now
			c.holds++
			s.stateChange(a)
			if s.chance(0.05) { // the customer hangs up on hold
				s.transition(c, StateOnHold, StateEnded, hold)
				return
			}
			s.transition(c, StateOnHold, StateConnected, hold)
			s.transition(c, StateConnected, StateEnded, hold+rest)
		})
	case StateEnded:
		acw := s.lognormal(cfg.AfterContactWork.of(c.channel), 0.5, 2*time.Second)
		s.at(s.now+acw, a, func() {
			if c.agent != a || c.state != StateEnded {
				return
			}
			for i, x := range a.contacts {
				if x == c {
					a.contacts = append(a.contacts[:i], a.contacts[i+1:]...)
					break
				}
			}
			c.agent = nil
			s.stateChange(a)
			s.afterContactWorkDone(c)
			s.scheduleDispatch(s.now + s.uniform(500*time.Millisecond, 3*time.Second))
		})
	case StateMissed, StateRejected, StateError:
		// Listed until the agent's next state change; the agent clears it soon.
		s.at(s.now+s.uniform(3*time.Second, 30*time.Second), a, func() {
			if c.agent == a && c.state == c.shown && problem(c.state) {
				s.stateChange(a)
			}
		})
	}
}
