package kinesisconsumer

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handingAssigner is a revokingAssigner whose shards another consumer can ask for, as a
// lease table's steal does.
type handingAssigner struct {
	revokingAssigner
	handOver func(string, func())
}

func (a *handingAssigner) OnHandOver(fn func(string, func())) { a.handOver = fn }

func TestHandOverFinishesTheBatchInFlightThenHandsOver(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	e.p.round(keys("k", 4), 2)
	assigner := &handingAssigner{revokingAssigner: revokingAssigner{dropAssigner: dropAssigner{dropped: map[string]bool{}}, tl: e.tl}}
	hooks := &hookLog{recorder: e.rec}
	// The pipeline takes the batch a little after the hand-over began.
	inFlight := e.acceptSlowly()
	opts := e.options(t)
	opts.Processor = hooks
	opts.Assigner = assigner
	opts.MaxRecords = 4
	opts.ShutdownGrace = 5 * time.Second
	c := start(t, opts)
	<-inFlight

	var stopsAtDone atomic.Value
	handedOver := make(chan struct{})
	assigner.handOver(shard, func() {
		// As the lease table: once handed over, the shard is no longer assigned here.
		stopsAtDone.Store(hooks.stoppedWith(shard))
		e.tl.add(event{kind: "handed over"})
		assigner.set(shard, true)
		close(handedOver)
	})
	select {
	case <-handedOver:
	case <-time.After(waitFor):
		t.Fatal("done was never called")
	}

	got := e.rec.deliveries()
	require.Len(t, got, 4, "the batch in flight was not finished, or another was begun")
	assert.Equal(t, got[3].Seq, e.store.get(shard).SequenceNumber, "the finished batch was not checkpointed")
	events := e.tl.snapshot()
	done := firstIndex(events, func(ev event) bool { return ev.kind == "handed over" })
	lastSave := -1
	for i, ev := range events {
		if ev.kind == evSave {
			lastSave = i
		}
	}
	assert.Greater(t, done, lastSave, "the lease was handed over before the last checkpoint was saved")
	assert.Equal(t, []string{"handed_over"}, stopsAtDone.Load(), "done came before the reader said it stopped")

	// The shard is not read here again, though more arrives.
	e.p.round(keys("k", 4), 2)
	e.waitListings(t, 3)
	assert.Len(t, e.rec.deliveries(), 4, "the shard was read again after it was handed over")
	assert.Equal(t, []string{"handed_over"}, hooks.stoppedWith(shard))
	shutdown(t, c)
}

func TestHandOverOfAShardNotBeingReadIsDoneAtOnce(t *testing.T) {
	e := newEnv(1)
	assigner := &handingAssigner{revokingAssigner: revokingAssigner{dropAssigner: dropAssigner{dropped: map[string]bool{}}, tl: e.tl}}
	opts := e.options(t)
	opts.Assigner = assigner
	c := start(t, opts)
	var called atomic.Bool
	assigner.handOver("shardId-999999999999", func() { called.Store(true) })
	require.Eventually(t, called.Load, waitFor, tick)
	shutdown(t, c)
}
