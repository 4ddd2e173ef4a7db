package contactlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// FuzzBuild maps arbitrary records to log records, as the receiver would: a contact
// event, else a contact record, else a malformed record. It must never panic, never drop
// a record, flag exactly the records neither decoder took, and produce logs that survive
// OTLP, with and without redaction.
func FuzzBuild(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, false)
		}
	}
	for _, s := range [][]byte{personalCTR, personalEvent, []byte(everyShape), []byte(`{"ContactId":"c","a":1,"a":2}`), []byte(`[`), {0xff}} {
		f.Add(s, true)
	}
	plain := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig())
	redacted := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(),
		eventlog.WithRedactor(eventlog.NewRedactor(eventlog.RedactHash, "s").HashingAgentARN(true)))
	f.Fuzz(func(t *testing.T, data []byte, redact bool) {
		b := plain
		if redact {
			b = redacted
		}
		recs := NewRecords(b, eventlog.Source{Stream: "s", Shard: "shardId-0"}, 1, time.Unix(1, 0))
		var ev contactevent.Event
		var rec contactrecord.Record
		malformed := false
		if err := contactevent.Decode(data, &ev); err == nil {
			recs.AddEvent(&ev, data, "1")
		} else if err := contactrecord.Decode(data, &rec); err == nil {
			recs.AddRecord(&rec, data, "1")
		} else {
			malformed = true
			recs.AddMalformed(data, "1", err)
		}
		logs := recs.Logs()
		if logs.LogRecordCount() != 1 {
			t.Fatalf("%d log records for one record", logs.LogRecordCount())
		}
		lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		if (lr.SeverityNumber() == plog.SeverityNumberError) != malformed {
			t.Fatalf("severity %v, malformed %v", lr.SeverityNumber(), malformed)
		}
		var m plog.ProtoMarshaler
		out, err := m.MarshalLogs(logs)
		if err != nil {
			t.Fatal(err)
		}
		var u plog.ProtoUnmarshaler
		back, err := u.UnmarshalLogs(out)
		if err != nil || back.LogRecordCount() != 1 {
			t.Fatalf("the logs do not survive OTLP: %v", err)
		}
	})
}
