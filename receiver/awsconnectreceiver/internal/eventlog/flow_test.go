package eventlog

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// testBatch is a shard's records as the tests hand them in.
type testBatch struct {
	StreamName, ShardID string
	Records             []testRecord
}

type testRecord struct {
	Data           []byte
	SequenceNumber string
}

// testResult is what a batch gave.
type testResult struct {
	Logs      plog.Logs
	Malformed int
}

// build runs every record of in through Records as the receiver does, but for duplicate
// removal and the agents' state, which are the receiver's.
func (b *Builder) build(in testBatch, observed time.Time) testResult {
	return b.buildVisiting(in, observed, nil)
}

// buildVisiting is build that also shows visit each agent event, in order.
func (b *Builder) buildVisiting(in testBatch, observed time.Time, visit func(*agentevent.Event)) testResult {
	recs := b.NewRecords(Source{Stream: in.StreamName, Shard: in.ShardID}, len(in.Records), observed, true)
	defer recs.Release()
	var res testResult
	for _, rec := range in.Records {
		ev, err := recs.Decode(rec.Data)
		if err != nil {
			res.Malformed++
			recs.AddMalformed(rec.Data, rec.SequenceNumber, err)
			continue
		}
		if visit != nil {
			visit(ev)
		}
		recs.AddEvent(rec.SequenceNumber)
	}
	res.Logs = recs.Logs()
	return res
}
