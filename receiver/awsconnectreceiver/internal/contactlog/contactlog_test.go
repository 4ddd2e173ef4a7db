package contactlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const (
	testdata = "../../../../testdata/contacts"
	instance = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444"
	agentARN = instance + "/agent/bbbbbbbb-1111-2222-3333-444444444444"
	queueARN = instance + "/queue/dddddddd-1111-2222-3333-444444444444"
	stream   = "connect-contacts"
	shard    = "shardId-000000000001"
)

var observed = time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	require.NoError(t, err)
	return data
}

func newRecords(redact *eventlog.Redactor) (*eventlog.Builder, *Records) {
	var opts []eventlog.Option
	if redact != nil {
		opts = append(opts, eventlog.WithRedactor(redact))
	}
	b := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(), opts...)
	return b, NewRecords(b, eventlog.Source{Stream: stream, Shard: shard}, 4, observed)
}

func decodeEvent(t testing.TB, data []byte) *contactevent.Event {
	t.Helper()
	var ev contactevent.Event
	require.NoError(t, contactevent.Decode(data, &ev))
	return &ev
}

func decodeRecord(t testing.TB, data []byte) *contactrecord.Record {
	t.Helper()
	var r contactrecord.Record
	require.NoError(t, contactrecord.Decode(data, &r))
	return &r
}

// only returns the one log record of logs and its resource.
func only(t *testing.T, logs plog.Logs) (pcommon.Resource, plog.LogRecord) {
	t.Helper()
	require.Equal(t, 1, logs.ResourceLogs().Len())
	rl := logs.ResourceLogs().At(0)
	require.Equal(t, 1, rl.ScopeLogs().Len())
	assert.Equal(t, metadata.ScopeName, rl.ScopeLogs().At(0).Scope().Name())
	require.Equal(t, 1, rl.ScopeLogs().At(0).LogRecords().Len())
	return rl.Resource(), rl.ScopeLogs().At(0).LogRecords().At(0)
}

// document is data as encoding/json reads it, numbers as the body has them: integers as
// int64, other numbers as float64.
func document(t testing.TB, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	var norm func(v any) any
	norm = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = norm(e)
			}
		case []any:
			for i, e := range v {
				v[i] = norm(e)
			}
		case json.Number:
			if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
				return i
			}
			f, err := v.Float64()
			require.NoError(t, err)
			return f
		}
		return v
	}
	return norm(v)
}

func source(seq string) map[string]any {
	return map[string]any{eventlog.AttrStreamName: stream, eventlog.AttrShardID: shard, eventlog.AttrSequenceNumber: seq}
}

func with(m map[string]any, more map[string]any) map[string]any {
	for k, v := range more {
		m[k] = v
	}
	return m
}

func TestEventLogRecords(t *testing.T) {
	for _, tc := range []struct {
		file, name, id string
		at             time.Time
		agent          bool
	}{
		{"queued.json", "aws.connect.contact.queued", "6f1c2a9e-0d3b-4c1e-9a55-1b2c3d4e5f60", time.Date(2024, 5, 6, 9, 15, 6, 874e6, time.UTC), false},
		{"connected_to_agent.json", "aws.connect.contact.connected_to_agent", "0b9d4e7a-5c2f-4a8b-b1e3-7f6a5d4c3b21", time.Date(2024, 5, 6, 9, 15, 38, 201e6, time.UTC), true},
		{"disconnected.json", "aws.connect.contact.disconnected", "c3a7e915-2f4d-4b6a-8e0c-9d8b7a6f5e43", time.Date(2024, 5, 6, 9, 21, 11, 90e6, time.UTC), true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := fixture(t, "events/"+tc.file)
			b, recs := newRecords(nil)
			recs.AddEvent(decodeEvent(t, data), data, "42")
			res, lr := only(t, recs.Logs())
			assert.Equal(t, b.Resource(instance).Attributes().AsRaw(), res.Attributes().AsRaw())
			assert.Equal(t, "aaaaaaaa-1111-2222-3333-444444444444", res.Attributes().AsRaw()["aws.connect.instance.id"])
			assert.Equal(t, tc.name, lr.EventName())
			assert.Equal(t, tc.at, lr.Timestamp().AsTime())
			assert.Equal(t, observed, lr.ObservedTimestamp().AsTime())
			assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
			assert.Equal(t, "INFO", lr.SeverityText())
			want := with(source("42"), map[string]any{
				eventlog.AttrEventID:   tc.id,
				eventlog.AttrEventType: strings.ToUpper(strings.TrimPrefix(tc.name, EventNamePrefix)),
				AttrContactID:          "5e0a6f2c-7b1d-4c39-8f7e-2d9a1c3b4e51",
				AttrChannel:            "VOICE",
				AttrInitiationMethod:   "INBOUND",
				AttrQueueARN:           queueARN,
			})
			if tc.agent {
				want[eventlog.AttrAgentARN] = agentARN
			}
			assert.Equal(t, want, lr.Attributes().AsRaw())
			assert.Equal(t, document(t, data), lr.Body().AsRaw(), "the body is the whole document")
		})
	}
}

func TestEventOptionalAttributes(t *testing.T) {
	data := []byte(`{"eventType":"Initiated","contactId":"c2","initialContactId":"c0","channel":"Chat","initiationMethod":"transfer"}`)
	_, recs := newRecords(nil)
	recs.AddEvent(decodeEvent(t, data), data, "7")
	res, lr := only(t, recs.Logs())
	assert.Equal(t, "aws.connect.contact.initiated", lr.EventName())
	assert.Equal(t, pcommon.Timestamp(0), lr.Timestamp(), "no time: unset")
	assert.Equal(t, with(source("7"), map[string]any{
		eventlog.AttrEventType: "INITIATED", AttrContactID: "c2", AttrInitialContactID: "c0",
		AttrChannel: "CHAT", AttrInitiationMethod: "TRANSFER",
	}), lr.Attributes().AsRaw(), "no event id, queue or agent: no attribute")
	_, hasID := res.Attributes().Get("aws.connect.instance.id")
	assert.False(t, hasID, "no instance")
}

func TestEventName(t *testing.T) {
	assert.Equal(t, "aws.connect.contact.contact_data_updated", EventName(contactevent.TypeContactDataUpdated))
	assert.Equal(t, "aws.connect.contact.webrtc_api", EventName("WEBRTC_API"), "unknown types pass, in lower case")
}

func TestRecordLogRecord(t *testing.T) {
	data := fixture(t, "records/sample_ctr.json")
	b, recs := newRecords(nil)
	recs.AddRecord(decodeRecord(t, data), data, "43")
	res, lr := only(t, recs.Logs())
	assert.Equal(t, b.Resource(instance).Attributes().AsRaw(), res.Attributes().AsRaw())
	assert.Equal(t, RecordEventName, lr.EventName())
	assert.Equal(t, time.Date(2022, 4, 8, 15, 3, 2, 0, time.UTC), lr.Timestamp().AsTime(), "LastUpdateTimestamp")
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	assert.Equal(t, with(source("43"), map[string]any{
		AttrContactID:         "15a5cf14-0000-0000-0000-a8e97db8afaf",
		AttrChannel:           "VOICE",
		AttrInitiationMethod:  "INBOUND",
		AttrQueueARN:          queueARN,
		AttrQueueName:         "BasicQueue",
		eventlog.AttrAgentARN: agentARN,
	}), lr.Attributes().AsRaw())
	assert.Equal(t, document(t, data), lr.Body().AsRaw())
}

// everyShape has every kind of JSON value, nested, and numbers of each kind.
const everyShape = `{"ContactId":"c","InitialContactId":"c0","Agent":null,"Queue":{"ARN":"q","Name":null},
"References":[],"ContactDetails":{},"Attributes":{"a":"1","b":"","nested":{"x":[1,-2,3.5,1e3,-0,12345678901234567890,true,false,null,"s",[],{}]}},
"Big":9223372036854775807,"Small":-9223372036854775808,"Frac":0.1,"Exp":2.5e-7,"Unicode":"é\u00e9\ud83d\ude00","Escapes":"a\"b\\c\n"}`

func TestBodyIsTheWholeDocument(t *testing.T) {
	data := []byte(everyShape)
	_, recs := newRecords(nil)
	recs.AddRecord(decodeRecord(t, data), data, "1")
	_, lr := only(t, recs.Logs())
	body := lr.Body().Map()
	assert.Equal(t, document(t, data), lr.Body().AsRaw())
	big, _ := body.Get("Big")
	assert.Equal(t, pcommon.ValueTypeInt, big.Type())
	frac, _ := body.Get("Frac")
	assert.Equal(t, pcommon.ValueTypeDouble, frac.Type())
	agent, _ := body.Get("Agent")
	assert.Equal(t, pcommon.ValueTypeEmpty, agent.Type(), "null stays null")
	var keys []string
	for k := range body.All() {
		keys = append(keys, k)
	}
	assert.Equal(t, []string{"ContactId", "InitialContactId", "Agent", "Queue", "References", "ContactDetails", "Attributes", "Big", "Small", "Frac", "Exp", "Unicode", "Escapes"}, keys, "document order")
}

func TestBodyRepeatedKeys(t *testing.T) {
	data := []byte(`{"ContactId":"c","x":1,"y":2,"x":{"z":3}}`)
	_, recs := newRecords(nil)
	recs.AddRecord(decodeRecord(t, data), data, "1")
	_, lr := only(t, recs.Logs())
	assert.Equal(t, map[string]any{"ContactId": "c", "x": map[string]any{"z": int64(3)}, "y": int64(2)}, lr.Body().AsRaw(), "the last value wins, as in encoding/json")

	// Many keys, repeated past the bound: the body is the text, in bounded time.
	var sb strings.Builder
	sb.WriteString(`{"ContactId":"c"`)
	for i := range 2000 {
		sb.WriteString(`,"k` + strconv.Itoa(i%1000) + `":1`)
	}
	sb.WriteString("}")
	_, recs = newRecords(nil)
	recs.AddRecord(decodeRecord(t, []byte(sb.String())), []byte(sb.String()), "2")
	_, lr = only(t, recs.Logs())
	assert.Equal(t, sb.String(), lr.Body().Str())

	// Many keys, none repeated: a map.
	sb.Reset()
	sb.WriteString(`{"ContactId":"c"`)
	for i := range 2000 {
		sb.WriteString(`,"k` + strconv.Itoa(i) + `":1`)
	}
	sb.WriteString(`,"k5":"last"}`)
	_, recs = newRecords(nil)
	recs.AddRecord(decodeRecord(t, []byte(sb.String())), []byte(sb.String()), "3")
	_, lr = only(t, recs.Logs())
	assert.Equal(t, 2001, lr.Body().Map().Len())
	k5, _ := lr.Body().Map().Get("k5")
	assert.Equal(t, "last", k5.Str(), "a repeat found through the index")
}

func TestGroupsByInstance(t *testing.T) {
	other := "arn:aws:connect:eu-west-2:444455556666:instance/ffffffff-1111-2222-3333-444444444444"
	b, recs := newRecords(nil)
	q := fixture(t, "events/queued.json")
	c := fixture(t, "records/sample_ctr.json")
	o := []byte(`{"eventType":"QUEUED","contactId":"x","instanceArn":"` + other + `"}`)
	recs.AddEvent(decodeEvent(t, q), q, "1")
	recs.AddEvent(decodeEvent(t, o), o, "2")
	recs.AddRecord(decodeRecord(t, c), c, "3")
	recs.AddMalformed([]byte("nope"), "4", errors.New("boom"))
	logs := recs.Logs()
	require.Equal(t, 3, logs.ResourceLogs().Len())
	bySeq := map[string][]string{}
	for i := range logs.ResourceLogs().Len() {
		rl := logs.ResourceLogs().At(i)
		id, _ := rl.Resource().Attributes().Get("cloud.resource_id")
		lrs := rl.ScopeLogs().At(0).LogRecords()
		for j := range lrs.Len() {
			seq, _ := lrs.At(j).Attributes().Get(eventlog.AttrSequenceNumber)
			bySeq[id.Str()] = append(bySeq[id.Str()], seq.Str())
		}
		arn := id.Str()
		assert.Equal(t, b.Resource(arn).Attributes().AsRaw(), rl.Resource().Attributes().AsRaw())
	}
	assert.Equal(t, map[string][]string{instance: {"1", "3"}, other: {"2"}, "": {"4"}}, bySeq)
}

func TestMalformed(t *testing.T) {
	data := []byte(`{"eventType":"QUEUED","contactId":"` + "+15555550123" + `","queueInfo":"x"}`)
	var ev contactevent.Event
	err := contactevent.Decode(data, &ev)
	require.Error(t, err)

	_, recs := newRecords(nil)
	recs.AddMalformed(data, "9", err)
	_, lr := only(t, recs.Logs())
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	assert.Equal(t, "ERROR", lr.SeverityText())
	assert.Equal(t, string(data), lr.Body().Str(), "the raw record")
	assert.Equal(t, with(source("9"), map[string]any{
		eventlog.AttrErrorType: contactevent.ErrKindWrongType, eventlog.AttrExceptionMessage: err.Error(),
	}), lr.Attributes().AsRaw())

	bin := []byte{0xff, 0xfe, '{'}
	recs.AddMalformed(bin, "10", errors.New("not utf-8"))
	lrs := recs.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	assert.Equal(t, bin, lrs.At(1).Body().Bytes().AsRaw(), "bytes that are not text stay bytes")
	kind, _ := lrs.At(1).Attributes().Get(eventlog.AttrErrorType)
	assert.Equal(t, "unknown", kind.Str())

	_, recs = newRecords(eventlog.NewRedactor(eventlog.RedactDrop, ""))
	recs.AddMalformed(data, "9", err)
	_, lr = only(t, recs.Logs())
	assert.NotContains(t, lr.Body().Str(), "5555550123")
	assert.Contains(t, lr.Body().Str(), strconv.Itoa(len(data))+" bytes")
	msg, _ := lr.Attributes().Get(eventlog.AttrExceptionMessage)
	assert.Equal(t, "queueInfo: want object, got string", msg.Str(), "the redacted message")

	var rec contactrecord.Record
	err = contactrecord.Decode([]byte(`{"EventType":"LOGIN","AgentARN":"a"}`), &rec)
	_, recs = newRecords(nil)
	recs.AddMalformed([]byte(`{"EventType":"LOGIN","AgentARN":"a"}`), "11", err)
	_, lr = only(t, recs.Logs())
	kind, _ = lr.Attributes().Get(eventlog.AttrErrorType)
	assert.Equal(t, contactrecord.ErrKindNotAContactRecord, kind.Str())
}
