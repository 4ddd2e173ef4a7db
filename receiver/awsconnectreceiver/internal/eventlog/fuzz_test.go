package eventlog

import (
	"os"
	"path/filepath"
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
