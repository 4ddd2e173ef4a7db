package kinesisconsumer

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const evRecycle = "recycle" // a read's data were handed back to the decoder

// TestReadsAreRecycledOnceEveryPartIsAccepted: a GetRecords output is handed to Recycle
// once, after every part of it was accepted (refusals retried first) and checkpointed,
// and nothing of it is offered to the Processor after that.
func TestReadsAreRecycledOnceEveryPartIsAccepted(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	opts := e.options(t)
	opts.MaxRecords = 10
	opts.MaxBatchRecords = 3
	opts.Recycle = func(md middleware.Metadata) {
		span, ok := md.Get(readSpanKey{}).(readSpan)
		require.True(t, ok, "Recycle was given metadata of no GetRecords output of the fake")
		e.tl.add(event{kind: evRecycle, shard: shard, seqs: []string{span.first, span.last}})
	}
	// The first offer of every part is refused: a retried part must not find its data
	// recycled.
	e.rec.decide = func(_ context.Context, _ Batch, attempt int) error {
		if attempt == 1 {
			return errors.New("refused once")
		}
		return nil
	}
	ks := keys("k", 5)
	e.p.round(ks, 5)
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, shard)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())

	events := e.tl.snapshot()
	reads, recycled := 0, map[string]int{}
	for _, ev := range events {
		if ev.kind == evCall && ev.call.Op == opGetRecords && ev.call.Returned > 0 {
			reads++
		}
	}
	for i, ev := range events {
		if ev.kind != evRecycle {
			continue
		}
		first, last := ev.seqs[0], ev.seqs[1]
		recycled[first]++
		// Every record of the read was accepted, and the last checkpointed, before.
		for _, seq := range seqsBetween(e, first, last) {
			accepted := firstIndex(events[:i], func(a event) bool { return a.kind == evAccept && slices.Contains(a.seqs, seq) })
			assert.GreaterOrEqual(t, accepted, 0, "the read %s..%s was recycled before %s was accepted", first, last, seq)
			offered := firstIndex(events[i+1:], func(a event) bool { return a.kind == evAttempt && slices.Contains(a.seqs, seq) })
			assert.Negative(t, offered, "%s was offered to the Processor after its read was recycled", seq)
		}
		saved := firstIndex(events[:i], func(s event) bool { return s.kind == evSave && s.cp.SequenceNumber == last })
		assert.GreaterOrEqual(t, saved, 0, "the read %s..%s was recycled before its checkpoint", first, last)
	}
	require.Positive(t, reads)
	assert.Len(t, recycled, reads, "each read that returned records is recycled")
	for first, n := range recycled {
		assert.Equal(t, 1, n, "the read from %s was recycled %d times", first, n)
	}
}

// seqsBetween lists the sequence numbers the producer wrote from first to last.
func seqsBetween(e *testEnv, first, last string) []string {
	var seqs []string
	for _, d := range e.p.info {
		if CompareSequence(d.Seq, first) >= 0 && CompareSequence(d.Seq, last) <= 0 {
			seqs = append(seqs, d.Seq)
		}
	}
	return seqs
}
