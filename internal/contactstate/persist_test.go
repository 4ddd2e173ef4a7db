package contactstate_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

// saveAll stores the dirty buckets of s into kv, as the receiver does before it saves
// its checkpoints: a nil encoding deletes the key.
func saveAll(s *contactstate.Store, kv map[int][]byte) {
	ids := s.DirtyBuckets()
	for _, i := range ids {
		if data := s.MarshalBucket(i); data == nil {
			delete(kv, i)
		} else {
			kv[i] = data
		}
	}
	s.MarkClean(ids)
}

func loadAll(t *testing.T, kv map[int][]byte) *contactstate.Store {
	t.Helper()
	s := newStore(t, nil)
	for i := range contactstate.Buckets {
		require.NoError(t, s.LoadBucket(i, kv[i]))
	}
	require.Empty(t, s.DirtyBuckets(), "a loaded store is as stored")
	return s
}

// scenario is a morning of contacts in every state the store keeps: waiting in two
// queues and two channels, answered, abandoned and settled, abandoned and pending, a
// callback's successor seen before its predecessor, an outbound call, and records.
type scenario struct {
	waiting     []contact
	answered    contact
	settled     contact
	pending     contact
	callback    contact // successor of pendingCB, seen first
	pendingCB   contact
	outbound    contact
	records     []string
	events      []*contactevent.Event
	later       []*contactevent.Event // events after the save
	laterDequeu []contactstate.Dequeue
}

func newScenario() *scenario {
	sc := &scenario{}
	for i := range 40 {
		q := usQueue
		if i%3 == 0 {
			q = usQueue2
		}
		c := inbound(uuid(100+i), q, t0.Add(time.Duration(i)*time.Second))
		if i%4 == 0 {
			c.channel = chat
		}
		sc.waiting = append(sc.waiting, c)
		sc.events = append(sc.events, c.event(contactevent.TypeInitiated), c.event(contactevent.TypeQueued))
	}
	sc.answered = inbound(uuid(1), usQueue, t0).answered(9 * time.Second)
	sc.settled = inbound(uuid(2), usQueue, t0).abandoned(11 * time.Second)
	sc.pending = inbound(uuid(3), usQueue, t0).abandoned(13 * time.Second)
	sc.pendingCB = inbound(uuid(4), usQueue2, t0).abandoned(17 * time.Second)
	sc.callback = contact{
		instance: usInstance, id: uuid(5), channel: voice, method: contactevent.InitiationCallback,
		previous: sc.pendingCB.id, queue: usQueue2, initiated: sc.pendingCB.disconnected, enqueued: sc.pendingCB.disconnected.Add(time.Minute),
	}
	sc.outbound = contact{instance: usInstance, id: uuid(6), channel: voice, method: contactevent.InitiationOutbound, initiated: t0}
	sc.outbound.connected = t0.Add(5 * time.Second)
	sc.events = append(sc.events, sc.answered.lifecycle()...)
	sc.events = append(sc.events, sc.settled.lifecycle()...)
	sc.events = append(sc.events, sc.outbound.lifecycle()...)
	sc.events = append(sc.events, sc.callback.event(contactevent.TypeInitiated))
	for i := range 30 {
		sc.records = append(sc.records, uuid(1000+i))
	}
	return sc
}

// build applies the scenario at wall clock times from wall: the settled abandon is
// settled, the pending one is 10 s into its grace.
func (sc *scenario) build(t *testing.T) *contactstate.Store {
	s := newStore(t, nil)
	applyAll(s, wall, sc.events...)
	require.Len(t, s.Tick(wall.Add(30*time.Second), nil), 1, "the settled abandon")
	applyAll(s, wall.Add(40*time.Second), sc.pending.lifecycle()...)
	applyAll(s, wall.Add(40*time.Second), sc.pendingCB.event(contactevent.TypeQueued))
	for _, id := range sc.records {
		require.True(t, s.ApplyRecord(record(usInstance, id, t0), wall.Add(40*time.Second)))
	}
	require.Empty(t, s.Tick(wall.Add(50*time.Second), nil))
	return s
}

// The state stored and loaded answers every query as the original: the gauges, the
// dequeues of later events, the records, the pending abandon's grace; and the events
// applied again after the load, as after a crash, change nothing.
func TestPersistRoundTrip(t *testing.T) {
	sc := newScenario()
	orig := sc.build(t)
	kv := map[int][]byte{}
	saveAll(orig, kv)
	assert.Empty(t, orig.DirtyBuckets())
	assert.Greater(t, len(kv), 20, "the contacts spread over the buckets")
	loaded := loadAll(t, kv)

	now := wall.Add(50 * time.Second)
	assert.Equal(t, queues(orig, now), queues(loaded, now))
	assert.Equal(t, orig.Stats(), loaded.Stats())
	assert.Len(t, queues(loaded, now), 4)
	assert.Equal(t, 1, loaded.Stats().Pending)

	// The crash replay: every event again, the records again.
	for _, s := range []*contactstate.Store{orig, loaded} {
		assert.Empty(t, applyAll(s, now, sc.events...))
		assert.Empty(t, applyAll(s, now, sc.pending.lifecycle()...))
		assert.Empty(t, applyAll(s, now, sc.pendingCB.event(contactevent.TypeQueued)))
		for _, id := range sc.records {
			assert.False(t, s.ApplyRecord(record(usInstance, id, t0), now))
		}
	}
	assert.Equal(t, queues(orig, now), queues(loaded, now))

	// Later events: answers, the callback's predecessor leaving, a new record.
	var later []*contactevent.Event
	for i, c := range sc.waiting[:10] {
		later = append(later, c.answered(time.Duration(i+1)*time.Second).event(contactevent.TypeConnectedToAgent))
	}
	later = append(later, sc.pendingCB.event(contactevent.TypeDisconnected), sc.callback.event(contactevent.TypeQueued))
	got, want := applyAll(loaded, now, later...), applyAll(orig, now, later...)
	assert.Equal(t, want, got)
	assert.Len(t, got, 11)
	assert.Equal(t, contactstate.OutcomeCallback, got[10].Outcome)
	assert.Equal(t, orig.ApplyRecord(record(usInstance, uuid(2000), t0), now), loaded.ApplyRecord(record(usInstance, uuid(2000), t0), now))
	assert.Equal(t, queues(orig, now), queues(loaded, now))

	// The pending abandon settles when its grace runs out, 20 s after now, in both.
	assert.Empty(t, orig.Tick(now.Add(20*time.Second-time.Nanosecond), nil))
	assert.Empty(t, loaded.Tick(now.Add(20*time.Second-time.Nanosecond), nil))
	want = orig.Tick(now.Add(20*time.Second), nil)
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 13*time.Second)}, want)
	assert.Equal(t, want, loaded.Tick(now.Add(20*time.Second), nil))

	// And the time bounds: everything ended goes after the retention, the rest after the TTL.
	// The records seen at +40s go at 24h+40s, the one seen at +50s (at now) 10 s later.
	records := map[time.Duration]int{time.Hour + time.Minute: 31, 24*time.Hour + 45*time.Second: 1, 25 * time.Hour: 0}
	for _, at := range []time.Duration{time.Hour + time.Minute, 24*time.Hour + 45*time.Second, 25 * time.Hour} {
		orig.Tick(wall.Add(at), nil)
		loaded.Tick(wall.Add(at), nil)
		assert.Equal(t, orig.Stats(), loaded.Stats(), "after %v", at)
		assert.Equal(t, records[at], loaded.Stats().Records, "after %v", at)
		assert.Equal(t, queues(orig, wall.Add(at)), queues(loaded, wall.Add(at)), "after %v", at)
	}
	assert.Equal(t, contactstate.Stats{}, loaded.Stats(), "all gone after the TTL")
}

// A store loaded after a downtime restarts a pending abandon's remaining grace at its
// first call: the successor may be in the backlog read after the restart.
func TestPersistPendingGraceResumesAfterDowntime(t *testing.T) {
	s := newStore(t, nil)
	in := inbound(uuid(1), usQueue, t0).abandoned(7 * time.Second)
	applyAll(s, wall, in.lifecycle()...)
	s.Tick(wall.Add(10*time.Second), nil) // 20 s of grace left
	kv := map[int][]byte{}
	saveAll(s, kv)

	back := wall.Add(3 * time.Hour)
	loaded := loadAll(t, kv)
	assert.Empty(t, loaded.Tick(back, nil), "the grace resumes")
	cb := contact{instance: usInstance, id: uuid(2), channel: voice, method: contactevent.InitiationCallback, previous: in.id, initiated: in.disconnected}
	out := applyAll(loaded, back.Add(19*time.Second), cb.event(contactevent.TypeInitiated))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeCallback, 7*time.Second)}, out)

	again := loadAll(t, kv)
	assert.Empty(t, again.Tick(back, nil))
	assert.Empty(t, again.Tick(back.Add(20*time.Second-time.Nanosecond), nil))
	assert.Equal(t, []contactstate.Dequeue{dq(usQueue, contactstate.OutcomeAbandoned, 7*time.Second)}, again.Tick(back.Add(20*time.Second), nil))
}

// The encoding is deterministic, and a loaded bucket marshals to the same bytes.
func TestPersistStable(t *testing.T) {
	sc := newScenario()
	s := sc.build(t)
	kv := map[int][]byte{}
	saveAll(s, kv)
	loaded := loadAll(t, kv)
	for i, data := range kv {
		assert.True(t, bytes.Equal(data, loaded.MarshalBucket(i)), "bucket %d", i)
	}
}

// A bucket changed between MarshalBucket and MarkClean stays dirty; an emptied bucket
// marshals to nil, deleting its key.
func TestPersistDirtyTracking(t *testing.T) {
	s := newStore(t, func(cfg *contactstate.Config) { cfg.Retention = time.Minute })
	c := inbound(uuid(1), usQueue, t0).answered(time.Second)
	applyAll(s, wall, c.event(contactevent.TypeQueued))
	ids := s.DirtyBuckets()
	require.Len(t, ids, 1)
	data := s.MarshalBucket(ids[0])
	require.NotNil(t, data)
	applyAll(s, wall, c.event(contactevent.TypeConnectedToAgent)) // while the write is under way
	s.MarkClean(ids)
	assert.Equal(t, ids, s.DirtyBuckets(), "changed after it was marshalled")
	kv := map[int][]byte{}
	saveAll(s, kv)
	assert.Empty(t, s.DirtyBuckets())
	require.Len(t, kv, 1)

	applyAll(s, wall, c.event(contactevent.TypeDisconnected))
	s.Tick(wall.Add(2*time.Minute), nil)
	assert.Equal(t, ids, s.DirtyBuckets())
	saveAll(s, kv)
	assert.Empty(t, kv, "the emptied bucket's key is deleted")
}

// An unreadable bucket is an error naming the bucket and what is wrong, and leaves the
// store as it was.
func TestPersistLoadErrors(t *testing.T) {
	s := newStore(t, nil)
	c := inbound(uuid(1), usQueue, t0)
	applyAll(s, wall, c.event(contactevent.TypeQueued))
	s.ApplyRecord(record(usInstance, c.id, t0), wall)
	kv := map[int][]byte{}
	saveAll(s, kv)
	var i int
	var good []byte
	for i, good = range kv {
		break
	}
	require.Len(t, kv, 1, "one contact, one record: in one bucket")

	newer := append([]byte{2}, good[1:]...)
	cases := map[string]struct {
		bucket int
		data   []byte
		want   string
	}{
		"newer version": {i, newer, "format version 2 is newer than 1"},
		"version 0":     {i, []byte{0}, "format version 0"},
		"truncated":     {i, good[:len(good)-3], "truncated"},
		"trailing":      {i, append(append([]byte{}, good...), 0), "1 bytes after the records"},
		"other bucket":  {(i + 1) % contactstate.Buckets, good, "belongs to bucket"},
		"huge count":    {i, []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "strings cannot fit"},
		"no bucket":     {contactstate.Buckets, good, "no such bucket"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fresh := newStore(t, nil)
			require.NoError(t, fresh.LoadBucket(i, good))
			before := queues(fresh, wall)
			err := fresh.LoadBucket(tc.bucket, tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "bucket ")
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, before, queues(fresh, wall), "unchanged")
			assert.Equal(t, 1, fresh.Stats().Records)
		})
	}
}

// FuzzLoadBucket: no input makes LoadBucket panic, and what it accepts marshals back to
// an encoding that loads to the same.
func FuzzLoadBucket(f *testing.F) {
	sc := newScenario()
	s := newStore(f, nil)
	applyAll(s, wall, sc.events...)
	for _, id := range sc.records[:3] {
		s.ApplyRecord(record(usInstance, id, t0), wall)
	}
	applyAll(s, wall, sc.pending.lifecycle()...)
	for i := range contactstate.Buckets {
		if data := s.MarshalBucket(i); data != nil {
			f.Add(uint8(i), data)
		}
	}
	f.Add(uint8(0), []byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, bucket uint8, data []byte) {
		a := newStore(t, nil)
		if a.LoadBucket(int(bucket), data) != nil {
			return
		}
		re := a.MarshalBucket(int(bucket))
		b := newStore(t, nil)
		require.NoError(t, b.LoadBucket(int(bucket), re))
		assert.Equal(t, re, b.MarshalBucket(int(bucket)))
		assert.Equal(t, a.Stats(), b.Stats())
	})
}
