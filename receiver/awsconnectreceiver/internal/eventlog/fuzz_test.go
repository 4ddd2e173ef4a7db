package eventlog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// FuzzBuild maps arbitrary records to log records. It must never panic, never drop a
// record, flag exactly the records it could not decode, and produce logs that marshal
// to OTLP and back unchanged.
func FuzzBuild(f *testing.F) {
	for _, pattern := range []string{"../../../../testdata/events/*.json", "../../../../testdata/events/malformed/*"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data, []byte(`{"EventType":"LOGIN"}`))
			}
		}
	}
	b := NewBuilder(metadata.DefaultResourceAttributesConfig())
	f.Fuzz(func(t *testing.T, first, second []byte) {
		batch := testBatch{StreamName: "s", ShardID: "shardId-000000000000", Records: []testRecord{
			{Data: first, SequenceNumber: "1"}, {Data: second, SequenceNumber: "2"},
		}}
		res := b.build(batch, time.Unix(1, 0))
		if got := res.Logs.LogRecordCount(); got != 2 {
			t.Fatalf("%d log records for 2 records", got)
		}
		errors := 0
		for i := 0; i < res.Logs.ResourceLogs().Len(); i++ {
			lrs := res.Logs.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				if lrs.At(j).SeverityNumber() == plog.SeverityNumberError {
					errors++
					if _, ok := lrs.At(j).Attributes().Get(AttrErrorType); !ok {
						t.Fatal("an ERROR record without error.type")
					}
				}
			}
		}
		if errors != res.Malformed {
			t.Fatalf("%d ERROR records, %d counted malformed", errors, res.Malformed)
		}
		var m plog.ProtoMarshaler
		data, err := m.MarshalLogs(res.Logs)
		if err != nil {
			t.Fatal(err)
		}
		var u plog.ProtoUnmarshaler
		back, err := u.UnmarshalLogs(data)
		if err != nil {
			t.Fatalf("the logs do not survive OTLP: %v", err)
		}
		if back.LogRecordCount() != 2 {
			t.Fatal("records lost through OTLP")
		}
	})
}

// FuzzJSONBody maps arbitrary records with JSON bodies, redacted and not. An event's body
// is then always valid JSON: the record itself, or the same document as the redacted map
// body, read back by encoding/json.
func FuzzJSONBody(f *testing.F) {
	for _, pattern := range []string{"../../../../testdata/events/*.json", "../../../../testdata/events/malformed/*"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	rac := metadata.DefaultResourceAttributesConfig()
	redactor := func() *Redactor { return NewRedactor(RedactHash, "pepper").HashingAgentARN(true) }
	plain := NewBuilder(rac, WithBodyFormat(BodyJSON))
	asMap := NewBuilder(rac, WithRedactor(redactor()))
	asJSON := NewBuilder(rac, WithRedactor(redactor()), WithBodyFormat(BodyJSON))
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := batchOf(data)
		res := plain.build(batch, time.Unix(1, 0))
		if res.Malformed == 1 {
			return
		}
		_, lr := onlyRecord(t, res.Logs)
		if lr.Body().Str() != string(data) {
			t.Fatal("the body is not the record's text")
		}
		_, want := onlyRecord(t, asMap.build(batch, time.Unix(1, 0)).Logs)
		_, got := onlyRecord(t, asJSON.build(batch, time.Unix(1, 0)).Logs)
		text := got.Body().Str()
		if !json.Valid([]byte(text)) {
			t.Fatalf("not JSON: %q", text)
		}
		var back any
		if err := json.Unmarshal([]byte(text), &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalizeNumbers(want.Body().AsRaw()), back) {
			t.Fatalf("the JSON body %s is not the map body %v", text, want.Body().AsRaw())
		}
	})
}
