package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/perftest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const benchBatch = 100

// benchRecords is a batch of the ~3 KB STATE_CHANGE with two contacts, compacted as
// Amazon Connect writes it.
func benchRecords(b *testing.B) testBatch {
	raw, err := os.ReadFile("../../../../testdata/events/bench_state_change.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		b.Fatal(err)
	}
	batch := testBatch{StreamName: "connect-agent-events", ShardID: "shardId-000000000000"}
	for i := range benchBatch {
		batch.Records = append(batch.Records, testRecord{
			Data:           compact.Bytes(),
			SequenceNumber: "4968050294127984183146564088910977422855270150268203827" + string(rune('0'+i%10)),
		})
	}
	b.SetBytes(int64(compact.Len()) * benchBatch)
	return batch
}

func reportPerEvent(b *testing.B) {
	perEvent := float64(b.Elapsed().Nanoseconds()) / float64(b.N*benchBatch)
	b.ReportMetric(perEvent, "ns/event")
	b.ReportMetric(1e9/perEvent, "events/s")
}

// BenchmarkBuild is decode + map: each record to a log record with its attributes and the
// whole event as a structured body. One op is a batch of 100 events.
func BenchmarkBuild(b *testing.B) {
	benchBuilder(b, NewBuilder(metadata.DefaultResourceAttributesConfig()))
}

// BenchmarkBuildJSONBody is BenchmarkBuild with log_body: json: the record's text as the
// body, so only the typed event is decoded.
func BenchmarkBuildJSONBody(b *testing.B) {
	benchBuilder(b, NewBuilder(metadata.DefaultResourceAttributesConfig(), WithBodyFormat(BodyJSON)))
}

// BenchmarkBuildJSONBodyRedacted is log_body: json under redact: hash: the redacted body
// is built as a map, then written as JSON.
func BenchmarkBuildJSONBodyRedacted(b *testing.B) {
	benchBuilder(b, NewBuilder(metadata.DefaultResourceAttributesConfig(),
		WithRedactor(NewRedactor(RedactHash, "pepper")), WithBodyFormat(BodyJSON)))
}

// BenchmarkBuildRedacted is BenchmarkBuild under redact: hash, beside the one above.
func BenchmarkBuildRedacted(b *testing.B) {
	benchBuilder(b, NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(NewRedactor(RedactHash, "pepper"))))
}

// BenchmarkBuildSimulatedJSONBody is BenchmarkBuildJSONBody on the simulator's events
// (100 agents, about 5 KB each, heartbeats and state changes with routing profiles of
// several queues): the events `make bench-e2e` reads.
func BenchmarkBuildSimulatedJSONBody(b *testing.B) {
	events := perftest.Simulate(b, benchBatch)
	batch := testBatch{StreamName: "connect-agent-events", ShardID: "shardId-000000000000"}
	size := 0
	for i, data := range events.Data {
		batch.Records = append(batch.Records, testRecord{Data: data, SequenceNumber: fmt.Sprintf("49680502941279841831465640889109774228551502682038%05d", i)})
		size += len(data)
	}
	b.SetBytes(int64(size))
	runBuilder(b, NewBuilder(metadata.DefaultResourceAttributesConfig(), WithBodyFormat(BodyJSON)), batch)
}

func benchBuilder(b *testing.B, builder *Builder) {
	runBuilder(b, builder, benchRecords(b))
}

func runBuilder(b *testing.B, builder *Builder, batch testBatch) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		res := builder.build(batch, now)
		if res.Logs.LogRecordCount() != benchBatch {
			b.Fatal("wrong count")
		}
	}
	reportPerEvent(b)
}

// BenchmarkBaselineJSONMap is the plain way, for comparison: encoding/json into a map,
// then pcommon's FromRaw for the body. It sets no attributes at all.
func BenchmarkBaselineJSONMap(b *testing.B) {
	batch := benchRecords(b)
	b.ReportAllocs()
	for b.Loop() {
		logs := plog.NewLogs()
		lrs := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for i := range batch.Records {
			var m map[string]any
			if err := json.Unmarshal(batch.Records[i].Data, &m); err != nil {
				b.Fatal(err)
			}
			if err := lrs.AppendEmpty().Body().SetEmptyMap().FromRaw(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPerEvent(b)
}

// worstRecord is the most expensive ~1 MiB record to build a body from, before objects
// had a member limit: a valid event whose one unknown object holds as many members as
// fit, all keys of the same length (so comparing two keys costs the most). It is now
// refused: the object has more than agentevent.MaxMembers members.
func worstRecord(members int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"EventType":"HEART_BEAT","EventId":"worst","Extra":{`)
	writeMembers(&buf, members)
	buf.WriteString(`}}`)
	return buf.Bytes()
}

func writeMembers(buf *bytes.Buffer, n int) {
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(buf, `"k%06d":%d`, i, i%10)
	}
}

// objectsRecord is a valid event of about 1 MiB whose unknown array holds objects of
// perObject members each, keys of the same length. With perObject at the limit it is the
// worst record still accepted.
func objectsRecord(perObject int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"EventType":"HEART_BEAT","EventId":"worst","Extra":[`)
	for o := 0; buf.Len() < 1<<20-12*perObject; o++ {
		if o > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		writeMembers(&buf, perObject)
		buf.WriteByte('}')
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// worstMembers fills about 1 MiB: each member `"k000000":0,` is 12 bytes.
const worstMembers = (1 << 20) / 12

func benchOne(b *testing.B, rec []byte, malformed int) {
	batch := testBatch{StreamName: "s", ShardID: "shardId-000000000000",
		Records: []testRecord{{Data: rec, SequenceNumber: "1"}}}
	builder := NewBuilder(metadata.DefaultResourceAttributesConfig())
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if res := builder.build(batch, time.Now()); res.Logs.LogRecordCount() != 1 || res.Malformed != malformed {
			b.Fatal("wrong count")
		}
	}
}

// BenchmarkBuildWorstRecord builds the log record of worstRecord (one op is one record of
// about 1 MiB): before the member limit, 11 s.
func BenchmarkBuildWorstRecord(b *testing.B) { benchOne(b, worstRecord(worstMembers), 1) }

// BenchmarkBuildWorstAcceptedRecord builds 1 MiB of objects at the member limit: the
// worst record that is accepted.
func BenchmarkBuildWorstAcceptedRecord(b *testing.B) {
	benchOne(b, objectsRecord(agentevent.MaxMembers), 0)
}

// BenchmarkBuildObjectsRecord builds 1 MiB of objects of 8 members: what building a body
// of that many values costs when no key scan is long.
func BenchmarkBuildObjectsRecord(b *testing.B) { benchOne(b, objectsRecord(8), 0) }

// BenchmarkScanWorstRecord only decodes the worst accepted record, with no body: what
// scanning 1 MiB costs.
func BenchmarkScanWorstRecord(b *testing.B) {
	rec := objectsRecord(agentevent.MaxMembers)
	d := agentevent.NewDecoder()
	var ev agentevent.Event
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(rec, &ev, nil); err != nil {
			b.Fatal(err)
		}
	}
}
