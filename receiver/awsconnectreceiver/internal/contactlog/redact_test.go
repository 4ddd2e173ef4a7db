package contactlog

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
)

// Personal data of personalCTR and personalEvent.
const (
	username    = "mgarcia"
	customer    = "+15555550100"
	customerTag = "Maria's phone"
	transferTo  = "+15555550177"
	groupName   = "Team Garcia"
	agentQueue  = instance + "/queue/agent/bbbbbbbb-1111-2222-3333-444444444444"
)

var personalCTR = []byte(`{"ContactId":"c1","InstanceARN":"` + instance + `","AWSContactTraceRecordFormatVersion":"2017-03-10",
"Agent":{"ARN":"` + agentARN + `","Username":"` + username + `","RoutingProfile":{"ARN":"rp","Name":"Basic Routing Profile"},
  "HierarchyGroups":{"Level1":{"ARN":"g1","GroupName":"` + groupName + `"},"Level2":null}},
"Queue":{"ARN":"` + agentQueue + `","Name":null},
"CustomerEndpoint":{"Address":"` + customer + `","Type":"TELEPHONE_NUMBER","DisplayName":"` + customerTag + `"},
"SystemEndpoint":{"Address":"+15555550199","Type":"TELEPHONE_NUMBER"},
"TransferredToEndpoint":{"Address":"` + transferTo + `","Type":"TELEPHONE_NUMBER"}}`)

// personalEvent spells its keys in PascalCase, as some AWS samples do.
var personalEvent = []byte(`{"EventType":"CONNECTED_TO_AGENT","ContactId":"c1","InstanceArn":"` + instance + `",
"AgentInfo":{"AgentArn":"` + agentARN + `","HierarchyGroups":{"Level1":{"Arn":"g1"}}},
"CustomerEndpoint":{"address":"` + customer + `"}}`)

var personal = []string{username, customer, customerTag, transferTo, groupName}

// build maps personalCTR and personalEvent with a redactor and returns the logs, their
// OTLP JSON, and the record and event.
func build(t *testing.T, r *eventlog.Redactor) (string, plog.LogRecord, plog.LogRecord) {
	t.Helper()
	_, recs := newRecords(r)
	recs.AddRecord(decodeRecord(t, personalCTR), personalCTR, "1")
	recs.AddEvent(decodeEvent(t, personalEvent), personalEvent, "2")
	var m plog.JSONMarshaler
	out, err := m.MarshalLogs(recs.Logs())
	require.NoError(t, err)
	lrs := recs.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, 2, lrs.Len())
	return string(out), lrs.At(0), lrs.At(1)
}

func path(t *testing.T, lr plog.LogRecord, keys ...string) (any, bool) {
	t.Helper()
	var v any = lr.Body().AsRaw()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func attr(lr plog.LogRecord, k string) string {
	v, _ := lr.Attributes().Get(k)
	return v.Str()
}

func TestRedactNoneKeepsEverything(t *testing.T) {
	out, rec, ev := build(t, eventlog.NewRedactor(eventlog.RedactNone, ""))
	for _, p := range personal {
		assert.Contains(t, out, p)
	}
	assert.Equal(t, agentARN, attr(rec, eventlog.AttrAgentARN))
	assert.Equal(t, agentARN, attr(ev, eventlog.AttrAgentARN))
	assert.Equal(t, document(t, personalCTR), rec.Body().AsRaw())
}

func TestRedactDrop(t *testing.T) {
	out, rec, ev := build(t, eventlog.NewRedactor(eventlog.RedactDrop, "").HashingAgentARN(true))
	for _, p := range personal {
		assert.NotContains(t, out, p)
	}
	for _, keys := range [][]string{
		{"Agent", "Username"}, {"CustomerEndpoint", "Address"}, {"CustomerEndpoint", "DisplayName"},
		{"TransferredToEndpoint", "Address"}, {"Agent", "HierarchyGroups", "Level1", "GroupName"},
	} {
		_, ok := path(t, rec, keys...)
		assert.False(t, ok, "%v dropped", keys)
	}
	_, ok := path(t, ev, "CustomerEndpoint", "address")
	assert.False(t, ok, "keys in any case")
	for keys, want := range map[string]any{
		"Agent.HierarchyGroups.Level1.ARN": "g1", "Agent.RoutingProfile.Name": "Basic Routing Profile",
		"SystemEndpoint.Address": "+15555550199", "CustomerEndpoint.Type": "TELEPHONE_NUMBER", "Agent.ARN": agentARN,
	} {
		got, ok := path(t, rec, strings.Split(keys, ".")...)
		assert.True(t, ok, keys)
		assert.Equal(t, want, got, "%s stays", keys)
	}
	assert.Equal(t, agentARN, attr(rec, eventlog.AttrAgentARN), "drop mode does not touch agent ARNs, as for agent events")
	assert.Equal(t, agentARN, attr(ev, eventlog.AttrAgentARN))
}

func TestRedactHash(t *testing.T) {
	r := eventlog.NewRedactor(eventlog.RedactHash, "pepper")
	out, rec, ev := build(t, r)
	for _, p := range personal {
		assert.NotContains(t, out, p)
	}
	for keys, clear := range map[string]string{
		"Agent.Username": username, "CustomerEndpoint.Address": customer, "CustomerEndpoint.DisplayName": customerTag,
		"TransferredToEndpoint.Address": transferTo, "Agent.HierarchyGroups.Level1.GroupName": groupName,
	} {
		got, ok := path(t, rec, strings.Split(keys, ".")...)
		assert.True(t, ok, keys)
		assert.Equal(t, r.Hash(clear), got, "%s is the keyed hash, the same as eventlog's", keys)
	}
	got, _ := path(t, ev, "CustomerEndpoint", "address")
	assert.Equal(t, r.Hash(customer), got)
	assert.Equal(t, agentARN, attr(rec, eventlog.AttrAgentARN), "agent ARNs only when asked")
	got, _ = path(t, ev, "AgentInfo", "AgentArn")
	assert.Equal(t, agentARN, got)

	_, again, _ := build(t, eventlog.NewRedactor(eventlog.RedactHash, "pepper"))
	_, salted, _ := build(t, eventlog.NewRedactor(eventlog.RedactHash, "salt"))
	u1, _ := path(t, rec, "Agent", "Username")
	u2, _ := path(t, again, "Agent", "Username")
	u3, _ := path(t, salted, "Agent", "Username")
	assert.Equal(t, u1, u2, "stable")
	assert.NotEqual(t, u1, u3, "keyed by the salt")
}

func TestRedactHashAgentARN(t *testing.T) {
	r := eventlog.NewRedactor(eventlog.RedactHash, "pepper").HashingAgentARN(true)
	out, rec, ev := build(t, r)
	assert.NotContains(t, out, "bbbbbbbb-1111-2222-3333-444444444444", "no agent ARN anywhere, nor an agent's own queue")
	assert.Equal(t, r.Hash(agentARN), attr(rec, eventlog.AttrAgentARN))
	assert.Equal(t, r.Hash(agentARN), attr(ev, eventlog.AttrAgentARN))
	assert.Equal(t, r.Hash(agentQueue), attr(rec, AttrQueueARN), "an agent's queue names the agent")
	for _, keys := range [][]string{{"Agent", "ARN"}} {
		got, _ := path(t, rec, keys...)
		assert.Equal(t, r.Hash(agentARN), got, keys)
	}
	got, _ := path(t, ev, "AgentInfo", "AgentArn")
	assert.Equal(t, r.Hash(agentARN), got)
	got, _ = path(t, rec, "Queue", "ARN")
	assert.Equal(t, r.Hash(agentQueue), got)

	// An agent ARN field holding something else is hashed too: by its key.
	odd := []byte(`{"ContactId":"c","Agent":{"ARN":"agent-7"}}`)
	_, recs := newRecords(r)
	recs.AddRecord(decodeRecord(t, odd), odd, "1")
	_, lr := only(t, recs.Logs())
	got, _ = path(t, lr, "Agent", "ARN")
	assert.Equal(t, r.Hash("agent-7"), got)
	assert.Equal(t, r.Hash("agent-7"), attr(lr, eventlog.AttrAgentARN))
}

func TestRedactHashWholeObjects(t *testing.T) {
	r := eventlog.NewRedactor(eventlog.RedactHash, "pepper")
	data := []byte(`{"ContactId":"c","CustomerEndpoint":{"Address":{"number":15555550100,"ok":true,"parts":["+1","555"]}}}`)
	_, recs := newRecords(r)
	recs.AddRecord(decodeRecord(t, data), data, "1")
	_, lr := only(t, recs.Logs())
	got, _ := path(t, lr, "CustomerEndpoint", "Address")
	assert.Equal(t, map[string]any{
		r.Hash("number"): r.Hash("15555550100"), r.Hash("ok"): r.Hash("true"), r.Hash("parts"): []any{r.Hash("+1"), r.Hash("555")},
	}, got, "every scalar inside, and the keys")
}
