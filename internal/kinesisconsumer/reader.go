package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"
)

// shardReader reads one shard, from a start position until the shard's end or until it
// is stopped, and says why it stopped. Reading (calls to Kinesis, waits) and processing
// (the Processor's work on a batch) have contexts of their own: a shutdown ends reading
// at once but lets the batch in flight finish, until the consumer abandons it; a lost
// lease ends both at once.
type shardReader struct {
	c       *Consumer
	id      string
	from    Position
	parents []string // listed parents, whose tails are replayed before the shard's own
	hashes  hashRange
	recent  *RecentKeys
	log     *zap.Logger

	readCtx   context.Context
	stopRead  context.CancelFunc
	procCtx   context.Context
	abandon   context.CancelFunc
	mu        sync.Mutex
	reason    StopReason
	reasonSet bool
	hooks     ShardHooks
	// hasTurn says the reader holds one of the consumer's turns (MaxBatchesInFlight);
	// only its own goroutine reads or sets it.
	hasTurn bool
	// exited is closed once the reader has stopped and said so (ShardStopped).
	exited chan struct{}
}

// newShardReader prepares a reader of shard id; run reads it.
func (c *Consumer) newShardReader(id string, pl plan) *shardReader {
	r := &shardReader{
		c:       c,
		id:      id,
		from:    pl.from,
		parents: pl.parents,
		hashes:  pl.hashes,
		recent:  NewRecentKeys(c.opts.DedupWindow),
		log:     c.logger.With(zap.String("shard_id", id)),
		exited:  make(chan struct{}),
	}
	r.recent.restore(pl.recent...)
	r.readCtx, r.stopRead = context.WithCancel(c.readRoot)
	r.procCtx, r.abandon = context.WithCancel(c.procRoot)
	if h, ok := c.opts.Processor.(ShardHooks); ok {
		r.hooks = h
	}
	return r
}

// stop ends the reader for reason: the first reason given is the one reported. A shutdown
// or a hand-over lets the batch in flight finish; any other reason abandons it at once,
// as the shard is no longer this consumer's to hand on.
func (r *shardReader) stop(reason StopReason) {
	r.setReason(reason)
	r.stopRead()
	if reason != StopShutdown && reason != StopHandedOver {
		r.abandon()
	}
}

func (r *shardReader) setReason(reason StopReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.reasonSet {
		r.reason, r.reasonSet = reason, true
	}
}

// stopReason is why the reader stopped: the reason given to stop, or else a shutdown if
// the consumer is shutting down.
func (r *shardReader) stopReason() StopReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reasonSet {
		return r.reason
	}
	return StopShutdown
}

// startReader starts reading shard id as planned, in the background.
func (c *Consumer) startReader(id string, pl plan) {
	r := c.newShardReader(id, pl)
	c.mu.Lock()
	c.readers[id] = r
	c.mu.Unlock()
	c.logger.Info("Reading shard", zap.String("shard_id", id), zap.Stringer("from", pl.from))
	c.wg.Go(r.run)
}

func (r *shardReader) run() {
	defer close(r.exited)
	c := r.c
	if r.hooks != nil {
		r.hooks.ShardStarted(r.id)
	}
	r.read()
	r.giveTurn()
	r.stopRead()
	r.abandon()
	reason := r.stopReason()
	r.log.Info("Stopped reading shard", zap.Stringer("reason", reason))
	// Heard before the shard can be read here again: a new reader's state must not be
	// forgotten for the old one's stop.
	if r.hooks != nil {
		r.hooks.ShardStopped(r.id, reason)
	}
	c.mu.Lock()
	if c.readers[r.id] == r {
		delete(c.readers, r.id)
	}
	c.mu.Unlock()
	// Trouble of this reader's (failing reads or saves) ends with it: a shard that is
	// gone, or no longer read here, is not held up.
	if reason != StopShutdown {
		c.release(r.id)
	}
	// A shard's end makes its children readable: list at once. A reader that stopped for
	// another reason (the shard was not found, say) waits for the next listing, or it
	// would be restarted in a tight loop.
	if reason == StopShardEnd {
		c.wakeup()
	}
}

// read reads the shard until its end, or until the reader is stopped.
func (r *shardReader) read() {
	c, ctx, log, id := r.c, r.readCtx, r.log, r.id
	from := r.from
	lastSeq := from.SequenceNumber
	if from.Type == types.ShardIteratorTypeLatest {
		// On Kinesis's clock, not ours: a collector whose clock runs ahead would otherwise
		// skip what arrives until Kinesis's clock catches up.
		startedAt := c.kinesisNow()
		if !r.commit(Checkpoint{StartedAt: startedAt, RecentKeys: r.recent.encode()}) {
			return
		}
		if c.opts.Replay > 0 {
			// Read on from where the replay stops, which LATEST was.
			from = Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: startedAt}
		}
	}
	var resume *resumed
	if c.opts.Replay > 0 {
		var ok bool
		if resume, ok = r.rebuild(from); !ok {
			return
		}
	}
	// The replay may have read past where reading resumes: those records are the first
	// batch, and a replay that reads as this shard is read goes on from there, saving a
	// failover or restart a GetShardIterator and a GetRecords call.
	var pending *Batch
	var stream ShardStream
	if resume != nil {
		pending = &resume.batch
		stream = resume.stream
		if n := len(pending.Records); n > 0 {
			from = Position{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: pending.Records[n-1].SequenceNumber}
		}
	}
	if stream == nil && (pending == nil || !pending.End) {
		var err error
		if stream, err = c.opts.Source.Open(ctx, id, from); err != nil {
			log.Warn("Cannot open shard", zap.Error(err))
			return
		}
	}
	if stream != nil {
		defer stream.Close()
	}

	readRetry := c.opts.ReadBackoff.Start()
	failures := 0
	var failingSince time.Time
	pushed := stream != nil && pushes(stream)
	for {
		if (!pushed || pending != nil) && !r.takeTurn(ctx) {
			return
		}
		var b Batch
		var err error
		if pending != nil {
			b, pending = *pending, nil
		} else {
			b, err = stream.Next(ctx)
			if err == nil && pushed && !r.takeTurn(ctx) {
				return
			}
		}
		if err != nil {
			r.giveTurn()
			if ctx.Err() != nil {
				return
			}
			if _, gone := errors.AsType[*types.ResourceNotFoundException](err); gone {
				log.Warn("Shard or stream not found; leaving it to the next listing", zap.Error(err))
				r.setReason(StopShardGone)
				return
			}
			failures++
			// The first failure of a run is worth a warning; the rest of it, a debug line.
			if failures == 1 {
				failingSince = c.opts.Clock()
				log.Warn("Reading shard failed; backing off", zap.Error(err))
			} else {
				log.Debug("Reading shard failed again; backing off", zap.Int("failures", failures), zap.Error(err))
			}
			if c.opts.Clock().Sub(failingSince) >= c.opts.StallAfter {
				c.hold(id, fmt.Errorf("reads of shard %s have failed %d times in a row since %s: %w", id, failures, failingSince.UTC().Format(time.RFC3339), err))
			}
			if !readRetry.wait(ctx) {
				return
			}
			continue
		}
		if failures > 0 {
			log.Info("Reading shard recovered", zap.Int("failures", failures))
			c.release(id)
		}
		failures = 0
		readRetry.Reset()

		// Hand the batch on in parts the pipeline can take, each checkpointed once
		// accepted, so that a shutdown or a refusal in the middle of a large batch keeps
		// what went before.
		for rest := b.Records; len(rest) > 0; {
			if ctx.Err() != nil {
				return
			}
			n := c.partLen(rest)
			part := b
			part.Records, part.Recent = rest[:n:n], r.recent
			rest = rest[n:]
			if !r.deliver(part) {
				return
			}
			last := &part.Records[n-1]
			lastSeq = last.SequenceNumber
			if !r.commit(Checkpoint{SequenceNumber: lastSeq, ArrivalTime: last.ArrivalTime, RecentKeys: r.recent.encode()}) {
				return
			}
		}
		b.finish()
		if b.End {
			c.noteChildren(b.ChildShards)
			// Children start from this window: a retried write may have landed on them.
			if !r.commit(Checkpoint{SequenceNumber: lastSeq, ShardEnd: true, RecentKeys: r.recent.encode()}) {
				return
			}
			log.Info("Shard read to its end")
			c.mu.Lock()
			c.done[id] = true
			c.mu.Unlock()
			r.setReason(StopShardEnd)
			return
		}
		r.giveTurn()
		if pushed {
			continue // the next Next waits for the next push
		}
		pause := c.opts.PollInterval
		if len(b.Records) > 0 && b.MillisBehindLatest > 0 {
			pause = min(pause, minPollGap)
		}
		if !sleep(ctx, pause) {
			return
		}
	}
}

// rebuild replays what rebuilds the state of the shard's agents before reading from
// from: the tails of its parents, whose agents now send their events here, then the
// shard's own records of the last Replay before where reading starts. False means the
// reader was stopped first.
func (r *shardReader) rebuild(from Position) (*resumed, bool) {
	c := r.c
	now := c.kinesisNow()
	since := now.Add(-c.opts.Replay)
	ownReplay := (from.Type == types.ShardIteratorTypeAtTimestamp && from.Timestamp.After(since)) ||
		(from.Type == types.ShardIteratorTypeAfterSequenceNumber && from.arrival.After(since))
	// A shard read from its start follows parents that ended here or elsewhere: their
	// last events are its agents' state.
	firstRead := from.Type == types.ShardIteratorTypeTrimHorizon || ownReplay
	if firstRead {
		for _, parent := range r.parents {
			// Only the parent's records whose partition keys now map to this shard: the
			// others' agents belong to a sibling, perhaps read elsewhere.
			if _, ok := r.replay(parent, now, r.hashes.holds, func(*Record) bool { return false }); !ok {
				return nil, false
			}
		}
	}
	switch {
	case from.Type == types.ShardIteratorTypeAtTimestamp && from.Timestamp.After(since):
		// Reading starts at a time (LATEST, or a restart before the first record): what
		// arrived in the window before it rebuilds state.
		at := from.Timestamp
		return r.replay(r.id, now, nil, func(rec *Record) bool { return !rec.ArrivalTime.Before(at) })
	case from.Type == types.ShardIteratorTypeAfterSequenceNumber && from.arrival.After(since):
		// The checkpoint is recent, so what came before it is needed to rebuild state.
		return r.replay(r.id, now, nil, func(rec *Record) bool { return CompareSequence(rec.SequenceNumber, from.SequenceNumber) > 0 })
	}
	return nil, true
}

// resumed is where a replay of the reader's own shard stopped, once it read past where
// reading resumes: the rest of its last batch, to hand on as the first batch read, and
// its stream, to read on from there when replays read as the shard is read (nil when
// they do not: a subscription is opened after the batch instead).
type resumed struct {
	batch  Batch
	stream ShardStream
}

// partLen is how many of records, from the first, go into the next Process call: at most
// MaxBatchRecords records and MaxBatchBytes bytes of data, and at least one record.
func (c *Consumer) partLen(records []Record) int {
	n := len(records)
	if c.opts.MaxBatchRecords > 0 {
		n = min(n, c.opts.MaxBatchRecords)
	}
	if c.opts.MaxBatchBytes <= 0 {
		return n
	}
	size := 0
	for i := range n {
		size += len(records[i].Data)
		if size > c.opts.MaxBatchBytes && i > 0 {
			return i
		}
	}
	return n
}

// replay hands shard's records of the last Replay before now to the Processor as Replay
// batches of this reader's shard, up to the first record past where reading resumes
// (past reports it) or the shard's end; keep, when set, selects the records handed on.
// A replay of the reader's own shard that read past where reading resumes says where it
// stopped (resumed). False means the reader was stopped first.
func (r *shardReader) replay(shard string, now time.Time, keep func(*Record) bool, past func(*Record) bool) (*resumed, bool) {
	c, ctx, log := r.c, r.readCtx, r.log
	since := now.Add(-c.opts.Replay)
	stream, err := c.opts.ReplaySource.Open(ctx, shard, Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: since})
	if err != nil {
		log.Warn("Cannot replay shard; its agents' state will fill in as they send events", zap.String("replayed_shard", shard), zap.Error(err))
		return nil, ctx.Err() == nil
	}
	handedOn := false
	defer func() {
		if !handedOn {
			stream.Close()
		}
	}()
	retry := c.opts.ReadBackoff.Start()
	replayed := 0
	for {
		if !r.takeTurn(ctx) {
			return nil, false
		}
		b, err := stream.Next(ctx)
		if err != nil {
			r.giveTurn()
			if ctx.Err() != nil {
				return nil, false
			}
			if _, gone := errors.AsType[*types.ResourceNotFoundException](err); gone {
				return nil, true // the normal read finds out, and leaves it to the next listing
			}
			if !retry.wait(ctx) {
				return nil, false
			}
			continue
		}
		retry.Reset()
		end := len(b.Records)
		for i := range b.Records {
			if past(&b.Records[i]) {
				end = i
				break
			}
		}
		reachedResume, ended := end < len(b.Records), b.End
		rest := b
		rest.Records = b.Records[end:]
		b.Records = b.Records[:end:end]
		if reachedResume {
			b.End, b.ChildShards = false, nil // the rest of the batch is the shard's end
		}
		if keep != nil {
			b.Records = slices.DeleteFunc(slices.Clone(b.Records), func(rec Record) bool { return !keep(&rec) })
		}
		if len(b.Records) > 0 {
			b.Replay = true
			// The state rebuilt is this shard's, whichever shard the records were read from.
			b.ShardID = r.id
			if !r.deliver(b) {
				return nil, false
			}
			replayed += len(b.Records)
		}
		// Done once past the resume point, at the shard's end, or caught up with the tip.
		if reachedResume || ended || b.MillisBehindLatest == 0 {
			log.Info("Replayed recent records to rebuild state", zap.String("replayed_shard", shard), zap.Int("records", replayed), zap.Time("since", since))
			if !reachedResume || shard != r.id {
				return nil, true
			}
			// Past the resume point, the stream is where the shard's own reading goes on.
			res := &resumed{batch: rest}
			if c.replaysAsRead {
				res.stream, handedOn = stream, true
			}
			return res, true
		}
		b.finish()
		r.giveTurn()
		// Within Kinesis's 5 GetRecords calls a second per shard.
		if !sleep(ctx, minPollGap) {
			return nil, false
		}
	}
}

// deliver offers b to the Processor until it is accepted; false means the reader was
// stopped first. The Processor works on the processing context, so that a shutdown lets
// it finish the batch; a refused batch is offered again only while reading goes on. The
// keys the Processor admits to b.Recent are remembered only once it accepts.
func (r *shardReader) deliver(b Batch) bool {
	c, log := r.c, r.log
	retry := c.opts.ProcessBackoff.Start()
	for attempt := 1; ; attempt++ {
		if r.procCtx.Err() != nil {
			return false
		}
		b.Attempt = attempt
		b.Recent.discard()
		err := c.opts.Processor.Process(r.procCtx, b)
		if err == nil {
			b.Recent.commit()
			if attempt > 1 {
				log.Info("Batch accepted after retries", zap.Int("attempts", attempt))
			}
			return true
		}
		if r.readCtx.Err() != nil {
			return false
		}
		if attempt == 1 {
			log.Warn("Pipeline refused a batch; retrying it, the shard waits", zap.Int("records", len(b.Records)), zap.Error(err))
		}
		// The turn is kept: a refusal is mostly the whole pipeline's (the memory limiter,
		// a full queue), and a turn given up would let other shards fetch batches only to
		// hold them refused too.
		if !retry.wait(r.readCtx) {
			return false
		}
	}
}

// commit stores the shard's checkpoint once the Processor has accepted what it covers.
// Reading waits until it is stored, so that what was handed on but not checkpointed never
// exceeds one part: after a crash at most that is read again, which the duplicate window
// covers. A failing save is retried with backoff, and Health hears of it. Each save runs
// on a context of its own, bounded by finalSaveTimeout, so that the checkpoint of a batch
// accepted just as the consumer shuts down is still stored. A save refused because the
// shard's lease is lost stops the reader at once. False means it was not stored and the
// reader stops.
func (r *shardReader) commit(cp Checkpoint) bool {
	c, ctx, log, id := r.c, r.readCtx, r.log, r.id
	retry := c.opts.ReadBackoff.Start()
	for failures := 0; ; failures++ {
		err := c.saveBounded(ctx, id, cp)
		if err == nil {
			if failures > 0 {
				c.release(id)
			}
			return true
		}
		if errors.Is(err, ErrLeaseLost) {
			log.Warn("The shard's lease is held elsewhere now; stopping its reader, which hands on nothing more", zap.Error(err))
			r.stop(StopLeaseLost)
			return false
		}
		if ctx.Err() != nil {
			log.Error("The last checkpoint could not be saved at shutdown; the records after the one saved before will be read again", zap.Error(err))
			return false
		}
		if failures == 0 {
			c.hold(id, fmt.Errorf("saving the checkpoint of shard %s failed, so the shard waits until it can be saved: %w", id, err))
		}
		if !retry.wait(ctx) {
			// Stopping: one more try, on its own context.
			if err := c.saveBounded(ctx, id, cp); err != nil {
				if errors.Is(err, ErrLeaseLost) {
					r.stop(StopLeaseLost)
				}
				log.Error("The last checkpoint could not be saved at shutdown; the records after the one saved before will be read again", zap.Error(err))
				return false
			}
			return true
		}
	}
}

// takeTurn waits for one of the consumer's turns, if they are bounded and the reader
// holds none; false means the reader was stopped first.
func (r *shardReader) takeTurn(ctx context.Context) bool {
	if r.c.turns == nil || r.hasTurn {
		return true
	}
	select {
	case r.c.turns <- struct{}{}:
		r.hasTurn = true
		return true
	case <-ctx.Done():
		return false
	}
}

// giveTurn hands the reader's turn, if it holds one, to a shard waiting for it.
func (r *shardReader) giveTurn() {
	if r.hasTurn {
		<-r.c.turns
		r.hasTurn = false
	}
}

// saveBounded saves a checkpoint on a context that outlives ctx's cancellation by at
// most finalSaveTimeout.
func (c *Consumer) saveBounded(ctx context.Context, id string, cp Checkpoint) error {
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
	defer cancel()
	return c.opts.Checkpoints.Save(saveCtx, id, cp)
}
