package eventlog

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const benchBatch = 100

// benchRecords is a batch of the ~3 KB STATE_CHANGE with two contacts, compacted as
// Amazon Connect writes it.
func benchRecords(b *testing.B) kinesisconsumer.Batch {
	raw, err := os.ReadFile("../../../../testdata/events/bench_state_change.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		b.Fatal(err)
	}
	batch := kinesisconsumer.Batch{StreamName: "connect-agent-events", ShardID: "shardId-000000000000"}
	for i := range benchBatch {
		batch.Records = append(batch.Records, kinesisconsumer.Record{
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
	batch := benchRecords(b)
	builder := NewBuilder(metadata.DefaultResourceAttributesConfig())
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		res := builder.Build(batch, now)
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
