package contactrecord

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

const recordsDir = "../../testdata/contacts/records"

// Identifiers of the reference's sample CTR (contact-data-model.md, 2.9).
const (
	instance   = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444"
	agentARN   = instance + "/agent/bbbbbbbb-1111-2222-3333-444444444444"
	profileARN = instance + "/routing-profile/cccccccc-1111-2222-3333-444444444444"
	queueARN   = instance + "/queue/dddddddd-1111-2222-3333-444444444444"
)

// at builds an expected time independently of the parser under test.
func at(hour, minute, sec int) time.Time {
	return time.Date(2022, 4, 8, hour, minute, sec, 0, time.UTC)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(recordsDir, name))
	require.NoError(t, err)
	return data
}

func decode(t *testing.T, data []byte) Record {
	t.Helper()
	var r Record
	require.NoError(t, Decode(data, &r))
	return r
}

func TestDecodeReferenceSample(t *testing.T) {
	want := Record{
		AWSAccountID:               "111122223333",
		FormatVersion:              "2017-03-10",
		InstanceARN:                instance,
		ContactID:                  "15a5cf14-0000-0000-0000-a8e97db8afaf",
		Channel:                    "VOICE",
		InitiationMethod:           "INBOUND",
		DisconnectReason:           "CUSTOMER_DISCONNECT",
		InitiationTimestamp:        at(14, 59, 38),
		ConnectedToSystemTimestamp: at(14, 59, 38),
		DisconnectTimestamp:        at(15, 1, 22),
		LastUpdateTimestamp:        at(15, 3, 2),
		AgentConnectionAttempts:    1,
		Agent: &Agent{
			ARN:                            agentARN,
			Username:                       "agent1",
			RoutingProfileARN:              profileARN,
			RoutingProfileName:             "Basic Routing Profile",
			ConnectedToAgentTimestamp:      at(15, 0, 49),
			AgentInteractionDuration:       33,
			AfterContactWorkStartTimestamp: at(15, 1, 22),
			AfterContactWorkEndTimestamp:   at(15, 1, 54),
			AfterContactWorkDuration:       32,
		},
		Queue: &Queue{ARN: queueARN, Name: "BasicQueue", EnqueueTimestamp: at(15, 0, 42), DequeueTimestamp: at(15, 0, 49), Duration: 7},
	}
	got := decode(t, readFixture(t, "sample_ctr.json"))
	assert.Equal(t, want, got)
	assert.True(t, got.Handled())
	assert.Equal(t, int64(33+0+32), got.HandleSeconds())
}

// everyField is a CTR with every field of the model set (section 2), and some the model
// does not know, in the shapes AWS documents them.
const everyField = `{
  "AWSAccountId": "111122223333",
  "AWSContactTraceRecordFormatVersion": "2017-03-10",
  "InstanceARN": "` + instance + `",
  "ContactId": "c-2",
  "InitialContactId": "c-0",
  "PreviousContactId": "c-1",
  "NextContactId": "c-3",
  "RelatedContactId": "c-rel",
  "Channel": "chat",
  "InitiationMethod": "queue_transfer",
  "DisconnectReason": "agent_disconnect",
  "InitiationTimestamp": "2022-04-08T14:00:00Z",
  "ConnectedToSystemTimestamp": "2022-04-08T14:00:01Z",
  "DisconnectTimestamp": "2022-04-08T14:20:00Z",
  "LastUpdateTimestamp": "2022-04-08T14:25:00Z",
  "ScheduledTimestamp": "2022-04-08T13:00:00Z",
  "TransferCompletedTimestamp": "2022-04-08T14:19:00Z",
  "AgentConnectionAttempts": 2,
  "Agent": {
    "ARN": "` + agentARN + `",
    "Username": "jdoe",
    "RoutingProfile": {"ARN": "` + profileARN + `", "Name": "Chat"},
    "HierarchyGroups": {"Level1": {"ARN": "g1", "GroupName": "North"}},
    "ConnectedToAgentTimestamp": "2022-04-08T14:02:00Z",
    "AgentInteractionDuration": 1000,
    "CustomerHoldDuration": 60,
    "AgentInitiatedHoldDuration": 50,
    "NumberOfHolds": 2,
    "LongestHoldDuration": 40,
    "AfterContactWorkStartTimestamp": "2022-04-08T14:20:00Z",
    "AfterContactWorkEndTimestamp": "2022-04-08T14:21:30Z",
    "AfterContactWorkDuration": 90,
    "AgentPauseDuration": 5,
    "DeviceInfo": {"PlatformName": "Chrome"},
    "StateTransitions": [{"stateStartTimestamp": "2022-04-08T14:03:00.000Z", "state": "SILENT_MONITOR"}]
  },
  "Queue": {"ARN": "` + queueARN + `", "Name": "Support", "EnqueueTimestamp": "2022-04-08T14:00:30Z", "DequeueTimestamp": "2022-04-08T14:02:00Z", "Duration": 90},
  "CustomerEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
  "Attributes": {"greetingPlayed": "true"},
  "Recordings": [{"Location": "s3://b/k", "Status": "AVAILABLE", "FragmentStartNumber": null}],
  "RoutingCriteria": [{"ActivationTimestamp": "2022-04-08T14:00:31.123Z", "Index": 0, "Steps": []}],
  "ContactAssociationId": 12345,
  "SomethingNew": {"nested": [true, 1.5]}
}`

func everyFieldRecord() Record {
	return Record{
		AWSAccountID:               "111122223333",
		FormatVersion:              "2017-03-10",
		InstanceARN:                instance,
		ContactID:                  "c-2",
		InitialContactID:           "c-0",
		PreviousContactID:          "c-1",
		NextContactID:              "c-3",
		RelatedContactID:           "c-rel",
		Channel:                    "CHAT",
		InitiationMethod:           "QUEUE_TRANSFER",
		DisconnectReason:           "AGENT_DISCONNECT",
		InitiationTimestamp:        at(14, 0, 0),
		ConnectedToSystemTimestamp: at(14, 0, 1),
		DisconnectTimestamp:        at(14, 20, 0),
		LastUpdateTimestamp:        at(14, 25, 0),
		ScheduledTimestamp:         at(13, 0, 0),
		TransferCompletedTimestamp: at(14, 19, 0),
		AgentConnectionAttempts:    2,
		Agent: &Agent{
			ARN:                            agentARN,
			Username:                       "jdoe",
			RoutingProfileARN:              profileARN,
			RoutingProfileName:             "Chat",
			ConnectedToAgentTimestamp:      at(14, 2, 0),
			AgentInteractionDuration:       1000,
			CustomerHoldDuration:           60,
			AgentInitiatedHoldDuration:     50,
			NumberOfHolds:                  2,
			LongestHoldDuration:            40,
			AfterContactWorkStartTimestamp: at(14, 20, 0),
			AfterContactWorkEndTimestamp:   at(14, 21, 30),
			AfterContactWorkDuration:       90,
			AgentPauseDuration:             5,
		},
		Queue: &Queue{ARN: queueARN, Name: "Support", EnqueueTimestamp: at(14, 0, 30), DequeueTimestamp: at(14, 2, 0), Duration: 90},
	}
}

func TestDecodeEveryField(t *testing.T) {
	r := decode(t, []byte(everyField))
	assert.Equal(t, everyFieldRecord(), r)
	assert.Equal(t, int64(1000+60+90), r.HandleSeconds())
}

// recase rewrites every key of a document with f, except below the user's Attributes.
func recase(t *testing.T, doc string, f func(string) string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				if k == "Attributes" {
					out[f(k)] = e
					continue
				}
				out[f(k)] = walk(e)
			}
			return out
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	require.NoError(t, err)
	return string(out)
}

func TestDecodeKeysAnyCase(t *testing.T) {
	camel := func(k string) string { r := []rune(k); r[0] = unicode.ToLower(r[0]); return string(r) }
	for name, f := range map[string]func(string) string{
		"camelCase": camel, "lower": strings.ToLower, "upper": strings.ToUpper,
	} {
		doc := recase(t, everyField, f)
		require.NotContains(t, doc, `"ContactId"`, name)
		assert.Equal(t, everyFieldRecord(), decode(t, []byte(doc)), name)
	}
}

func TestDecodeNulls(t *testing.T) {
	// The nulls of real records (reference, 2.2), and more.
	rec := `{"AWSContactTraceRecordFormatVersion":"2017-03-10","ContactId":"c","AWSAccountId":null,"InstanceARN":null,
	"InitialContactId":null,"NextContactId":null,"PreviousContactId":null,"RelatedContactId":null,"Channel":null,
	"InitiationMethod":null,"DisconnectReason":null,"InitiationTimestamp":null,"ConnectedToSystemTimestamp":null,
	"DisconnectTimestamp":null,"LastUpdateTimestamp":null,"ScheduledTimestamp":null,"TransferCompletedTimestamp":null,
	"AgentConnectionAttempts":null,"Agent":null,"Queue":null,"Recording":null,"Recordings":null,"TransferredToEndpoint":null,
	"VoiceIdResult":null,"AnsweringMachineDetectionStatus":null,"Campaign":{"CampaignId":null},"References":[],"ContactDetails":{}}`
	assert.Equal(t, Record{FormatVersion: "2017-03-10", ContactID: "c"}, decode(t, []byte(rec)))

	inner := `{"ContactId":"c","Agent":{"ARN":null,"Username":null,"RoutingProfile":null,"HierarchyGroups":null,
	"ConnectedToAgentTimestamp":null,"AgentInteractionDuration":null},"Queue":{"ARN":null,"Name":null,"Duration":null,"EnqueueTimestamp":null}}`
	r := decode(t, []byte(inner))
	assert.Equal(t, &Agent{}, r.Agent)
	assert.Equal(t, &Queue{}, r.Queue)
	assert.False(t, r.Handled(), "an agent object without a connected time is not a handled contact")
}

func TestDecodeAbandoned(t *testing.T) {
	r := decode(t, []byte(`{"AWSContactTraceRecordFormatVersion":"2017-03-10","ContactId":"c","Agent":null,
	"Queue":{"ARN":"q","Name":"BasicQueue","EnqueueTimestamp":"2022-04-08T15:00:42Z","DequeueTimestamp":"2022-04-08T15:01:10Z","Duration":28},
	"DisconnectReason":"CUSTOMER_DISCONNECT"}`))
	assert.Nil(t, r.Agent)
	assert.False(t, r.Handled())
	assert.Equal(t, int64(0), r.HandleSeconds())
	assert.Equal(t, int64(28), r.Queue.Duration)
}

func TestDecodeTimes(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2022-04-08T15:03:02Z":      at(15, 3, 2),
		"2022-04-08T15:03:02.250Z":  at(15, 3, 2).Add(250 * time.Millisecond),
		"2022-04-08T17:03:02+02:00": at(15, 3, 2),
		"1970-01-01T00:00:00.001Z":  {},
		"1999-12-31T23:59:59Z":      {},
		"":                          {},
	} {
		r := decode(t, []byte(`{"ContactId":"c","LastUpdateTimestamp":"`+s+`"}`))
		assert.True(t, want.Equal(r.LastUpdateTimestamp), "%q: %s", s, r.LastUpdateTimestamp)
	}
}

func TestDecodeWhitespaceAround(t *testing.T) {
	data := readFixture(t, "sample_ctr.json")
	want := decode(t, data)
	framed := append(append([]byte("\n "), data...), "\n\r\n"...)
	assert.Equal(t, want, decode(t, framed))
}

func TestDecodeErrors(t *testing.T) {
	const secret = "+15555550123"
	for _, tc := range []struct {
		name, data, kind, field string
	}{
		{"invalid UTF-8", "{\"ContactId\":\"\xfe\"}", ErrKindInvalidUTF8, ""},
		{"truncated", `{"ContactId":"` + secret, ErrKindInvalidJSON, ""},
		{"trailing garbage", `{"ContactId":"c"}x`, ErrKindInvalidJSON, ""},
		{"array", `[{"ContactId":"c"}]`, ErrKindNotAnObject, ""},
		{"number", `42`, ErrKindNotAnObject, ""},
		{"no ContactId", `{"AWSContactTraceRecordFormatVersion":"2017-03-10","CustomerEndpoint":{"Address":"` + secret + `"}}`, ErrKindMissingField, "ContactId"},
		{"null ContactId", `{"ContactId":null}`, ErrKindMissingField, "ContactId"},
		{"agent event", `{"EventType":"HEART_BEAT","AgentARN":"` + agentARN + `","EventId":"` + secret + `"}`, ErrKindNotAContactRecord, ""},
		{"contact event envelope", `{"source":"aws.connect","detail-type":"Amazon Connect Contact Event","detail":{"contactId":"` + secret + `"}}`, ErrKindNotAContactRecord, ""},
		{"contact event detail", `{"eventType":"QUEUED","contactId":"` + secret + `"}`, ErrKindNotAContactRecord, ""},
		{"ContactId a number", `{"ContactId":1}`, ErrKindWrongType, "ContactId"},
		{"Agent a string", `{"ContactId":"c","Agent":"` + secret + `"}`, ErrKindWrongType, "Agent"},
		{"Queue an array", `{"ContactId":"c","Queue":[]}`, ErrKindWrongType, "Queue"},
		{"Duration a string", `{"ContactId":"c","Queue":{"Duration":"` + secret + `"}}`, ErrKindWrongType, "Queue.Duration"},
		{"Duration fractional", `{"ContactId":"c","Agent":{"AfterContactWorkDuration":3.5}}`, ErrKindWrongType, "Agent.AfterContactWorkDuration"},
		{"RoutingProfile a string", `{"ContactId":"c","Agent":{"RoutingProfile":"x"}}`, ErrKindWrongType, "Agent.RoutingProfile"},
		{"Username a number", `{"ContactId":"c","Agent":{"Username":5}}`, ErrKindWrongType, "Agent.Username"},
		{"attempts a bool", `{"ContactId":"c","AgentConnectionAttempts":true}`, ErrKindWrongType, "AgentConnectionAttempts"},
		{"bad LastUpdateTimestamp", `{"ContactId":"c","LastUpdateTimestamp":"` + secret + `"}`, ErrKindInvalidTimestamp, "LastUpdateTimestamp"},
		{"bad dequeue time", `{"ContactId":"c","Queue":{"DequeueTimestamp":"2022-04-31T00:00:00Z"}}`, ErrKindInvalidTimestamp, "Queue.DequeueTimestamp"},
		{"bad ACW start", `{"ContactId":"c","Agent":{"AfterContactWorkStartTimestamp":"2022-04-08 15:01:22"}}`, ErrKindInvalidTimestamp, "Agent.AfterContactWorkStartTimestamp"},
		{"NUL in ContactId", `{"ContactId":"c\u0000"}`, ErrKindInvalidValue, "ContactId"},
		{"NUL in InstanceARN", `{"ContactId":"c","InstanceARN":"\u0000"}`, ErrKindInvalidValue, "InstanceARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Record
			err := Decode([]byte(tc.data), &r)
			require.Error(t, err)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%T is not a *DecodeError", err)
			assert.Equal(t, tc.kind, de.Kind, err.Error())
			assert.Equal(t, tc.field, de.Field, err.Error())
			assert.NotEmpty(t, de.Msg)
			assert.NotContains(t, de.Redacted(), secret)
			assert.NotContains(t, de.Redacted(), "5555550123")
		})
	}
}

func TestDecodeErrorSaysAgentEvent(t *testing.T) {
	var r Record
	err := Decode([]byte(`{"EventType":"STATE_CHANGE","AgentARN":"a","InstanceARN":"i"}`), &r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "agent event")
}

func TestDedupAndContactKeys(t *testing.T) {
	first := decode(t, readFixture(t, "sample_ctr.json"))
	copyOf := decode(t, readFixture(t, "sample_ctr.json"))
	assert.Equal(t, first.DedupKey(), copyOf.DedupKey(), "a copy is a duplicate")

	update := first
	update.LastUpdateTimestamp = update.LastUpdateTimestamp.Add(time.Second)
	update.Queue = &Queue{Name: "changed"}
	assert.NotEqual(t, first.DedupKey(), update.DedupKey(), "an update is not")
	assert.Equal(t, first.ContactKey(), update.ContactKey(), "but it is the same contact")

	for name, change := range map[string]func(*Record){
		"instance": func(r *Record) { r.InstanceARN = "arn:aws:connect:eu-west-2:1:instance/x" },
		"contact":  func(r *Record) { r.ContactID = "other" },
	} {
		other := first
		change(&other)
		assert.NotEqual(t, first.DedupKey(), other.DedupKey(), name)
		assert.NotEqual(t, first.ContactKey(), other.ContactKey(), name)
	}
	a := Record{InstanceARN: "ab", ContactID: "c"}
	b := Record{InstanceARN: "a", ContactID: "bc"}
	assert.NotEqual(t, a.ContactKey(), b.ContactKey(), "parts do not run into each other")
	assert.True(t, strings.HasSuffix(first.DedupKey(), "\x00"+"1649430182000000000"), first.DedupKey())
}
