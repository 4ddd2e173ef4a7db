package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// ---- test harness ----

var tinyBackoff = Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 2, Jitter: 0.5}

const (
	waitFor = 10 * time.Second
	tick    = 5 * time.Millisecond
)

const (
	evAttempt = "attempt" // the Processor was offered a batch
	evAccept  = "accept"  // ... and accepted it
	evRefuse  = "refuse"  // ... and refused it
	evSave    = "save"    // a checkpoint was saved
	evCall    = "call"    // the fake answered a Kinesis call
)

// event is one step of a test's timeline, which orders what the Processor, the
// CheckpointStore and the fake Kinesis saw.
type event struct {
	kind  string
	shard string
	seqs  []string // the batch, for attempt/accept/refuse
	// attempt is the batch's Attempt as the Processor saw it.
	attempt int
	cp      Checkpoint
	call    fakeCall
}

type timeline struct {
	mu     sync.Mutex
	events []event
}

func (tl *timeline) add(e event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.events = append(tl.events, e)
}

func (tl *timeline) snapshot() []event {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return slices.Clone(tl.events)
}

// observe records the fake's calls in the timeline.
func (tl *timeline) observe(f *fakeKinesis) {
	f.setOnCall(func(c fakeCall) { tl.add(event{kind: evCall, shard: c.ShardID, call: c}) })
}

func firstIndex(events []event, pred func(event) bool) int {
	for i, e := range events {
		if pred(e) {
			return i
		}
	}
	return -1
}

func isShardEndSave(shard string) func(event) bool {
	return func(e event) bool { return e.kind == evSave && e.shard == shard && e.cp.ShardEnd }
}

func isIteratorCall(shard string) func(event) bool {
	return func(e event) bool {
		return e.kind == evCall && e.call.Op == opGetShardIterator && e.call.ShardID == shard && e.call.Err == nil
	}
}

// recordingStore is a MemoryStore that records every Save in a timeline.
type recordingStore struct {
	*MemoryStore
	tl *timeline
}

func newRecordingStore(tl *timeline) *recordingStore {
	return &recordingStore{MemoryStore: NewMemoryStore(), tl: tl}
}

func (s *recordingStore) Save(ctx context.Context, shardID string, cp Checkpoint) error {
	s.tl.add(event{kind: evSave, shard: shardID, cp: cp})
	return s.MemoryStore.Save(ctx, shardID, cp)
}

func (s *recordingStore) get(shardID string) Checkpoint {
	cp, _, _ := s.Load(context.Background(), shardID)
	return cp
}

// delivery is one record a Processor accepted.
type delivery struct {
	Shard, Key, Data, Seq string
}

// recorder is a Processor that records what it was offered and what it accepted. decide,
// if set, says whether a batch is accepted; attempt counts the offers of that same batch.
type recorder struct {
	tl     *timeline
	decide func(ctx context.Context, b Batch, attempt int) error

	mu        sync.Mutex
	attempts  map[string]int
	delivered []delivery
}

func newRecorder(tl *timeline) *recorder {
	return &recorder{tl: tl, attempts: map[string]int{}}
}

func batchSeqs(b Batch) []string {
	seqs := make([]string, len(b.Records))
	for i, r := range b.Records {
		seqs[i] = r.SequenceNumber
	}
	return seqs
}

func (r *recorder) Process(ctx context.Context, b Batch) error {
	seqs := batchSeqs(b)
	r.mu.Lock()
	key := b.ShardID + "/" + seqs[0]
	r.attempts[key]++
	attempt := r.attempts[key]
	r.mu.Unlock()
	r.tl.add(event{kind: evAttempt, shard: b.ShardID, seqs: seqs, attempt: b.Attempt})

	var err error
	if r.decide != nil {
		err = r.decide(ctx, b, attempt)
	}
	if err != nil {
		r.tl.add(event{kind: evRefuse, shard: b.ShardID, seqs: seqs})
		return err
	}
	r.mu.Lock()
	for _, rec := range b.Records {
		r.delivered = append(r.delivered, delivery{Shard: b.ShardID, Key: rec.PartitionKey, Data: string(rec.Data), Seq: rec.SequenceNumber})
	}
	r.mu.Unlock()
	r.tl.add(event{kind: evAccept, shard: b.ShardID, seqs: seqs})
	return nil
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.delivered)
}

// has says whether every one of data was delivered at least once.
func (r *recorder) has(data []string) bool {
	got := map[string]bool{}
	for _, d := range r.deliveries() {
		got[d.Data] = true
	}
	for _, d := range data {
		if !got[d] {
			return false
		}
	}
	return true
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delivered)
}

func (r *recorder) fromShard(shard string) []delivery {
	var out []delivery
	for _, d := range r.deliveries() {
		if d.Shard == shard {
			out = append(out, d)
		}
	}
	return out
}

// producer puts records with unique data and remembers where they went.
type producer struct {
	f     *fakeKinesis
	n     int
	order []string
	info  map[string]delivery // data -> where it was put
}

func newProducer(f *fakeKinesis) *producer {
	return &producer{f: f, info: map[string]delivery{}}
}

func (p *producer) put(key string) string {
	p.n++
	data := fmt.Sprintf("%s#%05d", key, p.n)
	shard, seq := p.f.put(key, []byte(data))
	p.order = append(p.order, data)
	p.info[data] = delivery{Shard: shard, Key: key, Data: data, Seq: seq}
	return data
}

// round puts perKey records for each key, interleaving the keys; it returns the data put.
func (p *producer) round(keys []string, perKey int) []string {
	var out []string
	for range perKey {
		for _, k := range keys {
			out = append(out, p.put(k))
		}
	}
	return out
}

// mark and since select the records put after a point.
func (p *producer) mark() int               { return len(p.order) }
func (p *producer) since(mark int) []string { return slices.Clone(p.order[mark:]) }
func (p *producer) all() []string           { return slices.Clone(p.order) }

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// assertExactly checks that got holds each of want exactly once and nothing else, that
// each partition key's records came in the order they were put, and that each record
// came from the shard and with the sequence number Kinesis gave it.
func assertExactly(t *testing.T, p *producer, got []delivery, want []string) {
	t.Helper()
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		wanted[w] = true
	}
	count := map[string]int{}
	var problems []string
	for _, d := range got {
		count[d.Data]++
		if !wanted[d.Data] {
			problems = append(problems, "unexpected record "+d.Data+" from "+d.Shard)
		}
		if in, ok := p.info[d.Data]; ok && (in.Shard != d.Shard || in.Seq != d.Seq || in.Key != d.Key) {
			problems = append(problems, fmt.Sprintf("record %s delivered as %+v, put as %+v", d.Data, d, in))
		}
	}
	for _, w := range want {
		switch n := count[w]; {
		case n == 0:
			problems = append(problems, "lost record "+w)
		case n > 1:
			problems = append(problems, fmt.Sprintf("record %s delivered %d times", w, n))
		}
	}
	// Per partition key order.
	gotByKey, wantByKey := map[string][]string{}, map[string][]string{}
	for _, d := range got {
		if wanted[d.Data] {
			gotByKey[d.Key] = append(gotByKey[d.Key], d.Data)
		}
	}
	for _, w := range want {
		k := p.info[w].Key
		wantByKey[k] = append(wantByKey[k], w)
	}
	for k, w := range wantByKey {
		if len(problems) == 0 && !slices.Equal(gotByKey[k], w) {
			problems = append(problems, fmt.Sprintf("key %s: got order %v, want %v", k, gotByKey[k], w))
		}
	}
	if len(problems) > 30 {
		problems = append(problems[:30], fmt.Sprintf("... and %d more", len(problems)-30))
	}
	assert.Empty(t, problems, "delivered %d records, wanted %d", len(got), len(want))
}

// assertParentsFirst checks, for each partition key, that every record from the parent
// shards was delivered before any record from the child shards.
func assertParentsFirst(t *testing.T, got []delivery, parents, children []string) {
	t.Helper()
	lastParent, firstChild := map[string]int{}, map[string]int{}
	for i, d := range got {
		switch {
		case slices.Contains(parents, d.Shard):
			lastParent[d.Key] = i
		case slices.Contains(children, d.Shard):
			if _, ok := firstChild[d.Key]; !ok {
				firstChild[d.Key] = i
			}
		}
	}
	spanning := 0
	for k, c := range firstChild {
		if p, ok := lastParent[k]; ok {
			spanning++
			assert.Less(t, p, c, "key %s: a child record was delivered before the parent's last one", k)
		}
	}
	assert.Positive(t, spanning, "no key has records in both parent and child: the test proves nothing")
}

type testEnv struct {
	f     *fakeKinesis
	p     *producer
	tl    *timeline
	store *recordingStore
	rec   *recorder
}

func newEnv(shards int) *testEnv {
	tl := &timeline{}
	f := newFakeKinesis("test-stream", shards)
	tl.observe(f)
	return &testEnv{f: f, p: newProducer(f), tl: tl, store: newRecordingStore(tl), rec: newRecorder(tl)}
}

func (e *testEnv) options(t *testing.T) Options {
	return Options{
		API:               e.f,
		Stream:            e.f.streamRef(),
		Processor:         e.rec,
		Checkpoints:       e.store,
		StartPosition:     Position{Type: types.ShardIteratorTypeTrimHorizon},
		MaxRecords:        4,
		PollInterval:      10 * time.Millisecond,
		DiscoveryInterval: 50 * time.Millisecond,
		ProcessBackoff:    tinyBackoff,
		ReadBackoff:       tinyBackoff,
		ShutdownGrace:     300 * time.Millisecond,
		Logger:            zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
	}
}

// start starts a consumer, shut down at the end of the test if not before.
func start(t *testing.T, opts Options) *Consumer {
	t.Helper()
	c, err := New(opts)
	require.NoError(t, err)
	c.Start()
	t.Cleanup(func() { shutdown(t, c) })
	return c
}

func shutdown(t *testing.T, c *Consumer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Shutdown(ctx))
}

func (e *testEnv) waitDelivered(t *testing.T, data []string) {
	t.Helper()
	require.Eventually(t, func() bool { return e.rec.has(data) }, waitFor, tick,
		"not every record was delivered: %d of %d delivered", e.rec.count(), len(data))
}

// waitCheckpointsAt waits until each shard's checkpoint is at its last record.
func (e *testEnv) waitCheckpointsAt(t *testing.T, shards ...string) {
	t.Helper()
	for _, s := range shards {
		last := e.f.lastSeq(s)
		require.Eventually(t, func() bool { return e.store.get(s).SequenceNumber == last }, waitFor, tick,
			"checkpoint of %s never reached %s", s, last)
	}
}

// waitListings waits for n more complete first-page ListShards calls.
func (e *testEnv) waitListings(t *testing.T, n int) {
	t.Helper()
	isListing := func(c fakeCall) bool { return c.Op == opListShards && c.NextToken == "" && c.Err == nil }
	base := e.f.countCalls(isListing)
	require.Eventually(t, func() bool { return e.f.countCalls(isListing) >= base+n }, waitFor, tick)
}

func isSuccessfulOpen(shard string) func(fakeCall) bool {
	return func(c fakeCall) bool { return c.Op == opGetShardIterator && c.ShardID == shard && c.Err == nil }
}

func readerRunning(c *Consumer, shard string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.readers[shard]
	return ok
}

// ---- scenarios ----

func TestTrimHorizonDeliversEveryRecordOnceInOrder(t *testing.T) {
	e := newEnv(4)
	ks := keys("k", 24)
	e.p.round(ks, 5)
	c := start(t, e.options(t))

	require.Eventually(t, func() bool { return e.rec.count() > 0 }, waitFor, tick)
	e.p.round(ks, 5) // more while consuming
	e.waitDelivered(t, e.p.all())
	shards := e.f.shardIDs()
	e.waitCheckpointsAt(t, shards...)
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, e.p.all())
	for _, s := range shards {
		fromShard := e.rec.fromShard(s)
		assert.NotEmpty(t, fromShard, "no record was routed to %s", s)
		assert.True(t, slices.IsSortedFunc(fromShard, func(a, b delivery) int { return compareSeq(a.Seq, b.Seq) }),
			"records of %s out of sequence order", s)
	}
}

func TestSplitWhileConsuming(t *testing.T) {
	e := newEnv(2)
	ks := keys("k", 30)
	e.p.round(ks, 4)
	c := start(t, e.options(t))

	parent := e.f.shardIDs()[0]
	require.Eventually(t, func() bool { return len(e.rec.fromShard(parent)) >= 4 }, waitFor, tick)
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	children := []string{lower, upper}
	e.p.round(ks, 4) // into the children (and the other shard)
	require.Eventually(t, func() bool {
		return len(e.rec.fromShard(lower)) > 0 && len(e.rec.fromShard(upper)) > 0
	}, waitFor, tick, "the children were never read")
	e.p.round(ks, 2) // while the children are being read
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, e.p.all())
	assertParentsFirst(t, got, []string{parent}, children)

	events := e.tl.snapshot()
	end := firstIndex(events, isShardEndSave(parent))
	require.GreaterOrEqual(t, end, 0, "no ShardEnd checkpoint for the parent")
	assert.Equal(t, e.f.lastSeq(parent), events[end].cp.SequenceNumber, "ShardEnd checkpoint is not at the parent's last record")
	for _, child := range children {
		first := firstIndex(events, isIteratorCall(child))
		require.GreaterOrEqual(t, first, 0)
		assert.Greater(t, first, end, "child %s opened before its parent's end was saved", child)
		assert.Equal(t, types.ShardIteratorTypeTrimHorizon, events[first].call.IteratorType, "child %s of a read parent must start at its beginning", child)
	}
}

func TestMergeWaitsForBothParents(t *testing.T) {
	e := newEnv(3)
	ids := e.f.shardIDs()
	fast, slow := ids[1], ids[2]
	gate := make(chan struct{})
	e.rec.decide = func(ctx context.Context, b Batch, _ int) error {
		if b.ShardID != slow {
			return nil
		}
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var ks []string
	for i := range 6 {
		ks = append(ks, e.f.keyFor(fast, fmt.Sprintf("fast%d", i)), e.f.keyFor(slow, fmt.Sprintf("slow%d", i)), e.f.keyFor(ids[0], fmt.Sprintf("other%d", i)))
	}
	e.p.round(ks, 3)
	c := start(t, e.options(t))

	require.Eventually(t, func() bool { return len(e.rec.fromShard(fast)) > 0 }, waitFor, tick)
	child, err := e.f.mergeShards(fast, slow)
	require.NoError(t, err)
	e.p.round(ks, 3)

	// The fast parent ends; the slow one is stuck in the Processor.
	require.Eventually(t, func() bool { return e.store.get(fast).ShardEnd }, waitFor, tick, "the fast parent never ended")
	e.waitListings(t, 4)
	assert.Zero(t, e.f.countCalls(func(c fakeCall) bool { return c.ShardID == child }), "the child was read before both parents ended")
	assert.Empty(t, e.rec.fromShard(child))
	assert.False(t, e.store.get(slow).ShardEnd)

	close(gate)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, e.p.all())
	assertParentsFirst(t, got, []string{fast, slow}, []string{child})
	events := e.tl.snapshot()
	first := firstIndex(events, isIteratorCall(child))
	require.GreaterOrEqual(t, first, 0)
	for _, parent := range []string{fast, slow} {
		end := firstIndex(events, isShardEndSave(parent))
		require.GreaterOrEqual(t, end, 0, "no ShardEnd checkpoint for %s", parent)
		assert.Less(t, end, first, "the child was opened before %s ended", parent)
	}
	assert.Equal(t, types.ShardIteratorTypeTrimHorizon, events[first].call.IteratorType)
}

func TestRefusedBatchIsOfferedAgainAndNotCheckpointed(t *testing.T) {
	const refusals = 3
	e := newEnv(2)
	shard := e.f.shardIDs()[0]
	k := e.f.keyFor(shard, "refused")
	var ks []string
	for i := range 10 {
		ks = append(ks, k, fmt.Sprintf("other%d", i))
	}
	e.p.round(ks, 2)
	// The batch holding the 6th record of k's shard is refused refusals times.
	target := e.p.all()[10]
	require.Equal(t, shard, e.p.info[target].Shard)
	var mu sync.Mutex
	refused := 0
	e.rec.decide = func(_ context.Context, b Batch, attempt int) error {
		for _, r := range b.Records {
			if string(r.Data) == target && attempt <= refusals {
				mu.Lock()
				refused++
				mu.Unlock()
				return errors.New("pipeline full")
			}
		}
		return nil
	}
	c := start(t, e.options(t))
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
	mu.Lock()
	assert.Equal(t, refusals, refused)
	mu.Unlock()

	events := e.tl.snapshot()
	targetSeq := e.p.info[target].Seq
	holds := func(ev event) bool { return ev.shard == shard && slices.Contains(ev.seqs, targetSeq) }
	var offered [][]string
	accepted := -1
	for i, ev := range events {
		if ev.kind == evAttempt && holds(ev) {
			offered = append(offered, ev.seqs)
			assert.Equal(t, len(offered), ev.attempt, "Batch.Attempt does not count the offers")
		}
		if ev.kind == evAccept && holds(ev) {
			accepted = i
			break
		}
	}
	require.GreaterOrEqual(t, accepted, 0, "the refused batch was never accepted")
	require.Len(t, offered, refusals+1)
	for _, o := range offered[1:] {
		assert.Equal(t, offered[0], o, "a refused batch must be offered again unchanged")
	}
	batchFirst, batchLast := offered[0][0], offered[0][len(offered[0])-1]
	firstOffer := firstIndex(events, func(ev event) bool { return ev.kind == evAttempt && holds(ev) })
	for i, ev := range events[:accepted] {
		if ev.kind == evSave && ev.shard == shard {
			assert.False(t, ev.cp.ShardEnd)
			if ev.cp.SequenceNumber != "" {
				assert.Negative(t, compareSeq(ev.cp.SequenceNumber, batchFirst), "checkpoint %s saved before the batch was accepted", ev.cp.SequenceNumber)
			}
		}
		// The shard waits: nothing else of it is offered meanwhile.
		if i > firstOffer && ev.kind == evAttempt && ev.shard == shard {
			assert.True(t, holds(ev), "another batch of the shard was offered while one was being refused")
		}
	}
	saved := firstIndex(events[accepted:], func(ev event) bool {
		return ev.kind == evSave && ev.shard == shard && ev.cp.SequenceNumber == batchLast
	})
	assert.GreaterOrEqual(t, saved, 0, "no checkpoint at the accepted batch's last record")
}

func TestTransientErrorsAreRetried(t *testing.T) {
	e := newEnv(4)
	ks := keys("k", 20)
	e.p.round(ks, 4)
	// ListShards: a first page fails, then a second page.
	e.f.failNext(opListShards, 2, serverError())
	e.f.failNextIf(opListShards, 2, &types.LimitExceededException{Message: aws.String("Rate exceeded")},
		func(c fakeCall) bool { return c.NextToken != "" })
	e.f.failNext(opGetShardIterator, 3, throttled())
	e.f.failNext(opGetShardIterator, 2, serverError())
	e.f.failNext(opGetRecords, 5, throttled())
	e.f.failNext(opGetRecords, 5, serverError())
	c := start(t, e.options(t))

	require.Eventually(t, func() bool { return e.rec.count() >= 10 }, waitFor, tick)
	e.f.failNext(opGetRecords, 4, serverError())
	e.f.failNext(opGetRecords, 4, throttled())
	e.f.failNext(opListShards, 3, serverError())
	e.p.round(ks, 4)
	e.waitDelivered(t, e.p.all())
	require.Eventually(t, func() bool { return e.f.pendingFaults() == 0 }, waitFor, tick, "not every injected fault fired")
	e.p.round(ks, 1)
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
	failed := e.f.countCalls(func(c fakeCall) bool { return c.Err != nil && !errors.Is(c.Err, context.Canceled) })
	assert.GreaterOrEqual(t, failed, 2+2+3+2+5+5+4+4+3)
}

func TestExpiredIteratorsResumeAfterLastAccepted(t *testing.T) {
	e := newEnv(3)
	ks := keys("k", 15)
	e.p.round(ks, 4)
	opts := e.options(t)
	opts.MaxRecords = 3
	c := start(t, opts)

	require.Eventually(t, func() bool { return e.rec.count() >= 15 }, waitFor, tick)
	e.f.expireIterators()
	e.p.round(ks, 2)
	require.Eventually(t, func() bool { return e.rec.count() >= 60 }, waitFor, tick)
	e.f.failNext(opGetRecords, 3, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")})
	e.p.round(ks, 2)
	require.Eventually(t, func() bool { return e.rec.count() >= 80 }, waitFor, tick)
	e.f.expireIterators()
	e.p.round(ks, 2)
	e.waitDelivered(t, e.p.all())
	require.Zero(t, e.f.pendingFaults())
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())

	// Every new iterator after the first of each shard starts right after the last record
	// the Processor accepted from that shard.
	events := e.tl.snapshot()
	lastAccepted := map[string]string{}
	resumes := 0
	for _, ev := range events {
		switch {
		case ev.kind == evAccept:
			lastAccepted[ev.shard] = ev.seqs[len(ev.seqs)-1]
		case ev.kind == evCall && ev.call.Op == opGetShardIterator && ev.call.IteratorType == types.ShardIteratorTypeAfterSequenceNumber:
			resumes++
			assert.Equal(t, lastAccepted[ev.shard], ev.call.StartSeq, "iterator of %s does not resume after the last accepted record", ev.shard)
		}
	}
	assert.GreaterOrEqual(t, resumes, 3, "expired iterators were not replaced")
	expired := e.f.countCalls(func(c fakeCall) bool {
		_, ok := errors.AsType[*types.ExpiredIteratorException](c.Err)
		return ok
	})
	assert.GreaterOrEqual(t, expired, 3+3)
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	e := newEnv(2)
	ks := keys("k", 20)
	e.p.round(ks, 2)
	a := start(t, e.options(t))
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, a)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())

	// While no consumer runs: more records, a split, more records.
	mark := e.p.mark()
	e.p.round(ks, 1)
	parent := e.f.shardIDs()[0]
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	e.p.round(ks, 2)
	fresh := e.p.since(mark)

	recB := newRecorder(e.tl)
	opts := e.options(t)
	opts.Processor = recB
	b := start(t, opts)
	require.Eventually(t, func() bool { return recB.has(fresh) }, waitFor, tick)
	e.waitCheckpointsAt(t, lower, upper)
	shutdown(t, b)

	got := recB.deliveries()
	assertExactly(t, e.p, got, fresh)
	assertParentsFirst(t, got, []string{parent}, []string{lower, upper})
}

func TestLatestSkipsRecordsPutBeforeStart(t *testing.T) {
	e := newEnv(2)
	ks := keys("k", 12)
	e.p.round(ks, 3)
	// A split before the start: the closed parent has nothing new from LATEST.
	closed := e.f.shardIDs()[1]
	lower, upper, err := e.f.splitShard(closed, nil)
	require.NoError(t, err)
	e.p.round(ks, 2)
	open := []string{e.f.shardIDs()[0], lower, upper}

	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	c := start(t, opts)
	// The open shard starts at LATEST; the children of the parent passed over start at
	// the time it was passed over, which is where LATEST was for them.
	startType := map[string]types.ShardIteratorType{open[0]: types.ShardIteratorTypeLatest, lower: types.ShardIteratorTypeAtTimestamp, upper: types.ShardIteratorTypeAtTimestamp}
	for _, s := range open {
		require.Eventually(t, func() bool {
			return e.f.countCalls(func(c fakeCall) bool {
				return c.Op == opGetShardIterator && c.ShardID == s && c.Err == nil && c.IteratorType == startType[s]
			}) > 0
		}, waitFor, tick, "no %s iterator for %s", startType[s], s)
	}
	before := time.Now()
	mark := e.p.mark()
	e.p.round(ks, 3)
	fresh := e.p.since(mark)
	e.waitDelivered(t, fresh)
	e.waitCheckpointsAt(t, open...)
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), fresh)
	events := e.tl.snapshot()
	assert.Zero(t, e.f.countCalls(func(c fakeCall) bool {
		return c.ShardID == closed && c.Op != opGetShardIterator || c.ShardID == closed && c.IteratorType == types.ShardIteratorTypeLatest
	}), "the closed parent was read from LATEST")
	passedOver := firstIndex(events, func(ev event) bool { return ev.kind == evSave && ev.shard == closed })
	require.GreaterOrEqual(t, passedOver, 0, "the closed parent was not marked as passed over")
	assert.True(t, events[passedOver].cp.ShardEnd)
	assert.False(t, events[passedOver].cp.StartedAt.IsZero())
	s := open[0]
	firstSave := firstIndex(events, func(ev event) bool { return ev.kind == evSave && ev.shard == s })
	firstOffer := firstIndex(events, func(ev event) bool { return ev.kind == evAttempt && ev.shard == s })
	require.GreaterOrEqual(t, firstSave, 0)
	require.GreaterOrEqual(t, firstOffer, 0)
	assert.Less(t, firstSave, firstOffer, "%s: no checkpoint before its first record", s)
	cp := events[firstSave].cp
	assert.False(t, cp.StartedAt.IsZero(), "%s: first checkpoint has no StartedAt: %+v", s, cp)
	assert.Empty(t, cp.SequenceNumber)
	assert.False(t, cp.ShardEnd)
	assert.False(t, cp.StartedAt.After(before), "%s: StartedAt after the reader had started", s)
}

func TestLatestResumesAtStartedAt(t *testing.T) {
	e := newEnv(2)
	var clockMu sync.Mutex
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	now := base
	setNow := func(t time.Time) { clockMu.Lock(); now = t; clockMu.Unlock() }
	e.f.setClock(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now })

	ks := keys("k", 10)
	e.p.round(ks, 2) // before StartedAt
	setNow(base.Add(2 * time.Minute))
	mark := e.p.mark()
	e.p.round(ks, 2) // after StartedAt, while no consumer ran
	startedAt := base.Add(time.Minute)
	for _, s := range e.f.shardIDs() {
		require.NoError(t, e.store.MemoryStore.Save(context.Background(), s, Checkpoint{StartedAt: startedAt}))
	}

	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	c := start(t, opts)
	e.waitDelivered(t, e.p.since(mark))
	setNow(base.Add(3 * time.Minute))
	e.p.round(ks, 2) // live
	want := e.p.since(mark)
	e.waitDelivered(t, want)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), want)
	for _, s := range e.f.shardIDs() {
		var first *fakeCall
		for _, call := range e.f.callLog() {
			if call.Op == opGetShardIterator && call.ShardID == s && call.Err == nil {
				first = &call
				break
			}
		}
		require.NotNil(t, first)
		assert.Equal(t, types.ShardIteratorTypeAtTimestamp, first.IteratorType)
		assert.True(t, first.Timestamp.Equal(startedAt), "%s resumed at %v, want %v", s, first.Timestamp, startedAt)
	}
}

func TestLatestSplitReadsChildrenFromTheirBeginning(t *testing.T) {
	e := newEnv(1)
	parent := e.f.shardIDs()[0]
	ks := keys("k", 8)
	e.p.round(ks, 2) // before the start: skipped
	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	c := start(t, opts)
	require.Eventually(t, func() bool { return e.f.countCalls(isSuccessfulOpen(parent)) > 0 }, waitFor, tick)

	mark := e.p.mark()
	e.p.round(ks, 2)
	e.waitDelivered(t, e.p.since(mark))
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	e.p.round(ks, 3) // into the children before they are opened: not to be skipped
	want := e.p.since(mark)
	e.waitDelivered(t, want)
	e.waitCheckpointsAt(t, lower, upper)
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, want)
	assertParentsFirst(t, got, []string{parent}, []string{lower, upper})
	for _, child := range []string{lower, upper} {
		for _, call := range e.f.callLog() {
			if isSuccessfulOpen(child)(call) {
				assert.Equal(t, types.ShardIteratorTypeTrimHorizon, call.IteratorType, "child %s of a read parent", child)
			}
		}
	}
}

func TestAtTimestampStartsAtTheTimestamp(t *testing.T) {
	e := newEnv(2)
	var clockMu sync.Mutex
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	now := base
	setNow := func(t time.Time) { clockMu.Lock(); now = t; clockMu.Unlock() }
	e.f.setClock(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now })

	ks := keys("k", 10)
	e.p.round(ks, 2)
	setNow(base.Add(2 * time.Minute))
	mark := e.p.mark()
	e.p.round(ks, 2)
	from := base.Add(time.Minute)
	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: from}
	c := start(t, opts)
	e.waitDelivered(t, e.p.since(mark))

	parent := e.f.shardIDs()[0]
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	setNow(base.Add(3 * time.Minute))
	e.p.round(ks, 2)
	want := e.p.since(mark)
	e.waitDelivered(t, want)
	e.waitCheckpointsAt(t, lower, upper)
	shutdown(t, c)

	got := e.rec.deliveries()
	assertExactly(t, e.p, got, want)
	assertParentsFirst(t, got, []string{parent}, []string{lower, upper})
	for _, call := range e.f.callLog() {
		if call.Op != opGetShardIterator || call.Err != nil {
			continue
		}
		if call.ShardID == lower || call.ShardID == upper {
			// All of a child of a shard open at the timestamp comes after it: either way
			// reads all of it.
			if call.IteratorType != types.ShardIteratorTypeTrimHorizon {
				assert.Equal(t, types.ShardIteratorTypeAtTimestamp, call.IteratorType)
				assert.True(t, call.Timestamp.Equal(from))
			}
		} else {
			assert.Equal(t, types.ShardIteratorTypeAtTimestamp, call.IteratorType)
			assert.True(t, call.Timestamp.Equal(from))
		}
	}
}

// A shard closed before the start timestamp holds nothing to read, and neither do the
// records its children received before that timestamp: AT_TIMESTAMP must not turn into
// TRIM_HORIZON for a stream resharded before the timestamp (on-demand streams reshard on
// their own).
func TestAtTimestampSkipsChildRecordsBeforeTheTimestamp(t *testing.T) {
	e := newEnv(1)
	var clockMu sync.Mutex
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	now := base
	setNow := func(t time.Time) { clockMu.Lock(); now = t; clockMu.Unlock() }
	e.f.setClock(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now })

	ks := keys("k", 8)
	e.p.round(ks, 2) // into the parent, before the timestamp
	setNow(base.Add(time.Minute))
	parent := e.f.shardIDs()[0]
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	setNow(base.Add(2 * time.Minute))
	e.p.round(ks, 2) // into the children, before the timestamp
	setNow(base.Add(4 * time.Minute))
	mark := e.p.mark()
	e.p.round(ks, 2) // into the children, after the timestamp
	want := e.p.since(mark)

	opts := e.options(t)
	opts.StartPosition = Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: base.Add(3 * time.Minute)}
	c := start(t, opts)
	e.waitDelivered(t, want)
	e.waitCheckpointsAt(t, lower, upper)
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), want)
}

func TestShutdownWhileProcessorBlocked(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	e.p.round(keys("k", 4), 3)
	blocked := make(chan Batch, 1)
	e.rec.decide = func(ctx context.Context, b Batch, _ int) error {
		if b.Records[0].Data != nil && string(b.Records[0].Data) == e.p.all()[6] {
			blocked <- b
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	opts := e.options(t)
	opts.MaxRecords = 3
	c := start(t, opts)

	var b Batch
	select {
	case b = <-blocked:
	case <-time.After(waitFor):
		t.Fatal("the Processor was never offered the third batch")
	}
	accepted := e.p.info[e.p.all()[5]].Seq
	require.Eventually(t, func() bool { return e.store.get(shard).SequenceNumber == accepted }, waitFor, tick)

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, c.Shutdown(ctx))
	assert.Less(t, time.Since(began), time.Second, "Shutdown did not return promptly")

	cp := e.store.get(shard)
	assert.Equal(t, accepted, cp.SequenceNumber, "checkpoint moved")
	assert.Negative(t, compareSeq(cp.SequenceNumber, b.Records[0].SequenceNumber), "checkpoint past the abandoned batch")
	assert.Len(t, e.rec.deliveries(), 6)
	for _, ev := range e.tl.snapshot() {
		if ev.kind == evSave {
			assert.Negative(t, compareSeq(ev.cp.SequenceNumber, b.Records[0].SequenceNumber), "checkpoint %+v saved past the abandoned batch", ev.cp)
		}
	}
}

// dropAssigner assigns every shard except the dropped ones.
type dropAssigner struct {
	mu      sync.Mutex
	dropped map[string]bool
}

func (a *dropAssigner) set(shard string, dropped bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropped[shard] = dropped
}

func (a *dropAssigner) Assign(_ context.Context, shards []types.Shard) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for _, s := range shards {
		if !a.dropped[*s.ShardId] {
			ids = append(ids, *s.ShardId)
		}
	}
	return ids, nil
}

func TestAssignerDroppingShardStopsItsReader(t *testing.T) {
	e := newEnv(3)
	ids := e.f.shardIDs()
	dropped := ids[1]
	var ks []string
	for i, s := range ids {
		ks = append(ks, e.f.keyFor(s, fmt.Sprintf("s%d", i)))
	}
	e.p.round(ks, 5)
	assigner := &dropAssigner{dropped: map[string]bool{}}
	opts := e.options(t)
	opts.Assigner = assigner
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, ids...)

	assigner.set(dropped, true)
	require.Eventually(t, func() bool { return !readerRunning(c, dropped) }, waitFor, tick, "the dropped shard's reader did not stop")
	readsBefore := e.f.countCalls(func(c fakeCall) bool { return c.ShardID == dropped })
	deliveredBefore := len(e.rec.fromShard(dropped))

	mark := e.p.mark()
	e.p.round(ks, 5)
	var others, ofDropped []string
	for _, d := range e.p.since(mark) {
		if e.p.info[d].Shard == dropped {
			ofDropped = append(ofDropped, d)
		} else {
			others = append(others, d)
		}
	}
	e.waitDelivered(t, others)
	e.waitListings(t, 5) // a quiet period
	assert.Len(t, e.rec.fromShard(dropped), deliveredBefore, "records of a dropped shard were delivered")
	assert.Equal(t, readsBefore, e.f.countCalls(func(c fakeCall) bool { return c.ShardID == dropped }), "a dropped shard was still read")
	assert.False(t, readerRunning(c, dropped))

	// Given back, the shard resumes from its checkpoint.
	assigner.set(dropped, false)
	e.waitDelivered(t, ofDropped)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

// schedulingAssigner holds back one shard at its first call, and asks for its next call
// in due, once.
type schedulingAssigner struct {
	heldBack string
	due      atomic.Int64 // nanoseconds; 0 once told
	calls    atomic.Int32
}

func (a *schedulingAssigner) Assign(_ context.Context, shards []types.Shard) ([]string, error) {
	first := a.calls.Add(1) == 1
	var ids []string
	for _, s := range shards {
		if !first || *s.ShardId != a.heldBack {
			ids = append(ids, *s.ShardId)
		}
	}
	return ids, nil
}

func (a *schedulingAssigner) NextAssignIn() (time.Duration, bool) {
	d := time.Duration(a.due.Swap(0))
	return d, d != 0
}

// An assigner that says when it is due next is called then, not at the next interval:
// a lease that expires is taken at once.
func TestAssignSchedulerIsCalledWhenDue(t *testing.T) {
	e := newEnv(2)
	ids := e.f.shardIDs()
	assigner := &schedulingAssigner{heldBack: ids[1]}
	assigner.due.Store(int64(20 * time.Millisecond))
	opts := e.options(t)
	opts.Assigner = assigner
	opts.DiscoveryInterval, opts.AssignInterval = time.Hour, time.Hour
	c := start(t, opts)
	require.Eventually(t, func() bool { return readerRunning(c, ids[1]) }, waitFor, tick,
		"the assigner was not called when it said it was due")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(2), assigner.calls.Load(), "called again though nothing more was due")
}

func TestResourceNotFoundRestartsReaderFromCheckpoint(t *testing.T) {
	e := newEnv(2)
	shard := e.f.shardIDs()[0]
	ks := keys("k", 10)
	e.p.round(ks, 2)
	c := start(t, e.options(t))
	e.waitDelivered(t, e.p.all())
	e.waitCheckpointsAt(t, e.f.shardIDs()...)

	e.f.failNextIf(opGetRecords, 1, &types.ResourceNotFoundException{Message: aws.String("shard not found")},
		func(c fakeCall) bool { return c.ShardID == shard })
	e.p.round(ks, 3)
	e.waitDelivered(t, e.p.all())
	require.Zero(t, e.f.pendingFaults())
	shutdown(t, c)

	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
	events := e.tl.snapshot()
	lastAccepted := ""
	var opened []fakeCall
	for _, ev := range events {
		if ev.shard != shard {
			continue
		}
		if ev.kind == evAccept {
			lastAccepted = ev.seqs[len(ev.seqs)-1]
		}
		if isIteratorCall(shard)(ev) {
			opened = append(opened, ev.call)
			if len(opened) == 2 {
				assert.Equal(t, types.ShardIteratorTypeAfterSequenceNumber, ev.call.IteratorType)
				assert.Equal(t, lastAccepted, ev.call.StartSeq, "the reader was not restarted from its checkpoint")
			}
		}
	}
	assert.Len(t, opened, 2, "the reader was not restarted exactly once")
}

// A shard the stream keeps saying is not found must not be retried in a tight loop: its
// reader is restarted at the next listing, which comes every DiscoveryInterval.
func TestResourceNotFoundIsNotRetriedInATightLoop(t *testing.T) {
	e := newEnv(2)
	ids := e.f.shardIDs()
	gone := ids[0]
	e.f.failNextIf(opGetShardIterator, math.MaxInt32, &types.ResourceNotFoundException{Message: aws.String("shard not found")},
		func(c fakeCall) bool { return c.ShardID == gone })
	ks := []string{e.f.keyFor(ids[1], "live")}
	e.p.round(ks, 5)
	opts := e.options(t)
	opts.Logger = zap.NewNop() // a tight loop would log a warning each turn
	c := start(t, opts)
	e.waitDelivered(t, e.p.all())

	opens := func() int {
		return e.f.countCalls(func(c fakeCall) bool { return c.Op == opGetShardIterator && c.ShardID == gone })
	}
	from, began := opens(), time.Now()
	time.Sleep(500 * time.Millisecond) // measuring a rate: over 500 ms, about 10 listings are due
	n, elapsed := opens()-from, time.Since(began)
	shutdown(t, c)
	// One attempt per DiscoveryInterval (50 ms) is expected; even a retry paced by
	// ReadBackoff (at least Max*(1-Jitter) = 5 ms apart once grown) stays under twice that.
	limit := 2*int(elapsed/(5*time.Millisecond)) + 10
	assert.LessOrEqual(t, n, limit, "%d GetShardIterator calls in %v for a shard that is not found", n, elapsed)
}

func TestTrimmedParentLetsChildStartAtTrimHorizon(t *testing.T) {
	e := newEnv(1)
	parent := e.f.shardIDs()[0]
	ks := keys("k", 6)
	e.p.round(ks, 2)
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	e.f.trimShard(parent) // past retention: no longer listed
	mark := e.p.mark()
	e.p.round(ks, 3)
	c := start(t, e.options(t))
	e.waitDelivered(t, e.p.since(mark))
	e.waitCheckpointsAt(t, lower, upper)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.since(mark))
}

func TestStreamRefARNIsCarriedOnEveryCall(t *testing.T) {
	e := newEnv(3) // two pages of ListShards
	e.f.requireARN = true
	e.p.round(keys("k", 9), 2)
	opts := e.options(t)
	opts.Stream = StreamRef{ARN: e.f.arn}
	opts.Logger = zap.NewNop()
	c := start(t, opts)
	require.Eventually(t, func() bool {
		return e.f.countCalls(func(c fakeCall) bool { return c.Op == opListShards }) >= 3
	}, waitFor, tick)
	shutdown(t, c)

	bad := map[string]int{}
	for _, call := range e.f.callLog() {
		if errors.Is(call.Err, context.Canceled) {
			continue
		}
		if call.StreamARN != e.f.arn || call.StreamName != "" {
			bad[fmt.Sprintf("%s (with NextToken: %t) without the stream ARN", call.Op, call.NextToken != "")]++
		}
	}
	assert.Empty(t, bad, "calls to a stream referred to by ARN must all carry the ARN (a stream shared from another account needs it)")
	if !t.Failed() {
		e.waitDelivered(t, e.p.all())
	}
}

func TestStreamNamePagesListShardsWithoutNamingTheStreamAgain(t *testing.T) {
	e := newEnv(5) // three pages
	e.p.round(keys("k", 10), 2)
	c := start(t, e.options(t))
	e.waitDelivered(t, e.p.all())
	shutdown(t, c)

	var pages []fakeCall
	for _, call := range e.f.callLog() {
		if call.Op == opListShards && call.Err == nil {
			pages = append(pages, call)
		}
	}
	require.NotEmpty(t, pages)
	for _, p := range pages {
		if p.NextToken == "" {
			assert.Equal(t, e.f.name, p.StreamName)
		} else {
			assert.Empty(t, p.StreamName, "a NextToken page must not name the stream")
		}
		assert.Empty(t, p.StreamARN)
	}
	assert.Zero(t, e.f.countCalls(func(c fakeCall) bool {
		_, invalid := errors.AsType[*types.InvalidArgumentException](c.Err)
		return invalid
	}))
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

func TestNewValidatesOptions(t *testing.T) {
	f := newFakeKinesis("s", 1)
	proc := ProcessorFunc(func(context.Context, Batch) error { return nil })
	_, err := New(Options{Stream: StreamRef{Name: "s"}, Processor: proc})
	require.Error(t, err)
	_, err = New(Options{API: f, Stream: StreamRef{Name: "s"}})
	require.Error(t, err)
	_, err = New(Options{API: f, Processor: proc})
	require.Error(t, err)

	c, err := New(Options{API: f, Stream: StreamRef{Name: "s"}, Processor: proc})
	require.NoError(t, err)
	assert.Equal(t, types.ShardIteratorTypeLatest, c.opts.StartPosition.Type)
	assert.Equal(t, DefaultBackoff, c.opts.ReadBackoff)
	assert.Equal(t, DefaultBackoff, c.opts.ProcessBackoff)
	assert.IsType(t, AllShards{}, c.opts.Assigner)
	src, ok := c.opts.Source.(*PollingSource)
	require.True(t, ok)
	assert.Equal(t, int32(10000), src.MaxRecords)
	require.NoError(t, c.Shutdown(context.Background()), "Shutdown before Start")
}

// ---- Backoff ----

func TestBackoffGrowsToMaxAndResets(t *testing.T) {
	cases := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"doubling", Backoff{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond, Multiplier: 2},
			[]time.Duration{10, 20, 40, 80, 80, 80}},
		{"uneven max", Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 3},
			[]time.Duration{10, 30, 50, 50}},
		{"steady", Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1},
			[]time.Duration{10, 10, 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.b.Start()
			for round := range 2 {
				for i, w := range tc.want {
					assert.Equal(t, w*time.Millisecond, r.Next(), "round %d, wait %d", round, i)
				}
				r.Reset()
			}
		})
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		r := b.Start()
		nominal := b.Initial
		for range 8 {
			d := r.Next()
			lo, hi := time.Duration(float64(nominal)*(1-b.Jitter)), time.Duration(float64(nominal)*(1+b.Jitter))
			require.GreaterOrEqual(t, d, lo)
			require.LessOrEqual(t, d, hi)
			require.LessOrEqual(t, d, time.Duration(float64(b.Max)*(1+b.Jitter)))
			seen[d] = true
			nominal = min(time.Duration(float64(nominal)*b.Multiplier), b.Max)
		}
		r.Reset()
		d := r.Next()
		require.GreaterOrEqual(t, d, b.Initial/2, "reset did not start over")
		require.LessOrEqual(t, d, b.Initial*3/2, "reset did not start over")
	}
	assert.Greater(t, len(seen), 100, "jitter does not vary the waits")
}

func TestBackoffOverflowIsCappedAtMax(t *testing.T) {
	r := Backoff{Initial: time.Hour, Max: 2 * time.Hour, Multiplier: 1e12}.Start()
	assert.Equal(t, time.Hour, r.Next())
	for range 5 {
		assert.Equal(t, 2*time.Hour, r.Next())
	}
}

func TestBackoffWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Backoff{Initial: time.Hour, Max: time.Hour, Multiplier: 2}.Start()
	done := make(chan bool)
	go func() { done <- r.wait(ctx) }()
	cancel()
	select {
	case ok := <-done:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not end with its context")
	}
	assert.True(t, Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}.Start().wait(context.Background()))
	assert.True(t, sleep(context.Background(), 0))
	assert.False(t, sleep(ctx, 0))
	assert.Greater(t, DefaultBackoff.Initial, time.Duration(0))
	assert.GreaterOrEqual(t, DefaultBackoff.Max, DefaultBackoff.Initial)
}

// ---- StreamRef and Position ----

func TestStreamRef(t *testing.T) {
	const arn = "arn:aws:kinesis:us-east-1:111122223333:stream/shared"
	byName := StreamRef{Name: "events"}
	assert.Equal(t, "events", byName.Label())
	assert.Equal(t, "events", aws.ToString(byName.namePtr()))
	assert.Nil(t, byName.arnPtr())

	byARN := StreamRef{ARN: arn}
	assert.Equal(t, arn, byARN.Label())
	assert.Nil(t, byARN.namePtr())
	assert.Equal(t, arn, aws.ToString(byARN.arnPtr()))

	both := StreamRef{Name: "events", ARN: arn}
	assert.Equal(t, "events", both.Label())
	assert.Nil(t, both.namePtr(), "with an ARN, calls carry the ARN only")
	assert.Equal(t, arn, aws.ToString(both.arnPtr()))

	var none StreamRef
	assert.Empty(t, none.Label())
	assert.Nil(t, none.namePtr())
	assert.Nil(t, none.arnPtr())

	// The pointers do not alias the StreamRef.
	p := byName.namePtr()
	*p = "changed"
	assert.Equal(t, "events", byName.Name)
}

func TestPositionString(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("x", 3600))
	assert.Equal(t, "after 123", Position{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: "123"}.String())
	assert.Equal(t, "at 2024-05-06T06:08:09.00000001Z", Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: ts}.String())
	assert.Equal(t, "TRIM_HORIZON", Position{Type: types.ShardIteratorTypeTrimHorizon}.String())
}

// ---- the fake itself ----

func TestFakeKinesis(t *testing.T) {
	ctx := context.Background()
	f := newFakeKinesis("s", 3)
	name := aws.String("s")

	// Pagination, and Kinesis's refusal of a NextToken with the stream's name.
	var listed []string
	out, err := f.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	require.NoError(t, err)
	require.NotNil(t, out.NextToken)
	for _, s := range out.Shards {
		listed = append(listed, *s.ShardId)
	}
	_, err = f.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name, NextToken: out.NextToken})
	_, invalid := errors.AsType[*types.InvalidArgumentException](err)
	require.True(t, invalid, "got %v", err)
	out, err = f.ListShards(ctx, &kinesis.ListShardsInput{NextToken: out.NextToken})
	require.NoError(t, err)
	require.Nil(t, out.NextToken)
	for _, s := range out.Shards {
		listed = append(listed, *s.ShardId)
	}
	assert.Equal(t, f.shardIDs(), listed)

	// Routing, sequence numbers, split.
	k := f.keyFor(listed[0], "k")
	s1, q1 := f.put(k, []byte("a"))
	s2, q2 := f.put(k, []byte("b"))
	assert.Equal(t, listed[0], s1)
	assert.Equal(t, s1, s2)
	assert.Negative(t, compareSeq(q1, q2))
	assert.Less(t, q1, q2, "sequence numbers compare as strings too")
	lower, upper, err := f.splitShard(listed[0], nil)
	require.NoError(t, err)
	s3, q3 := f.put(k, []byte("c"))
	assert.Contains(t, []string{lower, upper}, s3)
	assert.Negative(t, compareSeq(q2, q3))

	// Reading the closed parent to its end.
	it, err := f.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(listed[0]), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	rec, err := f.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	require.NoError(t, err)
	require.Len(t, rec.Records, 1)
	assert.Equal(t, q1, *rec.Records[0].SequenceNumber)
	assert.Positive(t, *rec.MillisBehindLatest)
	require.NotNil(t, rec.NextShardIterator)
	rec, err = f.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: rec.NextShardIterator, Limit: aws.Int32(10)})
	require.NoError(t, err)
	require.Len(t, rec.Records, 1)
	assert.Nil(t, rec.NextShardIterator)
	assert.Zero(t, *rec.MillisBehindLatest)
	var kids []string
	for _, c := range rec.ChildShards {
		kids = append(kids, *c.ShardId)
		assert.Equal(t, []string{listed[0]}, c.ParentShards)
	}
	assert.Equal(t, []string{lower, upper}, kids)

	// AFTER_SEQUENCE_NUMBER, and a sequence number of another shard.
	it, err = f.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(listed[0]), ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(q1)})
	require.NoError(t, err)
	rec, err = f.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(10)})
	require.NoError(t, err)
	require.Len(t, rec.Records, 1)
	assert.Equal(t, q2, *rec.Records[0].SequenceNumber)
	_, err = f.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(listed[1]), ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(q3)})
	_, invalid = errors.AsType[*types.InvalidArgumentException](err)
	assert.True(t, invalid, "got %v", err)

	// Merge, faults and expiry.
	child, err := f.mergeShards(listed[1], listed[2])
	require.NoError(t, err)
	_, err = f.mergeShards(lower, listed[2])
	require.Error(t, err)
	f.failNext(opGetShardIterator, 1, throttled())
	_, err = f.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(child), ShardIteratorType: types.ShardIteratorTypeLatest})
	_, isThrottled := errors.AsType[*types.ProvisionedThroughputExceededException](err)
	assert.True(t, isThrottled)
	it, err = f.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(child), ShardIteratorType: types.ShardIteratorTypeLatest})
	require.NoError(t, err)
	f.expireIterators()
	_, err = f.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(10)})
	_, expired := errors.AsType[*types.ExpiredIteratorException](err)
	assert.True(t, expired)
	_, err = f.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(10001)})
	_, invalid = errors.AsType[*types.InvalidArgumentException](err)
	assert.True(t, invalid)
	assert.Zero(t, f.pendingFaults())

	sorted := f.shardIDs()
	assert.True(t, sort.StringsAreSorted(sorted))
}
