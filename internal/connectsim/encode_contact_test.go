package connectsim

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answeredCallback is a callback contact, with the times of its whole life, held by the
// simulator's first agent.
func answeredCallback(t *testing.T) (*Simulator, *contact, map[string]int64) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ContactEvents, cfg.ContactRecords = true, true
	s, err := New(cfg, testStart)
	require.NoError(t, err)
	base := testStart.UnixMilli()
	at := map[string]int64{
		"initiated": base + 1_234, "queued": base + 91_500, "agent": base + 120_250, "system": base + 131_999,
		"disconnect": base + 431_700, "acwStart": base + 431_700, "acwEnd": base + 470_100,
	}
	a := s.agents[0]
	c := &contact{id: "11111111-2222-4333-8444-555555555555", initialID: "00000000-2222-4333-8444-555555555555",
		previousID: "00000000-2222-4333-8444-555555555555", channel: ChannelVoice, method: MethodCallback,
		queueARN: s.profiles[0].inbound[0].arn, queueName: s.profiles[0].inbound[0].name,
		initiatedAt: at["initiated"], queuedAt: at["queued"], agentAt: at["agent"], systemAt: at["system"], handler: a,
		disconnectAt: at["disconnect"], reason: reasonCustomer, acwStart: at["acwStart"], acwEnd: at["acwEnd"],
		holdMs: 30_600, longestHold: 20_400, holds: 2, offers: 1}
	s.now = at["acwEnd"]
	return s, c, at
}

func millis(ms int64) string { return time.UnixMilli(ms).UTC().Format(timestampLayout) }
func secs(ms int64) string   { return time.UnixMilli(ms).UTC().Format(secondsLayout) }

func TestContactEventEncoding(t *testing.T) {
	s, c, at := answeredCallback(t)
	s.contactEvent(c, ContactCompleted)
	require.Len(t, s.out, 1)
	r := s.out[0]
	assert.Equal(t, KindContactEvent, r.Kind)
	assert.Equal(t, c.id, r.Key)
	assert.Equal(t, ContactCompleted, r.EventType)

	var ev eventEnvelope
	require.NoError(t, json.Unmarshal(r.Data, &ev), string(r.Data))
	assert.Equal(t, "0", ev.Version)
	assert.Equal(t, "Amazon Connect Contact Event", ev.DetailType)
	assert.Equal(t, "aws.connect", ev.Source)
	assert.Equal(t, secs(at["acwEnd"]), ev.Time, "the envelope's time is in whole seconds")
	assert.Equal(t, []string{s.instanceARN + "/contact/" + c.id, s.instanceARN}, ev.Resources)
	d := ev.Detail
	assert.Equal(t, ContactCompleted, d.EventType)
	assert.Equal(t, c.id, d.ContactID)
	assert.Equal(t, c.initialID, d.InitialContactID)
	assert.Equal(t, c.previousID, d.PreviousContactID)
	assert.Equal(t, MethodCallback, d.InitiationMethod)
	assert.Equal(t, millis(at["initiated"]), d.InitiationTimestamp)
	assert.Equal(t, millis(at["system"]), d.ConnectedToSystemTimestamp)
	assert.Equal(t, millis(at["disconnect"]), d.DisconnectTimestamp)
	require.NotNil(t, d.QueueInfo)
	assert.Equal(t, c.queueARN, d.QueueInfo.QueueArn)
	assert.Equal(t, "STANDARD", d.QueueInfo.QueueType)
	assert.Equal(t, millis(at["queued"]), d.QueueInfo.EnqueueTimestamp)
	require.NotNil(t, d.AgentInfo)
	assert.Equal(t, s.agents[0].arn, d.AgentInfo.AgentArn)
	assert.Equal(t, millis(at["agent"]), d.AgentInfo.ConnectedToAgentTimestamp)
	assert.Equal(t, millis(at["acwStart"]), d.AgentInfo.AfterContactWorkStartTimestamp)
	assert.Equal(t, millis(at["acwEnd"]), d.AgentInfo.AfterContactWorkEndTimestamp)
	require.NotNil(t, d.AgentInfo.AfterContactWorkDuration)
	assert.Equal(t, at["acwEnd"]/1000-at["acwStart"]/1000, *d.AgentInfo.AfterContactWorkDuration)
	assert.Equal(t, s.agents[0].hierarchy[0], d.AgentInfo.HierarchyGroups["level1"].Arn)
	assert.Equal(t, "+15555550199", d.Tags["aws:connect:systemEndpoint"])

	// Before its agent: no agentInfo; not yet queued: no queueInfo either.
	s.out = s.out[:0]
	c.handler, c.agentAt, c.queuedAt, c.disconnectAt = nil, 0, 0, 0
	s.contactEvent(c, ContactInitiated)
	ev = eventEnvelope{}
	require.NoError(t, json.Unmarshal(s.out[0].Data, &ev))
	assert.Nil(t, ev.Detail.AgentInfo)
	assert.Nil(t, ev.Detail.QueueInfo)
	assert.NotContains(t, string(s.out[0].Data), "disconnectTimestamp")

	// Off: nothing.
	s.out = s.out[:0]
	s.cfg.ContactEvents = false
	s.contactEvent(c, ContactInitiated)
	assert.Empty(t, s.out)
}

func TestContactRecordEncoding(t *testing.T) {
	s, c, at := answeredCallback(t)
	s.now = at["acwEnd"] + 42_700
	data := s.contactRecord(c)
	var doc contactRecordDoc
	require.NoError(t, json.Unmarshal(data, &doc), string(data))
	assert.Equal(t, FormatVersion, doc.AWSContactTraceRecordFormatVersion)
	assert.Equal(t, c.id, doc.ContactID)
	assert.Equal(t, c.initialID, *doc.InitialContactID)
	assert.Equal(t, c.previousID, *doc.PreviousContactID)
	assert.Nil(t, doc.NextContactID, "null when nothing came of it")
	assert.Equal(t, secs(at["initiated"]), doc.InitiationTimestamp)
	assert.Equal(t, secs(at["disconnect"]), doc.DisconnectTimestamp)
	assert.Equal(t, secs(s.now), doc.LastUpdateTimestamp)
	assert.Equal(t, reasonCustomer, *doc.DisconnectReason)
	require.NotNil(t, doc.Queue)
	assert.Equal(t, secs(at["queued"]), doc.Queue.EnqueueTimestamp)
	assert.Equal(t, secs(at["agent"]), doc.Queue.DequeueTimestamp)
	assert.Equal(t, at["agent"]/1000-at["initiated"]/1000, doc.Queue.Duration, "a callback's queue time counts its initial delay")
	require.NotNil(t, doc.Agent)
	hold := int64(31) // 30.6 s rounded
	assert.Equal(t, hold, doc.Agent.CustomerHoldDuration)
	assert.Equal(t, at["disconnect"]/1000-at["agent"]/1000-hold, doc.Agent.AgentInteractionDuration)
	assert.Equal(t, at["acwEnd"]/1000-at["acwStart"]/1000, doc.Agent.AfterContactWorkDuration)
	assert.Equal(t, int64(2), doc.Agent.NumberOfHolds)
	assert.Equal(t, s.agents[0].username, doc.Agent.Username)
	assert.Equal(t, s.agents[0].profile.cfg.Name, doc.Agent.RoutingProfile.Name)

	// Abandoned: Agent null, the queue left at the disconnect; an update adds an attribute.
	c.handler, c.agentAt, c.method, c.recordUpdates = nil, 0, MethodInbound, 1
	data = s.contactRecord(c)
	doc = contactRecordDoc{}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Nil(t, doc.Agent)
	assert.Contains(t, string(data), `"Agent":null`)
	assert.Equal(t, secs(at["disconnect"]), doc.Queue.DequeueTimestamp)
	assert.Equal(t, at["disconnect"]/1000-at["queued"]/1000, doc.Queue.Duration)
	assert.Contains(t, string(data), `"surveyScore"`)

	// Outbound: never queued.
	c.method = MethodOutbound
	doc = contactRecordDoc{}
	require.NoError(t, json.Unmarshal(s.contactRecord(c), &doc))
	assert.Nil(t, doc.Queue)
}

func TestKindSink(t *testing.T) {
	agents, events := &MemorySink{}, &MemorySink{}
	k := NewKindSink(agents, events, nil)
	ctx := context.Background()
	for _, kind := range []Kind{KindAgentEvent, KindContactEvent, KindContactRecord, KindContactEvent} {
		require.NoError(t, k.Write(ctx, Record{Kind: kind}))
	}
	assert.Len(t, agents.Records, 1)
	assert.Len(t, events.Records, 2)
	require.NoError(t, k.Flush(ctx))
	require.NoError(t, k.Close(ctx))
}

// BenchmarkSimulate is the cost of an hour of 50 agents, with agent events only and with
// contact events and records too: ns/op per virtual hour, and the records it made.
func BenchmarkSimulate(b *testing.B) {
	for _, tc := range []struct {
		name     string
		contacts bool
	}{{"agent_events", false}, {"all_three", true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.ContactsPerAgentHour = 9
			cfg.ContactEvents, cfg.ContactRecords = tc.contacts, tc.contacts
			b.ReportAllocs()
			var n int
			for b.Loop() {
				s, err := New(cfg, testStart)
				require.NoError(b, err)
				end := testStart.Add(time.Hour)
				for r := s.Next(); r.At.Before(end); r = s.Next() {
					n++
				}
			}
			b.ReportMetric(float64(n)/float64(b.N), "records/op")
		})
	}
}
