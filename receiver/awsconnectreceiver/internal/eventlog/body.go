package eventlog

import (
	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// knownKeys are the field names of the data model. Body keys are looked up here so the
// common ones cost no allocation.
var knownKeys = func() map[string]string {
	keys := []string{
		"AWSAccountId", "AgentARN", "CurrentAgentSnapshot", "PreviousAgentSnapshot", "EventId",
		"EventTimestamp", "EventType", "InstanceARN", "Version",
		"AgentStatus", "NextAgentStatus", "Configuration", "Contacts",
		"ARN", "Name", "StartTimestamp", "Type", "EnqueuedTimestamp", "EnqueueTimestamp",
		"FirstName", "LastName", "Username", "AgentHierarchyGroups", "RoutingProfile", "Proficiencies",
		"Level1", "Level2", "Level3", "Level4", "Level5", "Level", "Value",
		"InboundQueues", "DefaultOutboundQueue", "Concurrency", "AvailableSlots", "MaximumSlots", "Channel", "Channels",
		"ContactId", "InitialContactId", "InitiationMethod", "State", "StateStartTimestamp",
		"ConnectedToAgentTimestamp", "QueueTimestamp", "Queue",
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = k
	}
	return m
}()

func key(b []byte) string {
	if k, ok := knownKeys[string(b)]; ok {
		return k
	}
	return string(b)
}

// putJSON stores a parsed JSON value into dst, keeping every field and the order of
// object keys. Integers stay integers; other numbers become doubles; null stays empty.
func putJSON(dst pcommon.Value, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := dst.SetEmptyMap()
		m.EnsureCapacity(o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) {
			putJSON(m.PutEmpty(key(k)), v)
		})
	case fastjson.TypeArray:
		a, _ := v.Array()
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(a))
		for _, e := range a {
			putJSON(s.AppendEmpty(), e)
		}
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		dst.SetStr(string(b))
	case fastjson.TypeNumber:
		if i, err := v.Int64(); err == nil {
			dst.SetInt(i)
		} else {
			f, _ := v.Float64()
			dst.SetDouble(f)
		}
	case fastjson.TypeTrue:
		dst.SetBool(true)
	case fastjson.TypeFalse:
		dst.SetBool(false)
	}
}
