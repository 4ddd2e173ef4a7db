package connectsim

import (
	"strconv"
	"strings"
	"time"
)

// Contact events and contact records are written by hand like agent events. Contact
// events follow AWS's samples: camelCase keys in the samples' order, millisecond times,
// the envelope's time in whole seconds, absent keys rather than nulls. Contact records
// follow a real record: PascalCase keys in alphabetical order, whole-second times, nulls
// where nothing is known.

const (
	secondsLayout = "2006-01-02T15:04:05Z"
	// FormatVersion is the AWSContactTraceRecordFormatVersion of every contact record.
	FormatVersion = "2017-03-10"
	// systemNumber is the number customers dial, and the outbound caller id.
	systemNumber = "+15555550199"
)

func appendSeconds(b []byte, ms int64) []byte {
	b = append(b, '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, secondsLayout)
	return append(b, '"')
}

func appendNullableSeconds(b []byte, ms int64) []byte {
	if ms == 0 {
		return append(b, "null"...)
	}
	return appendSeconds(b, ms)
}

// seconds is a duration between two whole-second times, as Amazon Connect computes its
// durations from the record's own timestamps.
func seconds(from, to int64) int64 {
	if from == 0 || to == 0 {
		return 0
	}
	return to/1000 - from/1000
}

func (c *contact) queueType() string {
	if strings.Contains(c.queueARN, "/queue/agent/") {
		return "AGENT"
	}
	return "STANDARD"
}

// dequeueAt is when the contact left its queue: to an agent, or without one.
func (c *contact) dequeueAt() int64 {
	if c.agentAt != 0 {
		return c.agentAt
	}
	return c.disconnectAt
}

// customerNumber is a fictional number (+1 555 555 01xx) for a voice contact's chain.
func customerNumber(id string) string {
	n := 0
	for i := 0; i < len(id); i++ {
		n = (n*31 + int(id[i])) % 100
	}
	return "+155555501" + string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// contactEvent emits a contact event of the contact's current state.
func (s *Simulator) contactEvent(c *contact, typ string) {
	if !s.cfg.ContactEvents {
		return
	}
	b := make([]byte, 0, 1536)
	b = append(b, `{"version":"0","id":`...)
	b = appendString(b, newUUID(s.crng))
	b = append(b, `,"detail-type":"Amazon Connect Contact Event","source":"aws.connect","account":`...)
	b = appendString(b, s.cfg.AccountID)
	b = append(b, `,"time":`...)
	b = appendSeconds(b, s.now)
	b = append(b, `,"region":`...)
	b = appendString(b, s.cfg.Region)
	b = append(b, `,"resources":[`...)
	b = appendString(b, s.instanceARN+"/contact/"+c.id)
	b = append(b, ',')
	b = appendString(b, s.instanceARN)
	b = append(b, `],"detail":{"eventType":`...)
	b = appendString(b, typ)
	b = append(b, `,"contactId":`...)
	b = appendString(b, c.id)
	if c.initialID != "" {
		b = append(b, `,"initialContactId":`...)
		b = appendString(b, c.initialID)
	}
	if c.previousID != "" {
		b = append(b, `,"previousContactId":`...)
		b = appendString(b, c.previousID)
	}
	b = append(b, `,"channel":`...)
	b = appendString(b, c.channel)
	b = append(b, `,"instanceArn":`...)
	b = appendString(b, s.instanceARN)
	b = append(b, `,"initiationMethod":`...)
	b = appendString(b, c.method)
	b = append(b, `,"initiationTimestamp":`...)
	b = appendTimestamp(b, c.initiatedAt)
	if c.systemAt != 0 {
		b = append(b, `,"connectedToSystemTimestamp":`...)
		b = appendTimestamp(b, c.systemAt)
	}
	if c.disconnectAt != 0 {
		b = append(b, `,"disconnectTimestamp":`...)
		b = appendTimestamp(b, c.disconnectAt)
	}
	if c.queuedAt != 0 && c.method != MethodOutbound {
		b = append(b, `,"queueInfo":{"queueArn":`...)
		b = appendString(b, c.queueARN)
		b = append(b, `,"queueType":`...)
		b = appendString(b, c.queueType())
		b = append(b, `,"enqueueTimestamp":`...)
		b = appendTimestamp(b, c.queuedAt)
		b = append(b, '}')
	}
	if a := c.handler; a != nil {
		b = append(b, `,"agentInfo":{"agentArn":`...)
		b = appendString(b, a.arn)
		b = append(b, `,"connectedToAgentTimestamp":`...)
		b = appendTimestamp(b, c.agentAt)
		if !a.hierarchyN {
			b = append(b, `,"hierarchyGroups":{`...)
			for i := 0; 2*i+1 < len(a.hierarchy); i++ {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendKey(b, "level"+strconv.Itoa(i+1))
				b = append(b, `{"arn":`...)
				b = appendString(b, a.hierarchy[2*i])
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		if typ == ContactCompleted && c.acwEnd != 0 {
			b = append(b, `,"agentInitiatedHoldDuration":`...)
			b = strconv.AppendInt(b, (c.holdMs+500)/1000, 10)
			b = append(b, `,"afterContactWorkStartTimestamp":`...)
			b = appendTimestamp(b, c.acwStart)
			b = append(b, `,"afterContactWorkEndTimestamp":`...)
			b = appendTimestamp(b, c.acwEnd)
			b = append(b, `,"afterContactWorkDuration":`...)
			b = strconv.AppendInt(b, seconds(c.acwStart, c.acwEnd), 10)
		}
		b = append(b, '}')
	}
	b = append(b, `,"tags":{"aws:connect:instanceId":`...)
	b = appendString(b, s.cfg.InstanceID)
	if c.channel == ChannelVoice {
		b = append(b, `,"aws:connect:systemEndpoint":`...)
		b = appendString(b, systemNumber)
	}
	b = append(b, "}}}"...)
	s.out = append(s.out, Record{Kind: KindContactEvent, Key: c.id, Data: b, At: time.UnixMilli(s.now).UTC(), EventType: typ})
}

// contactRecord renders the contact's record as of now: its LastUpdateTimestamp.
func (s *Simulator) contactRecord(c *contact) []byte {
	b := make([]byte, 0, 3072)
	b = append(b, `{"AWSAccountId":`...)
	b = appendString(b, s.cfg.AccountID)
	b = append(b, `,"AWSContactTraceRecordFormatVersion":"`+FormatVersion+`","Agent":`...)
	if a := c.handler; a == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"ARN":`...)
		b = appendString(b, a.arn)
		b = append(b, `,"AfterContactWorkDuration":`...)
		b = strconv.AppendInt(b, seconds(c.acwStart, c.acwEnd), 10)
		b = append(b, `,"AfterContactWorkEndTimestamp":`...)
		b = appendNullableSeconds(b, c.acwEnd)
		b = append(b, `,"AfterContactWorkStartTimestamp":`...)
		b = appendNullableSeconds(b, c.acwStart)
		hold := (c.holdMs + 500) / 1000
		b = append(b, `,"AgentInitiatedHoldDuration":`...)
		b = strconv.AppendInt(b, hold, 10)
		b = append(b, `,"AgentInteractionDuration":`...)
		b = strconv.AppendInt(b, max(seconds(c.agentAt, c.disconnectAt)-hold, 0), 10)
		b = append(b, `,"ConnectedToAgentTimestamp":`...)
		b = appendSeconds(b, c.agentAt)
		b = append(b, `,"CustomerHoldDuration":`...)
		b = strconv.AppendInt(b, hold, 10)
		b = append(b, `,"HierarchyGroups":`...)
		if a.hierarchyN {
			b = append(b, "null"...)
		} else {
			b = append(b, '{')
			for i := 0; 2*i+1 < len(a.hierarchy); i++ {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendKey(b, "Level"+strconv.Itoa(i+1))
				b = append(b, `{"ARN":`...)
				b = appendString(b, a.hierarchy[2*i])
				b = append(b, `,"GroupName":`...)
				b = appendString(b, a.hierarchy[2*i+1])
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		b = append(b, `,"LongestHoldDuration":`...)
		b = strconv.AppendInt(b, (c.longestHold+500)/1000, 10)
		b = append(b, `,"NumberOfHolds":`...)
		b = strconv.AppendInt(b, int64(c.holds), 10)
		b = append(b, `,"RoutingProfile":{"ARN":`...)
		b = appendString(b, a.profile.arn)
		b = append(b, `,"Name":`...)
		b = appendString(b, a.profile.cfg.Name)
		b = append(b, `},"Username":`...)
		b = appendString(b, a.username)
		b = append(b, '}')
	}
	b = append(b, `,"AgentConnectionAttempts":`...)
	b = strconv.AppendInt(b, int64(c.offers), 10)
	b = append(b, `,"Attributes":{`...)
	if c.channel == ChannelVoice && c.method == MethodInbound {
		b = append(b, `"greetingPlayed":"true"`...)
		if c.recordUpdates > 0 {
			b = append(b, ',')
		}
	}
	if c.recordUpdates > 0 {
		b = append(b, `"surveyScore":"`...)
		b = strconv.AppendInt(b, int64(1+len(c.id)%5), 10)
		b = append(b, '"')
	}
	b = append(b, `},"Channel":`...)
	b = appendString(b, c.channel)
	b = append(b, `,"ConnectedToSystemTimestamp":`...)
	b = appendNullableSeconds(b, c.systemAt)
	b = append(b, `,"ContactDetails":{},"ContactId":`...)
	b = appendString(b, c.id)
	b = append(b, `,"CustomerEndpoint":`...)
	if c.channel == ChannelVoice {
		b = append(b, `{"Address":`...)
		b = appendString(b, customerNumber(chainStart(c)))
		b = append(b, `,"Type":"TELEPHONE_NUMBER"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"DisconnectReason":`...)
	b = appendNullableString(b, c.reason)
	b = append(b, `,"DisconnectTimestamp":`...)
	b = appendSeconds(b, c.disconnectAt)
	b = append(b, `,"InitialContactId":`...)
	b = appendNullableString(b, c.initialID)
	b = append(b, `,"InitiationMethod":`...)
	b = appendString(b, c.method)
	b = append(b, `,"InitiationTimestamp":`...)
	b = appendSeconds(b, c.initiatedAt)
	b = append(b, `,"InstanceARN":`...)
	b = appendString(b, s.instanceARN)
	b = append(b, `,"LastUpdateTimestamp":`...)
	b = appendSeconds(b, s.now)
	b = append(b, `,"MediaStreams":[`...)
	switch c.channel {
	case ChannelVoice:
		b = append(b, `{"Type":"AUDIO"}`...)
	case ChannelChat:
		b = append(b, `{"Type":"CHAT"}`...)
	}
	b = append(b, `],"NextContactId":`...)
	b = appendNullableString(b, c.nextID)
	b = append(b, `,"PreviousContactId":`...)
	b = appendNullableString(b, c.previousID)
	b = append(b, `,"Queue":`...)
	if c.queuedAt == 0 || c.method == MethodOutbound {
		b = append(b, "null"...)
	} else {
		from := c.queuedAt
		if c.method == MethodCallback {
			from = c.initiatedAt // AWS's callback records count the initial delay in
		}
		b = append(b, `{"ARN":`...)
		b = appendString(b, c.queueARN)
		b = append(b, `,"DequeueTimestamp":`...)
		b = appendSeconds(b, c.dequeueAt())
		b = append(b, `,"Duration":`...)
		b = strconv.AppendInt(b, seconds(from, c.dequeueAt()), 10)
		b = append(b, `,"EnqueueTimestamp":`...)
		b = appendSeconds(b, c.queuedAt)
		b = append(b, `,"Name":`...)
		b = appendNullableString(b, c.queueName)
		b = append(b, '}')
	}
	b = append(b, `,"Recording":null,"Recordings":null,"References":[],"ScheduledTimestamp":null,"SystemEndpoint":`...)
	if c.channel == ChannelVoice {
		b = append(b, `{"Address":"`+systemNumber+`","Type":"TELEPHONE_NUMBER"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"TransferCompletedTimestamp":`...)
	b = appendNullableSeconds(b, c.transferAt)
	b = append(b, `,"TransferredToEndpoint":null}`...)
	return b
}
