package eventlog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// state_change_two_contacts.json is Maria Garcia's, username mgarcia, in both snapshots.
func redactedRecord(t *testing.T, mode, salt string) (plog.LogRecord, string) {
	b := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(NewRedactor(mode, salt)))
	res := b.build(batchOf(readCompact(t, "state_change_two_contacts.json")), time.Unix(1, 0))
	var m plog.JSONMarshaler
	out, err := m.MarshalLogs(res.Logs)
	require.NoError(t, err)
	_, lr := onlyRecord(t, res.Logs)
	return lr, string(out)
}

func configuration(t *testing.T, lr plog.LogRecord, snapshot string) map[string]any {
	snap, ok := lr.Body().Map().AsRaw()[snapshot].(map[string]any)
	require.True(t, ok, snapshot)
	return snap["Configuration"].(map[string]any)
}

func TestRedactDrop(t *testing.T) {
	lr, exported := redactedRecord(t, RedactDrop, "")
	for _, personalData := range []string{"Maria", "Garcia", "mgarcia"} {
		assert.NotContains(t, exported, personalData, "nothing personal is exported")
	}
	for _, snap := range []string{"CurrentAgentSnapshot", "PreviousAgentSnapshot"} {
		c := configuration(t, lr, snap)
		assert.NotContains(t, c, "FirstName")
		assert.NotContains(t, c, "LastName")
		assert.NotContains(t, c, "Username")
		assert.Equal(t, "Basic Routing Profile", c["RoutingProfile"].(map[string]any)["Name"], "the rest stays")
	}
	_, ok := lr.Attributes().Get(AttrAgentUsername)
	assert.False(t, ok)
	status, _ := lr.Attributes().Get(AttrStatusName)
	assert.Equal(t, "Available", status.Str())
}

func TestRedactHash(t *testing.T) {
	lr, exported := redactedRecord(t, RedactHash, "pepper")
	for _, personalData := range []string{"Maria", "Garcia", "mgarcia"} {
		assert.NotContains(t, exported, personalData)
	}
	user, ok := lr.Attributes().Get(AttrAgentUsername)
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(user.Str(), "sha256:"), user.Str())
	for _, snap := range []string{"CurrentAgentSnapshot", "PreviousAgentSnapshot"} {
		c := configuration(t, lr, snap)
		assert.Equal(t, user.Str(), c["Username"], "the same pseudonym in the body and the attribute")
		assert.NotEqual(t, c["FirstName"], c["LastName"])
		assert.True(t, strings.HasPrefix(c["FirstName"].(string), "sha256:"))
	}
	again, _ := redactedRecord(t, RedactHash, "pepper")
	same, _ := again.Attributes().Get(AttrAgentUsername)
	assert.Equal(t, user.Str(), same.Str(), "stable across records")
	other, _ := redactedRecord(t, RedactHash, "salt")
	diff, _ := other.Attributes().Get(AttrAgentUsername)
	assert.NotEqual(t, user.Str(), diff.Str(), "the salt keys the hash")
}

func TestRedactNoneKeepsNames(t *testing.T) {
	lr, exported := redactedRecord(t, RedactNone, "")
	assert.Contains(t, exported, "mgarcia")
	assert.Equal(t, "Maria", configuration(t, lr, "CurrentAgentSnapshot")["FirstName"])
}

// exported builds records with a redactor and returns the logs and their OTLP JSON.
func exported(t *testing.T, r *Redactor, records ...[]byte) (plog.Logs, string) {
	t.Helper()
	b := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(r))
	res := b.build(batchOf(records...), time.Unix(1, 0))
	var m plog.JSONMarshaler
	out, err := m.MarshalLogs(res.Logs)
	require.NoError(t, err)
	return res.Logs, string(out)
}

func allRecords(logs plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		lrs := logs.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
		for j := 0; j < lrs.Len(); j++ {
			out = append(out, lrs.At(j))
		}
	}
	return out
}

// Malformed records that hold a name: their raw bytes are not exported with redact on,
// and exception.message quotes nothing of them; error.type and the size stay.
func TestRedactMalformedRecords(t *testing.T) {
	full := string(readCompact(t, "state_change_two_contacts.json")) // Maria Garcia, mgarcia
	records := map[string][]byte{
		agentevent.ErrKindInvalidJSON:      []byte(full[:len(full)/2]),
		agentevent.ErrKindInvalidUTF8:      []byte(strings.Replace(full, `"Maria"`, "\"Maria\xff\"", 1)),
		agentevent.ErrKindInvalidTimestamp: []byte(strings.Replace(full, `"EventTimestamp":"`, `"EventTimestamp":"Garcia mgarcia `, 1)),
		agentevent.ErrKindDuplicateKey:     []byte(strings.Replace(full, `{"AWSAccountId"`, `{"Maria Garcia":1,"Maria Garcia":2,"AWSAccountId"`, 1)),
		agentevent.ErrKindWrongType:        []byte(strings.Replace(full, `"EventTimestamp":"`, `"EventTimestamp":["Maria mgarcia"],"x":"`, 1)),
		agentevent.ErrKindNotAnObject:      []byte(`["Maria","Garcia","mgarcia"]`),
		agentevent.ErrKindTooManyMembers:   []byte(`{"EventType":"LOGIN","Maria Garcia":{` + manyMembers(agentevent.MaxMembers+1) + `}}`),
	}
	for _, mode := range []string{RedactDrop, RedactHash} {
		for kind, rec := range records {
			t.Run(mode+"/"+kind, func(t *testing.T) {
				require.True(t, strings.Contains(string(rec), "Maria") || strings.Contains(string(rec), "Garcia"), "the record holds a name")
				logs, out := exported(t, NewRedactor(mode, "pepper"), rec)
				for _, name := range []string{"Maria", "Garcia", "mgarcia"} {
					assert.NotContains(t, out, name)
				}
				lrs := allRecords(logs)
				require.Len(t, lrs, 1)
				lr := lrs[0]
				assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
				assert.Equal(t, kind, attrStr(lr, AttrErrorType))
				assert.NotEmpty(t, attrStr(lr, AttrExceptionMessage))
				assert.Contains(t, lr.Body().AsString(), fmt.Sprintf("%d bytes", len(rec)), "the body says what was withheld")
			})
		}
	}

	// Without redact, the raw record and the culprit are kept, for debugging.
	logs, out := exported(t, NewRedactor(RedactNone, ""), records[agentevent.ErrKindInvalidTimestamp])
	assert.Contains(t, out, "mgarcia")
	assert.Contains(t, attrStr(allRecords(logs)[0], AttrExceptionMessage), "Garcia mgarcia")
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"m%d":%d`, i, i)
	}
	return b.String()
}

// In hash mode every value under a personal key is covered: numbers, bools, each array
// element, nested objects (and their keys, which can be names too).
func TestRedactHashCoversEveryValue(t *testing.T) {
	rec := []byte(`{"EventType":"LOGIN","EventId":"e1","Extra":{` +
		`"FirstName":["Maria","Mariana",{"alias":"Mari","n":4242}],` +
		`"LastName":{"family":{"first":"Garcia","second":"Lopez"},"Garcia":true},` +
		`"Username":987654321,"Other":{"Username":1.5e9,"FirstName":false,"LastName":null}}}`)
	for _, secret := range []string{"Maria", "Mariana", "Mari", "4242", "Garcia", "Lopez", "987654321", "1500000000", "1.5e"} {
		require.Contains(t, string(rec)+"1500000000", secret)
	}
	logs, out := exported(t, NewRedactor(RedactHash, "pepper"), rec)
	for _, secret := range []string{"Maria", "Mariana", "Mari\"", "4242", "Garcia", "Lopez", "987654321", "1500000000", "1.5e"} {
		assert.NotContains(t, out, secret)
	}
	lr := allRecords(logs)[0]
	extra := lr.Body().Map().AsRaw()["Extra"].(map[string]any)
	first, ok := extra["FirstName"].([]any)
	require.True(t, ok, "%T", extra["FirstName"])
	require.Len(t, first, 3, "arrays keep their length")
	assertHashed(t, first[0])
	assertHashed(t, first[1])
	alias, ok := first[2].(map[string]any)
	require.True(t, ok, "%T", first[2])
	require.Len(t, alias, 2)
	for _, v := range alias {
		assertHashed(t, v)
	}
	assertHashed(t, extra["Username"])
	other := extra["Other"].(map[string]any)
	assertHashed(t, other["Username"])
	assertHashed(t, other["FirstName"])
	assert.Nil(t, other["LastName"], "null says nothing, and stays null")
	assert.Equal(t, "LOGIN", lr.Body().Map().AsRaw()["EventType"], "the rest stays")

	// Drop mode drops each of them whole.
	logs, out = exported(t, NewRedactor(RedactDrop, ""), rec)
	for _, secret := range []string{"Maria", "Garcia", "Lopez", "987654321", "4242"} {
		assert.NotContains(t, out, secret)
	}
	extra = allRecords(logs)[0].Body().Map().AsRaw()["Extra"].(map[string]any)
	assert.Equal(t, map[string]any{"Other": map[string]any{}}, extra)
}

func assertHashed(t *testing.T, v any) {
	t.Helper()
	s, ok := v.(string)
	assert.True(t, ok && strings.HasPrefix(s, "sha256:"), "not a pseudonym: %#v", v)
}

// Hierarchy group names name people's teams (often a supervisor): redacted. Other Name
// keys (status, routing profile, queue) are not personal and stay.
func TestRedactHierarchyGroupNames(t *testing.T) {
	rec := readCompact(t, "state_change_two_contacts.json")
	require.Contains(t, string(rec), "North America")
	for _, mode := range []string{RedactDrop, RedactHash} {
		t.Run(mode, func(t *testing.T) {
			logs, out := exported(t, NewRedactor(mode, "pepper"), rec)
			assert.NotContains(t, out, "North America")
			assert.NotContains(t, out, "Support Tier 1")
			lr := allRecords(logs)[0]
			c := configuration(t, lr, "CurrentAgentSnapshot")
			level1 := c["AgentHierarchyGroups"].(map[string]any)["Level1"].(map[string]any)
			assert.Contains(t, level1["ARN"], "agent-group/", "the group's ARN stays")
			if mode == RedactHash {
				assertHashed(t, level1["Name"])
			} else {
				assert.NotContains(t, level1, "Name")
			}
			assert.Equal(t, "Basic Routing Profile", c["RoutingProfile"].(map[string]any)["Name"])
			status := lr.Body().Map().AsRaw()["CurrentAgentSnapshot"].(map[string]any)["AgentStatus"].(map[string]any)
			assert.Equal(t, "Available", status["Name"])
			assert.Contains(t, out, `"BasicQueue"`, "queue names stay")
		})
	}
}

// With agent_arn, the agent ARN is hashed too, in the attribute and the body, with the
// same pseudonym, and so is the ARN of the agent's own queue (.../queue/agent/ID), which
// holds the same ID; without it, both stay.
func TestRedactAgentARN(t *testing.T) {
	rec := readCompact(t, "state_change_two_contacts.json")
	arn := str(decodeDoc(t, rec), "AgentARN")
	require.NotEmpty(t, arn)
	agentID := arn[strings.LastIndex(arn, "/")+1:]

	logs, out := exported(t, NewRedactor(RedactHash, "pepper").HashingAgentARN(true), rec)
	assert.NotContains(t, out, agentID)
	lr := allRecords(logs)[0]
	attr := attrStr(lr, AttrAgentARN)
	assertHashed(t, attr)
	assert.Equal(t, attr, lr.Body().Map().AsRaw()["AgentARN"])
	queues := configuration(t, lr, "CurrentAgentSnapshot")["RoutingProfile"].(map[string]any)["InboundQueues"].([]any)
	require.Len(t, queues, 2)
	assert.Contains(t, queues[0].(map[string]any)["ARN"], "/queue/", "other queues' ARNs stay")
	assertHashed(t, queues[1].(map[string]any)["ARN"]) // the agent's own queue
	_, again := exported(t, NewRedactor(RedactHash, "pepper").HashingAgentARN(true), rec)
	assert.Equal(t, out, again, "the same agent, the same pseudonym")

	logs, out = exported(t, NewRedactor(RedactHash, "pepper"), rec)
	assert.Contains(t, out, agentID)
	assert.Equal(t, arn, attrStr(allRecords(logs)[0], AttrAgentARN))

	// Only hash mode hashes them (the config refuses agent_arn without it): the body and
	// the attribute never disagree.
	logs, _ = exported(t, NewRedactor(RedactDrop, "").HashingAgentARN(true), rec)
	lr = allRecords(logs)[0]
	assert.Equal(t, arn, attrStr(lr, AttrAgentARN))
	assert.Equal(t, arn, lr.Body().Map().AsRaw()["AgentARN"])
}

// personalValues collects the strings of a decoded document, in out[true] if personal
// (under a FirstName, LastName or Username key, or a hierarchy group name), else in
// out[false].
func personalValues(v any, parent, grandparent string, personal bool, out map[bool]map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := personal || k == "FirstName" || k == "LastName" || k == "Username" ||
				(k == "Name" && grandparent == "AgentHierarchyGroups" && strings.HasPrefix(parent, "Level"))
			personalValues(e, k, parent, p, out)
		}
	case []any:
		for _, e := range x {
			personalValues(e, parent, grandparent, personal, out)
		}
	case string:
		out[personal][x] = true
	}
}

// No personal value of any fixture survives either mode, anywhere in the exported logs.
func TestRedactEveryFixture(t *testing.T) {
	for _, tc := range validCases {
		rec := readCompact(t, tc.file)
		values := map[bool]map[string]bool{true: {}, false: {}}
		personalValues(decodeDoc(t, rec), "", "", false, values)
		secrets := map[string]bool{}
		for s := range values[true] {
			if !values[false][s] { // "Billing" can be a group's name and a proficiency's value
				secrets[s] = true
			}
		}
		require.NotEmpty(t, secrets, tc.file)
		for _, mode := range []string{RedactDrop, RedactHash} {
			t.Run(tc.file+"/"+mode, func(t *testing.T) {
				_, out := exported(t, NewRedactor(mode, "pepper"), rec)
				for s := range secrets {
					assert.NotContains(t, out, `"`+s+`"`)
				}
			})
		}
	}
}
