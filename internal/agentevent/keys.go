package agentevent

import (
	"bytes"
	"unsafe"
)

// keySet finds a key repeated within one object in time linear in the keys: an object's
// keys are compared one by one while it has few (agent events have at most ten), then
// kept in a map. Keys are kept as offsets, not slices, so that keeping one costs no
// pointer write.
type keySet struct {
	// data is the record being decoded; esc holds the keys that had escapes, unescaped.
	data, esc []byte
	// keys holds the keys of the open objects that have few, innermost last.
	keys []keyRef
	// frames holds one entry per open object, innermost last.
	frames []keyFrame
	// spare maps are kept for the next objects that need one.
	spare []map[string]struct{}
}

// keyRef is a key at data[off:off+n], or, for off < 0, at esc[-off-1:][:n].
type keyRef struct{ off, n int32 }

type keyFrame struct {
	start int                 // where the object's keys start in keys
	big   map[string]struct{} // the object's keys once it has more than linearKeys
	// seen has a bit set for each key's sketch (see sketch): a key whose bit is clear is
	// new, with no comparison, which is nearly always.
	seen uint64
}

// linearKeys is how many keys an object may have before its keys go in a map.
const linearKeys = 16

// sketch picks one of 64 bits for a key, from its length and its first and last bytes.
func sketch(key []byte) uint64 {
	if len(key) == 0 {
		return 1
	}
	return 1 << ((uint(len(key))*7 + uint(key[0])*3 + uint(key[len(key)-1])) & 63)
}

func (k *keySet) start(data []byte) { k.data, k.esc = data, k.esc[:0] }

func (k *keySet) open() { k.frames = append(k.frames, keyFrame{start: len(k.keys)}) }

func (k *keySet) close() {
	f := k.frames[len(k.frames)-1]
	k.frames = k.frames[:len(k.frames)-1]
	k.keys = k.keys[:f.start]
	if f.big != nil {
		clear(f.big)
		k.spare = append(k.spare, f.big)
	}
}

// reset forgets all objects, open ones too (a record may end early), and the record.
func (k *keySet) reset() {
	for len(k.frames) > 0 {
		k.close()
	}
	k.data = nil
}

func (k *keySet) bytes(r keyRef) []byte {
	if r.off >= 0 {
		return k.data[r.off : r.off+r.n]
	}
	return k.esc[-r.off-1:][:r.n]
}

// add adds key to the innermost open object, and reports false if it was there already.
// key is in data unless escaped. It returns the key where it stays valid for the whole
// decode.
func (k *keySet) add(key []byte, escaped bool) ([]byte, bool) {
	var ref keyRef
	if escaped {
		ref = keyRef{off: -int32(len(k.esc)) - 1, n: int32(len(key))}
		k.esc = append(k.esc, key...)
		key = k.esc[len(k.esc)-len(key):]
	} else {
		ref = keyRef{off: int32(uintptr(unsafe.Pointer(unsafe.SliceData(key))) - uintptr(unsafe.Pointer(unsafe.SliceData(k.data)))), n: int32(len(key))}
	}
	f := &k.frames[len(k.frames)-1]
	if f.big != nil {
		if _, dup := f.big[string(key)]; dup {
			return key, false
		}
		f.big[stable(key)] = struct{}{}
		return key, true
	}
	own := k.keys[f.start:]
	if bit := sketch(key); f.seen&bit == 0 {
		f.seen |= bit
	} else {
		for _, o := range own {
			if bytes.Equal(k.bytes(o), key) {
				return key, false
			}
		}
	}
	if len(own) < linearKeys {
		k.keys = append(k.keys, ref)
		return key, true
	}
	if n := len(k.spare); n > 0 {
		f.big, k.spare = k.spare[n-1], k.spare[:n-1]
	} else {
		f.big = make(map[string]struct{}, 2*linearKeys)
	}
	for _, o := range own {
		f.big[stable(k.bytes(o))] = struct{}{}
	}
	f.big[stable(key)] = struct{}{}
	k.keys = k.keys[:f.start]
	return key, true
}

// stable views a key as a string without a copy: the key's bytes (the record, or esc,
// whose old arrays live on when it grows) do not change during the decode, and the map
// is cleared at the end of its object.
func stable(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// modelKey reports whether k is a key of the data model: one that never holds personal
// data, so an error message may name it.
func modelKey(k string) bool {
	_, ok := modelKeys[k]
	return ok
}

var modelKeys = map[string]struct{}{}

func init() {
	for _, k := range []string{
		"EventId", "EventType", "EventTimestamp", "AgentARN", "InstanceARN", "AWSAccountId", "Version",
		"CurrentAgentSnapshot", "PreviousAgentSnapshot", "AgentStatus", "NextAgentStatus", "Configuration", "Contacts",
		"ARN", "Name", "Type", "StartTimestamp", "EnqueuedTimestamp", "EnqueueTimestamp",
		"Username", "FirstName", "LastName", "RoutingProfile", "AgentHierarchyGroups", "Proficiencies",
		"Level1", "Level2", "Level3", "Level4", "Level5", "Level", "Value",
		"DefaultOutboundQueue", "InboundQueues", "Concurrency", "Channel", "AvailableSlots", "MaximumSlots",
		"Channels", "ContactId", "InitialContactId", "InitiationMethod", "State", "StateStartTimestamp",
		"ConnectedToAgentTimestamp", "QueueTimestamp", "Queue",
	} {
		modelKeys[k] = struct{}{}
	}
}
