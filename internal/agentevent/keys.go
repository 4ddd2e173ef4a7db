package agentevent

import (
	"bytes"
	"unsafe"
)

// keySet finds a key repeated within one object in time linear in the keys: an object's
// keys are compared one by one while it has few (agent events have at most ten), then
// kept in a map. Keys must stay valid for the whole decode.
type keySet struct {
	// keys holds the keys of the open objects that have few, innermost last.
	keys [][]byte
	// frames holds one entry per open object, innermost last.
	frames []keyFrame
	// spare maps are kept for the next objects that need one.
	spare []map[string]struct{}
}

type keyFrame struct {
	start int                 // where the object's keys start in keys
	big   map[string]struct{} // the object's keys once it has more than linearKeys
}

// linearKeys is how many keys an object may have before its keys go in a map.
const linearKeys = 16

func (k *keySet) open() { k.frames = append(k.frames, keyFrame{start: len(k.keys)}) }

func (k *keySet) close() {
	f := k.frames[len(k.frames)-1]
	k.frames = k.frames[:len(k.frames)-1]
	clear(k.keys[f.start:]) // keep no reference to the record
	k.keys = k.keys[:f.start]
	if f.big != nil {
		clear(f.big)
		k.spare = append(k.spare, f.big)
	}
}

// reset forgets all open objects, after a record ended early.
func (k *keySet) reset() {
	for len(k.frames) > 0 {
		k.close()
	}
}

// add adds key to the innermost open object, and reports false if it was there already.
func (k *keySet) add(key []byte) bool {
	f := &k.frames[len(k.frames)-1]
	if f.big != nil {
		if _, dup := f.big[string(key)]; dup {
			return false
		}
		f.big[unsafe.String(unsafe.SliceData(key), len(key))] = struct{}{}
		return true
	}
	own := k.keys[f.start:]
	for _, o := range own {
		if bytes.Equal(o, key) {
			return false
		}
	}
	if len(own) < linearKeys {
		k.keys = append(k.keys, key)
		return true
	}
	if n := len(k.spare); n > 0 {
		f.big, k.spare = k.spare[n-1], k.spare[:n-1]
	} else {
		f.big = make(map[string]struct{}, 2*linearKeys)
	}
	for _, o := range own {
		f.big[unsafe.String(unsafe.SliceData(o), len(o))] = struct{}{}
	}
	f.big[unsafe.String(unsafe.SliceData(key), len(key))] = struct{}{}
	clear(own)
	k.keys = k.keys[:f.start]
	return true
}

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
