package agentevent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Kinds of decode failure, stable enough to be used as the error.type of a log record.
const (
	ErrKindInvalidUTF8      = "invalid_utf8"
	ErrKindInvalidJSON      = "invalid_json"
	ErrKindNotAnObject      = "not_an_object"
	ErrKindWrongType        = "wrong_type"
	ErrKindMissingField     = "missing_field"
	ErrKindInvalidTimestamp = "invalid_timestamp"
	ErrKindDuplicateKey     = "duplicate_key"
	ErrKindTooManyMembers   = "too_many_members"
)

// MaxMembers bounds the members of one object. The data model's objects have at most ten;
// a record with an object of more is refused, so a hostile record cannot make building
// its log body (whose maps find a key by scanning) cost more than a few times its scan.
const MaxMembers = 100

// DecodeError says why a record is not an agent event.
type DecodeError struct {
	Kind string
	// Field is the JSON path of the offending field, empty for whole-record failures. It
	// may hold keys of the record's own (not of the data model).
	Field string
	// Msg says what is wrong without quoting the record.
	Msg string
	// Detail quotes the record's content that is wrong (a bad timestamp, a repeated key, an
	// unexpected character), empty if none: it may hold personal data.
	Detail string
	// safeField is Field with the record's own keys replaced by "?".
	safeField string
}

// Error says what is wrong and where, quoting the culprit.
func (e *DecodeError) Error() string {
	msg := e.Msg
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field == "" {
		return msg
	}
	return e.Field + ": " + msg
}

// ErrorType is Kind, for whoever handles the errors of several decoders alike.
func (e *DecodeError) ErrorType() string { return e.Kind }

// Redacted says what is wrong and where without a byte of the record's content: the path
// names only the data model's keys, and the culprit is left out.
func (e *DecodeError) Redacted() string {
	if e.safeField == "" {
		return e.Msg
	}
	return e.safeField + ": " + e.Msg
}

// Decoder decodes agent event records. It is not safe for concurrent use: give each
// goroutine its own. It reuses its parse buffers, and interns the short, repetitive
// strings (statuses, channels, states, queue and profile names) it sees, up to a bound.
type Decoder struct {
	sc     scanner
	intern map[string]string
	err    *DecodeError
	// path is where the decoder is in the document, rendered only when a field is bad.
	path []pathElem
	// arena holds the bytes of short strings, in chunks; see Copy.
	arena []byte
	sink  Sink
	keys  keySet
	// lastEnum is the value each enum site had last.
	lastEnum [enumSites]string
	cache    *Cache
}

type pathElem struct {
	key   string
	index int // for array elements; key is then empty
	// own is true for a key of the record's own, not of the data model.
	own bool
}

// NewDecoder returns a ready Decoder, with a Cache of its own.
func NewDecoder() *Decoder { return NewDecoderSharing(NewCache()) }

// NewDecoderSharing returns a ready Decoder that shares cache with others, as the
// decoders of a pool should: a pool may drop its decoders at any garbage collection. A
// nil cache decodes every value in full.
func NewDecoderSharing(cache *Cache) *Decoder {
	return &Decoder{intern: make(map[string]string, 256), cache: cache}
}

const (
	maxInterned    = 8192
	maxInternedLen = 256
)

// Sink receives every value of a record, in document order, while the decoder reads
// it: the caller builds its own copy of the whole document (every field, known or not)
// in the same pass. Members of an object come as Key then the value; the elements of an
// array as values; both end with End. Strings are the decoder's: interned or carved
// from its buffer (see Copy), never to be modified.
type Sink interface {
	Object(members int)
	Array(elements int)
	End()
	Key(key []byte)
	String(s string)
	Int(i int64)
	Double(f float64)
	Bool(b bool)
	Null()
}

type nopSink struct{}

func (nopSink) Object(int)     {}
func (nopSink) Array(int)      {}
func (nopSink) End()           {}
func (nopSink) Key([]byte)     {}
func (nopSink) String(string)  {}
func (nopSink) Int(int64)      {}
func (nopSink) Double(float64) {}
func (nopSink) Bool(bool)      {}
func (nopSink) Null()          {}

// Decode parses one record into ev, reusing ev's slices, and hands every value of it to
// sink, which may be nil. A record that is not an agent event returns a *DecodeError;
// sink has then seen part of it, to be thrown away.
func (d *Decoder) Decode(data []byte, ev *Event, sink Sink) (err error) {
	ev.reset()
	if sink == nil {
		sink = nopSink{}
	}
	d.sink = sink
	if !utf8.Valid(data) {
		return &DecodeError{Kind: ErrKindInvalidUTF8, Msg: "record is not valid UTF-8"}
	}
	d.sc.reset(data)
	d.keys.start(data)
	d.err = nil
	d.path = d.path[:0]
	defer d.keys.reset()
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			err = &DecodeError{Kind: ErrKindInvalidJSON, Msg: fmt.Sprintf("record is not valid JSON: %s at offset %d", se.msg, se.pos), Detail: se.detail}
		}
	}()
	if k := d.sc.next(); k != kindObject {
		d.emit() // only to find out whether it is JSON at all
		d.sc.end()
		return &DecodeError{Kind: ErrKindNotAnObject, Msg: "record is a JSON " + k.String() + ", not an object"}
	}
	d.members("", 10, func(key []byte) bool {
		switch string(key) {
		case "EventId":
			ev.EventID = d.str("EventId")
		case "EventType":
			ev.EventType = d.enum("EventType", siteEventType)
		case "EventTimestamp":
			ev.EventTimestamp = d.timestamp("EventTimestamp")
		case "AgentARN":
			ev.AgentARN = d.str("AgentARN")
		case "InstanceARN":
			ev.InstanceARN = d.enum("InstanceARN", siteInstanceARN)
		case "AWSAccountId":
			ev.AWSAccountID = d.enum("AWSAccountId", siteAccountID)
		case "Version":
			ev.Version = d.enum("Version", siteVersion)
		case "CurrentAgentSnapshot":
			d.snapshot("CurrentAgentSnapshot", &ev.Current)
		case "PreviousAgentSnapshot":
			ev.HasPrevious = d.snapshot("PreviousAgentSnapshot", &ev.Previous)
		default:
			return false
		}
		return true
	})
	d.sc.end()
	if d.err != nil {
		return d.err
	}
	if ev.EventType == "" {
		return &DecodeError{Kind: ErrKindMissingField, Field: "EventType", Msg: "missing, so this is not an agent event"}
	}
	return nil
}

func (ev *Event) reset() {
	cur, prev := ev.Current.reuse(), ev.Previous.reuse()
	*ev = Event{Current: cur, Previous: prev}
}

// reuse returns an empty snapshot that keeps the backing arrays of s's slices.
func (s *Snapshot) reuse() Snapshot {
	return Snapshot{
		Contacts: s.Contacts[:0],
		Configuration: Configuration{
			Proficiencies: s.Configuration.Proficiencies[:0],
			RoutingProfile: RoutingProfile{
				InboundQueues:        s.Configuration.RoutingProfile.InboundQueues[:0],
				DefaultOutboundQueue: s.Configuration.RoutingProfile.DefaultOutboundQueue.reuse(),
				Concurrency:          s.Configuration.RoutingProfile.Concurrency[:0],
			},
		},
	}
}

// fail records the first error of a record, at field (a data model key, or "") under
// the current path. The rest of the record is still scanned, but nothing more goes to the
// sink: its work would be thrown away.
func (d *Decoder) fail(kind, field, msg string) {
	d.failAt(kind, pathElem{key: field}, msg, "")
}

func (d *Decoder) failAt(kind string, leaf pathElem, msg, detail string) {
	if d.err != nil {
		return
	}
	d.err = &DecodeError{Kind: kind, Field: d.fieldPath(leaf, false), safeField: d.fieldPath(leaf, true), Msg: msg, Detail: detail}
	d.sink = nopSink{}
}

func (d *Decoder) push(key string) { d.path = append(d.path, pathElem{key: key}) }
func (d *Decoder) pushIndex(i int) { d.path = append(d.path, pathElem{index: i}) }
func (d *Decoder) pop()            { d.path = d.path[:len(d.path)-1] }

// fieldPath renders the current path and leaf; safe leaves out the record's own keys.
func (d *Decoder) fieldPath(leaf pathElem, safe bool) string {
	var b strings.Builder
	write := func(e pathElem) {
		key := e.key
		if e.own && safe {
			key = "?"
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
	}
	for _, e := range d.path {
		if e.key == "" {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		write(e)
	}
	if leaf.key != "" {
		write(leaf)
	}
	return b.String()
}

// nextKey reads the next key of an object opened with d.keys.open(), checking that it
// is not repeated and that the object stays within MaxMembers; false means the object
// ended. n counts the members read so far.
func (d *Decoder) nextKey(first *bool, n *int) ([]byte, bool) {
	key, ok := d.sc.nextKey(first)
	if !ok {
		d.keys.close()
		return nil, false
	}
	*n++
	if d.err != nil {
		return key, true
	}
	if *n > MaxMembers {
		d.failAt(ErrKindTooManyMembers, pathElem{}, fmt.Sprintf("object has more than %d members, the limit", MaxMembers), "")
		return key, true
	}
	// An escaped key is in the scanner's buffer, reused for the next one: add returns
	// a copy that lasts.
	key, unique := d.keys.add(key, d.sc.keyEscaped)
	if !unique {
		k := unsafe.String(unsafe.SliceData(key), len(key))
		d.failAt(ErrKindDuplicateKey, pathElem{key: k, own: !modelKey(k)}, "key repeated in its object", strconv.Quote(k))
	}
	return key, true
}

// wrongType records a type error and reads past the value, so that the rest of the
// record is still checked to be JSON: a syntax error anywhere takes precedence.
func (d *Decoder) wrongType(field, want string, got kind) {
	d.fail(ErrKindWrongType, field, "want "+want+", got "+got.String())
	d.emit()
}

// members reads an object or null where the model expects an object, handing it to the
// sink; for an object it calls known for each member, with field on the path. known
// reads the member's value and returns true, or returns false to have the value handed to
// the sink as it is. hint is the number of members the model has there.
func (d *Decoder) members(field string, hint int, known func(key []byte) bool) bool {
	switch k := d.sc.next(); k {
	case kindObject:
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
		return false
	default:
		d.wrongType(field, "object", k)
		return false
	}
	d.sc.enter()
	d.sink.Object(hint)
	d.keys.open()
	if field != "" {
		d.push(field)
	}
	for first, n := true, 0; ; {
		key, ok := d.nextKey(&first, &n)
		if !ok {
			break
		}
		d.sink.Key(key)
		if !known(key) {
			d.emitMember(key)
		}
	}
	if field != "" {
		d.pop()
	}
	d.sink.End()
	return true
}

// each reads an array or null where the model expects an array, handing it to the sink,
// and calls fn to read each element, with the element's index on the path.
func (d *Decoder) each(field string, hint int, fn func()) {
	switch k := d.sc.next(); k {
	case kindArray:
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
		return
	default:
		d.wrongType(field, "array", k)
		return
	}
	d.sc.enter()
	d.sink.Array(hint)
	d.push(field)
	for i, first := 0, true; d.sc.nextElement(&first); i++ {
		d.pushIndex(i)
		fn()
		d.pop()
	}
	d.pop()
	d.sink.End()
}

// emit reads a value the model does not know and hands it to the sink as it is.
func (d *Decoder) emit() {
	switch d.sc.next() {
	case kindObject:
		d.sc.enter()
		d.sink.Object(4)
		d.keys.open()
		for first, n := true, 0; ; {
			key, ok := d.nextKey(&first, &n)
			if !ok {
				break
			}
			d.sink.Key(key)
			d.emitMember(key)
		}
		d.sink.End()
	case kindArray:
		d.sc.enter()
		d.sink.Array(4)
		for i, first := 0, true; d.sc.nextElement(&first); i++ {
			d.pushIndex(i)
			d.emit()
			d.pop()
		}
		d.sink.End()
	case kindString:
		d.sink.String(d.Copy(d.sc.readString(&d.sc.strBuf)))
	case kindNumber:
		d.emitNumber()
	case kindTrue:
		d.sc.literal("true")
		d.sink.Bool(true)
	case kindFalse:
		d.sc.literal("false")
		d.sink.Bool(false)
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
	}
}

// emitMember emits the value of a member the model does not know, with its key on the
// path (so a repeat inside it is named exactly). key is stable for the whole decode.
func (d *Decoder) emitMember(key []byte) {
	k := unsafe.String(unsafe.SliceData(key), len(key))
	d.path = append(d.path, pathElem{key: k, own: !modelKey(k)})
	d.emit()
	d.pop()
}

// emitNumber reads a number and hands it to the sink: an integer when it is one, else a
// double. It returns its value.
func (d *Decoder) emitNumber() float64 {
	i, f, isInt := d.sc.readNumber()
	if isInt {
		d.sink.Int(i)
	} else {
		d.sink.Double(f)
	}
	return f
}

// rawString reads a string field; null and a wrong type give false.
func (d *Decoder) rawString(field string) ([]byte, bool) {
	switch k := d.sc.next(); k {
	case kindString:
		return d.sc.readString(&d.sc.strBuf), true
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
	default:
		d.wrongType(field, "string", k)
	}
	return nil, false
}

// str reads a string field.
func (d *Decoder) str(field string) string {
	b, ok := d.rawString(field)
	if !ok {
		return ""
	}
	s := d.Copy(b)
	d.sink.String(s)
	return s
}

// arenaChunk is the size of the buffers Copy carves strings from.
const arenaChunk = 2048

// Copy returns a copy of b without an allocation of its own: short strings are carved
// from a shared buffer, which is replaced, never overwritten, when full. The strings
// stay valid for good, but keeping one keeps its whole buffer alive: whoever keeps a few
// strings of many records (per-agent state, say) should strings.Clone them.
func (d *Decoder) Copy(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaChunk/8 {
		return string(b)
	}
	if cap(d.arena)-len(d.arena) < len(b) {
		d.arena = make([]byte, 0, arenaChunk)
	}
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[start], len(b))
}

// enumSite is where in the model an interned field is: each keeps the value it had last.
type enumSite uint8

const (
	siteEventType enumSite = iota
	siteInstanceARN
	siteAccountID
	siteVersion
	siteStatusARN
	siteStatusName
	siteStatusType
	siteNextStatusARN
	siteNextStatusName
	siteGroupARN
	siteGroupName
	siteProficiencyName
	siteProficiencyValue
	siteProfileARN
	siteProfileName
	siteSlotsChannel
	siteQueueARN
	siteQueueName
	siteQueueChannel
	siteContactChannel
	siteInitiationMethod
	siteContactState
	enumSites
)

// enum reads a string field through the intern table: for values that repeat across
// events, so they cost one allocation in all and are shared by whoever keeps them. A
// value the same as the last one at its site (the instance, the agent's status and
// profile in both snapshots, the next event of the stream) skips the table's hashing.
func (d *Decoder) enum(field string, site enumSite) string {
	b, ok := d.rawString(field)
	if !ok {
		return ""
	}
	s := d.lastEnum[site]
	if s != string(b) {
		s = d.interned(b)
		d.lastEnum[site] = s
	}
	d.sink.String(s)
	return s
}

func (d *Decoder) interned(b []byte) string {
	s, ok := d.intern[string(b)]
	if !ok {
		s = string(b)
		if len(s) <= maxInternedLen && len(d.intern) < maxInterned {
			d.intern[s] = s
		}
	}
	return s
}

func (d *Decoder) number(field string) float64 {
	switch k := d.sc.next(); k {
	case kindNumber:
		return d.emitNumber()
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
	default:
		d.wrongType(field, "number", k)
	}
	return 0
}

func (d *Decoder) integer(field string) int64 {
	switch k := d.sc.next(); k {
	case kindNumber:
		i, _, isInt := d.sc.readNumber()
		if !isInt {
			d.fail(ErrKindWrongType, field, "want integer, got number")
			return 0
		}
		d.sink.Int(i)
		return i
	case kindNull:
		d.sc.literal("null")
		d.sink.Null()
	default:
		d.wrongType(field, "integer", k)
	}
	return 0
}

func (d *Decoder) timestamp(field string) time.Time {
	b, ok := d.rawString(field)
	if !ok {
		return time.Time{}
	}
	d.sink.String(d.Copy(b))
	if len(b) == 0 {
		return time.Time{}
	}
	t, err := ParseTimestamp(b)
	if err != nil {
		d.failAt(ErrKindInvalidTimestamp, pathElem{key: field}, errTimestamp.Error(), strconv.Quote(string(b)))
	}
	return t
}

// snapshot decodes an AgentSnapshot; it reports whether one was present (not null).
func (d *Decoder) snapshot(field string, s *Snapshot) bool {
	present := d.members(field, 4, func(key []byte) bool {
		switch string(key) {
		case "AgentStatus":
			d.agentStatus("AgentStatus", &s.AgentStatus)
		case "NextAgentStatus":
			d.nextAgentStatus("NextAgentStatus", &s.NextAgentStatus)
		case "Configuration":
			d.configuration("Configuration", &s.Configuration)
		case "Contacts":
			d.each("Contacts", 2, func() {
				s.Contacts = extend(s.Contacts, func(c *Contact) { *c = Contact{Queue: c.Queue.reuse()} })
				d.contact(&s.Contacts[len(s.Contacts)-1])
			})
		default:
			return false
		}
		return true
	})
	if s.AgentStatus.Type == "" && s.AgentStatus.Name != "" {
		s.AgentStatus.Type = DeriveStatusType(s.AgentStatus.Name)
		s.AgentStatus.TypeDerived = true
	}
	return present
}

func (d *Decoder) agentStatus(field string, st *AgentStatus) {
	d.members(field, 4, func(key []byte) bool {
		switch string(key) {
		case "ARN":
			st.ARN = d.enum("ARN", siteStatusARN)
		case "Name":
			st.Name = d.enum("Name", siteStatusName)
		case "Type":
			st.Type = d.enum("Type", siteStatusType)
		case "StartTimestamp":
			st.StartTimestamp = d.timestamp("StartTimestamp")
		default:
			return false
		}
		return true
	})
}

func (d *Decoder) nextAgentStatus(field string, st *NextAgentStatus) {
	d.members(field, 3, func(key []byte) bool {
		switch string(key) {
		case "ARN":
			st.ARN = d.enum("ARN", siteNextStatusARN)
		case "Name":
			st.Name = d.enum("Name", siteNextStatusName)
		case "EnqueuedTimestamp":
			st.EnqueuedTimestamp = d.timestamp("EnqueuedTimestamp")
		case "EnqueueTimestamp": // some AWS pages spell it so
			st.EnqueuedTimestamp = d.timestamp("EnqueueTimestamp")
		default:
			return false
		}
		return true
	})
}

func (d *Decoder) configuration(field string, c *Configuration) {
	d.members(field, 6, func(key []byte) bool {
		switch string(key) {
		case "Username":
			c.Username = d.str("Username")
		case "FirstName":
			c.FirstName = d.str("FirstName")
		case "LastName":
			c.LastName = d.str("LastName")
		case "RoutingProfile":
			d.routingProfile("RoutingProfile", &c.RoutingProfile)
		case "AgentHierarchyGroups":
			d.hierarchyGroupsOf(c)
		case "Proficiencies":
			d.each("Proficiencies", 3, func() {
				c.Proficiencies = append(c.Proficiencies, Proficiency{})
				d.proficiency(&c.Proficiencies[len(c.Proficiencies)-1])
			})
		default:
			return false
		}
		return true
	})
}

var hierarchyLevels = [5]string{"Level1", "Level2", "Level3", "Level4", "Level5"}

func (d *Decoder) hierarchyGroups(field string, h *HierarchyGroups) {
	d.members(field, 5, func(key []byte) bool {
		if len(key) != 6 || string(key[:5]) != "Level" || key[5] < '1' || key[5] > '5' {
			return false
		}
		g := &h.Levels[key[5]-'1']
		d.members(hierarchyLevels[key[5]-'1'], 2, func(key []byte) bool {
			switch string(key) {
			case "ARN":
				g.ARN = d.enum("ARN", siteGroupARN)
			case "Name":
				g.Name = d.enum("Name", siteGroupName)
			default:
				return false
			}
			return true
		})
		return true
	})
}

func (d *Decoder) proficiency(p *Proficiency) {
	d.members("", 3, func(key []byte) bool {
		switch string(key) {
		case "Name":
			p.Name = d.enum("Name", siteProficiencyName)
		case "Value":
			p.Value = d.enum("Value", siteProficiencyValue)
		case "Level":
			p.Level = d.number("Level")
		default:
			return false
		}
		return true
	})
}

func (d *Decoder) routingProfile(field string, rp *RoutingProfile) {
	d.members(field, 5, func(key []byte) bool {
		switch string(key) {
		case "ARN":
			rp.ARN = d.enum("ARN", siteProfileARN)
		case "Name":
			rp.Name = d.enum("Name", siteProfileName)
		case "DefaultOutboundQueue":
			d.outboundQueue(rp)
		case "InboundQueues":
			d.inboundQueues(rp)
		case "Concurrency":
			d.concurrencies(rp)
		default:
			return false
		}
		return true
	})
}

func (d *Decoder) concurrency(c *Concurrency) {
	d.members("", 3, func(key []byte) bool {
		switch string(key) {
		case "Channel":
			c.Channel = d.enum("Channel", siteSlotsChannel)
		case "AvailableSlots":
			c.AvailableSlots = d.integer("AvailableSlots")
		case "MaximumSlots":
			c.MaximumSlots = d.integer("MaximumSlots")
		default:
			return false
		}
		return true
	})
}

// extend adds an element to s. An element left past len(s) by an earlier record is
// cleared by clear, which may keep its slices' arrays: the queues of a routing profile
// then cost no allocation per event once the first events have sized them.
func extend[T any](s []T, clear func(*T)) []T {
	if len(s) == cap(s) {
		var zero T
		return append(s, zero)
	}
	s = s[:len(s)+1]
	clear(&s[len(s)-1])
	return s
}

// reuse returns an empty queue that keeps the array of q's channels.
func (q *Queue) reuse() Queue { return Queue{Channels: q.Channels[:0]} }

func (d *Decoder) queue(field string, q *Queue) {
	d.members(field, 3, func(key []byte) bool {
		switch string(key) {
		case "ARN":
			q.ARN = d.enum("ARN", siteQueueARN)
		case "Name":
			q.Name = d.enum("Name", siteQueueName)
		case "Channels":
			d.each("Channels", 3, func() {
				q.Channels = append(q.Channels, d.enum("", siteQueueChannel))
			})
		default:
			return false
		}
		return true
	})
}

func (d *Decoder) contact(c *Contact) {
	d.members("", 9, func(key []byte) bool {
		switch string(key) {
		case "ContactId":
			c.ContactID = d.str("ContactId")
		case "InitialContactId":
			c.InitialContactID = d.str("InitialContactId")
		case "Channel":
			c.Channel = d.enum("Channel", siteContactChannel)
		case "InitiationMethod":
			c.InitiationMethod = d.enum("InitiationMethod", siteInitiationMethod)
		case "State":
			c.State = d.enum("State", siteContactState)
		case "StateStartTimestamp":
			c.StateStartTimestamp = d.timestamp("StateStartTimestamp")
		case "ConnectedToAgentTimestamp":
			c.ConnectedToAgentTimestamp = d.timestamp("ConnectedToAgentTimestamp")
		case "QueueTimestamp":
			c.QueueTimestamp = d.timestamp("QueueTimestamp")
		case "Queue":
			d.queue("Queue", &c.Queue)
		default:
			return false
		}
		return true
	})
}

var errTimestamp = errors.New("not an ISO 8601 timestamp (want yyyy-mm-ddThh:mm:ss[.sss]Z)")

// ParseTimestamp parses the ISO 8601 UTC timestamps Amazon Connect writes, with or
// without fractional seconds. The common shape is parsed by hand; anything else
// (an offset instead of Z, say) goes through time.Parse.
func ParseTimestamp(b []byte) (time.Time, error) {
	if t, ok := parseUTC(b); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", errTimestamp, b)
	}
	return t.UTC(), nil
}

// parseUTC handles yyyy-mm-ddThh:mm:ss[.f{1,9}]Z.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if rest[0] == '.' {
		digits := 0
		i := 1
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if digits < 9 {
				nsec = nsec*10 + int(rest[i]-'0')
				digits++
			}
		}
		if i == 1 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	if len(rest) != 1 || (rest[0] != 'Z' && rest[0] != 'z') {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April and the like
		return time.Time{}, false
	}
	return t, true
}
