package kinesisconsumer

import (
	"cmp"
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---- replay harness ----

// rpWindow is the Replay of the tests that replay: records put "now" are well inside it,
// records put rpLongAgo before now are well outside it.
const (
	rpWindow  = time.Minute
	rpLongAgo = time.Hour
)

// rpSetAge makes the records the fake receives from now on carry an
// ApproximateArrivalTimestamp age before the moment they are put. setClock also resets
// the fake's monotonic clamp, so the clock may go back.
func rpSetAge(f *fakeKinesis, age time.Duration) {
	f.setClock(func() time.Time { return time.Now().Add(-age) })
}

// rpArrival returns the ApproximateArrivalTimestamp the fake gave the record seq.
func rpArrival(t *testing.T, f *fakeKinesis, seq string) time.Time {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.shards {
		for _, r := range s.records {
			if aws.ToString(r.SequenceNumber) == seq {
				return aws.ToTime(r.ApproximateArrivalTimestamp)
			}
		}
	}
	require.Failf(t, "no such record", "sequence number %s", seq)
	return time.Time{}
}

// rpEvent is one step seen by a replay test's Processor or CheckpointStore.
type rpEvent struct {
	kind    string // evAttempt, evAccept, evRefuse or evSave
	shard   string
	replay  bool
	attempt int
	seqs    []string
	recs    []delivery
	cp      Checkpoint
}

// rpLog orders what one consumer's Processor and CheckpointStore saw.
type rpLog struct {
	mu     sync.Mutex
	events []rpEvent
}

func (l *rpLog) add(ev rpEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *rpLog) snapshot() []rpEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// accepted returns the records of the accepted batches whose Replay is replay, in order.
func (l *rpLog) accepted(replay bool) []delivery {
	var out []delivery
	for _, ev := range l.snapshot() {
		if ev.kind == evAccept && ev.replay == replay {
			out = append(out, ev.recs...)
		}
	}
	return out
}

// has says whether each of data was accepted, in a batch whose Replay is replay, or in any
// batch if replay is nil.
func (l *rpLog) has(replay *bool, data []string) bool {
	got := map[string]bool{}
	for _, ev := range l.snapshot() {
		if ev.kind == evAccept && (replay == nil || ev.replay == *replay) {
			for _, d := range ev.recs {
				got[d.Data] = true
			}
		}
	}
	for _, d := range data {
		if !got[d] {
			return false
		}
	}
	return true
}

// offeredReplay says whether the Processor was offered a Replay batch of shard.
func (l *rpLog) offeredReplay(shard string) bool {
	for _, ev := range l.snapshot() {
		if ev.kind == evAttempt && ev.replay && ev.shard == shard {
			return true
		}
	}
	return false
}

func (l *rpLog) replayAttempts() int {
	n := 0
	for _, ev := range l.snapshot() {
		if ev.kind == evAttempt && ev.replay {
			n++
		}
	}
	return n
}

var (
	rpNormal = new(bool)
	rpAny    *bool
)

// rpProcessor logs the batches it is offered. hold, if set, is called first and may
// block (an error refuses the batch); refuse, if set, may refuse the batch.
type rpProcessor struct {
	log    *rpLog
	hold   func(ctx context.Context, b Batch) error
	refuse func(b Batch) error
}

func (p *rpProcessor) Process(ctx context.Context, b Batch) error {
	ev := rpEvent{shard: b.ShardID, replay: b.Replay, attempt: b.Attempt, seqs: batchSeqs(b)}
	for _, r := range b.Records {
		ev.recs = append(ev.recs, delivery{Shard: b.ShardID, Key: r.PartitionKey, Data: string(r.Data), Seq: r.SequenceNumber})
	}
	attempt := ev
	attempt.kind = evAttempt
	p.log.add(attempt)
	var err error
	if p.hold != nil {
		err = p.hold(ctx, b)
	}
	if err == nil && p.refuse != nil {
		err = p.refuse(b)
	}
	if err != nil {
		ev.kind = evRefuse
		p.log.add(ev)
		return err
	}
	ev.kind = evAccept
	p.log.add(ev)
	return nil
}

// rpStore is a CheckpointStore over a MemoryStore (which consumers may share) that logs
// every Save.
type rpStore struct {
	*MemoryStore
	log *rpLog
}

func (s *rpStore) Save(ctx context.Context, shardID string, cp Checkpoint) error {
	s.log.add(rpEvent{kind: evSave, shard: shardID, cp: cp})
	return s.MemoryStore.Save(ctx, shardID, cp)
}

func rpLoad(m *MemoryStore, shard string) Checkpoint {
	cp, _, _ := m.Load(context.Background(), shard)
	return cp
}

// rpWaitCheckpointsAt waits until each shard's checkpoint in m is at its last record.
func rpWaitCheckpointsAt(t *testing.T, f *fakeKinesis, m *MemoryStore, shards []string) {
	t.Helper()
	for _, s := range shards {
		last := f.lastSeq(s)
		require.Eventually(t, func() bool { return rpLoad(m, s).SequenceNumber == last }, waitFor, tick,
			"checkpoint of %s never reached %s", s, last)
	}
}

// rpRequireEveryShard checks that each shard got some of data, so a test proves something
// about each.
func rpRequireEveryShard(t *testing.T, p *producer, data []string, shards []string) {
	t.Helper()
	for _, s := range shards {
		require.True(t, slices.ContainsFunc(data, func(d string) bool { return p.info[d].Shard == s }),
			"shard %s got none of %v", s, data)
	}
}

// rpTimestampOpens counts the AT_TIMESTAMP iterators asked for after the first skip calls
// of the fake's log.
func rpTimestampOpens(f *fakeKinesis, skip int) int {
	n := 0
	for _, c := range f.callLog()[skip:] {
		if c.Op == opGetShardIterator && c.IteratorType == types.ShardIteratorTypeAtTimestamp {
			n++
		}
	}
	return n
}

// rpAssertReplayThenNormal checks, for each shard, that every Replay batch was offered
// before the first normal one, that no checkpoint names a replayed record nor was saved
// before the replay was over, and that the final checkpoint is the shard's last record.
func rpAssertReplayThenNormal(t *testing.T, f *fakeKinesis, m *MemoryStore, l *rpLog, shards []string) {
	t.Helper()
	events := l.snapshot()
	replayed := map[string]bool{}
	for _, d := range l.accepted(true) {
		replayed[d.Seq] = true
	}
	for _, s := range shards {
		lastReplay, firstNormal := -1, -1
		for i, ev := range events {
			if ev.shard != s || ev.kind == evSave {
				continue
			}
			if ev.replay {
				lastReplay = i
			} else if firstNormal < 0 {
				firstNormal = i
			}
		}
		require.GreaterOrEqual(t, firstNormal, 0, "%s: no normal batch", s)
		assert.Less(t, lastReplay, firstNormal, "%s: a Replay batch came after a normal one", s)
		for i, ev := range events {
			if ev.kind != evSave || ev.shard != s || ev.cp.SequenceNumber == "" {
				continue
			}
			assert.False(t, replayed[ev.cp.SequenceNumber], "%s: checkpoint at replayed record %s", s, ev.cp.SequenceNumber)
			assert.Greater(t, i, lastReplay, "%s: checkpoint %s saved during the replay", s, ev.cp.SequenceNumber)
		}
		last := f.lastSeq(s)
		cp := rpLoad(m, s)
		assert.Equal(t, last, cp.SequenceNumber, "%s: final checkpoint", s)
		assert.False(t, replayed[cp.SequenceNumber], "%s: final checkpoint at a replayed record", s)
		assert.True(t, cp.ArrivalTime.Equal(rpArrival(t, f, last)), "%s: checkpoint ArrivalTime %v is not its record's", s, cp.ArrivalTime)
	}
}

// rpRestart is consumer A reading a stream and stopping, and consumer B starting over
// from A's checkpoints.
type rpRestart struct {
	e      *testEnv
	shards []string
	ks     []string
	store  *MemoryStore // shared by A and B
	// outside are records A read that arrived rpLongAgo before: outside any window.
	outside []string
	// inside are records A read that arrived just before it: inside the window. Empty for
	// an old checkpoint.
	inside []string
	cps    map[string]Checkpoint // A's last checkpoints
	// after are records put while no consumer ran: after A's checkpoints.
	after []string
	// early are records put right after B started, live once B had read the rest.
	early, live []string
	logB        *rpLog
	callsB      int // the fake's calls before B started
}

// rpPrepareRestart runs consumer A (no replay) over records put rpLongAgo and, if recent,
// just now, stops it, and puts more records while no consumer runs.
func rpPrepareRestart(t *testing.T, recent bool) *rpRestart {
	t.Helper()
	e := newEnv(2)
	r := &rpRestart{e: e, shards: e.f.shardIDs(), ks: keys("k", 10), store: NewMemoryStore(), cps: map[string]Checkpoint{}}
	rpSetAge(e.f, rpLongAgo)
	r.outside = e.p.round(r.ks, 2)
	rpSetAge(e.f, 0)
	if recent {
		r.inside = e.p.round(r.ks, 2)
		rpRequireEveryShard(t, e.p, r.inside, r.shards)
	}
	logA := &rpLog{}
	opts := e.options(t)
	opts.Processor = &rpProcessor{log: logA}
	opts.Checkpoints = &rpStore{MemoryStore: r.store, log: logA}
	a := start(t, opts)
	require.Eventually(t, func() bool { return logA.has(rpNormal, e.p.all()) }, waitFor, tick)
	rpWaitCheckpointsAt(t, e.f, r.store, r.shards)
	shutdown(t, a)
	assertExactly(t, e.p, logA.accepted(false), e.p.all())
	require.Zero(t, logA.replayAttempts(), "consumer A has no Replay")
	for _, s := range r.shards {
		r.cps[s] = rpLoad(r.store, s)
		require.True(t, r.cps[s].ArrivalTime.Equal(rpArrival(t, e.f, r.cps[s].SequenceNumber)), "A's checkpoint of %s lacks its ArrivalTime", s)
	}

	mark := e.p.mark()
	e.p.round(r.ks, 1)
	r.after = e.p.since(mark)
	rpRequireEveryShard(t, e.p, r.after, r.shards)
	return r
}

// runB runs consumer B, with replay, proc (its log is set here) and the shared store,
// until it has read every record put, then stops it.
func (r *rpRestart) runB(t *testing.T, replay time.Duration, proc *rpProcessor) {
	t.Helper()
	e := r.e
	r.logB = &rpLog{}
	proc.log = r.logB
	opts := e.options(t)
	opts.Processor = proc
	opts.Checkpoints = &rpStore{MemoryStore: r.store, log: r.logB}
	opts.Replay = replay
	r.callsB = len(e.f.callLog())
	b := start(t, opts)
	r.early = e.p.round(r.ks, 1) // while B may still be replaying
	require.Eventually(t, func() bool { return r.logB.has(rpNormal, r.after) }, waitFor, tick,
		"B did not read the records put while no consumer ran")
	r.live = e.p.round(r.ks, 2)
	require.Eventually(t, func() bool { return r.logB.has(rpAny, r.normalWanted()) }, waitFor, tick,
		"B did not read the records put after its checkpoints")
	rpWaitCheckpointsAt(t, e.f, r.store, r.shards)
	shutdown(t, b)
}

// normalWanted is what B must read normally, exactly once: everything after A's checkpoints.
func (r *rpRestart) normalWanted() []string {
	return slices.Concat(r.after, r.early, r.live)
}

// ---- scenarios ----

func TestReplayRestartFromRecentCheckpoint(t *testing.T) {
	r := rpPrepareRestart(t, true)
	r.runB(t, rpWindow, &rpProcessor{})
	e := r.e

	// The window's records up to each checkpoint, once each, in order per key; none from
	// before the window, none after the checkpoints.
	assertExactly(t, e.p, r.logB.accepted(true), r.inside)
	// What came after the checkpoints: normally, exactly once.
	assertExactly(t, e.p, r.logB.accepted(false), r.normalWanted())

	for _, s := range r.shards {
		var last string
		for _, d := range r.logB.accepted(true) {
			if d.Shard == s {
				last = d.Seq
			}
		}
		assert.Equal(t, r.cps[s].SequenceNumber, last, "%s: the replay did not end at the checkpoint, inclusive", s)
	}
	for _, ev := range r.logB.snapshot() {
		if ev.kind == evAttempt && ev.replay {
			assert.Equal(t, 1, ev.attempt, "an accepted-at-once Replay batch offered again")
		}
	}
	rpAssertReplayThenNormal(t, e.f, r.store, r.logB, r.shards)
}

func TestReplaySkippedForOldCheckpoint(t *testing.T) {
	r := rpPrepareRestart(t, false)
	for _, s := range r.shards {
		require.True(t, r.cps[s].ArrivalTime.Before(time.Now().Add(-rpWindow)), "%s: A's checkpoint is not old", s)
	}
	r.runB(t, rpWindow, &rpProcessor{})
	e := r.e

	assert.Zero(t, r.logB.replayAttempts(), "a Replay batch after an old checkpoint")
	assert.Zero(t, rpTimestampOpens(e.f, r.callsB), "the shard was opened for a replay after an old checkpoint")
	assertExactly(t, e.p, r.logB.accepted(false), r.normalWanted())
	rpAssertReplayThenNormal(t, e.f, r.store, r.logB, r.shards)
}

func TestReplayFreshStartAtLatest(t *testing.T) {
	e := newEnv(2)
	shards := e.f.shardIDs()
	ks := keys("k", 10)
	rpSetAge(e.f, rpLongAgo)
	e.p.round(ks, 2) // outside the window: never read
	rpSetAge(e.f, 0)
	inside := e.p.round(ks, 2)
	rpRequireEveryShard(t, e.p, inside, shards)

	store := NewMemoryStore()
	log := &rpLog{}
	release := make(chan struct{})
	proc := &rpProcessor{log: log, hold: func(ctx context.Context, b Batch) error {
		if !b.Replay {
			return nil
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	opts := e.options(t)
	opts.Processor = proc
	opts.Checkpoints = &rpStore{MemoryStore: store, log: log}
	opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
	opts.Replay = rpWindow
	c := start(t, opts)
	mark := e.p.mark()
	e.p.round(ks, 1) // right after Start: before or after each reader began
	early := e.p.since(mark)

	// Every shard's replay is under way, its first batch held by the Processor.
	require.Eventually(t, func() bool {
		for _, s := range shards {
			if !log.offeredReplay(s) {
				return false
			}
		}
		return true
	}, waitFor, tick, "no Replay batch for every shard")
	mark = e.p.mark()
	e.p.round(ks, 2) // while the replays are held
	live := e.p.since(mark)
	close(release)
	mark = e.p.mark()
	e.p.round(ks, 1)
	live = append(live, e.p.since(mark)...)
	require.Eventually(t, func() bool { return log.has(rpAny, slices.Concat(early, live)) }, waitFor, tick)
	rpWaitCheckpointsAt(t, e.f, store, shards)
	shutdown(t, c)

	// Each reader started at its StartedAt, saved before anything was offered.
	events := log.snapshot()
	startedAt := map[string]time.Time{}
	for _, s := range shards {
		first := -1
		for i, ev := range events {
			if ev.shard == s {
				first = i
				break
			}
		}
		require.GreaterOrEqual(t, first, 0)
		ev := events[first]
		require.Equal(t, evSave, ev.kind, "%s: something was offered before the StartedAt checkpoint", s)
		require.False(t, ev.cp.StartedAt.IsZero(), "%s: first checkpoint has no StartedAt: %+v", s, ev.cp)
		require.Empty(t, ev.cp.SequenceNumber)
		startedAt[s] = ev.cp.StartedAt
	}
	// The records put right after Start are replayed if they arrived before their
	// reader's StartedAt, read normally if not.
	wantReplay, wantNormal := slices.Clone(inside), []string{}
	for _, d := range early {
		in := e.p.info[d]
		if rpArrival(t, e.f, in.Seq).Before(startedAt[in.Shard]) {
			wantReplay = append(wantReplay, d)
		} else {
			wantNormal = append(wantNormal, d)
		}
	}
	wantNormal = append(wantNormal, live...)
	assertExactly(t, e.p, log.accepted(true), wantReplay)
	assertExactly(t, e.p, log.accepted(false), wantNormal)
	rpAssertReplayThenNormal(t, e.f, store, log, shards)
}

func TestReplayZeroReplaysNothing(t *testing.T) {
	t.Run("recent checkpoint", func(t *testing.T) {
		r := rpPrepareRestart(t, true)
		r.runB(t, 0, &rpProcessor{})
		assert.Zero(t, r.logB.replayAttempts())
		assert.Zero(t, rpTimestampOpens(r.e.f, r.callsB), "the shard was opened for a replay")
		assertExactly(t, r.e.p, r.logB.accepted(false), r.normalWanted())
		rpAssertReplayThenNormal(t, r.e.f, r.store, r.logB, r.shards)
	})
	t.Run("old checkpoint", func(t *testing.T) {
		r := rpPrepareRestart(t, false)
		r.runB(t, 0, &rpProcessor{})
		assert.Zero(t, r.logB.replayAttempts())
		assert.Zero(t, rpTimestampOpens(r.e.f, r.callsB), "the shard was opened for a replay")
		assertExactly(t, r.e.p, r.logB.accepted(false), r.normalWanted())
		rpAssertReplayThenNormal(t, r.e.f, r.store, r.logB, r.shards)
	})
	t.Run("latest", func(t *testing.T) {
		e := newEnv(2)
		shards := e.f.shardIDs()
		ks := keys("k", 10)
		rpSetAge(e.f, rpLongAgo)
		e.p.round(ks, 1)
		rpSetAge(e.f, 0)
		e.p.round(ks, 2) // inside what a window would be: skipped all the same
		store := NewMemoryStore()
		log := &rpLog{}
		opts := e.options(t)
		opts.Processor = &rpProcessor{log: log}
		opts.Checkpoints = &rpStore{MemoryStore: store, log: log}
		opts.StartPosition = Position{Type: types.ShardIteratorTypeLatest}
		c := start(t, opts)
		for _, s := range shards {
			require.Eventually(t, func() bool {
				return e.f.countCalls(func(c fakeCall) bool {
					return c.Op == opGetShardIterator && c.ShardID == s && c.Err == nil && c.IteratorType == types.ShardIteratorTypeLatest
				}) > 0
			}, waitFor, tick, "no LATEST iterator for %s", s)
		}
		mark := e.p.mark()
		e.p.round(ks, 2)
		live := e.p.since(mark)
		require.Eventually(t, func() bool { return log.has(rpNormal, live) }, waitFor, tick)
		rpWaitCheckpointsAt(t, e.f, store, shards)
		shutdown(t, c)

		assert.Zero(t, log.replayAttempts())
		assert.Zero(t, rpTimestampOpens(e.f, 0), "the shard was opened for a replay")
		assertExactly(t, e.p, log.accepted(false), live)
		rpAssertReplayThenNormal(t, e.f, store, log, shards)
	})
}

func TestReplayBatchRefusedIsOfferedAgain(t *testing.T) {
	r := rpPrepareRestart(t, true)
	var mu sync.Mutex
	refused := 0
	// Every Replay batch is refused once, at its first offer.
	r.runB(t, rpWindow, &rpProcessor{refuse: func(b Batch) error {
		if !b.Replay || b.Attempt > 1 {
			return nil
		}
		mu.Lock()
		refused++
		mu.Unlock()
		return errors.New("pipeline full")
	}})
	e := r.e
	mu.Lock()
	require.GreaterOrEqual(t, refused, len(r.shards))
	mu.Unlock()

	assertExactly(t, e.p, r.logB.accepted(true), r.inside)
	assertExactly(t, e.p, r.logB.accepted(false), r.normalWanted())
	for _, s := range r.shards {
		var offers []rpEvent
		for _, ev := range r.logB.snapshot() {
			if ev.shard == s && ev.kind == evAttempt {
				offers = append(offers, ev)
			}
		}
		refusals := 0
		for i, ev := range offers {
			if !ev.replay || ev.attempt != 1 {
				continue
			}
			refusals++
			require.Less(t, i+1, len(offers), "%s: refused Replay batch never offered again", s)
			again := offers[i+1]
			assert.True(t, again.replay, "%s: a refused Replay batch was offered again as a normal one", s)
			assert.Equal(t, 2, again.attempt)
			assert.Equal(t, ev.seqs, again.seqs, "%s: a refused Replay batch must be offered again unchanged", s)
		}
		assert.Positive(t, refusals, "%s: no Replay batch refused", s)
	}
	rpAssertReplayThenNormal(t, e.f, r.store, r.logB, r.shards)
}

// A replay is over once it has read past the resume point: the batch holding the
// checkpointed record is the last it reads, even when more records follow. The rest of
// that batch is the first one read normally, and reading goes on from the replay's
// iterator: no record is read twice, and no second iterator is asked for.
func TestReplayReadsNoFurtherThanTheCheckpoint(t *testing.T) {
	e := newEnv(1)
	shard := e.f.shardIDs()[0]
	ks := keys("k", 3)
	e.p.round(ks, 2) // 6 records; MaxRecords is 4
	store := NewMemoryStore()
	logA := &rpLog{}
	opts := e.options(t)
	opts.Processor = &rpProcessor{log: logA}
	opts.Checkpoints = &rpStore{MemoryStore: store, log: logA}
	a := start(t, opts)
	rpWaitCheckpointsAt(t, e.f, store, []string{shard})
	shutdown(t, a)
	cp := rpLoad(store, shard).SequenceNumber
	mark := e.p.mark()
	e.p.round(ks, 4) // 12 records after the checkpoint, more than a batch
	after := e.p.since(mark)

	calls := len(e.f.callLog())
	logB := &rpLog{}
	opts.Processor = &rpProcessor{log: logB}
	opts.Checkpoints = &rpStore{MemoryStore: store, log: logB}
	opts.Replay = rpWindow
	b := start(t, opts)
	require.Eventually(t, func() bool { return logB.has(rpNormal, after) }, waitFor, tick)
	rpWaitCheckpointsAt(t, e.f, store, []string{shard})
	shutdown(t, b)

	assertExactly(t, e.p, logB.accepted(true), e.p.all()[:mark])
	assertExactly(t, e.p, logB.accepted(false), after)
	var iterators []types.ShardIteratorType
	var reads []string
	lastRead, straddled := "", false
	for _, c := range e.f.callLog()[calls:] {
		switch {
		case c.Op == opGetShardIterator:
			iterators = append(iterators, c.IteratorType)
		case c.Op == opGetRecords && c.Err == nil && c.Returned > 0:
			reads = append(reads, c.FirstSeq+".."+c.LastSeq)
			if lastRead != "" {
				assert.Positive(t, compareSeq(c.FirstSeq, lastRead), "records read twice: %s", strings.Join(reads, ", "))
			}
			lastRead = c.LastSeq
			straddled = straddled || (compareSeq(c.FirstSeq, cp) <= 0 && compareSeq(c.LastSeq, cp) > 0)
		}
	}
	assert.Equal(t, []types.ShardIteratorType{types.ShardIteratorTypeAtTimestamp}, iterators,
		"reading after the replay did not go on from the replay's iterator")
	require.True(t, straddled, "no read held both the checkpoint %s and records after it (reads %s): the case is not tested", cp, strings.Join(reads, ", "))
}

func TestCompareSequence(t *testing.T) {
	const seq56 = "49590338271490256608559692538361571095921575989136588898"
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"9", "10", -1},
		{"10", "9", 1},
		{"99", "100", -1},
		{"123", "124", -1},
		{"124", "123", 1},
		{"200", "199", 1},
		{"1000", "999", 1},
		{seq56, seq56, 0},
		{seq56, "49590338271490256608559692538361571095921575989136588899", -1},
		{seq56, "49590338271490256608559692538361571095921575989136588897", 1},
		{seq56, "59590338271490256608559692538361571095921575989136588898", -1},
		{seq56, "9959033827149025660855969253836157109592157598913658889", 1},    // 55 digits
		{seq56, "100000000000000000000000000000000000000000000000000000000", -1}, // 57 digits
		{strings.Repeat("9", 127), "1" + strings.Repeat("0", 127), -1},
	} {
		assert.Equal(t, c.want, cmp.Compare(CompareSequence(c.a, c.b), 0), "CompareSequence(%s, %s)", c.a, c.b)
		assert.Equal(t, -c.want, cmp.Compare(CompareSequence(c.b, c.a), 0), "CompareSequence(%s, %s)", c.b, c.a)
	}

	// Against big.Int, for decimal numbers of 1 to 128 digits without leading zeros;
	// pairs of equal length often share a prefix.
	rng := rand.New(rand.NewPCG(1, 2))
	digits := func(n int, leading bool) string {
		var sb strings.Builder
		for i := range n {
			if i == 0 && leading {
				sb.WriteByte(byte('1' + rng.IntN(9)))
			} else {
				sb.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		return sb.String()
	}
	for range 2000 {
		a := digits(1+rng.IntN(128), true)
		var b string
		switch rng.IntN(3) {
		case 0:
			b = digits(1+rng.IntN(128), true)
		case 1:
			b = digits(len(a), true)
		default:
			keep := 1 + rng.IntN(len(a))
			b = a[:keep] + digits(len(a)-keep, false)
		}
		x, _ := new(big.Int).SetString(a, 10)
		y, _ := new(big.Int).SetString(b, 10)
		require.Equal(t, x.Cmp(y), cmp.Compare(CompareSequence(a, b), 0), "CompareSequence(%s, %s)", a, b)
	}
}

func TestReplayChildFirstReplaysItsOwnAgentsFromItsParentsTail(t *testing.T) {
	e := newEnv(1)
	parent := e.f.shardIDs()[0]
	ks := keys("k", 12)
	rpSetAge(e.f, rpLongAgo)
	e.p.round(ks, 1) // outside the window: not replayed
	rpSetAge(e.f, 0)
	tail := e.p.round(ks, 2)
	lower, upper, err := e.f.splitShard(parent, nil)
	require.NoError(t, err)
	e.p.round(ks, 1)

	log := &rpLog{}
	store := NewMemoryStore()
	opts := e.options(t)
	opts.Processor = &rpProcessor{log: log}
	opts.Checkpoints = &rpStore{MemoryStore: store, log: log}
	opts.Replay = rpWindow
	c := start(t, opts)
	require.Eventually(t, func() bool { return log.has(rpNormal, e.p.all()) }, waitFor, tick)
	rpWaitCheckpointsAt(t, e.f, store, []string{parent, lower, upper})
	shutdown(t, c)

	// Each child replays, under its own shard ID, the parent's recent records of the
	// keys it now holds, and no others, before its own records.
	for _, child := range []string{lower, upper} {
		var want []string
		for _, d := range tail {
			if e.f.holds(child, e.p.info[d].Key) {
				want = append(want, d)
			}
		}
		require.NotEmpty(t, want, "%s holds none of the keys: the test proves nothing", child)
		var got []string
		for _, d := range log.accepted(true) {
			if d.Shard == child {
				got = append(got, d.Data)
			}
		}
		assert.Equal(t, want, got, "%s: the parent's tail replayed", child)
	}
	rpAssertReplayThenNormal(t, e.f, store, log, []string{lower, upper})
}
