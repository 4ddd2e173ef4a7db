package eventlog

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// fixtureBatch is every valid fixture as written (not compacted), then every malformed one.
func fixtureBatch(t *testing.T) ([][]byte, testBatch) {
	var records [][]byte
	for _, tc := range validCases {
		records = append(records, readFixture(t, tc.file))
	}
	for _, tc := range malformedCases {
		records = append(records, readFixture(t, filepath.Join("malformed", tc.file)))
	}
	return records, batchOf(records...)
}

// sameButBody checks that two log records agree on everything but their bodies.
func sameButBody(t *testing.T, want, got located) {
	t.Helper()
	assert.Equal(t, want.res.Attributes().AsRaw(), got.res.Attributes().AsRaw())
	assert.Equal(t, want.lr.Attributes().AsRaw(), got.lr.Attributes().AsRaw())
	assert.Equal(t, want.lr.Timestamp(), got.lr.Timestamp())
	assert.Equal(t, want.lr.ObservedTimestamp(), got.lr.ObservedTimestamp())
	assert.Equal(t, want.lr.SeverityNumber(), got.lr.SeverityNumber())
	assert.Equal(t, want.lr.SeverityText(), got.lr.SeverityText())
	assert.Equal(t, want.lr.EventName(), got.lr.EventName())
}

// compareBodies checks the log records of fixtureBatch's records built with map bodies
// (asMap) and JSON bodies (asJSON): all there, alike but for their bodies, malformed
// records alike in full, events' bodies text. check then looks at each event's text.
func compareBodies(t *testing.T, records [][]byte, asMap, asJSON map[string]located, check func(i int, text string, want located)) {
	t.Helper()
	require.Len(t, asJSON, len(records))
	for i := range records {
		seq := seqNumber(i)
		want, got := asMap[seq], asJSON[seq]
		sameButBody(t, want, got)
		if i >= len(validCases) {
			assert.Equal(t, want.lr.Body().AsRaw(), got.lr.Body().AsRaw(), "malformed record %d", i)
			continue
		}
		require.Equal(t, pcommon.ValueTypeStr, got.lr.Body().Type(), validCases[i].file)
		check(i, got.lr.Body().Str(), want)
	}
}

// With log_body json and no redaction, an event's body is its record's text, byte for
// byte; the rest of the log record is what a map body comes with, and malformed records
// are the same in both.
func TestJSONBodyIsTheRecordsText(t *testing.T) {
	records, batch := fixtureBatch(t)
	asMap := recordsBySeq(t, newBuilder().build(batch, observed).Logs)
	res := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithBodyFormat(BodyJSON)).build(batch, observed)
	assert.Equal(t, len(malformedCases), res.Malformed)
	compareBodies(t, records, asMap, recordsBySeq(t, res.Logs), func(i int, text string, _ located) {
		assert.Equal(t, string(records[i]), text, validCases[i].file)
	})
}

// With redaction on, a JSON body is the redacted map written as JSON: the same document,
// members in the same order, and none of the personal values.
func TestJSONBodyUnderRedactIsTheRedactedDocument(t *testing.T) {
	for _, mode := range []string{RedactDrop, RedactHash} {
		t.Run(mode, func(t *testing.T) {
			redactor := func() *Redactor { return NewRedactor(mode, "pepper").HashingAgentARN(mode == RedactHash) }
			records, batch := fixtureBatch(t)
			asMap := recordsBySeq(t, NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(redactor())).build(batch, observed).Logs)
			b := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(redactor()), WithBodyFormat(BodyJSON))
			compareBodies(t, records, asMap, recordsBySeq(t, b.build(batch, observed).Logs), func(i int, text string, want located) {
				require.True(t, json.Valid([]byte(text)), "%s: %s", validCases[i].file, text)
				assertSameDocument(t, []byte(text), want.lr.Body())
				assert.NotContains(t, text, "mgarcia")
			})
		})
	}
}

// No personal value of any fixture survives in a JSON body, in either mode.
func TestJSONBodyRedactsEveryFixture(t *testing.T) {
	for _, tc := range validCases {
		rec := readCompact(t, tc.file)
		values := map[bool]map[string]bool{true: {}, false: {}}
		personalValues(decodeDoc(t, rec), "", "", false, values)
		for _, mode := range []string{RedactDrop, RedactHash} {
			t.Run(tc.file+"/"+mode, func(t *testing.T) {
				b := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(NewRedactor(mode, "pepper")), WithBodyFormat(BodyJSON))
				_, lr := onlyRecord(t, b.build(batchOf(rec), observed).Logs)
				text := lr.Body().Str()
				for s := range values[true] {
					if !values[false][s] { // "Billing" can be a group's name and a proficiency's value
						assert.NotContains(t, text, `"`+s+`"`)
					}
				}
			})
		}
	}
}

// The JSON of every kind of value reads back, with encoding/json, as the value itself.
func TestSetJSONWritesEveryValue(t *testing.T) {
	body := pcommon.NewValueMap()
	m := body.Map()
	for i, s := range []string{
		"", "plain", `quote " and backslash \ and slash /`, "line\nbreak\rreturn\ttab",
		"\x00\x01\x1f\x7f control", "café ✓ 日本 😀", "<html>&amp;", "\u2028\u2029",
	} {
		m.PutStr("s"+strconv.Itoa(i), s)
	}
	m.PutInt("int", -9007199254740993)
	m.PutInt("zero", 0)
	for i, f := range []float64{0.5, -1.25, 1e21, 1e-7, 123456789.125, math.SmallestNonzeroFloat64, math.MaxFloat64, 100} {
		m.PutDouble("f"+strconv.Itoa(i), f)
	}
	m.PutBool("yes", true)
	m.PutBool("no", false)
	m.PutEmpty("null")
	m.PutEmptyBytes("bytes").FromRaw([]byte{0, 1, 2, 250})
	inner := m.PutEmptySlice("list")
	inner.AppendEmpty().SetStr("a")
	inner.AppendEmpty().SetEmptyMap().PutInt("k", 1)
	inner.AppendEmpty().SetEmptySlice()
	m.PutEmptyMap("empty")

	want := body.Map().AsRaw()
	want["bytes"] = "AAEC+g==" // pdata's JSON writes bytes as base64
	buf := SetJSON(body, nil)
	require.Equal(t, pcommon.ValueTypeStr, body.Type())
	text := body.Str()
	assert.Equal(t, text, string(buf))
	require.True(t, json.Valid([]byte(text)), text)

	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &got))
	assert.Equal(t, normalizeNumbers(want), normalizeNumbers(got))
	assert.Contains(t, text, `"int":-9007199254740993`, "integers are written exactly")
	assert.Contains(t, text, `"f7":100.0`, "a whole double stays a double")
	assert.Contains(t, text, `"f2":1e+21`)
	assert.Contains(t, text, `"s4":"\u0000\u0001\u001f`+"\x7f"+` control"`)
}

// normalizeNumbers makes every number a float64, as encoding/json reads them (the int
// written exactly is checked on its text).
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case int64:
		return float64(x)
	default:
		return v
	}
}

// A byte that is not UTF-8 (never in a decoded record) still gives valid JSON.
func TestSetJSONKeepsInvalidUTF8Valid(t *testing.T) {
	body := pcommon.NewValueSlice()
	body.Slice().AppendEmpty().SetStr("a\xffb\xc3")
	SetJSON(body, nil)
	assert.Equal(t, `["a\ufffdb\ufffd"]`, body.Str())
}

// Bodies that are not maps or slices, as malformed records' are, stay as they are.
func TestSetJSONLeavesTextBodies(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`{"not":"touched"}`)
	SetJSON(lr.Body(), nil)
	assert.Equal(t, `{"not":"touched"}`, lr.Body().Str())
	lr.Body().SetEmptyBytes().FromRaw([]byte{1})
	SetJSON(lr.Body(), nil)
	assert.Equal(t, pcommon.ValueTypeBytes, lr.Body().Type())
}
