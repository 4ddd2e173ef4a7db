package kinesisconsumer

import (
	"context"
	"errors"
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

// A shard whose batches the pipeline refuses waits out its backoff without its turn, so
// the other shards go on.
func TestARefusedShardGivesItsTurnUp(t *testing.T) {
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
	opts.MaxBatchesInFlight = 1
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
