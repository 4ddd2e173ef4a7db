package contactlog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// benchBatch is the records of one batch: a new Records each benchBatch ops.
const benchBatch = 100

const benchSeq = "49680502941279841831465640889109774228552701502682038270"

// compact is a fixture as Connect writes it, without the indentation.
func compact(b *testing.B, name string) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, fixture(b, name)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(out.Len()))
	return out.Bytes()
}

// bodyFormats are the log_body settings the benchmarks run with.
var bodyFormats = []eventlog.BodyFormat{eventlog.BodyMap, eventlog.BodyJSON}

// BenchmarkBuildEvent is decode + map of the reference's CONNECTED_TO_AGENT sample,
// compacted: one op is one event, to a log record with its attributes and whole body,
// a map or its text.
func BenchmarkBuildEvent(b *testing.B) {
	for _, format := range bodyFormats {
		b.Run("body="+string(format), func(b *testing.B) { benchEvent(b, format) })
	}
}

func benchEvent(b *testing.B, format eventlog.BodyFormat) {
	data := compact(b, "events/connected_to_agent.json")
	builder := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(), eventlog.WithBodyFormat(format))
	src := eventlog.Source{Stream: "connect-contact-events", Shard: "shardId-000000000000"}
	now := time.Now()
	recs := NewRecords(builder, src, benchBatch, now)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		var ev contactevent.Event
		if err := contactevent.Decode(data, &ev); err != nil {
			b.Fatal(err)
		}
		recs.AddEvent(&ev, data, benchSeq)
		if n++; n == benchBatch {
			recs, n = NewRecords(builder, src, benchBatch, now), 0
		}
	}
}

// BenchmarkBuildRecord is decode + map of the reference's sample CTR, compacted: one op
// is one contact record.
func BenchmarkBuildRecord(b *testing.B) {
	for _, format := range bodyFormats {
		b.Run("body="+string(format), func(b *testing.B) { benchRecord(b, format) })
	}
}

func benchRecord(b *testing.B, format eventlog.BodyFormat) {
	data := compact(b, "records/sample_ctr.json")
	builder := eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig(), eventlog.WithBodyFormat(format))
	src := eventlog.Source{Stream: "connect-contact-records", Shard: "shardId-000000000000"}
	now := time.Now()
	recs := NewRecords(builder, src, benchBatch, now)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		var r contactrecord.Record
		if err := contactrecord.Decode(data, &r); err != nil {
			b.Fatal(err)
		}
		recs.AddRecord(&r, data, benchSeq)
		if n++; n == benchBatch {
			recs, n = NewRecords(builder, src, benchBatch, now), 0
		}
	}
}
