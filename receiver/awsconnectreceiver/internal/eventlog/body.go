package eventlog

import (
	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// bodyKey returns a field name of the data model without allocating, and whether the
// field's values repeat across events (statuses, queues, channels...), which makes them
// worth looking up among the decoder's interned strings. A switch compiles to a few
// length and byte comparisons, cheaper here than a map lookup.
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

// putJSON stores a parsed JSON value into dst, keeping every field and the order of
// object keys. Integers stay integers; other numbers become doubles; null stays empty.
// repetitive says the value sits under a key whose values repeat across events.
func putJSON(dst pcommon.Value, v *fastjson.Value, strs *agentevent.Decoder, repetitive bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := dst.SetEmptyMap()
		m.EnsureCapacity(o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) {
			key, rep := bodyKey(k)
			putJSON(m.PutEmpty(key), v, strs, rep)
		})
	case fastjson.TypeArray:
		a, _ := v.Array()
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(a))
		for _, e := range a {
			putJSON(s.AppendEmpty(), e, strs, repetitive)
		}
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if repetitive {
			dst.SetStr(strs.String(b))
		} else {
			dst.SetStr(strs.Copy(b))
		}
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
