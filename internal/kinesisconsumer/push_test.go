package kinesisconsumer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pushSource opens streams that wait for records pushed to them: shard quiet never gets
// any; every other shard gets a one-record batch each time Next is called, until limit.
type pushSource struct {
	quiet string
	limit int
}

type pushStream struct {
	shard string
	quiet bool
	n     int
	limit int
}

func (p *pushSource) Open(_ context.Context, shard string, _ Position) (ShardStream, error) {
	return &pushStream{shard: shard, quiet: shard == p.quiet, limit: p.limit}, nil
}

func (s *pushStream) Pushes() bool { return true }
func (s *pushStream) Close()       {}

func (s *pushStream) Next(ctx context.Context) (Batch, error) {
	if s.quiet || s.n == s.limit {
		<-ctx.Done()
		return Batch{}, ctx.Err()
	}
	s.n++
	time.Sleep(5 * time.Millisecond) // long enough for the quiet shard's reader to be waiting
	return Batch{ShardID: s.shard, Records: []Record{{SequenceNumber: fmt.Sprint(s.n), Data: []byte("x")}}}, nil
}

// A reader of a push stream waits for its push without holding one of the consumer's
// turns: with a single turn, a quiet shard must not starve a busy one.
func TestQuietPushedShardHoldsNoTurn(t *testing.T) {
	e := newEnv(2)
	var got atomic.Int64
	opts := e.options(t)
	// Each shard's reader starts when listed; the quiet one gets its turn first or second.
	opts.Source = &pushSource{quiet: e.f.shardIDs()[0], limit: 20}
	opts.MaxBatchesInFlight = 1
	opts.PollInterval = time.Hour // a pushed shard is never paused between batches
	opts.Processor = ProcessorFunc(func(context.Context, Batch) error { got.Add(1); return nil })
	start(t, opts)
	require.Eventually(t, func() bool { return got.Load() == 20 }, waitFor, tick, "the busy shard got %d of 20 batches", got.Load())
}
