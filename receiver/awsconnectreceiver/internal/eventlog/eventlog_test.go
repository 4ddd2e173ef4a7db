package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const (
	eventsDir  = "../../../../testdata/events"
	testStream = "connect-agent-events"
	testShard  = "shardId-000000000007"
)

// observed is deliberately unlike any event timestamp, with nanoseconds.
var observed = time.Date(2024, 6, 1, 12, 34, 56, 789012345, time.UTC)

// instance is what the resource of a Connect instance must carry.
type instance struct {
	arn, account, region, id string
}

func (in instance) resourceAttrs() map[string]any {
	return map[string]any{
		"cloud.provider":          "aws",
		"cloud.account.id":        in.account,
		"cloud.region":            in.region,
		"cloud.resource_id":       in.arn,
		"aws.connect.instance.id": in.id,
	}
}

var (
	instUSEast = instance{
		arn:     "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333",
		account: "123456789012", region: "us-east-1", id: "a1b2c3d4-5678-90ab-cdef-111122223333",
	}
	instBench = instance{
		arn:     "arn:aws:connect:us-east-1:123456789012:instance/9f8e7d6c-5b4a-4321-a0b1-c2d3e4f5a6b7",
		account: "123456789012", region: "us-east-1", id: "9f8e7d6c-5b4a-4321-a0b1-c2d3e4f5a6b7",
	}
	instEUWest = instance{
		arn:     "arn:aws:connect:eu-west-2:210987654321:instance/f0e1d2c3-b4a5-4968-8776-655443322110",
		account: "210987654321", region: "eu-west-2", id: "f0e1d2c3-b4a5-4968-8776-655443322110",
	}
	// bareResource is the resource of records that name no Connect instance.
	bareResource = map[string]any{"cloud.provider": "aws"}
)

// validCase is what one valid fixture must turn into. Values that are long identifiers
// (event ID, agent ARN) are read from the fixture with encoding/json instead.
type validCase struct {
	file           string
	eventName      string
	severity       plog.SeverityNumber
	severityText   string
	username       string
	statusName     string
	statusType     string
	derived        bool
	routingProfile string
	inst           instance
}

var validCases = []validCase{
	{"bench_state_change.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "mgarcia", "Available", "ROUTABLE", false, "Support Profile", instBench},
	{"error_contact.json", "aws.connect.agent.state_change", plog.SeverityNumberWarn, "WARN", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"extras.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "pnovak", "Available", "ROUTABLE", false, "Omnichannel Profile", instEUWest},
	{"heart_beat.json", "aws.connect.agent.heart_beat", plog.SeverityNumberInfo, "INFO", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"login.json", "aws.connect.agent.login", plog.SeverityNumberInfo, "INFO", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"logout.json", "aws.connect.agent.logout", plog.SeverityNumberInfo, "INFO", "jdoe", "Offline", "OFFLINE", false, "Basic Routing Profile", instUSEast},
	{"missed_contact.json", "aws.connect.agent.state_change", plog.SeverityNumberWarn, "WARN", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"next_status_enqueue_spelling.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"nulls.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "cwu", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"old_version_no_type.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "bwayne", "Lunch", "CUSTOM", true, "Basic Routing Profile", instUSEast},
	{"rejected_chat.json", "aws.connect.agent.state_change", plog.SeverityNumberWarn, "WARN", "asmith", "Available", "ROUTABLE", false, "Sales Routing Profile", instUSEast},
	{"state_change_next_status.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"state_change_status.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "asmith", "Break", "CUSTOM", false, "Sales Routing Profile", instUSEast},
	{"state_change_two_contacts.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "mgarcia", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"timestamps_no_millis.json", "aws.connect.agent.state_change", plog.SeverityNumberInfo, "INFO", "jdoe", "Available", "ROUTABLE", false, "Basic Routing Profile", instUSEast},
	{"unknown_event_type.json", "aws.connect.agent.agent_training_started", plog.SeverityNumberInfo, "INFO", "asmith", "Training", "CUSTOM", false, "Sales Routing Profile", instUSEast},
}

// malformedCase is a fixture that is not an agent event, and the DecodeError kind it gives.
type malformedCase struct {
	file  string
	kind  string
	field string
}

var malformedCases = []malformedCase{
	{"array.json", agentevent.ErrKindNotAnObject, ""},
	{"bad_timestamp.json", agentevent.ErrKindInvalidTimestamp, "EventTimestamp"},
	{"empty.bin", agentevent.ErrKindInvalidJSON, ""},
	{"invalid_utf8.bin", agentevent.ErrKindInvalidUTF8, ""},
	{"no_event_type.json", agentevent.ErrKindMissingField, "EventType"},
	{"not_json.txt", agentevent.ErrKindInvalidJSON, ""},
	{"string.json", agentevent.ErrKindNotAnObject, ""},
	{"truncated.json", agentevent.ErrKindInvalidJSON, ""},
	{"wrong_type_contacts.json", agentevent.ErrKindWrongType, "CurrentAgentSnapshot.Contacts"},
	{"wrong_type_timestamp.json", agentevent.ErrKindWrongType, "EventTimestamp"},
}

// ---- helpers ----

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	require.NoError(t, err)
	return data
}

// compactJSON compacts a document as Kinesis records are.
func compactJSON(t testing.TB, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, raw))
	return buf.Bytes()
}

func readCompact(t testing.TB, name string) []byte {
	t.Helper()
	return compactJSON(t, readFixture(t, name))
}

func seqNumber(i int) string {
	return fmt.Sprintf("49650502941279841831465640889109774228552701502682%05d", i)
}

func batchOf(records ...[]byte) testBatch {
	b := testBatch{StreamName: testStream, ShardID: testShard}
	for i, data := range records {
		b.Records = append(b.Records, testRecord{Data: data, SequenceNumber: seqNumber(i)})
	}
	return b
}

func newBuilder() *Builder {
	return NewBuilder(metadata.DefaultResourceAttributesConfig())
}

// normalize turns a document decoded with UseNumber into what pcommon's AsRaw gives:
// integers as int64, other numbers as float64.
func normalize(t testing.TB, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(t, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(t, e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, err := x.Float64()
		require.NoError(t, err)
		return f
	default:
		return v
	}
}

// decodeDoc decodes a JSON object with encoding/json, numbers normalised.
func decodeDoc(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return normalize(t, m).(map[string]any)
}

// str digs a string out of a decoded document; "" when absent or not a string.
func str(doc map[string]any, path ...string) string {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// assertSameDocument walks a JSON document token by token beside a pcommon value and
// checks they hold the same keys in the same order, with the same types and values.
func assertSameDocument(t *testing.T, data []byte, v pcommon.Value) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	walkSame(t, dec, v, "$")
	_, err := dec.Token()
	assert.ErrorIs(t, err, io.EOF, "trailing data after the document")
}

func walkSame(t *testing.T, dec *json.Decoder, v pcommon.Value, path string) {
	t.Helper()
	tok, err := dec.Token()
	require.NoError(t, err, path)
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			require.Equal(t, pcommon.ValueTypeMap, v.Type(), path)
			var bodyKeys []string
			v.Map().Range(func(k string, _ pcommon.Value) bool {
				bodyKeys = append(bodyKeys, k)
				return true
			})
			var docKeys []string
			for dec.More() {
				kt, err := dec.Token()
				require.NoError(t, err, path)
				k := kt.(string)
				docKeys = append(docKeys, k)
				child, ok := v.Map().Get(k)
				require.True(t, ok, "%s.%s missing from the body", path, k)
				walkSame(t, dec, child, path+"."+k)
			}
			_, err := dec.Token() // }
			require.NoError(t, err, path)
			require.Equal(t, docKeys, bodyKeys, "keys of %s, in document order", path)
		case '[':
			require.Equal(t, pcommon.ValueTypeSlice, v.Type(), path)
			s := v.Slice()
			i := 0
			for dec.More() {
				require.Less(t, i, s.Len(), "%s has fewer elements than the document", path)
				walkSame(t, dec, s.At(i), fmt.Sprintf("%s[%d]", path, i))
				i++
			}
			_, err := dec.Token() // ]
			require.NoError(t, err, path)
			require.Equal(t, i, s.Len(), "%s length", path)
		default:
			t.Fatalf("unexpected delimiter %v at %s", x, path)
		}
	case string:
		require.Equal(t, pcommon.ValueTypeStr, v.Type(), path)
		assert.Equal(t, x, v.Str(), path)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			require.Equal(t, pcommon.ValueTypeInt, v.Type(), "%s = %s", path, x)
			assert.Equal(t, i, v.Int(), path)
		} else {
			f, err := x.Float64()
			require.NoError(t, err)
			require.Equal(t, pcommon.ValueTypeDouble, v.Type(), "%s = %s", path, x)
			assert.Equal(t, f, v.Double(), path) //nolint:testifylint // exact: same literal
		}
	case bool:
		require.Equal(t, pcommon.ValueTypeBool, v.Type(), path)
		assert.Equal(t, x, v.Bool(), path)
	case nil:
		assert.Equal(t, pcommon.ValueTypeEmpty, v.Type(), "%s is null", path)
	default:
		t.Fatalf("unexpected token %T at %s", tok, path)
	}
}

// onlyRecord returns the single resource, scope and log record of a result.
func onlyRecord(t *testing.T, logs plog.Logs) (pcommon.Resource, plog.LogRecord) {
	t.Helper()
	require.Equal(t, 1, logs.ResourceLogs().Len())
	rl := logs.ResourceLogs().At(0)
	require.Equal(t, 1, rl.ScopeLogs().Len())
	sl := rl.ScopeLogs().At(0)
	assert.Equal(t, metadata.ScopeName, sl.Scope().Name())
	require.Equal(t, 1, sl.LogRecords().Len())
	return rl.Resource(), sl.LogRecords().At(0)
}

// recordsBySeq indexes every log record of a result by its sequence number, with its resource.
type located struct {
	res pcommon.Resource
	lr  plog.LogRecord
}

func recordsBySeq(t *testing.T, logs plog.Logs) map[string]located {
	t.Helper()
	out := map[string]located{}
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		rl := logs.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				seq, ok := lr.Attributes().Get(AttrSequenceNumber)
				require.True(t, ok, "record without a sequence number")
				_, dup := out[seq.Str()]
				require.False(t, dup, "sequence number %s twice", seq.Str())
				out[seq.Str()] = located{res: rl.Resource(), lr: lr}
			}
		}
	}
	return out
}

// checkValid checks a log record against a valid fixture (compact data).
func checkValid(t *testing.T, tc validCase, data []byte, seq string, res pcommon.Resource, lr plog.LogRecord) {
	t.Helper()
	doc := decodeDoc(t, data)

	assert.Equal(t, tc.eventName, lr.EventName())
	ts, err := time.Parse(time.RFC3339Nano, str(doc, "EventTimestamp"))
	require.NoError(t, err)
	assert.Equal(t, pcommon.NewTimestampFromTime(ts), lr.Timestamp(), "Timestamp")
	assert.Equal(t, pcommon.NewTimestampFromTime(observed), lr.ObservedTimestamp(), "ObservedTimestamp")
	assert.Equal(t, tc.severity, lr.SeverityNumber())
	assert.Equal(t, tc.severityText, lr.SeverityText())

	want := map[string]any{
		AttrEventID:            str(doc, "EventId"),
		AttrEventType:          str(doc, "EventType"),
		AttrAgentARN:           str(doc, "AgentARN"),
		AttrAgentUsername:      tc.username,
		AttrStatusName:         tc.statusName,
		AttrStatusType:         tc.statusType,
		AttrRoutingProfileName: tc.routingProfile,
		AttrStreamName:         testStream,
		AttrShardID:            testShard,
		AttrSequenceNumber:     seq,
	}
	require.NotEmpty(t, want[AttrEventID])
	require.NotEmpty(t, want[AttrAgentARN])
	// The table agrees with the fixture.
	require.Equal(t, tc.username, str(doc, "CurrentAgentSnapshot", "Configuration", "Username"))
	require.Equal(t, tc.statusName, str(doc, "CurrentAgentSnapshot", "AgentStatus", "Name"))
	require.Equal(t, tc.routingProfile, str(doc, "CurrentAgentSnapshot", "Configuration", "RoutingProfile", "Name"))
	if tc.derived {
		want[AttrStatusTypeDerived] = true
		require.Empty(t, str(doc, "CurrentAgentSnapshot", "AgentStatus", "Type"))
	} else {
		require.Equal(t, tc.statusType, str(doc, "CurrentAgentSnapshot", "AgentStatus", "Type"))
	}
	assert.Equal(t, want, lr.Attributes().AsRaw(), "attributes")
	assert.Equal(t, tc.inst.resourceAttrs(), res.Attributes().AsRaw(), "resource attributes")

	// The body is the whole event: every key, nothing added.
	require.Equal(t, pcommon.ValueTypeMap, lr.Body().Type())
	assert.Equal(t, doc, lr.Body().Map().AsRaw(), "body")
	assertSameDocument(t, data, lr.Body())
}

// ---- tests ----

func TestValidFixturesAllListed(t *testing.T) {
	entries, err := os.ReadDir(eventsDir)
	require.NoError(t, err)
	var onDisk, listed []string
	for _, e := range entries {
		if !e.IsDir() {
			onDisk = append(onDisk, e.Name())
		}
	}
	for _, tc := range validCases {
		listed = append(listed, tc.file)
	}
	sort.Strings(onDisk)
	sort.Strings(listed)
	assert.Equal(t, onDisk, listed, "every fixture in testdata/events is covered")
}

func TestBuildValidFixtures(t *testing.T) {
	b := newBuilder()
	for _, tc := range validCases {
		t.Run(tc.file, func(t *testing.T) {
			data := readCompact(t, tc.file)
			res := b.build(batchOf(data), observed)
			assert.Equal(t, 0, res.Malformed)
			r, lr := onlyRecord(t, res.Logs)
			checkValid(t, tc, data, seqNumber(0), r, lr)
		})
	}
}

func TestBuildValidFixturesOneBatch(t *testing.T) {
	var records [][]byte
	for _, tc := range validCases {
		records = append(records, readCompact(t, tc.file))
	}
	res := newBuilder().build(batchOf(records...), observed)
	assert.Equal(t, 0, res.Malformed)
	require.Equal(t, len(validCases), res.Logs.LogRecordCount())
	// Three instances among the fixtures.
	assert.Equal(t, 3, res.Logs.ResourceLogs().Len())
	got := recordsBySeq(t, res.Logs)
	for i, tc := range validCases {
		t.Run(tc.file, func(t *testing.T) {
			l, ok := got[seqNumber(i)]
			require.True(t, ok)
			checkValid(t, tc, records[i], seqNumber(i), l.res, l.lr)
		})
	}
}

func TestTimestampsExact(t *testing.T) {
	tests := []struct {
		file string
		want time.Time
	}{
		{"login.json", time.Date(2019, 5, 25, 18, 43, 59, 49_000_000, time.UTC)},
		{"timestamps_no_millis.json", time.Date(2019, 5, 25, 18, 55, 27, 0, time.UTC)},
		{"extras.json", time.Date(2024, 3, 7, 10, 15, 31, 125_000_000, time.UTC)},
		{"old_version_no_type.json", time.Date(2017, 11, 14, 9, 30, 5, 312_000_000, time.UTC)},
	}
	b := newBuilder()
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, lr := onlyRecord(t, b.build(batchOf(readCompact(t, tc.file)), observed).Logs)
			assert.Equal(t, tc.want.UnixNano(), int64(lr.Timestamp()))
			assert.Equal(t, tc.want, lr.Timestamp().AsTime())
			assert.Equal(t, observed.UnixNano(), int64(lr.ObservedTimestamp()))
		})
	}
}

func TestBodyValueTypes(t *testing.T) {
	_, lr := onlyRecord(t, newBuilder().build(batchOf(readCompact(t, "extras.json")), observed).Logs)
	body := lr.Body().Map()
	get := func(path ...any) pcommon.Value {
		t.Helper()
		v := lr.Body()
		for _, p := range path {
			switch p := p.(type) {
			case string:
				require.Equal(t, pcommon.ValueTypeMap, v.Type(), "at %v", p)
				var ok bool
				v, ok = v.Map().Get(p)
				require.True(t, ok, "no %q", p)
			case int:
				require.Equal(t, pcommon.ValueTypeSlice, v.Type(), "at %v", p)
				require.Less(t, p, v.Slice().Len())
				v = v.Slice().At(p)
			}
		}
		return v
	}

	// Undocumented fields stay, with their types.
	a := get("CurrentAgentSnapshot", "Configuration", "RoutingProfile", "SomeNewField", "a")
	require.Equal(t, pcommon.ValueTypeSlice, a.Type())
	require.Equal(t, 4, a.Slice().Len())
	assert.Equal(t, pcommon.ValueTypeInt, a.Slice().At(0).Type())
	assert.Equal(t, int64(1), a.Slice().At(0).Int())
	assert.Equal(t, pcommon.ValueTypeDouble, a.Slice().At(1).Type())
	assert.InDelta(t, 2.5, a.Slice().At(1).Double(), 0)
	assert.Equal(t, pcommon.ValueTypeBool, a.Slice().At(2).Type())
	assert.True(t, a.Slice().At(2).Bool())
	assert.Equal(t, pcommon.ValueTypeEmpty, a.Slice().At(3).Type())

	assert.Equal(t, pcommon.ValueTypeEmpty, get("CurrentAgentSnapshot", "Configuration", "SipAddress").Type())
	assert.Equal(t, pcommon.ValueTypeEmpty, get("CurrentAgentSnapshot", "NextAgentStatus").Type())
	assert.Equal(t, pcommon.ValueTypeBool, get("CurrentAgentSnapshot", "Configuration", "AutoAccept").Type())
	assert.False(t, get("CurrentAgentSnapshot", "Configuration", "AutoAccept").Bool())
	assert.Equal(t, "en-GB", get("CurrentAgentSnapshot", "Configuration", "LanguageCode").Str())
	assert.Equal(t, "Ready for contacts", get("CurrentAgentSnapshot", "AgentStatus", "Description").Str())
	assert.Equal(t, pcommon.ValueTypeDouble, get("CurrentAgentSnapshot", "Configuration", "Proficiencies", 2, "Level").Type())
	assert.InDelta(t, 1.5, get("CurrentAgentSnapshot", "Configuration", "Proficiencies", 2, "Level").Double(), 0)
	assert.Equal(t, pcommon.ValueTypeInt, get("CurrentAgentSnapshot", "Configuration", "RoutingProfile", "Concurrency", 2, "MaximumSlots").Type())
	assert.Equal(t, int64(5), get("CurrentAgentSnapshot", "Configuration", "RoutingProfile", "Concurrency", 2, "MaximumSlots").Int())
	assert.Equal(t, "EMAIL", get("CurrentAgentSnapshot", "Contacts", 0, "Channel").Str())
	assert.Equal(t, pcommon.ValueTypeEmpty, get("CurrentAgentSnapshot", "Contacts", 0, "InitialContactId").Type())
	_, ok := body.Get("SomeNewField")
	assert.True(t, ok)
	_, ok = body.Get("Tags")
	assert.True(t, ok)

	// An empty Contacts array stays an empty slice.
	_, lr = onlyRecord(t, newBuilder().build(batchOf(readCompact(t, "login.json")), observed).Logs)
	contacts, ok := lr.Body().Map().Get("CurrentAgentSnapshot")
	require.True(t, ok)
	c, ok := contacts.Map().Get("Contacts")
	require.True(t, ok)
	assert.Equal(t, pcommon.ValueTypeSlice, c.Type())
	assert.Equal(t, 0, c.Slice().Len())

	// A null snapshot field stays, as an empty value.
	_, lr = onlyRecord(t, newBuilder().build(batchOf(readCompact(t, "nulls.json")), observed).Logs)
	conf, ok := lr.Body().Map().Get("CurrentAgentSnapshot")
	require.True(t, ok)
	groups, ok := conf.Map().Get("Configuration")
	require.True(t, ok)
	hg, ok := groups.Map().Get("AgentHierarchyGroups")
	require.True(t, ok, "a null field must be kept")
	assert.Equal(t, pcommon.ValueTypeEmpty, hg.Type())
}

// topLevelKeys lists the keys of a JSON object in document order.
func topLevelKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func bodyKeys(m pcommon.Map) []string {
	var keys []string
	m.Range(func(k string, _ pcommon.Value) bool {
		keys = append(keys, k)
		return true
	})
	return keys
}

// reverseKeys re-encodes a document with the keys of every object in reverse sorted
// order: the fixtures are all sorted, so this order is one no sorting would give.
func reverseKeys(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	var enc func(v any)
	enc = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Sort(sort.Reverse(sort.StringSlice(keys)))
			buf.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					buf.WriteByte(',')
				}
				kb, err := json.Marshal(k)
				require.NoError(t, err)
				buf.Write(kb)
				buf.WriteByte(':')
				enc(x[k])
			}
			buf.WriteByte('}')
		case []any:
			buf.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					buf.WriteByte(',')
				}
				enc(e)
			}
			buf.WriteByte(']')
		default:
			b, err := json.Marshal(x)
			require.NoError(t, err)
			buf.Write(b)
		}
	}
	enc(v)
	return buf.Bytes()
}

func TestBodyKeyOrder(t *testing.T) {
	b := newBuilder()

	// The top-level keys of a fixture, in the order of the file.
	raw := readFixture(t, "extras.json")
	fileKeys := topLevelKeys(t, raw)
	require.Equal(t, []string{
		"AWSAccountId", "AgentARN", "CurrentAgentSnapshot", "EventId", "EventTimestamp",
		"EventType", "InstanceARN", "PreviousAgentSnapshot", "SomeNewField", "Tags", "Version",
	}, fileKeys)
	_, lr := onlyRecord(t, b.build(batchOf(compactJSON(t, raw)), observed).Logs)
	assert.Equal(t, fileKeys, bodyKeys(lr.Body().Map()))

	// The same event with every object's keys in reverse order keeps that order, at every level.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	require.NoError(t, dec.Decode(&doc))
	reversed := reverseKeys(t, doc)
	require.True(t, json.Valid(reversed))
	res := b.build(batchOf(reversed), observed)
	require.Equal(t, 0, res.Malformed)
	_, lr = onlyRecord(t, res.Logs)
	want := append([]string(nil), fileKeys...)
	sort.Sort(sort.Reverse(sort.StringSlice(want)))
	assert.Equal(t, want, bodyKeys(lr.Body().Map()))
	assertSameDocument(t, reversed, lr.Body())
	assert.Equal(t, "aws.connect.agent.state_change", lr.EventName())
	assert.Equal(t, "pnovak", attrStr(lr, AttrAgentUsername))
}

func attrStr(lr plog.LogRecord, k string) string {
	v, ok := lr.Attributes().Get(k)
	if !ok {
		return "<absent>"
	}
	return v.AsString()
}

func TestBuildGroupsByInstance(t *testing.T) {
	login := readCompact(t, "login.json")              // instUSEast
	extras := readCompact(t, "extras.json")            // instEUWest
	heartBeat := readCompact(t, "heart_beat.json")     // instUSEast
	logout := readCompact(t, "logout.json")            // instUSEast
	bench := readCompact(t, "bench_state_change.json") // instBench: same account and region as instUSEast

	noARN := regexp.MustCompile(`"InstanceARN":"[^"]*",`).ReplaceAll(login, nil)
	require.NotContains(t, string(noARN), "InstanceARN")
	require.True(t, json.Valid(noARN))
	nullARN := regexp.MustCompile(`"InstanceARN":"[^"]*"`).ReplaceAll(heartBeat, []byte(`"InstanceARN":null`))
	require.Contains(t, string(nullARN), `"InstanceARN":null`)

	// seq 0..6
	res := newBuilder().build(batchOf(login, extras, noARN, heartBeat, bench, nullARN, logout), observed)
	assert.Equal(t, 0, res.Malformed)
	require.Equal(t, 7, res.Logs.LogRecordCount())
	require.Equal(t, 4, res.Logs.ResourceLogs().Len(), "three instances and the bare resource")

	wantGroups := map[string]struct {
		resource map[string]any
		seqs     []string
	}{
		instUSEast.arn: {instUSEast.resourceAttrs(), []string{seqNumber(0), seqNumber(3), seqNumber(6)}},
		instEUWest.arn: {instEUWest.resourceAttrs(), []string{seqNumber(1)}},
		instBench.arn:  {instBench.resourceAttrs(), []string{seqNumber(4)}},
		"":             {bareResource, []string{seqNumber(2), seqNumber(5)}},
	}
	seen := map[string]bool{}
	for i := 0; i < res.Logs.ResourceLogs().Len(); i++ {
		rl := res.Logs.ResourceLogs().At(i)
		key := ""
		if v, ok := rl.Resource().Attributes().Get("cloud.resource_id"); ok {
			key = v.Str()
		}
		want, ok := wantGroups[key]
		require.True(t, ok, "unexpected resource %v", rl.Resource().Attributes().AsRaw())
		require.False(t, seen[key], "two ResourceLogs for %q", key)
		seen[key] = true
		assert.Equal(t, want.resource, rl.Resource().Attributes().AsRaw(), key)
		require.Equal(t, 1, rl.ScopeLogs().Len())
		assert.Equal(t, metadata.ScopeName, rl.ScopeLogs().At(0).Scope().Name())
		lrs := rl.ScopeLogs().At(0).LogRecords()
		var seqs []string
		for j := 0; j < lrs.Len(); j++ {
			seqs = append(seqs, attrStr(lrs.At(j), AttrSequenceNumber))
			assert.Equal(t, plog.SeverityNumberInfo, lrs.At(j).SeverityNumber())
		}
		assert.Equal(t, want.seqs, seqs, "records of %q, in batch order", key)
	}
	assert.Len(t, seen, 4)

	// The record without an InstanceARN is still a full event.
	got := recordsBySeq(t, res.Logs)
	l := got[seqNumber(2)]
	assert.Equal(t, "aws.connect.agent.login", l.lr.EventName())
	assert.NotEqual(t, "<absent>", attrStr(l.lr, AttrEventID))
	assert.Equal(t, decodeDoc(t, noARN), l.lr.Body().Map().AsRaw())
}

func TestBuildUnparsableInstanceARN(t *testing.T) {
	login := readCompact(t, "login.json")
	data := regexp.MustCompile(`"InstanceARN":"[^"]*"`).ReplaceAll(login, []byte(`"InstanceARN":"not-an-arn"`))
	res := newBuilder().build(batchOf(data), observed)
	assert.Equal(t, 0, res.Malformed)
	r, lr := onlyRecord(t, res.Logs)
	attrs := r.Attributes().AsRaw()
	assert.Equal(t, "aws", attrs["cloud.provider"])
	assert.NotContains(t, attrs, "cloud.account.id")
	assert.NotContains(t, attrs, "cloud.region")
	assert.NotContains(t, attrs, "aws.connect.instance.id")
	assert.Equal(t, "aws.connect.agent.login", lr.EventName())
}

func TestBuildMalformedFixtures(t *testing.T) {
	// Every malformed fixture is in the table.
	entries, err := os.ReadDir(filepath.Join(eventsDir, "malformed"))
	require.NoError(t, err)
	var onDisk, listed []string
	for _, e := range entries {
		onDisk = append(onDisk, e.Name())
	}
	for _, tc := range malformedCases {
		listed = append(listed, tc.file)
	}
	sort.Strings(onDisk)
	sort.Strings(listed)
	require.Equal(t, onDisk, listed)

	b := newBuilder()
	for _, tc := range malformedCases {
		t.Run(tc.file, func(t *testing.T) {
			raw := readFixture(t, filepath.Join("malformed", tc.file))
			res := b.build(batchOf(raw), observed)
			assert.Equal(t, 1, res.Malformed)
			r, lr := onlyRecord(t, res.Logs)
			checkMalformed(t, tc, raw, seqNumber(0), lr)
			assert.Equal(t, bareResource, r.Attributes().AsRaw())
		})
	}
}

func checkMalformed(t *testing.T, tc malformedCase, raw []byte, seq string, lr plog.LogRecord) {
	t.Helper()
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	assert.Equal(t, "ERROR", lr.SeverityText())
	assert.Equal(t, pcommon.NewTimestampFromTime(observed), lr.ObservedTimestamp())

	if tc.kind == agentevent.ErrKindInvalidUTF8 {
		require.Equal(t, pcommon.ValueTypeBytes, lr.Body().Type())
		assert.Equal(t, raw, lr.Body().Bytes().AsRaw())
	} else {
		require.Equal(t, pcommon.ValueTypeStr, lr.Body().Type())
		assert.Equal(t, string(raw), lr.Body().Str())
	}

	attrs := lr.Attributes().AsRaw()
	assert.Equal(t, testStream, attrs[AttrStreamName])
	assert.Equal(t, testShard, attrs[AttrShardID])
	assert.Equal(t, seq, attrs[AttrSequenceNumber])
	assert.Equal(t, tc.kind, attrs[AttrErrorType])
	msg, _ := attrs[AttrExceptionMessage].(string)
	assert.NotEmpty(t, msg)
	if tc.field != "" {
		assert.True(t, strings.HasPrefix(msg, tc.field+": "), "exception.message %q names %s", msg, tc.field)
	}
	assert.NotContains(t, attrs, AttrEventID)
	assert.NotContains(t, attrs, AttrEventType)
	assert.NotContains(t, attrs, AttrAgentARN)
	assert.Len(t, attrs, 5, "Kinesis attributes, error.type and exception.message only: %v", attrs)
}

func TestBuildMixedBatchDropsNothing(t *testing.T) {
	type entry struct {
		data      []byte
		valid     *validCase
		malformed *malformedCase
	}
	var entries []entry
	// Interleave: each malformed record between valid ones, so the decoder must
	// recover from every failure.
	for i := range max(len(validCases), len(malformedCases)) {
		if i < len(validCases) {
			entries = append(entries, entry{data: readCompact(t, validCases[i].file), valid: &validCases[i]})
		}
		if i < len(malformedCases) {
			entries = append(entries, entry{data: readFixture(t, filepath.Join("malformed", malformedCases[i].file)), malformed: &malformedCases[i]})
		}
	}
	var records [][]byte
	for _, e := range entries {
		records = append(records, e.data)
	}
	res := newBuilder().build(batchOf(records...), observed)
	assert.Equal(t, len(malformedCases), res.Malformed)
	require.Equal(t, len(entries), res.Logs.LogRecordCount(), "one log record per Kinesis record")

	got := recordsBySeq(t, res.Logs)
	require.Len(t, got, len(entries))
	for i, e := range entries {
		l, ok := got[seqNumber(i)]
		require.True(t, ok, "record %d missing", i)
		if e.valid != nil {
			t.Run(e.valid.file, func(t *testing.T) { checkValid(t, *e.valid, e.data, seqNumber(i), l.res, l.lr) })
		} else {
			t.Run(e.malformed.file, func(t *testing.T) {
				checkMalformed(t, *e.malformed, e.data, seqNumber(i), l.lr)
				assert.Equal(t, bareResource, l.res.Attributes().AsRaw())
			})
		}
	}
}

func TestBuildEmptyBatch(t *testing.T) {
	res := newBuilder().build(batchOf(), observed)
	assert.Equal(t, 0, res.Malformed)
	assert.Equal(t, 0, res.Logs.LogRecordCount())
}

func TestDisabledResourceAttributes(t *testing.T) {
	login := readCompact(t, "login.json")
	tests := []struct {
		name    string
		disable func(*metadata.ResourceAttributesConfig)
		absent  []string
	}{
		{"account", func(c *metadata.ResourceAttributesConfig) { c.CloudAccountID.Enabled = false }, []string{"cloud.account.id"}},
		{"region and instance id", func(c *metadata.ResourceAttributesConfig) {
			c.CloudRegion.Enabled = false
			c.AwsConnectInstanceID.Enabled = false
		}, []string{"cloud.region", "aws.connect.instance.id"}},
		{"provider and resource id", func(c *metadata.ResourceAttributesConfig) {
			c.CloudProvider.Enabled = false
			c.CloudResourceID.Enabled = false
		}, []string{"cloud.provider", "cloud.resource_id"}},
		{"all", func(c *metadata.ResourceAttributesConfig) {
			c.CloudAccountID.Enabled = false
			c.CloudRegion.Enabled = false
			c.AwsConnectInstanceID.Enabled = false
			c.CloudProvider.Enabled = false
			c.CloudResourceID.Enabled = false
		}, []string{"cloud.account.id", "cloud.region", "aws.connect.instance.id", "cloud.provider", "cloud.resource_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rac := metadata.DefaultResourceAttributesConfig()
			tc.disable(&rac)
			b := NewBuilder(rac)
			want := instUSEast.resourceAttrs()
			for _, k := range tc.absent {
				delete(want, k)
			}
			r, lr := onlyRecord(t, b.build(batchOf(login), observed).Logs)
			assert.Equal(t, want, r.Attributes().AsRaw())
			// Log record attributes are not affected.
			assert.Equal(t, "jdoe", attrStr(lr, AttrAgentUsername))

			// The bare resource of malformed records too.
			r, _ = onlyRecord(t, b.build(batchOf([]byte("not json")), observed).Logs)
			wantBare := map[string]any{}
			if !containsStr(tc.absent, "cloud.provider") {
				wantBare["cloud.provider"] = "aws"
			}
			assert.Equal(t, wantBare, r.Attributes().AsRaw())
		})
	}
}

func containsStr(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func TestEventName(t *testing.T) {
	tests := map[string]string{
		"LOGIN":                  "aws.connect.agent.login",
		"LOGOUT":                 "aws.connect.agent.logout",
		"STATE_CHANGE":           "aws.connect.agent.state_change",
		"HEART_BEAT":             "aws.connect.agent.heart_beat",
		"AGENT_TRAINING_STARTED": "aws.connect.agent.agent_training_started",
		"Some_New_Type":          "aws.connect.agent.some_new_type",
		"login":                  "aws.connect.agent.login",
	}
	for in, want := range tests {
		assert.Equal(t, want, EventName(in), in)
	}

	// Through Build, for an unknown type the fixtures do not have.
	rec := `{"EventId":"e-1","EventType":"AGENT_RECORDING_PAUSED","EventTimestamp":"2024-01-02T03:04:05.678Z",` +
		`"InstanceARN":"` + instEUWest.arn + `","Version":"2031-01-01","CurrentAgentSnapshot":{"AgentStatus":{"Name":"Focus"}}}`
	res := newBuilder().build(batchOf([]byte(rec)), observed)
	require.Equal(t, 0, res.Malformed)
	r, lr := onlyRecord(t, res.Logs)
	assert.Equal(t, "aws.connect.agent.agent_recording_paused", lr.EventName())
	assert.Equal(t, "AGENT_RECORDING_PAUSED", attrStr(lr, AttrEventType))
	assert.Equal(t, "e-1", attrStr(lr, AttrEventID))
	assert.Equal(t, "CUSTOM", attrStr(lr, AttrStatusType))
	assert.Equal(t, "true", attrStr(lr, AttrStatusTypeDerived))
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	assert.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC), lr.Timestamp().AsTime())
	assert.Equal(t, instEUWest.resourceAttrs(), r.Attributes().AsRaw())
	assert.Equal(t, decodeDoc(t, []byte(rec)), lr.Body().Map().AsRaw())
}

func marshalLogs(t testing.TB, logs plog.Logs) []byte {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
	require.NoError(t, err)
	return b
}

// batchesForConcurrency gives batches that differ from one another: a rotation of all
// the valid and malformed fixtures each.
func batchesForConcurrency(t *testing.T, n int) []testBatch {
	var all [][]byte
	for _, tc := range validCases {
		all = append(all, readCompact(t, tc.file))
	}
	for _, tc := range malformedCases {
		all = append(all, readFixture(t, filepath.Join("malformed", tc.file)))
	}
	batches := make([]testBatch, n)
	for i := range batches {
		recs := make([][]byte, 0, len(all))
		for j := range all {
			recs = append(recs, all[(i+j)%len(all)])
		}
		batches[i] = batchOf(recs...)
		batches[i].ShardID = fmt.Sprintf("shardId-%012d", i)
	}
	return batches
}

func TestBuildConcurrent(t *testing.T) {
	const goroutines = 8
	const rounds = 25
	batches := batchesForConcurrency(t, goroutines)

	// What each batch must give, built alone with a separate Builder.
	want := make([][]byte, goroutines)
	for i, batch := range batches {
		want[i] = marshalLogs(t, newBuilder().build(batch, observed).Logs)
	}

	b := newBuilder()
	type kept struct {
		logs plog.Logs
		idx  int
	}
	var (
		mu   sync.Mutex
		keep []kept
		errs []error
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := range rounds {
				idx := (g + r) % goroutines
				res := b.build(batches[idx], observed)
				var err error
				switch {
				case res.Malformed != len(malformedCases):
					err = fmt.Errorf("goroutine %d round %d: malformed %d", g, r, res.Malformed)
				case res.Logs.LogRecordCount() != len(batches[idx].Records):
					err = fmt.Errorf("goroutine %d round %d: %d records", g, r, res.Logs.LogRecordCount())
				default:
					got, mErr := (&plog.JSONMarshaler{}).MarshalLogs(res.Logs)
					if mErr != nil {
						err = mErr
					} else if !bytes.Equal(want[idx], got) {
						err = fmt.Errorf("goroutine %d round %d: batch %d built differently", g, r, idx)
					}
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				if r%5 == 0 {
					keep = append(keep, kept{res.Logs, idx})
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	// Results stay intact after later Builds reused the decoders.
	for _, k := range keep {
		assert.Equal(t, string(want[k.idx]), string(marshalLogs(t, k.logs)))
	}
}

func TestBuildResultsSurviveLaterBuilds(t *testing.T) {
	b := newBuilder()
	first := b.build(batchOf(readCompact(t, "extras.json"), readCompact(t, "nulls.json")), observed)
	snapshot := marshalLogs(t, first.Logs)
	for _, tc := range validCases {
		b.build(batchOf(readCompact(t, tc.file), readCompact(t, tc.file)), observed)
	}
	assert.Equal(t, string(snapshot), string(marshalLogs(t, first.Logs)))
	_, lr := onlyRecordOf(t, first.Logs, instEUWest.arn)
	assert.Equal(t, decodeDoc(t, readCompact(t, "extras.json")), lr.Body().Map().AsRaw())
}

// onlyRecordOf returns the first record of an instance's resource.
func onlyRecordOf(t *testing.T, logs plog.Logs, arn string) (pcommon.Resource, plog.LogRecord) {
	t.Helper()
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		rl := logs.ResourceLogs().At(i)
		if v, ok := rl.Resource().Attributes().Get("cloud.resource_id"); ok && v.Str() == arn {
			return rl.Resource(), rl.ScopeLogs().At(0).LogRecords().At(0)
		}
	}
	t.Fatalf("no resource for %s", arn)
	return pcommon.Resource{}, plog.LogRecord{}
}

func TestBodyTrickyValues(t *testing.T) {
	rec := `{"EventType":"LOGIN","EventId":"e-\u00e9\"\\\/\n\t","Extra":{"emoji":"\ud83d\ude00 ok","empty":{},"list":[],` +
		`"nested":[[1,-2,0],[{"a":null}]],"neg":-7,"exp":1e3,"frac":-0.125,"big":12345678901234567890,"zero":0,"t":true,"f":false,` +
		`"long":"` + strings.Repeat("long-value-", 40) + `"},` +
		`"CurrentAgentSnapshot":{"Configuration":{"Username":"Zoë 山田"}}}`
	require.True(t, json.Valid([]byte(rec)))
	res := newBuilder().build(batchOf([]byte(rec)), observed)
	require.Equal(t, 0, res.Malformed)
	_, lr := onlyRecord(t, res.Logs)
	assert.Equal(t, decodeDoc(t, []byte(rec)), lr.Body().Map().AsRaw())
	assertSameDocument(t, []byte(rec), lr.Body())
	assert.Equal(t, "e-\u00e9\"\\/\n\t", attrStr(lr, AttrEventID))
	assert.Equal(t, "Zoë 山田", attrStr(lr, AttrAgentUsername))
}
