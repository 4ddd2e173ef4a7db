package agentevent

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
)

// Kinds of decode failure, stable enough to be used as the error.type of a log record.
const (
	ErrKindInvalidUTF8      = "invalid_utf8"
	ErrKindInvalidJSON      = "invalid_json"
	ErrKindNotAnObject      = "not_an_object"
	ErrKindWrongType        = "wrong_type"
	ErrKindMissingField     = "missing_field"
	ErrKindInvalidTimestamp = "invalid_timestamp"
)

// DecodeError says why a record is not an agent event.
type DecodeError struct {
	Kind string
	// Field is the JSON path of the offending field, empty for whole-record failures.
	Field string
	Msg   string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Decoder decodes agent event records. It is not safe for concurrent use: give each
// goroutine its own. It reuses its parse buffers, and interns the short, repetitive
// strings (statuses, channels, states, queue and profile names) it sees, up to a bound.
type Decoder struct {
	parser fastjson.Parser
	intern map[string]string
	err    *DecodeError
	// path is where the decoder is in the document, rendered only when a field is bad.
	path []pathElem
	// arena holds the bytes of short strings, in chunks; see Copy.
	arena []byte
}

type pathElem struct {
	key   string
	index int // for array elements; key is then empty
}

// NewDecoder returns a ready Decoder.
func NewDecoder() *Decoder {
	return &Decoder{intern: make(map[string]string, 256)}
}

const (
	maxInterned    = 8192
	maxInternedLen = 256
)

// Decode parses one record into ev, reusing ev's slices. It returns the parsed document,
// which stays valid until the next call to Decode, so the caller can walk every field,
// including those the model does not know. A record that is not an agent event returns
// a *DecodeError.
func (d *Decoder) Decode(data []byte, ev *Event) (*fastjson.Value, error) {
	ev.reset()
	if !utf8.Valid(data) {
		return nil, &DecodeError{Kind: ErrKindInvalidUTF8, Msg: "record is not valid UTF-8"}
	}
	root, err := d.parser.ParseBytes(data)
	if err != nil {
		return nil, &DecodeError{Kind: ErrKindInvalidJSON, Msg: "record is not valid JSON: " + err.Error()}
	}
	obj, err := root.Object()
	if err != nil {
		return nil, &DecodeError{Kind: ErrKindNotAnObject, Msg: "record is a JSON " + root.Type().String() + ", not an object"}
	}
	d.err = nil
	d.path = d.path[:0]
	obj.Visit(func(key []byte, v *fastjson.Value) {
		if d.err != nil {
			return
		}
		switch string(key) {
		case "EventId":
			ev.EventID = d.str(v, "EventId")
		case "EventType":
			ev.EventType = d.enum(v, "EventType")
		case "EventTimestamp":
			ev.EventTimestamp = d.timestamp(v, "EventTimestamp")
		case "AgentARN":
			ev.AgentARN = d.str(v, "AgentARN")
		case "InstanceARN":
			ev.InstanceARN = d.enum(v, "InstanceARN")
		case "AWSAccountId":
			ev.AWSAccountID = d.enum(v, "AWSAccountId")
		case "Version":
			ev.Version = d.enum(v, "Version")
		case "CurrentAgentSnapshot":
			d.snapshot(v, "CurrentAgentSnapshot", &ev.Current)
		case "PreviousAgentSnapshot":
			ev.HasPrevious = d.snapshot(v, "PreviousAgentSnapshot", &ev.Previous)
		}
	})
	if d.err != nil {
		return nil, d.err
	}
	if ev.EventType == "" {
		return nil, &DecodeError{Kind: ErrKindMissingField, Field: "EventType", Msg: "missing, so this is not an agent event"}
	}
	return root, nil
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
				InboundQueues: s.Configuration.RoutingProfile.InboundQueues[:0],
				Concurrency:   s.Configuration.RoutingProfile.Concurrency[:0],
			},
		},
	}
}

func (d *Decoder) fail(kind, field, msg string) {
	if d.err == nil {
		d.err = &DecodeError{Kind: kind, Field: d.fieldPath(field), Msg: msg}
	}
}

func (d *Decoder) push(key string) { d.path = append(d.path, pathElem{key: key}) }
func (d *Decoder) pushIndex(i int) { d.path = append(d.path, pathElem{index: i}) }
func (d *Decoder) pop()            { d.path = d.path[:len(d.path)-1] }

func (d *Decoder) fieldPath(leaf string) string {
	var b strings.Builder
	for _, e := range d.path {
		if e.key == "" {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	if leaf != "" {
		if b.Len() > 0 && leaf[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(leaf)
	}
	return b.String()
}

func (d *Decoder) wrongType(v *fastjson.Value, field, want string) {
	d.fail(ErrKindWrongType, field, "want "+want+", got "+v.Type().String())
}

// object returns v's object, nil for null, and records a wrong type otherwise.
func (d *Decoder) object(v *fastjson.Value, field string) *fastjson.Object {
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		d.wrongType(v, field, "object")
		return nil
	}
	return o
}

func (d *Decoder) array(v *fastjson.Value, field string) []*fastjson.Value {
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	a, err := v.Array()
	if err != nil {
		d.wrongType(v, field, "array")
		return nil
	}
	return a
}

func (d *Decoder) rawString(v *fastjson.Value, field string) ([]byte, bool) {
	if v.Type() == fastjson.TypeNull {
		return nil, false
	}
	b, err := v.StringBytes()
	if err != nil {
		d.wrongType(v, field, "string")
		return nil, false
	}
	return b, true
}

// str copies a string field.
func (d *Decoder) str(v *fastjson.Value, field string) string {
	b, ok := d.rawString(v, field)
	if !ok {
		return ""
	}
	return d.Copy(b)
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

// enum returns a string field through the intern table: for values that repeat across
// events, so they cost one allocation in all and are shared by whoever keeps them.
func (d *Decoder) enum(v *fastjson.Value, field string) string {
	b, ok := d.rawString(v, field)
	if !ok {
		return ""
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(s) <= maxInternedLen && len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}

// String returns b as a string, shared with the intern table when the decoder has seen
// it as a repetitive value (a status, a queue ARN...), so the values of a record's body
// that the typed decode already met cost no allocation.
func (d *Decoder) String(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	return d.Copy(b)
}

func (d *Decoder) number(v *fastjson.Value, field string) float64 {
	if v.Type() == fastjson.TypeNull {
		return 0
	}
	f, err := v.Float64()
	if err != nil {
		d.wrongType(v, field, "number")
	}
	return f
}

func (d *Decoder) integer(v *fastjson.Value, field string) int64 {
	if v.Type() == fastjson.TypeNull {
		return 0
	}
	i, err := v.Int64()
	if err != nil {
		d.wrongType(v, field, "integer")
	}
	return i
}

func (d *Decoder) timestamp(v *fastjson.Value, field string) time.Time {
	b, ok := d.rawString(v, field)
	if !ok || len(b) == 0 {
		return time.Time{}
	}
	t, err := ParseTimestamp(b)
	if err != nil {
		d.fail(ErrKindInvalidTimestamp, field, err.Error())
	}
	return t
}

// snapshot decodes an AgentSnapshot; it reports whether one was present (not null).
func (d *Decoder) snapshot(v *fastjson.Value, field string, s *Snapshot) bool {
	o := d.enter(v, field)
	if o == nil {
		return false
	}
	defer d.pop()
	o.Visit(func(key []byte, v *fastjson.Value) {
		if d.err != nil {
			return
		}
		switch string(key) {
		case "AgentStatus":
			d.agentStatus(v, "AgentStatus", &s.AgentStatus)
		case "NextAgentStatus":
			d.nextAgentStatus(v, "NextAgentStatus", &s.NextAgentStatus)
		case "Configuration":
			d.configuration(v, "Configuration", &s.Configuration)
		case "Contacts":
			d.each(v, "Contacts", func(c *fastjson.Value) {
				s.Contacts = append(s.Contacts, Contact{})
				d.contact(c, &s.Contacts[len(s.Contacts)-1])
			})
		}
	})
	if s.AgentStatus.Type == "" && s.AgentStatus.Name != "" {
		s.AgentStatus.Type = DeriveStatusType(s.AgentStatus.Name)
		s.AgentStatus.TypeDerived = true
	}
	return true
}

// enter checks that v is an object or null; for an object it pushes field onto the path
// and returns it, and the caller pops.
func (d *Decoder) enter(v *fastjson.Value, field string) *fastjson.Object {
	o := d.object(v, field)
	if o != nil {
		d.push(field)
	}
	return o
}

// each calls fn for every element of the array field, with the element's index on the path.
func (d *Decoder) each(v *fastjson.Value, field string, fn func(*fastjson.Value)) {
	a := d.array(v, field)
	if len(a) == 0 {
		return
	}
	d.push(field)
	for i, e := range a {
		if d.err != nil {
			break
		}
		d.pushIndex(i)
		fn(e)
		d.pop()
	}
	d.pop()
}

func (d *Decoder) agentStatus(v *fastjson.Value, field string, st *AgentStatus) {
	o := d.enter(v, field)
	if o == nil {
		return
	}
	defer d.pop()
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "ARN":
			st.ARN = d.enum(v, "ARN")
		case "Name":
			st.Name = d.enum(v, "Name")
		case "Type":
			st.Type = d.enum(v, "Type")
		case "StartTimestamp":
			st.StartTimestamp = d.timestamp(v, "StartTimestamp")
		}
	})
}

func (d *Decoder) nextAgentStatus(v *fastjson.Value, field string, st *NextAgentStatus) {
	o := d.enter(v, field)
	if o == nil {
		return
	}
	defer d.pop()
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "ARN":
			st.ARN = d.enum(v, "ARN")
		case "Name":
			st.Name = d.enum(v, "Name")
		case "EnqueuedTimestamp":
			st.EnqueuedTimestamp = d.timestamp(v, "EnqueuedTimestamp")
		case "EnqueueTimestamp": // some AWS pages spell it so
			st.EnqueuedTimestamp = d.timestamp(v, "EnqueueTimestamp")
		}
	})
}

func (d *Decoder) configuration(v *fastjson.Value, field string, c *Configuration) {
	o := d.enter(v, field)
	if o == nil {
		return
	}
	defer d.pop()
	o.Visit(func(key []byte, v *fastjson.Value) {
		if d.err != nil {
			return
		}
		switch string(key) {
		case "Username":
			c.Username = d.str(v, "Username")
		case "FirstName":
			c.FirstName = d.str(v, "FirstName")
		case "LastName":
			c.LastName = d.str(v, "LastName")
		case "RoutingProfile":
			d.routingProfile(v, "RoutingProfile", &c.RoutingProfile)
		case "AgentHierarchyGroups":
			d.hierarchyGroups(v, "AgentHierarchyGroups", &c.HierarchyGroups)
		case "Proficiencies":
			d.each(v, "Proficiencies", func(p *fastjson.Value) {
				c.Proficiencies = append(c.Proficiencies, Proficiency{})
				d.proficiency(p, &c.Proficiencies[len(c.Proficiencies)-1])
			})
		}
	})
}

var hierarchyLevels = [5]string{"Level1", "Level2", "Level3", "Level4", "Level5"}

func (d *Decoder) hierarchyGroups(v *fastjson.Value, field string, h *HierarchyGroups) {
	o := d.enter(v, field)
	if o == nil {
		return
	}
	defer d.pop()
	for i, level := range hierarchyLevels {
		lv := o.Get(level)
		if lv == nil || d.err != nil {
			continue
		}
		g := &h.Levels[i]
		lo := d.enter(lv, level)
		if lo == nil {
			continue
		}
		lo.Visit(func(key []byte, v *fastjson.Value) {
			switch string(key) {
			case "ARN":
				g.ARN = d.enum(v, "ARN")
			case "Name":
				g.Name = d.enum(v, "Name")
			}
		})
		d.pop()
	}
}

func (d *Decoder) proficiency(v *fastjson.Value, p *Proficiency) {
	o := d.object(v, "")
	if o == nil {
		return
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "Name":
			p.Name = d.enum(v, "Name")
		case "Value":
			p.Value = d.enum(v, "Value")
		case "Level":
			p.Level = d.number(v, "Level")
		}
	})
}

func (d *Decoder) routingProfile(v *fastjson.Value, field string, rp *RoutingProfile) {
	o := d.enter(v, field)
	if o == nil {
		return
	}
	defer d.pop()
	o.Visit(func(key []byte, v *fastjson.Value) {
		if d.err != nil {
			return
		}
		switch string(key) {
		case "ARN":
			rp.ARN = d.enum(v, "ARN")
		case "Name":
			rp.Name = d.enum(v, "Name")
		case "DefaultOutboundQueue":
			if qo := d.enter(v, "DefaultOutboundQueue"); qo != nil {
				d.queue(qo, &rp.DefaultOutboundQueue)
				d.pop()
			}
		case "InboundQueues":
			d.each(v, "InboundQueues", func(q *fastjson.Value) {
				rp.InboundQueues = append(rp.InboundQueues, Queue{})
				if qo := d.object(q, ""); qo != nil {
					d.queue(qo, &rp.InboundQueues[len(rp.InboundQueues)-1])
				}
			})
		case "Concurrency":
			d.each(v, "Concurrency", func(c *fastjson.Value) {
				rp.Concurrency = append(rp.Concurrency, Concurrency{})
				d.concurrency(c, &rp.Concurrency[len(rp.Concurrency)-1])
			})
		}
	})
}

func (d *Decoder) concurrency(v *fastjson.Value, c *Concurrency) {
	o := d.object(v, "")
	if o == nil {
		return
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "Channel":
			c.Channel = d.enum(v, "Channel")
		case "AvailableSlots":
			c.AvailableSlots = d.integer(v, "AvailableSlots")
		case "MaximumSlots":
			c.MaximumSlots = d.integer(v, "MaximumSlots")
		}
	})
}

// queue decodes a Queue object whose path the caller has pushed.
func (d *Decoder) queue(o *fastjson.Object, q *Queue) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "ARN":
			q.ARN = d.enum(v, "ARN")
		case "Name":
			q.Name = d.enum(v, "Name")
		case "Channels":
			d.each(v, "Channels", func(c *fastjson.Value) {
				q.Channels = append(q.Channels, d.enum(c, ""))
			})
		}
	})
}

func (d *Decoder) contact(v *fastjson.Value, c *Contact) {
	o := d.object(v, "")
	if o == nil {
		return
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "ContactId":
			c.ContactID = d.str(v, "ContactId")
		case "InitialContactId":
			c.InitialContactID = d.str(v, "InitialContactId")
		case "Channel":
			c.Channel = d.enum(v, "Channel")
		case "InitiationMethod":
			c.InitiationMethod = d.enum(v, "InitiationMethod")
		case "State":
			c.State = d.enum(v, "State")
		case "StateStartTimestamp":
			c.StateStartTimestamp = d.timestamp(v, "StateStartTimestamp")
		case "ConnectedToAgentTimestamp":
			c.ConnectedToAgentTimestamp = d.timestamp(v, "ConnectedToAgentTimestamp")
		case "QueueTimestamp":
			c.QueueTimestamp = d.timestamp(v, "QueueTimestamp")
		case "Queue":
			if qo := d.enter(v, "Queue"); qo != nil {
				d.queue(qo, &c.Queue)
				d.pop()
			}
		}
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
