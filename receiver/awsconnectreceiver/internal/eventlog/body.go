package eventlog

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

// bodyKey returns a field name of the data model without allocating. A switch compiles
// to a few length and byte comparisons, cheaper here than a map lookup.
func bodyKey(b []byte) (key string, repetitive bool) {
	switch string(b) {
	case "AWSAccountId":
		return "AWSAccountId", true
	case "InstanceARN":
		return "InstanceARN", true
	case "Version":
		return "Version", true
	case "EventType":
		return "EventType", true
	case "ARN":
		return "ARN", true
	case "Name":
		return "Name", true
	case "Type":
		return "Type", true
	case "Channel":
		return "Channel", true
	case "Channels":
		return "Channels", true
	case "State":
		return "State", true
	case "InitiationMethod":
		return "InitiationMethod", true
	case "Value":
		return "Value", true
	case "AgentARN":
		return "AgentARN", false
	case "CurrentAgentSnapshot":
		return "CurrentAgentSnapshot", false
	case "PreviousAgentSnapshot":
		return "PreviousAgentSnapshot", false
	case "EventId":
		return "EventId", false
	case "EventTimestamp":
		return "EventTimestamp", false
	case "AgentStatus":
		return "AgentStatus", false
	case "NextAgentStatus":
		return "NextAgentStatus", false
	case "Configuration":
		return "Configuration", false
	case "Contacts":
		return "Contacts", false
	case "StartTimestamp":
		return "StartTimestamp", false
	case "EnqueuedTimestamp":
		return "EnqueuedTimestamp", false
	case "EnqueueTimestamp":
		return "EnqueueTimestamp", false
	case "FirstName":
		return "FirstName", false
	case "LastName":
		return "LastName", false
	case "Username":
		return "Username", false
	case "AgentHierarchyGroups":
		return "AgentHierarchyGroups", false
	case "RoutingProfile":
		return "RoutingProfile", false
	case "Proficiencies":
		return "Proficiencies", false
	case "Level1":
		return "Level1", false
	case "Level2":
		return "Level2", false
	case "Level3":
		return "Level3", false
	case "Level4":
		return "Level4", false
	case "Level5":
		return "Level5", false
	case "Level":
		return "Level", false
	case "InboundQueues":
		return "InboundQueues", false
	case "DefaultOutboundQueue":
		return "DefaultOutboundQueue", false
	case "Concurrency":
		return "Concurrency", false
	case "AvailableSlots":
		return "AvailableSlots", false
	case "MaximumSlots":
		return "MaximumSlots", false
	case "ContactId":
		return "ContactId", false
	case "InitialContactId":
		return "InitialContactId", false
	case "StateStartTimestamp":
		return "StateStartTimestamp", false
	case "ConnectedToAgentTimestamp":
		return "ConnectedToAgentTimestamp", false
	case "QueueTimestamp":
		return "QueueTimestamp", false
	case "Queue":
		return "Queue", false
	}
	return string(b), false
}

// bodySink builds a log record's body from what the decoder hands it, in the same pass
// as the decode: every field, in document order. Integers stay integers; other numbers
// become doubles; null stays an empty value. With a Redactor, personal values are
// dropped, or hashed whole: every scalar inside them, and the keys of objects inside them
// (which can be names too).
type bodySink struct {
	// slot is where the next value goes when the innermost container is a map (set by
	// Key), or the body itself before the first value.
	slot  pcommon.Value
	stack []container
	// key is the last key seen, the key of a container that opens next; kept to redact.
	key string

	redact *Redactor
	// hashNext says the next value is personal data to hash.
	hashNext bool
	// discard takes the values of dropped personal fields.
	discard pcommon.Value
	// slab holds the values, for a handful of allocations a record instead of ~150.
	slab *pdataslab.Slab
}

type container struct {
	// v is the map or the slice. One value, not a pcommon.Map and a pcommon.Slice: each
	// container pushed copies its pointers, which costs write barriers while the
	// collector marks.
	v       pcommon.Value
	isSlice bool
	// key is the key whose value this container is; empty in an array, and kept only to
	// redact.
	key string
	// personal says everything inside is personal data, to hash.
	personal bool
}

var _ agentevent.Sink = (*bodySink)(nil)

func (b *bodySink) reset(body pcommon.Value) {
	b.slot = body
	b.stack = b.stack[:0]
	b.hashNext = false
	b.key = ""
}

// next returns the value to fill: a new element inside an array, else the slot.
func (b *bodySink) next() pcommon.Value {
	if n := len(b.stack); n > 0 && b.stack[n-1].isSlice {
		return b.stack[n-1].v.Slice().AppendEmpty()
	}
	return b.slot
}

// personalNext reports whether the value about to be filled is personal data to hash:
// the value of a personal key, or an element of a personal array.
func (b *bodySink) personalNext() bool {
	if b.hashNext {
		b.hashNext = false
		return true
	}
	n := len(b.stack)
	return n > 0 && b.stack[n-1].isSlice && b.stack[n-1].personal
}

// open pushes a container; key is that of its value in the parent map, if any.
func (b *bodySink) open(c container) {
	if n := len(b.stack); b.redact.Active() && (n == 0 || !b.stack[n-1].isSlice) {
		c.key = b.key
	}
	b.stack = append(b.stack, c)
}

func (b *bodySink) Object(members int) {
	personal := b.personalNext()
	v := b.next()
	b.slab.SetEmptyMap(v, members)
	b.open(container{v: v, personal: personal})
}

func (b *bodySink) Array(elements int) {
	personal := b.personalNext()
	v := b.next()
	b.slab.SetEmptySlice(v, elements)
	b.open(container{v: v, isSlice: true, personal: personal})
}

func (b *bodySink) End() { b.stack = b.stack[:len(b.stack)-1] }

func (b *bodySink) Key(k []byte) {
	key, _ := bodyKey(k)
	top := &b.stack[len(b.stack)-1]
	// The key and hashNext matter only to redact: unredacted, neither is written (each
	// write of a pointer costs a barrier while the collector marks).
	if b.redact.Active() {
		b.hashNext = false
		b.key = key
		var parentKey, grandparentKey string
		if n := len(b.stack); n >= 2 {
			parentKey, grandparentKey = top.key, b.stack[n-2].key
		}
		if top.personal || b.redact.personal(key, parentKey, grandparentKey) {
			if b.redact.mode == RedactDrop {
				b.slot = b.discard
				return
			}
			if top.personal {
				key = b.redact.Hash(key)
			}
			b.hashNext = true
		}
	}
	b.slot = b.slab.PutNewEmpty(top.v.Map(), key)
}

func (b *bodySink) String(s string) {
	if b.personalNext() || (b.redact.HashesAgentARN() && IsAgentARN(s)) {
		s = b.redact.Hash(s)
	}
	b.slab.SetStr(b.next(), s)
}

// Scalars that are personal become the hash of their JSON text.
func (b *bodySink) Int(i int64) {
	if b.personalNext() {
		b.slab.SetStr(b.next(), b.redact.Hash(strconv.FormatInt(i, 10)))
		return
	}
	b.slab.SetInt(b.next(), i)
}

func (b *bodySink) Double(f float64) {
	if b.personalNext() {
		b.slab.SetStr(b.next(), b.redact.Hash(strconv.FormatFloat(f, 'g', -1, 64)))
		return
	}
	b.slab.SetDouble(b.next(), f)
}

func (b *bodySink) Bool(v bool) {
	if b.personalNext() {
		b.slab.SetStr(b.next(), b.redact.Hash(strconv.FormatBool(v)))
		return
	}
	b.slab.SetBool(b.next(), v)
}

// Null says nothing about anyone, and stays null.
func (b *bodySink) Null() {
	b.personalNext()
	b.next()
}
