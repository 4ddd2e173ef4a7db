package kinesisconsumer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthLog records what a consumer told Health, in order.
type healthLog struct {
	mu    sync.Mutex
	calls []healthCall
}

type healthCall struct {
	scope string
	err   error
}

func (h *healthLog) report(scope string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, healthCall{scope, err})
}

// held says whether the last word on scope was that it is held up.
func (h *healthLog) held(scope string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.calls) - 1; i >= 0; i-- {
		if h.calls[i].scope == scope {
			return h.calls[i].err != nil
		}
	}
	return false
}

func (h *healthLog) released(scope string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	sawHeld := false
	for _, c := range h.calls {
		if c.scope == scope {
			if c.err != nil {
				sawHeld = true
			} else if sawHeld {
				return true
			}
		}
	}
	return false
}

func (h *healthLog) scopes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.calls {
		if !slices.Contains(out, c.scope) {
			out = append(out, c.scope)
		}
	}
	return out
}

// faultyStore is a recordingStore whose Load or Save fails for chosen shards while told
// to, and whose Save honours its context, as a networked store would.
type faultyStore struct {
	*recordingStore
	mu        sync.Mutex
	badLoad   map[string]bool
	badSave   map[string]bool
	saveCalls map[string]int
}

func newFaultyStore(tl *timeline) *faultyStore {
	return &faultyStore{recordingStore: newRecordingStore(tl), badLoad: map[string]bool{}, badSave: map[string]bool{}, saveCalls: map[string]int{}}
}

func (s *faultyStore) set(m map[string]bool, shard string, bad bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m[shard] = bad
}

func (s *faultyStore) Load(ctx context.Context, shardID string) (Checkpoint, bool, error) {
	s.mu.Lock()
	bad := s.badLoad[shardID]
	s.mu.Unlock()
	if bad {
		return Checkpoint{}, false, errors.New("checkpoint value is not valid JSON")
	}
	return s.recordingStore.Load(ctx, shardID)
}

func (s *faultyStore) Save(ctx context.Context, shardID string, cp Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	bad := s.badSave[shardID]
	s.saveCalls[shardID]++
	s.mu.Unlock()
	if bad {
		return errors.New("disk full")
	}
	return s.recordingStore.Save(ctx, shardID, cp)
}

func TestUnreadableCheckpointHoldsOnlyItsShard(t *testing.T) {
	e := newEnv(3)
	ids := e.f.shardIDs()
	bad := ids[1]
	store := newFaultyStore(e.tl)
	e.store = store.recordingStore
	store.set(store.badLoad, bad, true)
	var health healthLog
	opts := e.options(t)
	opts.Checkpoints = store
	opts.Health = health.report
	ks := keys("k", 30)
	e.p.round(ks, 2)
	c := start(t, opts)

	var fromGood []string
	for _, data := range e.p.all() {
		if e.p.info[data].Shard != bad {
			fromGood = append(fromGood, data)
		}
	}
	require.NotEmpty(t, fromGood)
	require.Less(t, len(fromGood), len(e.p.all()), "no record on the bad shard: the test proves nothing")
	e.waitDelivered(t, fromGood)
	require.Eventually(t, func() bool { return health.held(bad) }, waitFor, tick, "Health never heard of the unreadable checkpoint")
	assert.Empty(t, e.rec.fromShard(bad), "a shard with an unreadable checkpoint was read")
	assert.Equal(t, []string{bad}, health.scopes(), "only the bad shard is held up")

	// Once the checkpoint can be read again, the shard is read and released.
	store.set(store.badLoad, bad, false)
	e.waitDelivered(t, e.p.all())
	require.Eventually(t, func() bool { return health.released(bad) }, waitFor, tick)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

func TestFailingSavesStopTheShardUntilSaved(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	store := newFaultyStore(e.tl)
	e.store = store.recordingStore
	var health healthLog
	opts := e.options(t)
	opts.Checkpoints = store
	opts.Health = health.report
	opts.MaxRecords = 2
	ks := keys("k", 4)
	e.p.round(ks, 1)
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, shard)

	store.set(store.badSave, shard, true)
	mark := e.p.mark()
	e.p.round(ks, 3) // six batches of two
	require.Eventually(t, func() bool { return health.held(shard) }, waitFor, tick, "Health never heard of the failing saves")
	// Wait for several failed saves: reading must not go on meanwhile.
	require.Eventually(t, func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return store.saveCalls[shard] > 8
	}, waitFor, tick)
	assert.Len(t, e.rec.deliveries(), len(e.p.all())-12+2,
		"reading went on while checkpoints could not be saved: only the batch whose save fails may be handed on")

	store.set(store.badSave, shard, false)
	e.waitDelivered(t, e.p.since(mark))
	e.waitCheckpointsAt(t, shard)
	require.Eventually(t, func() bool { return health.released(shard) }, waitFor, tick)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

func TestCheckpointOfBatchAcceptedAtShutdownIsSaved(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	store := newFaultyStore(e.tl)
	e.store = store.recordingStore
	e.p.round(keys("k", 3), 1)
	inProcess := make(chan struct{})
	var once sync.Once
	e.rec.decide = func(ctx context.Context, _ Batch, _ int) error {
		// The pipeline takes the batch, but only answers once shutdown has begun.
		once.Do(func() { close(inProcess) })
		<-ctx.Done()
		return nil
	}
	opts := e.options(t)
	opts.Checkpoints = store
	c := start(t, opts)
	select {
	case <-inProcess:
	case <-time.After(waitFor):
		t.Fatal("the Processor was never offered a batch")
	}
	shutdown(t, c)

	require.Len(t, e.rec.deliveries(), 3)
	assert.Equal(t, e.f.lastSeq(shard), store.get(shard).SequenceNumber,
		"the checkpoint of a batch the pipeline accepted during shutdown was not saved")
}

func TestBatchesAreHandedOnInBoundedParts(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	opts := e.options(t)
	opts.MaxRecords = 10
	opts.MaxBatchRecords = 3
	// Records are "kN#NNNNN" strings of 8 bytes: at most two fit in 17 bytes.
	opts.MaxBatchBytes = 17
	ks := keys("k", 5)
	e.p.round(ks, 2)
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, shard)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())

	sizeOf := map[string]int{}
	for data, d := range e.p.info {
		sizeOf[d.Seq] = len(data)
	}
	events := e.tl.snapshot()
	accepts := 0
	for i, ev := range events {
		if ev.kind != evAttempt {
			continue
		}
		size := 0
		for _, seq := range ev.seqs {
			size += sizeOf[seq]
		}
		assert.LessOrEqual(t, len(ev.seqs), 3, "a Process call held more than MaxBatchRecords")
		assert.LessOrEqual(t, size, 17, "a Process call held more than MaxBatchBytes")
		// Each accepted part is checkpointed before the next part is offered.
		next := firstIndex(events[i+1:], func(ev event) bool { return ev.kind == evAttempt })
		if next < 0 {
			continue
		}
		saved := firstIndex(events[i+1:i+1+next], func(s event) bool {
			return s.kind == evSave && s.cp.SequenceNumber == ev.seqs[len(ev.seqs)-1]
		})
		assert.GreaterOrEqual(t, saved, 0, "part ending at %s not checkpointed before the next part", ev.seqs[len(ev.seqs)-1])
		accepts++
	}
	assert.GreaterOrEqual(t, accepts, 4, "too few parts: the test proves nothing")
}

func TestPartLen(t *testing.T) {
	rec := func(sizes ...int) []Record {
		out := make([]Record, len(sizes))
		for i, n := range sizes {
			out[i].Data = make([]byte, n)
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		records          []Record
		maxRecords, maxB int
		want             int
	}{
		{"no bounds", rec(5, 5, 5), 0, 0, 3},
		{"records", rec(1, 1, 1, 1), 3, 0, 3},
		{"bytes", rec(4, 4, 4), 0, 8, 2},
		{"bytes exactly", rec(4, 4), 0, 8, 2},
		{"one record over the bound goes alone", rec(20, 1), 0, 8, 1},
		{"both", rec(1, 1, 1, 1), 2, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Consumer{opts: Options{MaxBatchRecords: tc.maxRecords, MaxBatchBytes: tc.maxB}}
			assert.Equal(t, tc.want, c.partLen(tc.records))
		})
	}
}

func TestReadsFailingPastTheBoundAreReported(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	var health healthLog
	opts := e.options(t)
	opts.Health = health.report
	opts.StallAfter = 30 * time.Millisecond
	e.p.round(keys("k", 2), 1)
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())

	e.f.failNext(opGetRecords, 20, throttled())
	require.Eventually(t, func() bool { return health.held(shard) }, waitFor, tick, "sustained throttling was never reported")
	e.p.round(keys("k", 2), 1)
	e.waitDelivered(t, e.p.all())
	require.Eventually(t, func() bool { return health.released(shard) }, waitFor, tick)
	shutdown(t, c)
}

func TestShortReadFailuresAreNotReported(t *testing.T) {
	e := newEnv(1)
	var health healthLog
	opts := e.options(t)
	opts.Health = health.report
	opts.StallAfter = time.Hour
	e.f.failNext(opGetRecords, 3, throttled())
	e.f.failNext(opListShards, 2, serverError())
	e.p.round(keys("k", 2), 1)
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	require.Eventually(t, func() bool { return e.f.pendingFaults() == 0 }, waitFor, tick)
	shutdown(t, c)
	assert.Empty(t, health.scopes(), "a few retried failures were reported as trouble")
}

func TestListingFailingPastTheBoundIsReported(t *testing.T) {
	e := newEnv(1)
	var health healthLog
	opts := e.options(t)
	opts.Health = health.report
	opts.StallAfter = 20 * time.Millisecond
	e.f.failNext(opListShards, 30, serverError())
	e.p.round(keys("k", 2), 1)
	c := start(t, opts)
	require.Eventually(t, func() bool { return health.held(StreamScope) }, waitFor, tick, "a failing listing was never reported")
	e.waitDelivered(t, e.p.all())
	require.Eventually(t, func() bool { return health.released(StreamScope) }, waitFor, tick)
	shutdown(t, c)
}

func TestHeldShardIsReleasedWhenItsReaderStops(t *testing.T) {
	e := newEnv(2)
	ids := e.f.shardIDs()
	held := ids[0]
	assigner := &dropAssigner{dropped: map[string]bool{}}
	var health healthLog
	opts := e.options(t)
	opts.Assigner = assigner
	opts.Health = health.report
	opts.StallAfter = 20 * time.Millisecond
	e.f.failNextIf(opGetRecords, 1000, throttled(), func(c fakeCall) bool { return c.ShardID == held })
	c := start(t, opts)
	require.Eventually(t, func() bool { return health.held(held) }, waitFor, tick, "the throttled shard was never reported")

	// The shard is no longer assigned here: its reader stops, and so does its trouble.
	assigner.set(held, true)
	require.Eventually(t, func() bool { return health.released(held) }, waitFor, tick, "a shard no longer read here stays held up")
	shutdown(t, c)
}
