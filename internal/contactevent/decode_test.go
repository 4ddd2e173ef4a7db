package contactevent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eventsDir = "../../testdata/contacts/events"

// Identifiers of the reference's sample chain (contact-data-model.md, 3.6).
const (
	instance  = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444"
	contactID = "5e0a6f2c-7b1d-4c39-8f7e-2d9a1c3b4e51"
	queueARN  = instance + "/queue/dddddddd-1111-2222-3333-444444444444"
	agentARN  = instance + "/agent/bbbbbbbb-1111-2222-3333-444444444444"
	groupARN  = instance + "/agent-group/eeeeeeee-1111-2222-3333-444444444444"
)

// utc builds an expected time independently of the parser under test.
func utc(hour, minute, sec, msec int) time.Time {
	return time.Date(2024, 5, 6, hour, minute, sec, msec*int(time.Millisecond), time.UTC)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	require.NoError(t, err)
	return data
}

func decode(t *testing.T, data []byte) Event {
	t.Helper()
	var ev Event
	require.NoError(t, Decode(data, &ev))
	return ev
}

func envelope(id string, at time.Time) Envelope {
	return Envelope{
		ID: id, Version: "0", DetailType: DetailType, Source: Source, Account: "111122223333",
		Region: "us-east-1", Time: at,
		Resources: []string{instance + "/contact/" + contactID, instance},
	}
}

// sampleCommon is what every event of the sample chain carries.
func sampleCommon(eventType string, env Envelope) Event {
	return Event{
		Envelope:                   env,
		EventType:                  eventType,
		ContactID:                  contactID,
		Channel:                    "VOICE",
		InstanceARN:                instance,
		InitiationMethod:           InitiationInbound,
		InitiationTimestamp:        utc(9, 14, 41, 512),
		ConnectedToSystemTimestamp: utc(9, 14, 41, 512),
		Queue:                      &QueueInfo{ARN: queueARN, Type: "STANDARD", EnqueueTimestamp: utc(9, 15, 6, 874)},
	}
}

func TestDecodeReferenceSamples(t *testing.T) {
	queued := sampleCommon(TypeQueued, envelope("6f1c2a9e-0d3b-4c1e-9a55-1b2c3d4e5f60", utc(9, 15, 7, 0)))

	connected := sampleCommon(TypeConnectedToAgent, envelope("0b9d4e7a-5c2f-4a8b-b1e3-7f6a5d4c3b21", utc(9, 15, 39, 0)))
	connected.Agent = &AgentInfo{ARN: agentARN, ConnectedToAgentTimestamp: utc(9, 15, 38, 201), HierarchyGroupARNs: [5]string{groupARN}}

	disconnected := sampleCommon(TypeDisconnected, envelope("c3a7e915-2f4d-4b6a-8e0c-9d8b7a6f5e43", utc(9, 21, 12, 0)))
	disconnected.DisconnectTimestamp = utc(9, 21, 11, 90)
	disconnected.Agent = &AgentInfo{ARN: agentARN, ConnectedToAgentTimestamp: utc(9, 15, 38, 201)}

	for name, want := range map[string]Event{
		"queued.json": queued, "connected_to_agent.json": connected, "disconnected.json": disconnected,
	} {
		t.Run(name, func(t *testing.T) {
			got := decode(t, readFixture(t, name))
			assert.Equal(t, want, got)
		})
	}
}

func TestDecodeSampleTimestamps(t *testing.T) {
	for name, want := range map[string]time.Time{
		"queued.json":             utc(9, 15, 6, 874),
		"connected_to_agent.json": utc(9, 15, 38, 201),
		"disconnected.json":       utc(9, 21, 11, 90),
	} {
		ev := decode(t, readFixture(t, name))
		assert.True(t, want.Equal(ev.Timestamp()), "%s: %s", name, ev.Timestamp())
	}
}

// everyField is a detail with every field of the model set (section 3.3), and some it
// does not know, in the shapes AWS documents them.
const everyField = `{
  "eventType": "COMPLETED",
  "contactId": "c-1",
  "initialContactId": "c-0",
  "previousContactId": "c-prev",
  "relatedContactId": "c-rel",
  "channel": "TASK",
  "instanceArn": "` + instance + `",
  "initiationMethod": "TRANSFER",
  "initiationTimestamp": "2024-05-06T09:00:00.100Z",
  "connectedToSystemTimestamp": "2024-05-06T09:00:01Z",
  "disconnectTimestamp": "2024-05-06T09:30:00.5Z",
  "scheduledTimestamp": "2024-05-06T08:00:00.000Z",
  "queueInfo": {"queueArn": "` + queueARN + `", "queueType": "agent", "enqueueTimestamp": "2024-05-06T09:01:00.001Z"},
  "agentInfo": {
    "agentArn": "` + agentARN + `",
    "connectedToAgentTimestamp": "2024-05-06T09:02:00.002Z",
    "agentInitiatedHoldDuration": 12,
    "afterContactWorkStartTimestamp": "2024-05-06T09:30:00.500Z",
    "afterContactWorkEndTimestamp": "2024-05-06T09:31:00.000Z",
    "afterContactWorkDuration": 60,
    "acceptedByAgentTimestamp": "2024-05-06T09:01:59Z",
    "previewEndTimestamp": "2024-05-06T09:01:58Z",
    "hierarchyGroups": {"level1": {"arn": "g1"}, "level2": {"arn": "g2"}, "level3": {"arn": "g3"}, "level4": {"arn": "g4"}, "level5": {"arn": "g5"}}
  },
  "disconnectReason": "expired",
  "answeringMachineDetectionStatus": "HUMAN_ANSWERED",
  "updatedProperties": ["ScheduledTimestamp", "Tags"],
  "tags": {"aws:connect:instanceId": "aaaaaaaa"},
  "segmentAttributes": {"connect:Subtype": {"ValueString": "connect:Guide"}},
  "routingCriteria": {"activationTimestamp": "2024-05-06T09:01:00Z", "index": 0, "steps": []},
  "contactLens": {"conversationalAnalytics": {"configuration": {"enabled": true}}},
  "customerVoiceActivity": {"greetingStartTimestamp": "2024-05-06T09:00:02.000Z"},
  "somethingNew": [1, 2.5, null]
}`

func everyFieldEvent() Event {
	return Event{
		EventType:                  TypeCompleted,
		ContactID:                  "c-1",
		InitialContactID:           "c-0",
		PreviousContactID:          "c-prev",
		RelatedContactID:           "c-rel",
		Channel:                    "TASK",
		InstanceARN:                instance,
		InitiationMethod:           InitiationTransfer,
		InitiationTimestamp:        utc(9, 0, 0, 100),
		ConnectedToSystemTimestamp: utc(9, 0, 1, 0),
		DisconnectTimestamp:        utc(9, 30, 0, 500),
		ScheduledTimestamp:         utc(8, 0, 0, 0),
		Queue:                      &QueueInfo{ARN: queueARN, Type: "AGENT", EnqueueTimestamp: utc(9, 1, 0, 1)},
		Agent: &AgentInfo{
			ARN:                            agentARN,
			ConnectedToAgentTimestamp:      utc(9, 2, 0, 2),
			AgentInitiatedHoldDuration:     12,
			AfterContactWorkStartTimestamp: utc(9, 30, 0, 500),
			AfterContactWorkEndTimestamp:   utc(9, 31, 0, 0),
			AfterContactWorkDuration:       60,
			AcceptedByAgentTimestamp:       utc(9, 1, 59, 0),
			PreviewEndTimestamp:            utc(9, 1, 58, 0),
			HierarchyGroupARNs:             [5]string{"g1", "g2", "g3", "g4", "g5"},
		},
		DisconnectReason:                "EXPIRED",
		AnsweringMachineDetectionStatus: "HUMAN_ANSWERED",
		UpdatedProperties:               []string{"ScheduledTimestamp", "Tags"},
	}
}

func TestDecodeEveryFieldBareDetail(t *testing.T) {
	assert.Equal(t, everyFieldEvent(), decode(t, []byte(everyField)))
}

func TestDecodeEveryFieldInEnvelope(t *testing.T) {
	rec := `{"version":"0","id":"e-1","detail-type":"Amazon Connect Contact Event","source":"aws.connect",
	"account":"111122223333","time":"2024-05-06T09:31:01Z","region":"us-east-1","resources":[],"detail":` + everyField + `}`
	want := everyFieldEvent()
	want.Envelope = Envelope{ID: "e-1", Version: "0", DetailType: DetailType, Source: Source, Account: "111122223333",
		Region: "us-east-1", Time: utc(9, 31, 1, 0), Resources: []string{}}
	assert.Equal(t, want, decode(t, []byte(rec)))
}

// pascal rewrites every key of a JSON document's objects below the top to PascalCase,
// as AWS's older samples spell them (EventType, AgentInfo, AgentArn); maps of user data
// (tags, segmentAttributes) are left as they are.
func pascal(t *testing.T, doc string, under bool) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	var walk func(v any, rename bool) any
	walk = func(v any, rename bool) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				nk := k
				if rename {
					r := []rune(k)
					r[0] = unicode.ToUpper(r[0])
					nk = string(r)
				}
				out[nk] = walk(e, rename && k != "tags" && k != "segmentAttributes")
			}
			return out
		case []any:
			for i := range v {
				v[i] = walk(v[i], rename)
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v, under))
	require.NoError(t, err)
	return string(out)
}

func TestDecodePascalCaseKeys(t *testing.T) {
	p := pascal(t, everyField, true)
	require.Contains(t, p, `"AgentInfo"`)
	require.Contains(t, p, `"AgentArn"`)
	require.Contains(t, p, `"Level1"`)
	assert.Equal(t, everyFieldEvent(), decode(t, []byte(p)))
}

func TestDecodeBareDetailEqualsEnvelope(t *testing.T) {
	var whole map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(readFixture(t, "disconnected.json"), &whole))
	fromEnvelope := decode(t, readFixture(t, "disconnected.json"))
	bare := decode(t, whole["detail"])
	assert.Equal(t, Envelope{}, bare.Envelope, "no envelope: zero")
	fromEnvelope.Envelope = Envelope{}
	assert.Equal(t, fromEnvelope, bare)
}

func TestDecodeNullsEverywhere(t *testing.T) {
	rec := `{"eventType":"QUEUED","contactId":"c","initialContactId":null,"previousContactId":null,
	"relatedContactId":null,"channel":null,"instanceArn":null,"initiationMethod":null,"initiationTimestamp":null,
	"connectedToSystemTimestamp":null,"disconnectTimestamp":null,"scheduledTimestamp":null,"queueInfo":null,
	"agentInfo":null,"disconnectReason":null,"answeringMachineDetectionStatus":null,"updatedProperties":null,
	"tags":null,"routingCriteria":null}`
	assert.Equal(t, Event{EventType: TypeQueued, ContactID: "c"}, decode(t, []byte(rec)))

	inner := `{"eventType":"CONNECTED_TO_AGENT","contactId":"c","queueInfo":{"queueArn":null,"queueType":null,"enqueueTimestamp":null},
	"agentInfo":{"agentArn":null,"connectedToAgentTimestamp":null,"agentInitiatedHoldDuration":null,"hierarchyGroups":{"level1":null,"level2":{"arn":null}}},
	"updatedProperties":[null,"Tags"]}`
	ev := decode(t, []byte(inner))
	assert.Equal(t, &QueueInfo{}, ev.Queue, "an object of nulls is there, empty")
	assert.Equal(t, &AgentInfo{}, ev.Agent)
	assert.Equal(t, []string{"", "Tags"}, ev.UpdatedProperties)

	env := `{"version":null,"id":null,"detail-type":"Amazon Connect Contact Event","source":"aws.connect","account":null,
	"time":null,"region":null,"resources":null,"detail":{"eventType":"QUEUED","contactId":"c"}}`
	ev = decode(t, []byte(env))
	assert.Equal(t, Envelope{DetailType: DetailType, Source: Source}, ev.Envelope)
}

func TestDecodeRoutingCriteriaObjectOrArray(t *testing.T) {
	for _, rc := range []string{
		`{"activationTimestamp":"2024-05-06T09:01:00Z","index":1,"steps":[{"status":"ACTIVE","expression":{},"expiry":{"durationInSeconds":30}}]}`,
		`[{"ActivationTimestamp":"2024-05-06T09:01:00Z","Index":1,"Steps":[]}]`,
		`"unexpected"`, `null`,
	} {
		ev := decode(t, []byte(`{"eventType":"CONTACT_DATA_UPDATED","contactId":"c","routingCriteria":`+rc+`,"RoutingCriteria":`+rc+`}`))
		assert.Equal(t, TypeContactDataUpdated, ev.EventType, rc)
	}
}

func TestDecodePlaceholderTimesAreUnset(t *testing.T) {
	rec := `{"eventType":"CONTACT_DATA_UPDATED","contactId":"c","connectedToSystemTimestamp":"1970-01-01T00:00:00.001Z",
	"initiationTimestamp":"1999-12-31T23:59:59.999Z","disconnectTimestamp":"2000-01-01T00:00:00Z",
	"agentInfo":{"connectedToAgentTimestamp":"1970-01-01T00:00:00.001Z"}}`
	ev := decode(t, []byte(rec))
	assert.True(t, ev.ConnectedToSystemTimestamp.IsZero())
	assert.True(t, ev.InitiationTimestamp.IsZero())
	assert.True(t, ev.Agent.ConnectedToAgentTimestamp.IsZero())
	assert.True(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Equal(ev.DisconnectTimestamp), "2000 itself is a time")
}

func TestDecodeTimesWithAndWithoutFraction(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2024-05-06T09:15:07Z":           utc(9, 15, 7, 0),
		"2024-05-06T09:15:07.874Z":       utc(9, 15, 7, 874),
		"2024-05-06T09:15:07.8Z":         utc(9, 15, 7, 800),
		"2024-05-06T09:15:07.123456789Z": utc(9, 15, 7, 0).Add(123456789),
		"2024-05-06T11:15:07+02:00":      utc(9, 15, 7, 0),
	} {
		ev := decode(t, []byte(`{"eventType":"DISCONNECTED","contactId":"c","disconnectTimestamp":"`+s+`"}`))
		assert.True(t, want.Equal(ev.DisconnectTimestamp), "%s: %s", s, ev.DisconnectTimestamp)
		assert.Equal(t, time.UTC, ev.DisconnectTimestamp.Location())
	}
}

func TestDecodeEnumsUpperCased(t *testing.T) {
	ev := decode(t, []byte(`{"eventType":"queued","contactId":"c","channel":"Voice","initiationMethod":"Inbound",
	"queueInfo":{"queueType":"Standard"},"disconnectReason":"Expired","answeringMachineDetectionStatus":"human_answered"}`))
	assert.Equal(t, TypeQueued, ev.EventType)
	assert.Equal(t, "VOICE", ev.Channel)
	assert.Equal(t, InitiationInbound, ev.InitiationMethod)
	assert.Equal(t, "STANDARD", ev.Queue.Type)
	assert.Equal(t, "EXPIRED", ev.DisconnectReason)
	assert.Equal(t, "HUMAN_ANSWERED", ev.AnsweringMachineDetectionStatus)
	assert.Equal(t, "c", ev.ContactID, "identifiers keep their case")
}

func TestDecodeWhitespaceAround(t *testing.T) {
	data := readFixture(t, "queued.json")
	want := decode(t, data)
	for _, framed := range [][]byte{
		append(append([]byte{}, data...), '\n'),
		append([]byte(" \r\n\t"), append(append([]byte{}, data...), "\r\n\n"...)...),
	} {
		assert.Equal(t, want, decode(t, framed))
	}
}

func TestDecodeUnknownsPass(t *testing.T) {
	ev := decode(t, []byte(`{"version":"0","id":"x","detail-type":"Amazon Connect Customer Contact Event","source":"aws.connect",
	"brandNew":{"a":[1]},"detail":{"eventType":"TELEPORTED","contactId":"c","newField":true}}`))
	assert.Equal(t, "TELEPORTED", ev.EventType, "unknown event types pass")
	assert.Equal(t, "Amazon Connect Customer Contact Event", ev.Envelope.DetailType, "a renamed detail-type passes")
}

func TestDecodeErrors(t *testing.T) {
	// secret stands for personal data in a record: no Redacted message may quote it.
	const secret = "+15555550123"
	env := func(detail string) string {
		return `{"version":"0","id":"i","detail-type":"Amazon Connect Contact Event","source":"aws.connect","time":"2024-05-06T09:15:07Z","detail":` + detail + `}`
	}
	for _, tc := range []struct {
		name, data, kind, field string
	}{
		{"invalid UTF-8", "{\"eventType\":\"Q\xff\",\"contactId\":\"c\"}", ErrKindInvalidUTF8, ""},
		{"truncated", `{"eventType":"QUEUED","contactId":"` + secret, ErrKindInvalidJSON, ""},
		{"bad literal", `{"eventType":"QUEUED","contactId":"c","x":tru}`, ErrKindInvalidJSON, ""},
		{"two values", `{"eventType":"QUEUED","contactId":"c"} {}`, ErrKindInvalidJSON, ""},
		{"empty", "  \n", ErrKindInvalidJSON, ""},
		{"array", `[{"eventType":"QUEUED","contactId":"c"}]`, ErrKindNotAnObject, ""},
		{"string", `"` + secret + `"`, ErrKindNotAnObject, ""},
		{"null", `null`, ErrKindNotAnObject, ""},
		{"bare garbage", `[1,`, ErrKindInvalidJSON, ""},
		{"no contactId", `{"eventType":"QUEUED","channel":"` + secret + `"}`, ErrKindMissingField, "contactId"},
		{"empty contactId", `{"eventType":"QUEUED","contactId":""}`, ErrKindMissingField, "contactId"},
		{"no eventType", `{"contactId":"` + secret + `"}`, ErrKindMissingField, "eventType"},
		{"null eventType in detail", env(`{"eventType":null,"contactId":"c"}`), ErrKindMissingField, "detail.eventType"},
		{"no contactId in detail", env(`{"eventType":"QUEUED"}`), ErrKindMissingField, "detail.contactId"},
		{"no detail", `{"detail-type":"Amazon Connect Contact Event","source":"aws.connect"}`, ErrKindMissingField, "detail"},
		{"null detail", env(`null`), ErrKindMissingField, "detail"},
		{"no source", `{"detail-type":"Amazon Connect Contact Event","detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindMissingField, "source"},
		{"no detail-type", `{"source":"aws.connect","detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindMissingField, "detail-type"},
		{"detail a string", env(`"` + secret + `"`), ErrKindWrongType, "detail"},
		{"detail an array", env(`[]`), ErrKindWrongType, "detail"},
		{"eventType a number", `{"eventType":7,"contactId":"c"}`, ErrKindWrongType, "eventType"},
		{"contactId an object", env(`{"eventType":"QUEUED","contactId":{"` + secret + `":1}}`), ErrKindWrongType, "detail.contactId"},
		{"queueInfo a string", env(`{"eventType":"QUEUED","contactId":"c","queueInfo":"` + secret + `"}`), ErrKindWrongType, "detail.queueInfo"},
		{"queueArn a number", env(`{"eventType":"QUEUED","contactId":"c","queueInfo":{"queueArn":5}}`), ErrKindWrongType, "detail.queueInfo.queueArn"},
		{"duration fractional", env(`{"eventType":"COMPLETED","contactId":"c","agentInfo":{"afterContactWorkDuration":1.5}}`), ErrKindWrongType, "detail.agentInfo.afterContactWorkDuration"},
		{"duration a string", `{"eventType":"COMPLETED","contactId":"c","agentInfo":{"agentInitiatedHoldDuration":"` + secret + `"}}`, ErrKindWrongType, "agentInfo.agentInitiatedHoldDuration"},
		{"group arn a bool", `{"eventType":"QUEUED","contactId":"c","agentInfo":{"hierarchyGroups":{"level3":{"arn":true}}}}`, ErrKindWrongType, "agentInfo.hierarchyGroups.level3.arn"},
		{"updatedProperties an object", `{"eventType":"QUEUED","contactId":"c","updatedProperties":{}}`, ErrKindWrongType, "updatedProperties"},
		{"time a number", `{"source":"aws.connect","detail-type":"x","time":1715000000,"detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindWrongType, "time"},
		{"resources of numbers", `{"source":"aws.connect","detail-type":"x","resources":[1],"detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindWrongType, "resources"},
		{"source a number", `{"source":1,"detail":{}}`, ErrKindWrongType, "source"},
		{"other source", `{"source":"aws.` + secret + `","detail-type":"EC2 Instance State-change Notification","detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindNotAContactEvent, "source"},
		{"agent event", `{"EventType":"STATE_CHANGE","AgentARN":"` + agentARN + `","EventId":"` + secret + `"}`, ErrKindNotAContactEvent, ""},
		{"contact record", `{"AWSContactTraceRecordFormatVersion":"2017-03-10","ContactId":"` + secret + `"}`, ErrKindNotAContactEvent, ""},
		{"plain object", `{"hello":"` + secret + `"}`, ErrKindNotAContactEvent, ""},
		{"bad envelope time", `{"source":"aws.connect","detail-type":"x","time":"` + secret + `","detail":{"eventType":"QUEUED","contactId":"c"}}`, ErrKindInvalidTimestamp, "time"},
		{"bad enqueue time", env(`{"eventType":"QUEUED","contactId":"c","queueInfo":{"enqueueTimestamp":"2024-13-01T00:00:00Z ` + secret + `"}}`), ErrKindInvalidTimestamp, "detail.queueInfo.enqueueTimestamp"},
		{"bad ACW end", `{"eventType":"COMPLETED","contactId":"c","agentInfo":{"afterContactWorkEndTimestamp":"yesterday ` + secret + `"}}`, ErrKindInvalidTimestamp, "agentInfo.afterContactWorkEndTimestamp"},
		{"bad scheduled time", `{"eventType":"INITIATED","contactId":"c","scheduledTimestamp":"2024-02-30T00:00:00Z"}`, ErrKindInvalidTimestamp, "scheduledTimestamp"},
		{"NUL in contactId", `{"eventType":"QUEUED","contactId":"a\u0000b"}`, ErrKindInvalidValue, "contactId"},
		{"NUL in instanceArn", env(`{"eventType":"QUEUED","contactId":"c","instanceArn":"a\u0000"}`), ErrKindInvalidValue, "detail.instanceArn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			err := Decode([]byte(tc.data), &ev)
			require.Error(t, err)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%T is not a *DecodeError", err)
			assert.Equal(t, tc.kind, de.Kind, err.Error())
			assert.Equal(t, tc.field, de.Field, err.Error())
			assert.Equal(t, tc.kind, de.ErrorType())
			assert.NotEmpty(t, de.Msg)
			assert.NotContains(t, de.Redacted(), secret)
			assert.NotContains(t, de.Redacted(), "5555550123")
			if tc.field != "" {
				assert.True(t, strings.HasPrefix(de.Redacted(), tc.field+": "), de.Redacted())
			}
		})
	}
}

func TestDecodeErrorQuotesOnlyInDetail(t *testing.T) {
	var ev Event
	err := Decode([]byte(`{"source":"aws.nope","detail-type":"x","detail":{}}`), &ev)
	var de *DecodeError
	require.True(t, errors.As(err, &de))
	assert.Contains(t, err.Error(), `"aws.nope"`, "Error quotes the culprit")
	assert.NotContains(t, de.Redacted(), "nope")
}

func TestDecodeResetsEvent(t *testing.T) {
	ev := everyFieldEvent()
	ev.Envelope.ID = "stale"
	require.NoError(t, Decode([]byte(`{"eventType":"QUEUED","contactId":"c"}`), &ev))
	assert.Equal(t, Event{EventType: TypeQueued, ContactID: "c"}, ev)
}

func TestTimestampByEventType(t *testing.T) {
	envTime := utc(10, 0, 0, 0)
	base := Event{
		Envelope:                   Envelope{Time: envTime},
		InitiationTimestamp:        utc(9, 0, 0, 1),
		ConnectedToSystemTimestamp: utc(9, 0, 0, 2),
		DisconnectTimestamp:        utc(9, 0, 0, 5),
		Queue:                      &QueueInfo{EnqueueTimestamp: utc(9, 0, 0, 3)},
		Agent:                      &AgentInfo{ConnectedToAgentTimestamp: utc(9, 0, 0, 4), AfterContactWorkEndTimestamp: utc(9, 0, 0, 6)},
	}
	for typ, want := range map[string]time.Time{
		TypeInitiated: utc(9, 0, 0, 1), TypeConnectedToSystem: utc(9, 0, 0, 2), TypeQueued: utc(9, 0, 0, 3),
		TypeConnectedToAgent: utc(9, 0, 0, 4), TypeDisconnected: utc(9, 0, 0, 5), TypeCompleted: utc(9, 0, 0, 6),
		TypeContactDataUpdated: envTime, "SOMETHING_NEW": envTime,
	} {
		ev := base
		ev.EventType = typ
		assert.True(t, want.Equal(ev.Timestamp()), typ)
	}
	noACW := base
	noACW.EventType, noACW.Agent = TypeCompleted, nil
	assert.True(t, utc(9, 0, 0, 5).Equal(noACW.Timestamp()), "COMPLETED without ACW: the disconnect time")
	noQueue := base
	noQueue.EventType, noQueue.Queue = TypeQueued, nil
	assert.True(t, envTime.Equal(noQueue.Timestamp()), "QUEUED without queueInfo: the envelope's time")
}

func TestDedupKey(t *testing.T) {
	first := decode(t, readFixture(t, "queued.json"))
	resent := first
	resent.Envelope.ID, resent.Envelope.Time = "another-id", first.Envelope.Time.Add(time.Minute)
	assert.Equal(t, first.DedupKey(), resent.DedupKey(), "a resent event with a new envelope id and time is a duplicate")

	for name, change := range map[string]func(*Event){
		"instance": func(e *Event) { e.InstanceARN += "x" },
		"contact":  func(e *Event) { e.ContactID = "other" },
		"event type": func(e *Event) {
			e.EventType = TypeConnectedToAgent
			e.Agent = &AgentInfo{ConnectedToAgentTimestamp: e.Queue.EnqueueTimestamp}
		},
		"timestamp": func(e *Event) {
			q := *e.Queue
			q.EnqueueTimestamp = q.EnqueueTimestamp.Add(time.Nanosecond)
			e.Queue = &q
		},
	} {
		other := first
		change(&other)
		assert.NotEqual(t, first.DedupKey(), other.DedupKey(), name)
	}
	a := Event{InstanceARN: "i", ContactID: "a" + "b", EventType: "C"}
	b := Event{InstanceARN: "i", ContactID: "a", EventType: "b" + "C"}
	assert.NotEqual(t, a.DedupKey(), b.DedupKey(), "parts do not run into each other")
	assert.Equal(t, 3, strings.Count(first.DedupKey(), "\x00"))
	assert.True(t, strings.HasSuffix(first.DedupKey(), "\x00"+"1714986906874000000"), first.DedupKey())
}
