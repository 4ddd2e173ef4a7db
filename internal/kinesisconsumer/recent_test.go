package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecentKeysAdmitsOnceCommitted(t *testing.T) {
	r := NewRecentKeys(3)
	assert.True(t, r.Admit("a"))
	assert.False(t, r.Admit("a"), "the same key twice in one batch")
	assert.True(t, r.Admit(""), "a record without a key")
	assert.True(t, r.Admit(""), "records without a key are never duplicates")
	r.discard()
	assert.True(t, r.Admit("a"), "a batch that was not accepted remembers nothing")
	assert.Equal(t, 0, r.Len())
	r.commit()
	assert.Equal(t, 1, r.Len())
	assert.False(t, r.Admit("a"))
	r.discard()
	assert.False(t, r.Admit("a"), "a committed key stays")
}

func TestRecentKeysForgetsTheOldestBeyondTheLimit(t *testing.T) {
	r := NewRecentKeys(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		require.True(t, r.Admit(k))
		r.commit()
	}
	assert.Equal(t, 3, r.Len())
	assert.True(t, r.Admit("a"), "the oldest key was forgotten")
	r.discard()
	for _, k := range []string{"b", "c", "d"} {
		assert.False(t, r.Admit(k), k)
	}
}

func TestRecentKeysEncodeRestore(t *testing.T) {
	r := NewRecentKeys(4)
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} { // wraps the ring
		r.Admit(k)
		r.commit()
	}
	enc := r.encode()
	require.Len(t, enc, 4*8)

	back := NewRecentKeys(4)
	back.restore(enc)
	assert.Equal(t, enc, back.encode(), "oldest first, as saved")
	for _, k := range []string{"c", "d", "e", "f"} {
		assert.False(t, back.Admit(k), k)
	}
	assert.True(t, back.Admit("b"))

	// A smaller window keeps the newest.
	small := NewRecentKeys(2)
	small.restore(enc)
	assert.True(t, small.Admit("d"))
	assert.False(t, small.Admit("e"))
	assert.False(t, small.Admit("f"))

	// Several windows (a merge's parents) and a torn tail.
	p1, p2 := NewRecentKeys(2), NewRecentKeys(2)
	p1.Admit("x")
	p1.commit()
	p2.Admit("y")
	p2.commit()
	child := NewRecentKeys(10)
	child.restore(p1.encode(), append(p2.encode(), 1, 2, 3), nil)
	assert.Equal(t, 2, child.Len())
	assert.False(t, child.Admit("x"))
	assert.False(t, child.Admit("y"))
}

func TestRecentKeysNilAdmitsEverything(t *testing.T) {
	var r *RecentKeys
	assert.Nil(t, NewRecentKeys(0))
	assert.True(t, r.Admit("a"))
	assert.True(t, r.Admit("a"))
	r.commit()
	r.discard()
	r.restore([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	assert.Nil(t, r.encode())
	assert.Equal(t, 0, r.Len())
}

func TestKeyHashIsFNV1a(t *testing.T) {
	for _, k := range []string{"", "a", "3f0e1f4e-6a2b-4f7e-9d37-5c1a2b3c4d5e"} {
		h := fnv.New64a()
		h.Write([]byte(k))
		assert.Equal(t, h.Sum64(), keyHash(k), "saved windows must stay readable: the hash may not change")
	}
}

// dedupProcessor takes a record's data as its key, the way the receiver takes an event's
// EventId, and records the records it admitted.
type dedupProcessor struct {
	*recorder
	mu      sync.Mutex
	dropped int
}

func (d *dedupProcessor) Process(ctx context.Context, b Batch) error {
	fresh := b
	fresh.Records = nil
	dropped := 0
	for _, r := range b.Records {
		if b.Recent.Admit(string(r.Data)) {
			fresh.Records = append(fresh.Records, r)
		} else {
			dropped++
		}
	}
	if len(fresh.Records) == 0 {
		d.add(dropped)
		return nil
	}
	err := d.recorder.Process(ctx, fresh)
	if err == nil {
		d.add(dropped)
	}
	return err
}

func (d *dedupProcessor) add(n int) {
	d.mu.Lock()
	d.dropped += n
	d.mu.Unlock()
}

func (d *dedupProcessor) droppedCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

func newDedupEnv(t *testing.T, shards int) (*testEnv, *dedupProcessor, Options) {
	e := newEnv(shards)
	d := &dedupProcessor{recorder: e.rec}
	opts := e.options(t)
	opts.Processor = d
	opts.DedupWindow = 100
	return e, d, opts
}

// retry writes data again under its key, as a producer does that lost the answer to a
// write that succeeded: a second record, with a sequence number of its own.
func (e *testEnv) retry(data string) {
	e.f.put(e.p.info[data].Key, []byte(data))
}

func TestDedupDropsAProducersRetries(t *testing.T) {
	e, d, opts := newDedupEnv(t, 2)
	ks := keys("k", 10)
	first := e.p.round(ks, 2)
	for _, data := range first[:5] {
		e.retry(data) // in the same batch or the next one
	}
	c := start(t, opts)
	e.waitDelivered(t, first)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	require.Eventually(t, func() bool { return d.droppedCount() == 5 }, waitFor, tick, "dropped %d", d.droppedCount())
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), first)
	for _, s := range e.f.shardIDs() {
		assert.NotEmpty(t, e.store.get(s).RecentKeys, "the window is saved with the checkpoint of %s", s)
	}
}

func TestDedupWindowOutlivesARestart(t *testing.T) {
	e, d, opts := newDedupEnv(t, 2)
	ks := keys("k", 10)
	first := e.p.round(ks, 2)
	a := start(t, opts)
	e.waitDelivered(t, first)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, a)

	// While no consumer runs, the producer retries writes it had made before the
	// checkpoint, and writes new records.
	for _, data := range first[len(first)-6:] {
		e.retry(data)
	}
	mark := e.p.mark()
	e.p.round(ks, 1)
	fresh := e.p.since(mark)

	recB := newRecorder(e.tl)
	dB := &dedupProcessor{recorder: recB}
	opts.Processor = dB
	b := start(t, opts)
	require.Eventually(t, func() bool { return recB.has(fresh) }, waitFor, tick)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, b)
	assertExactly(t, e.p, recB.deliveries(), fresh)
	assert.Equal(t, 6, dB.droppedCount())
	assert.Equal(t, 0, d.droppedCount())
}

func TestDedupChildStartsWithItsParentsWindow(t *testing.T) {
	e, d, opts := newDedupEnv(t, 1)
	ks := keys("k", 12)
	first := e.p.round(ks, 2)
	c := start(t, opts)
	e.waitDelivered(t, first)
	parent := e.f.shardIDs()[0]
	_, _, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	// Retries of the parent's records land on the children.
	for _, data := range first[:8] {
		e.retry(data)
	}
	mark := e.p.mark()
	e.p.round(ks, 1)
	fresh := e.p.since(mark)
	e.waitDelivered(t, fresh)
	require.Eventually(t, func() bool { return d.droppedCount() == 8 }, waitFor, tick, "dropped %d", d.droppedCount())
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), e.p.all())
}

func TestDedupRefusedBatchIsAdmittedAgain(t *testing.T) {
	e, d, opts := newDedupEnv(t, 1)
	ks := keys("k", 6)
	all := e.p.round(ks, 2)
	refusals := 0
	e.rec.decide = func(_ context.Context, b Batch, attempt int) error {
		if attempt <= 2 {
			refusals++
			return errors.New("pipeline full")
		}
		return nil
	}
	c := start(t, opts)
	e.waitDelivered(t, all)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, c)
	assertExactly(t, e.p, e.rec.deliveries(), all)
	assert.Positive(t, refusals)
	assert.Equal(t, 0, d.droppedCount(), "the records of a refused batch are not duplicates when offered again")
}

func TestDedupOffKeepsEveryRecord(t *testing.T) {
	e, d, opts := newDedupEnv(t, 1)
	opts.DedupWindow = 0
	data := e.p.put("k")
	e.retry(data)
	c := start(t, opts)
	require.Eventually(t, func() bool { return e.rec.count() == 2 }, waitFor, tick)
	e.waitCheckpointsAt(t, e.f.shardIDs()...)
	shutdown(t, c)
	assert.Equal(t, 0, d.droppedCount())
	assert.Empty(t, e.store.get(e.f.shardIDs()[0]).RecentKeys)
	for _, got := range e.rec.deliveries() {
		assert.Equal(t, data, got.Data, fmt.Sprint(got))
	}
}
