package agentevent

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeErr(t *testing.T, record string, sink Sink) *DecodeError {
	t.Helper()
	var ev Event
	err := NewDecoder().Decode([]byte(record), &ev, sink)
	require.Error(t, err, record)
	var de *DecodeError
	require.True(t, errors.As(err, &de), "want *DecodeError, got %T: %v", err, err)
	return de
}

// A repeated key would let the typed event (which appends both Contacts arrays) and the
// body (which keeps the last) disagree: the record is malformed instead.
func TestDecodeDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, record, field string
	}{
		{"Contacts", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":[{"ContactId":"c1","State":"CONNECTED"}],` +
			`"Contacts":[{"ContactId":"c2","State":"CONNECTED"}]}}`, "CurrentAgentSnapshot.Contacts"},
		{"Concurrency", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{` +
			`"Concurrency":[{"Channel":"VOICE","AvailableSlots":1,"MaximumSlots":1}],"Concurrency":[{"Channel":"VOICE","AvailableSlots":0,"MaximumSlots":1}]}}}}`,
			"CurrentAgentSnapshot.Configuration.RoutingProfile.Concurrency"},
		{"EventType", `{"EventType":"LOGIN","EventType":"LOGOUT"}`, "EventType"},
		{"inside a contact", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":[{},{"State":"CONNECTED","State":"ENDED"}]}}`,
			"CurrentAgentSnapshot.Contacts[1].State"},
		{"inside an unknown object", `{"EventType":"LOGIN","Extra":{"a":1,"list":[0,{"b":1,"b":2}]}}`, "Extra.list[1].b"},
		{"many keys, the repeat last", `{"EventType":"LOGIN","Extra":{` + members(60, 0) + `,"k000007":1}}`, "Extra.k000007"},
		{"escaped spelling of the same key", `{"EventType":"LOGIN","Extra":{"a\u0062":1,"ab":2}}`, "Extra.ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			de := decodeErr(t, tc.record, nil)
			assert.Equal(t, ErrKindDuplicateKey, de.Kind, de.Error())
			assert.Equal(t, tc.field, de.Field, de.Error())
			assert.Contains(t, de.Error(), "repeated")
		})
	}

	// The same key in different objects is no repeat.
	var ev Event
	require.NoError(t, NewDecoder().Decode([]byte(`{"EventType":"LOGIN","Name":"x","A":{"Name":"y","B":{"Name":"z"}},"C":[{"Name":1},{"Name":2}]}`), &ev, nil))
}

// members renders n members "k000000":0,... starting at from.
func members(n, from int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%06d":%d`, from+i, i%10)
	}
	return b.String()
}

func TestDecodeTooManyMembers(t *testing.T) {
	ok := `{"EventType":"LOGIN","Extra":{` + members(MaxMembers-2, 0) + `}}`
	var ev Event
	require.NoError(t, NewDecoder().Decode([]byte(ok), &ev, nil), "MaxMembers members are fine")

	de := decodeErr(t, `{"EventType":"LOGIN","Extra":{"inner":{`+members(MaxMembers+1, 0)+`}}}`, nil)
	assert.Equal(t, ErrKindTooManyMembers, de.Kind)
	assert.Equal(t, "Extra.inner", de.Field)
	assert.Contains(t, de.Error(), fmt.Sprint(MaxMembers), "the error states the limit")

	// A syntax error after the limit still wins: the record is checked to the end.
	de = decodeErr(t, `{"EventType":"LOGIN","Extra":{`+members(MaxMembers+1, 0)+`}`, nil)
	assert.Equal(t, ErrKindInvalidJSON, de.Kind)
}

// Redacted says what and where, but never quotes the record: not a bad value, not a key
// of the record's own, not a character.
func TestDecodeErrorRedactedQuotesNothing(t *testing.T) {
	const name = "MariaGarcia"
	tests := []struct {
		kind, record string
	}{
		{ErrKindInvalidTimestamp, `{"EventType":"LOGIN","EventTimestamp":"` + name + `"}`},
		{ErrKindDuplicateKey, `{"EventType":"LOGIN","Extra":{"` + name + `":1,"` + name + `":2}}`},
		{ErrKindDuplicateKey, `{"EventType":"LOGIN","` + name + `":{"x":1,"x":2}}`},
		{ErrKindTooManyMembers, `{"EventType":"LOGIN","` + name + `":{` + members(MaxMembers+1, 0) + `}}`},
		{ErrKindWrongType, `{"EventType":"LOGIN","` + name + `":[{"a":1}],"CurrentAgentSnapshot":{"Contacts":{"` + name + `":1}}}`},
		{ErrKindInvalidJSON, `{"EventType":"LOGIN","Configuration":{"FirstName":"x"` + name + `}}`},
		{ErrKindInvalidJSON, name},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			de := decodeErr(t, tc.record, nil)
			assert.Equal(t, tc.kind, de.Kind, de.Error())
			assert.NotContains(t, de.Redacted(), name[:1]+name[1:4], de.Redacted())
			assert.NotContains(t, de.Redacted(), "Maria")
			assert.NotEmpty(t, de.Redacted())
			if de.Kind != ErrKindWrongType && de.Kind != ErrKindInvalidJSON {
				assert.Contains(t, de.Error(), name, "the unredacted message shows the culprit")
			}
		})
	}
}

// Objects with many keys (kept in maps, reused from one object to the next) and nested
// ones: the same keys in sibling or nested objects are no repeat, and one decoder finds
// a repeat again after records without.
func TestDecodeManyKeysNoFalseRepeat(t *testing.T) {
	d := NewDecoder()
	big := `{` + members(40, 0) + `}`
	rec := `{"EventType":"LOGIN","A":` + big + `,"B":[` + big + `,` + big + `],"C":{` + members(30, 0) + `,"inner":` + big + `}}`
	var ev Event
	for range 3 {
		require.NoError(t, d.Decode([]byte(rec), &ev, nil))
		err := d.Decode([]byte(`{"EventType":"LOGIN","A":{`+members(40, 0)+`,"k000039":1}}`), &ev, nil)
		var de *DecodeError
		require.True(t, errors.As(err, &de), "%v", err)
		assert.Equal(t, ErrKindDuplicateKey, de.Kind)
		assert.Equal(t, "A.k000039", de.Field)
	}
}

// Keys with escapes are compared unescaped, also in objects kept in maps, while the
// buffer that holds them grows.
func TestDecodeManyEscapedKeys(t *testing.T) {
	escaped := strings.ReplaceAll(members(60, 0), `"k`, `"\u006b`)
	var ev Event
	d := NewDecoder()
	require.NoError(t, d.Decode([]byte(`{"EventType":"LOGIN","A":{`+escaped+`},"B":{`+escaped+`}}`), &ev, nil))
	de := decodeErr(t, `{"EventType":"LOGIN","A":{`+escaped+`,"k000042":1}}`, nil)
	assert.Equal(t, ErrKindDuplicateKey, de.Kind)
	assert.Equal(t, "A.k000042", de.Field)
	de = decodeErr(t, `{"EventType":"LOGIN","A":{`+members(60, 0)+`,"\u006b000059":1}}`, nil)
	assert.Equal(t, ErrKindDuplicateKey, de.Kind)
}
