package connectsim

import (
	"encoding/json"
	"strconv"
	"time"
)

// Events are written by hand, in the key order Amazon Connect uses (alphabetical), with
// nulls where real events have them. A snapshot is rendered once: the next event's
// PreviousAgentSnapshot is the same bytes.

const timestampLayout = "2006-01-02T15:04:05.000Z"

func appendTimestamp(b []byte, ms int64) []byte {
	b = append(b, '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, timestampLayout)
	return append(b, '"')
}

func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendQueue(b []byte, arn, name string, channels []string) []byte {
	b = append(b, '{')
	b = appendKey(b, "ARN")
	b = appendString(b, arn)
	if channels != nil {
		b = append(b, ',')
		b = appendKey(b, "Channels")
		b = append(b, '[')
		for i, ch := range channels {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, ch)
		}
		b = append(b, ']')
	}
	b = append(b, ',')
	b = appendKey(b, "Name")
	b = appendNullableString(b, name)
	return append(b, '}')
}

// renderConfiguration renders the agent's Configuration around its concurrency, the
// only part of it that changes.
func (s *Simulator) renderConfiguration(a *agent) {
	b := []byte(`{"AgentHierarchyGroups":`)
	if a.hierarchyN {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for level := range 5 {
			if level > 0 {
				b = append(b, ',')
			}
			b = appendKey(b, "Level"+strconv.Itoa(level+1))
			if 2*level+1 < len(a.hierarchy) {
				b = append(b, '{')
				b = appendKey(b, "ARN")
				b = appendString(b, a.hierarchy[2*level])
				b = append(b, ',')
				b = appendKey(b, "Name")
				b = appendString(b, a.hierarchy[2*level+1])
				b = append(b, '}')
			} else {
				b = append(b, "null"...)
			}
		}
		b = append(b, '}')
	}
	b = append(b, ',')
	b = appendKey(b, "FirstName")
	b = appendString(b, a.first)
	b = append(b, ',')
	b = appendKey(b, "LastName")
	b = appendString(b, a.last)
	b = append(b, `,"RoutingProfile":{"ARN":`...)
	b = appendString(b, a.profile.arn)
	b = append(b, `,"Concurrency":[`...)
	a.cfgPrefix = b

	p := a.profile
	b = []byte(`],"DefaultOutboundQueue":`)
	b = appendQueue(b, p.outbound.arn, p.outbound.name, []string{ChannelVoice})
	b = append(b, `,"InboundQueues":[`...)
	var all []string
	for _, cs := range a.slots {
		all = append(all, cs.Channel)
	}
	for _, q := range p.inbound {
		var chs []string
		for _, ch := range q.channels {
			if has(all, ch) {
				chs = append(chs, ch)
			}
		}
		b = appendQueue(b, q.arn, q.name, chs)
		b = append(b, ',')
	}
	b = appendQueue(b, a.queueARN, "", all)
	b = append(b, "],"...)
	b = appendKey(b, "Name")
	b = appendString(b, p.cfg.Name)
	b = append(b, "},"...)
	b = appendKey(b, "Username")
	b = appendString(b, a.username)
	a.cfgSuffix = append(b, '}')
}

// snapshot renders the agent's current AgentSnapshot.
func (s *Simulator) snapshot(a *agent) []byte {
	b := s.buf[:0]
	b = append(b, `{"AgentStatus":{"ARN":`...)
	b = appendString(b, a.status.arn)
	b = append(b, `,"Name":`...)
	b = appendString(b, a.status.name)
	b = append(b, `,"StartTimestamp":`...)
	b = appendTimestamp(b, a.statusAt)
	if !(s.cfg.NoStatusTypeFraction > 0 && s.vrng.Float64() < s.cfg.NoStatusTypeFraction) {
		b = append(b, `,"Type":`...)
		b = appendString(b, a.status.typ)
	}
	b = append(b, `},"Configuration":`...)
	b = append(b, a.cfgPrefix...)
	for i, cs := range a.slots {
		if i > 0 {
			b = append(b, ',')
		}
		held := 0
		for _, c := range a.contacts {
			if c.channel == cs.Channel && holdsSlot(c.state) {
				held++
			}
		}
		b = append(b, `{"AvailableSlots":`...)
		b = strconv.AppendInt(b, int64(max(cs.MaximumSlots-held, 0)), 10)
		b = append(b, `,"Channel":`...)
		b = appendString(b, cs.Channel)
		b = append(b, `,"MaximumSlots":`...)
		b = strconv.AppendInt(b, int64(cs.MaximumSlots), 10)
		b = append(b, '}')
	}
	b = append(b, a.cfgSuffix...)
	b = append(b, `,"Contacts":[`...)
	for i, c := range a.contacts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Channel":`...)
		b = appendString(b, c.channel)
		b = append(b, `,"ConnectedToAgentTimestamp":`...)
		if c.connectedAt == 0 {
			b = append(b, "null"...)
		} else {
			b = appendTimestamp(b, c.connectedAt)
		}
		b = append(b, `,"ContactId":`...)
		b = appendString(b, c.id)
		b = append(b, `,"InitialContactId":`...)
		b = appendNullableString(b, c.initialID)
		b = append(b, `,"InitiationMethod":`...)
		b = appendString(b, c.method)
		b = append(b, `,"Queue":`...)
		b = appendQueue(b, c.queueARN, c.queueName, nil)
		b = append(b, `,"QueueTimestamp":`...)
		if c.queuedAt == 0 {
			b = append(b, "null"...)
		} else {
			b = appendTimestamp(b, c.queuedAt)
		}
		b = append(b, `,"State":`...)
		b = appendString(b, c.state)
		b = append(b, `,"StateStartTimestamp":`...)
		b = appendTimestamp(b, c.stateAt)
		b = append(b, '}')
	}
	b = append(b, `],"NextAgentStatus":`...)
	if a.next == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"ARN":`...)
		b = appendString(b, a.next.arn)
		if s.cfg.EnqueueSpellingFraction > 0 && s.vrng.Float64() < s.cfg.EnqueueSpellingFraction {
			b = append(b, `,"EnqueueTimestamp":`...)
		} else {
			b = append(b, `,"EnqueuedTimestamp":`...)
		}
		b = appendTimestamp(b, a.nextAt)
		b = append(b, `,"Name":`...)
		b = appendString(b, a.next.name)
		b = append(b, '}')
	}
	b = append(b, '}')
	s.buf = b
	return append([]byte(nil), b...)
}

// emit writes an event of the agent's current state.
func (s *Simulator) emit(a *agent, typ string) {
	cur := a.lastSnap
	if typ != EventHeartBeat || cur == nil {
		cur = s.snapshot(a)
	}
	prev := a.lastSnap
	if typ == EventLogin {
		prev = nil
	}
	version := VersionCurrent
	if s.cfg.OldVersionFraction > 0 && s.vrng.Float64() < s.cfg.OldVersionFraction {
		version = VersionOld
	}
	n := 512 + len(cur) + len(prev)
	b := make([]byte, 0, n)
	b = append(b, `{"AWSAccountId":`...)
	b = appendString(b, s.cfg.AccountID)
	b = append(b, `,"AgentARN":`...)
	b = appendString(b, a.arn)
	b = append(b, `,"CurrentAgentSnapshot":`...)
	b = append(b, cur...)
	b = append(b, `,"EventId":`...)
	b = appendString(b, newUUID(s.rng))
	b = append(b, `,"EventTimestamp":`...)
	b = appendTimestamp(b, s.now)
	b = append(b, `,"EventType":`...)
	b = appendString(b, typ)
	b = append(b, `,"InstanceARN":`...)
	b = appendString(b, s.instanceARN)
	if prev != nil {
		b = append(b, `,"PreviousAgentSnapshot":`...)
		b = append(b, prev...)
	}
	b = append(b, `,"Version":`...)
	b = appendString(b, version)
	b = append(b, '}')

	s.out = append(s.out, Record{Key: a.arn, Data: b, At: time.UnixMilli(s.now).UTC(), EventType: typ})
	a.lastSnap = cur
	a.lastAt = s.now
	a.events++
	for _, c := range a.contacts {
		c.shown = c.state
	}
	s.scheduleHeartBeat(a)
}
