package contactlog

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// buildBoth maps the fixtures, the personal record and event and everyShape in the given
// body format, and returns their log records and data in that order (found by sequence
// number: records of no instance are grouped apart).
func buildBoth(t *testing.T, format eventlog.BodyFormat, redact *eventlog.Redactor) ([]plog.LogRecord, [][]byte) {
	t.Helper()
	opts := []eventlog.Option{eventlog.WithBodyFormat(format)}
	if redact != nil {
		opts = append(opts, eventlog.WithRedactor(redact))
	}
	b := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(), opts...)
	recs := NewRecords(b, eventlog.Source{Stream: stream, Shard: shard}, 8, observed)
	var data [][]byte
	for _, name := range []string{"events/connected_to_agent.json", "events/disconnected.json", "events/queued.json"} {
		d := fixture(t, name)
		recs.AddEvent(decodeEvent(t, d), d, strconv.Itoa(len(data)))
		data = append(data, d)
	}
	recs.AddEvent(decodeEvent(t, personalEvent), personalEvent, strconv.Itoa(len(data)))
	data = append(data, personalEvent)
	for _, d := range [][]byte{fixture(t, "records/sample_ctr.json"), personalCTR, []byte(everyShape)} {
		recs.AddRecord(decodeRecord(t, d), d, strconv.Itoa(len(data)))
		data = append(data, d)
	}
	out := make([]plog.LogRecord, len(data))
	n := 0
	for _, rl := range recs.Logs().ResourceLogs().All() {
		for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
			i, err := strconv.Atoi(attr(lr, eventlog.AttrSequenceNumber))
			require.NoError(t, err)
			out[i] = lr
			n++
		}
	}
	require.Equal(t, len(data), n)
	return out, data
}

// The log records of two builds agree on everything but their bodies.
func assertSameButBody(t *testing.T, want, got []plog.LogRecord) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Attributes().AsRaw(), got[i].Attributes().AsRaw(), i)
		assert.Equal(t, want[i].Timestamp(), got[i].Timestamp(), i)
		assert.Equal(t, want[i].EventName(), got[i].EventName(), i)
		assert.Equal(t, want[i].SeverityNumber(), got[i].SeverityNumber(), i)
	}
}

// Without redaction, a JSON body is the record's text, byte for byte.
func TestJSONBodyIsTheRecordsText(t *testing.T) {
	asMap, _ := buildBoth(t, eventlog.BodyMap, nil)
	asJSON, data := buildBoth(t, eventlog.BodyJSON, nil)
	assertSameButBody(t, asMap, asJSON)
	for i, lr := range asJSON {
		require.Equal(t, pcommon.ValueTypeStr, lr.Body().Type(), i)
		assert.Equal(t, string(data[i]), lr.Body().Str(), i)
	}
}

// keys lists an object's keys in the order its text has them.
func keys(t *testing.T, text string) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	_, err := dec.Token()
	require.NoError(t, err)
	var out []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		out = append(out, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return out
}

// With redaction on, a JSON body is the redacted document: what the map body holds, in
// its order, and none of the personal values.
func TestJSONBodyUnderRedactIsTheRedactedDocument(t *testing.T) {
	for _, r := range []*eventlog.Redactor{
		eventlog.NewRedactor(eventlog.RedactDrop, ""),
		eventlog.NewRedactor(eventlog.RedactHash, "pepper").HashingAgentARN(true),
	} {
		t.Run(r.Mode(), func(t *testing.T) {
			asMap, _ := buildBoth(t, eventlog.BodyMap, r)
			asJSON, _ := buildBoth(t, eventlog.BodyJSON, r)
			assertSameButBody(t, asMap, asJSON)
			for i, lr := range asJSON {
				require.Equal(t, pcommon.ValueTypeStr, lr.Body().Type(), i)
				text := lr.Body().Str()
				got, err := readDocument([]byte(text))
				require.NoError(t, err, text)
				assert.Equal(t, asMap[i].Body().AsRaw(), got, i)
				var mapKeys []string
				for k := range asMap[i].Body().Map().All() {
					mapKeys = append(mapKeys, k)
				}
				assert.Equal(t, mapKeys, keys(t, text), "document order")
				for _, p := range personal {
					assert.NotContains(t, text, p)
				}
				if r.HashesAgentARN() {
					assert.NotContains(t, text, agentARN)
				}
			}
		})
	}
}
