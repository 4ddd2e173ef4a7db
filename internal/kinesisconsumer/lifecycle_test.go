package kinesisconsumer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookLog is a Processor (a recorder) that also records ShardStarted and ShardStopped.
type hookLog struct {
	*recorder
	mu    sync.Mutex
	steps []string // "start <shard>", "stop <shard> <reason>"
}

func (h *hookLog) ShardStarted(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, "start "+id)
}

func (h *hookLog) ShardStopped(id string, reason StopReason) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, fmt.Sprintf("stop %s %s", id, reason))
}

func (h *hookLog) stoppedWith(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, s := range h.steps {
		var shard, reason string
		if n, _ := fmt.Sscanf(s, "stop %s %s", &shard, &reason); n == 2 && shard == id {
			out = append(out, reason)
		}
	}
	return out
}

// leaseStore is a MemoryStore whose saves of one shard fail with ErrLeaseLost once lost
// is set, as a lease table's do once another consumer took the lease.
type leaseStore struct {
	*recordingStore
	lost atomic.Bool
}

func (s *leaseStore) Save(ctx context.Context, shardID string, cp Checkpoint) error {
	if s.lost.Load() {
		return fmt.Errorf("save checkpoint of %s: %w", shardID, ErrLeaseLost)
	}
	return s.recordingStore.Save(ctx, shardID, cp)
}

func TestLostLeaseOnSaveStopsTheReaderAtOnce(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	e.p.round(keys("k", 4), 2)
	store := &leaseStore{recordingStore: e.store}
	hooks := &hookLog{recorder: e.rec}
	var offered atomic.Int32
	e.rec.decide = func(context.Context, Batch, int) error {
		if offered.Add(1) == 2 {
			store.lost.Store(true) // taken elsewhere while this batch was in the pipeline
		}
		return nil
	}
	opts := e.options(t)
	opts.Processor = hooks
	opts.Checkpoints = store
	opts.MaxRecords = 2
	// As a lease table's Assigner does, it no longer assigns a shard whose lease is lost.
	opts.Assigner = assignFunc(func(ctx context.Context, shards []types.Shard) ([]string, error) {
		if store.lost.Load() {
			return nil, nil
		}
		return AllShards{}.Assign(ctx, shards)
	})
	c := start(t, opts)

	require.Eventually(t, func() bool { return slices.Contains(hooks.stoppedWith(shard), "lease_lost") }, waitFor, tick)
	mark := e.p.mark()
	e.p.round(keys("k", 4), 2)
	e.waitListings(t, 3)
	assert.EqualValues(t, 2, offered.Load(), "a batch was handed on after the lease was lost")
	assert.Equal(t, []string{"lease_lost"}, hooks.stoppedWith(shard))
	assert.Len(t, e.rec.deliveries(), 4, "only the two batches before the lost save")
	assert.NotEmpty(t, e.p.since(mark))
	shutdown(t, c)
}

// acceptSlowly makes the Processor take each batch 100 ms after it is offered, and not
// because its context ended (a cancelled context refuses it); the channel is closed at
// the first offer, for a test to stop or hand over while that batch is in flight.
func (e *testEnv) acceptSlowly() <-chan struct{} {
	inFlight := make(chan struct{})
	var once sync.Once
	e.rec.decide = func(ctx context.Context, _ Batch, _ int) error {
		once.Do(func() { close(inFlight) })
		select {
		case <-time.After(100 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return inFlight
}

// revokingAssigner assigns every shard but the revoked ones, and can revoke a shard
// between two listings as a lease renewer does.
type revokingAssigner struct {
	dropAssigner
	revoke   func(string)
	released atomic.Int32
	tl       *timeline
}

func (a *revokingAssigner) OnRevoke(fn func(string)) { a.revoke = fn }

func (a *revokingAssigner) Release(context.Context) error {
	a.released.Add(1)
	a.tl.add(event{kind: "release"})
	return nil
}

func TestRevokedShardStopsAtOnceAbandoningItsBatch(t *testing.T) {
	e := newEnv(2)
	ids := e.f.shardIDs()
	revoked := ids[0]
	e.p.round([]string{e.f.keyFor(ids[0], "a"), e.f.keyFor(ids[1], "b")}, 3)
	assigner := &revokingAssigner{dropAssigner: dropAssigner{dropped: map[string]bool{}}, tl: e.tl}
	hooks := &hookLog{recorder: e.rec}
	inFlight := make(chan struct{})
	var once sync.Once
	var abandoned atomic.Bool
	e.rec.decide = func(ctx context.Context, b Batch, _ int) error {
		if b.ShardID != revoked {
			return nil
		}
		once.Do(func() { close(inFlight) })
		<-ctx.Done() // the pipeline is slow; the revocation cancels it
		abandoned.Store(true)
		return ctx.Err()
	}
	opts := e.options(t)
	opts.Processor = hooks
	opts.Assigner = assigner
	opts.DiscoveryInterval = time.Hour // only the revocation can stop the reader
	c := start(t, opts)
	<-inFlight
	// The revoked shard's batch can be in flight before the other shard's reader starts.
	require.Eventually(t, func() bool { return readerRunning(c, ids[1]) }, waitFor, tick)
	assigner.set(revoked, true)
	assigner.revoke(revoked)
	require.Eventually(t, func() bool { return !readerRunning(c, revoked) }, waitFor, tick)
	assert.True(t, abandoned.Load(), "the batch in flight was not abandoned")
	assert.Equal(t, []string{"lease_lost"}, hooks.stoppedWith(revoked))
	assert.Empty(t, e.rec.fromShard(revoked))
	for _, ev := range e.tl.snapshot() {
		assert.False(t, ev.kind == evSave && ev.shard == revoked && ev.cp.SequenceNumber != "", "a checkpoint of the revoked shard moved: %+v", ev.cp)
	}
	assert.True(t, readerRunning(c, ids[1]), "the other shard stopped too")
	shutdown(t, c)
}

func TestShutdownFinishesTheBatchInFlightThenReleases(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	e.p.round(keys("k", 4), 2)
	assigner := &revokingAssigner{dropAssigner: dropAssigner{dropped: map[string]bool{}}, tl: e.tl}
	hooks := &hookLog{recorder: e.rec}
	// The pipeline takes the first batch a little after shutdown began.
	inFlight := e.acceptSlowly()
	opts := e.options(t)
	opts.Processor = hooks
	opts.Assigner = assigner
	opts.MaxRecords = 4
	opts.ShutdownGrace = 5 * time.Second
	c := start(t, opts)
	<-inFlight
	shutdown(t, c)

	got := e.rec.deliveries()
	require.Len(t, got, 4, "the batch in flight was not finished, or another was begun")
	assert.Equal(t, got[3].Seq, e.store.get(shard).SequenceNumber, "the finished batch was not checkpointed")
	assert.EqualValues(t, 1, assigner.released.Load())
	events := e.tl.snapshot()
	release := firstIndex(events, func(ev event) bool { return ev.kind == "release" })
	lastSave := -1
	for i, ev := range events {
		if ev.kind == evSave {
			lastSave = i
		}
	}
	assert.Greater(t, release, lastSave, "shards were released before the last checkpoint was saved")
	assert.Equal(t, []string{"shutdown"}, hooks.stoppedWith(shard))
}

func TestHooksNameWhyEachShardStopped(t *testing.T) {
	e := newEnv(2)
	ids := e.f.shardIDs()
	e.p.round([]string{e.f.keyFor(ids[0], "a"), e.f.keyFor(ids[1], "b")}, 2)
	assigner := &dropAssigner{dropped: map[string]bool{}}
	hooks := &hookLog{recorder: e.rec}
	var startedBeforeBatch atomic.Bool
	startedBeforeBatch.Store(true)
	e.rec.decide = func(_ context.Context, b Batch, _ int) error {
		hooks.mu.Lock()
		defer hooks.mu.Unlock()
		if !slices.Contains(hooks.steps, "start "+b.ShardID) {
			startedBeforeBatch.Store(false)
		}
		return nil
	}
	opts := e.options(t)
	opts.Processor = hooks
	opts.Assigner = assigner
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())

	// A split ends the first shard; the second is taken away.
	_, _, err := e.f.splitShard(ids[0], nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(hooks.stoppedWith(ids[0]), "shard_end") }, waitFor, tick)
	assigner.set(ids[1], true)
	require.Eventually(t, func() bool { return slices.Contains(hooks.stoppedWith(ids[1]), "unassigned") }, waitFor, tick)
	shutdown(t, c)
	assert.True(t, startedBeforeBatch.Load(), "a batch came before its shard's ShardStarted")
	assert.Equal(t, []string{"shard_end"}, hooks.stoppedWith(ids[0]))
	assert.Equal(t, []string{"unassigned"}, hooks.stoppedWith(ids[1]))
}

func TestAssignRunsMoreOftenThanListing(t *testing.T) {
	e := newEnv(1)
	var assigns atomic.Int32
	opts := e.options(t)
	opts.DiscoveryInterval = time.Hour
	opts.AssignInterval = 20 * time.Millisecond
	opts.Assigner = assignFunc(func(_ context.Context, shards []types.Shard) ([]string, error) {
		assigns.Add(1)
		return AllShards{}.Assign(context.Background(), shards)
	})
	c := start(t, opts)
	require.Eventually(t, func() bool { return assigns.Load() >= 5 }, waitFor, tick)
	shutdown(t, c)
	listings := e.f.countCalls(func(c fakeCall) bool { return c.Op == opListShards })
	assert.Equal(t, 1, listings, "the stream was listed at every assignment")
}

type assignFunc func(context.Context, []types.Shard) ([]string, error)

func (f assignFunc) Assign(ctx context.Context, shards []types.Shard) ([]string, error) {
	return f(ctx, shards)
}

func TestClosedShardUnreadAtLatestIsMarkedEnded(t *testing.T) {
	e := newEnv(1)
	parent := e.f.shardIDs()[0]
	e.p.round(keys("k", 4), 1)
	_, _, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	c := start(t, opts)
	// Read from LATEST, the closed parent has nothing; its checkpoint must say it ended,
	// or a lease table would never let another consumer read its children.
	require.Eventually(t, func() bool {
		cp, ok, _ := e.store.Load(context.Background(), parent)
		return ok && cp.ShardEnd
	}, waitFor, tick)
	shutdown(t, c)
}

func TestChildOfAParentPassedOverAtLatestStartsAtThatTime(t *testing.T) {
	e := newEnv(1)
	parent := e.f.shardIDs()[0]
	ks := keys("k", 6)
	e.p.round(ks, 1)
	_, _, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	rpSetAge(e.f, rpLongAgo)
	before := e.p.round(ks, 1) // in the children, long before the parent was passed over
	rpSetAge(e.f, 0)
	after := e.p.round(ks, 1)
	// Another consumer started at LATEST passed the closed parent over half an hour ago,
	// and said so in its checkpoint.
	passedOver := time.Now().Add(-rpLongAgo / 2)
	require.NoError(t, e.store.MemoryStore.Save(context.Background(), parent, Checkpoint{ShardEnd: true, StartedAt: passedOver}))

	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	c := start(t, opts)
	e.waitDelivered(t, after)
	e.waitListings(t, 3)
	shutdown(t, c)
	for _, d := range e.rec.deliveries() {
		assert.NotContains(t, before, d.Data, "a child's record from before its parent was passed over was read")
	}
	assert.Len(t, e.rec.deliveries(), len(after))
}
