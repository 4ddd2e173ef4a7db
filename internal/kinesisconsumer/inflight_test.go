package kinesisconsumer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// However many shards are read, no more than MaxBatchesInFlight hold a batch at once.
func TestBatchesInFlightAreBounded(t *testing.T) {
	e := newEnv(8)
	ks := keys("k", 64)
	e.p.round(ks, 4)
	var now, most atomic.Int32
	e.rec.decide = func(context.Context, Batch, int) error {
		n := now.Add(1)
		defer now.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond) // long enough for every shard to be at it at once
		return nil
	}
	opts := e.options(t)
	opts.MaxBatchesInFlight = 2
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
	assert.Equal(t, int32(2), most.Load(), "two batches at once at most, and two reached")
}

// While the pipeline refuses every batch (the memory limiter, a full queue), no more
// shards than MaxBatchesInFlight fetch a batch to hold: each keeps its turn while its
// batch is refused.
func TestRefusedBatchesKeepTheirTurns(t *testing.T) {
	e := newEnv(8)
	ks := keys("k", 64)
	e.p.round(ks, 2)
	var refusing atomic.Bool
	refusing.Store(true)
	var mu sync.Mutex
	refused := map[string]bool{}
	e.rec.decide = func(_ context.Context, b Batch, _ int) error {
		if !refusing.Load() {
			return nil
		}
		mu.Lock()
		refused[b.ShardID] = true
		mu.Unlock()
		return errors.New("refused")
	}
	opts := e.options(t)
	opts.MaxBatchesInFlight = 2
	c := start(t, opts)
	// Long enough for every shard to have fetched a batch, had turns been given up.
	require.Eventually(t, func() bool { return e.rec.attemptsTotal() >= 40 }, waitFor, tick)
	mu.Lock()
	holding := len(refused)
	mu.Unlock()
	assert.Equal(t, 2, holding, "shards that fetched a batch while the pipeline refused")
	refusing.Store(false)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

// A shard whose batches are refused for good holds one turn: the other shards go on.
func TestAShardRefusedForGoodDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(4)
	ks := keys("k", 40)
	e.p.round(ks, 3)
	stuck := e.f.shardIDs()[0]
	var othersDone atomic.Bool
	e.rec.decide = func(_ context.Context, b Batch, _ int) error {
		if b.ShardID == stuck && !othersDone.Load() {
			return errors.New("refused")
		}
		return nil
	}
	opts := e.options(t)
	opts.MaxBatchesInFlight = 2
	c := start(t, opts)
	var others []string
	for _, d := range e.p.all() {
		if e.p.info[d].Shard != stuck {
			others = append(others, d)
		}
	}
	require.NotEmpty(t, others)
	e.waitDelivered(t, others)
	othersDone.Store(true)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

// attemptsTotal is how many times batches were offered, refused or not.
func (r *recorder) attemptsTotal() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.attempts {
		n += a
	}
	return n
}
