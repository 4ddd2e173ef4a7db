package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
	"go.uber.org/zap"
)

// Processor takes the batches read from the stream.
type Processor interface {
	// Process hands a batch on. nil means the batch was accepted, and the shard's
	// checkpoint moves past it; an error means it was not, and the same batch is offered
	// again after a backoff. A Processor that gives up on a batch for good (the pipeline
	// refused it permanently) accounts for it and returns nil, so the shard moves on.
	Process(ctx context.Context, b Batch) error
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, b Batch) error

// Process implements Processor.
func (f ProcessorFunc) Process(ctx context.Context, b Batch) error { return f(ctx, b) }

// minPollGap keeps a shard that is catching up within Kinesis's 5 GetRecords calls per
// second per shard, leaving room for one other polling consumer.
const minPollGap = 250 * time.Millisecond

// Options configure a Consumer. API, Stream and Processor are required.
type Options struct {
	API       KinesisAPI
	Stream    StreamRef
	Processor Processor

	// Source defaults to a PollingSource over API with MaxRecords.
	Source     Source
	MaxRecords int32
	// Assigner defaults to AllShards.
	Assigner Assigner
	// Checkpoints defaults to a MemoryStore.
	Checkpoints CheckpointStore
	// StartPosition applies to shards with no checkpoint: LATEST (the default),
	// TRIM_HORIZON or AT_TIMESTAMP.
	StartPosition Position

	// PollInterval is the wait between reads of a shard that is caught up.
	PollInterval time.Duration
	// DiscoveryInterval is the wait between listings of the stream's shards. A shard
	// reaching its end triggers a listing at once.
	DiscoveryInterval time.Duration
	// ProcessBackoff paces the retries of a batch the Processor refused.
	ProcessBackoff Backoff
	// ReadBackoff paces the retries of failed Kinesis calls (throttling, 5xx, network).
	ReadBackoff Backoff
	// Replay, when set, rebuilds state a restart lost: before reading a shard on from its
	// checkpoint (or from LATEST), its records of that long before are handed to the
	// Processor once more as Replay batches. Amazon Connect writes an event for every
	// live agent at least every 120 s, so a little more than that rebuilds every agent.
	Replay time.Duration
	// MaxBatchRecords and MaxBatchBytes, when above 0, bound what one Process call holds,
	// in records and in bytes of record data: a GetRecords batch larger than either is
	// handed on in consecutive parts, and the shard's checkpoint moves after each accepted
	// part. A part always holds at least one record, however large.
	MaxBatchRecords int
	MaxBatchBytes   int
	// Health, when set, hears when reading is held up and when it no longer is. scope is a
	// shard ID, or StreamScope for the stream itself (listing or assigning shards); err is
	// what holds it up, nil once that has cleared. It is told of a shard whose checkpoint
	// cannot be read, of checkpoint saves that fail, and of reads or listings that have
	// failed for StallAfter in a row (sustained throttling, say). It must not block.
	Health func(scope string, err error)
	// StallAfter is how long reads or listings may fail in a row, each retried with
	// backoff, before Health hears of it. Defaults to 30 s.
	StallAfter time.Duration
	// Clock is the consumer's clock, time.Now by default. Times sent to Kinesis are taken
	// from Kinesis's own clock, through the skew measured on its answers.
	Clock func() time.Time

	// DedupWindow, when above 0, is how many keys of recently accepted records each shard
	// remembers, for the Processor to drop a record that comes again (Batch.Recent). The
	// window is saved with the shard's checkpoint, and a child shard starts with its
	// parents' windows, since a producer's retry may land on either side of a reshard.
	DedupWindow int

	Logger *zap.Logger
}

// Consumer reads a stream's assigned shards and hands their records to a Processor.
type Consumer struct {
	opts   Options
	logger *zap.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	mu      sync.Mutex
	readers map[string]context.CancelFunc
	// done holds shards known to be finished, by this consumer or by another sharing the store.
	done map[string]bool
	// held are the scopes Health was last told are held up, with what holds them.
	held map[string]error
	// unreadable are the shards whose checkpoint could not be read at the last listing.
	unreadable map[string]bool

	// skew is Kinesis's clock minus ours, in nanoseconds, from the Date of its answers.
	skew       atomic.Int64
	skewWarned atomic.Bool
}

// StreamScope is the scope Health names for the stream itself rather than one shard.
const StreamScope = ""

// finalSaveTimeout bounds a checkpoint save that runs while the consumer shuts down:
// it gets a context of its own, as the reader's has ended.
const finalSaveTimeout = 5 * time.Second

// New checks opts and fills in defaults.
func New(opts Options) (*Consumer, error) {
	if opts.API == nil && opts.Source == nil {
		return nil, errors.New("kinesisconsumer: API is required")
	}
	if opts.Processor == nil {
		return nil, errors.New("kinesisconsumer: Processor is required")
	}
	if opts.Stream.Name == "" && opts.Stream.ARN == "" {
		return nil, errors.New("kinesisconsumer: a stream name or ARN is required")
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 10000
	}
	if opts.Source == nil {
		opts.Source = &PollingSource{API: opts.API, Stream: opts.Stream, MaxRecords: opts.MaxRecords}
	}
	if opts.Assigner == nil {
		opts.Assigner = AllShards{}
	}
	if opts.Checkpoints == nil {
		opts.Checkpoints = NewMemoryStore()
	}
	if opts.StartPosition.Type == "" {
		opts.StartPosition.Type = types.ShardIteratorTypeLatest
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.DiscoveryInterval <= 0 {
		opts.DiscoveryInterval = 30 * time.Second
	}
	opts.ProcessBackoff = opts.ProcessBackoff.withDefaults()
	opts.ReadBackoff = opts.ReadBackoff.withDefaults()
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.StallAfter <= 0 {
		opts.StallAfter = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Consumer{
		opts:       opts,
		logger:     opts.Logger.With(zap.String("stream", opts.Stream.Label())),
		wake:       make(chan struct{}, 1),
		readers:    map[string]context.CancelFunc{},
		done:       map[string]bool{},
		held:       map[string]error{},
		unreadable: map[string]bool{},
	}, nil
}

// Start begins reading in the background and returns at once.
func (c *Consumer) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() { c.run(ctx) })
}

// Shutdown stops every reader and waits for them, or for ctx. A batch being processed is
// abandoned (its context is cancelled) and not checkpointed unless it was accepted.
func (c *Consumer) Shutdown(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	finished := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Consumer) wakeup() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Consumer) run(ctx context.Context) {
	retry := c.opts.ReadBackoff.Start()
	var failingSince time.Time
	for {
		wait := c.opts.DiscoveryInterval
		if err := c.reconcile(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if failingSince.IsZero() {
				failingSince = c.opts.Clock()
			}
			if c.opts.Clock().Sub(failingSince) >= c.opts.StallAfter {
				c.hold(StreamScope, fmt.Errorf("listing or assigning shards has failed since %s: %w", failingSince.UTC().Format(time.RFC3339), err))
			}
			c.logger.Warn("Listing or assigning shards failed; will retry", zap.Error(err))
			wait = retry.Next()
		} else {
			failingSince = time.Time{}
			c.release(StreamScope)
			retry.Reset()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// hold tells Health that scope is held up by err, logging it at error level the first
// time.
func (c *Consumer) hold(scope string, err error) {
	c.mu.Lock()
	_, already := c.held[scope]
	c.held[scope] = err
	c.mu.Unlock()
	if !already {
		if scope == StreamScope {
			c.logger.Error("Reading the stream is held up", zap.Error(err))
		} else {
			c.logger.Error("Reading a shard is held up; the other shards are read on", zap.String("shard_id", scope), zap.Error(err))
		}
	}
	if c.opts.Health != nil {
		c.opts.Health(scope, err)
	}
}

// release tells Health that scope is no longer held up, if it was.
func (c *Consumer) release(scope string) {
	c.mu.Lock()
	_, was := c.held[scope]
	delete(c.held, scope)
	c.mu.Unlock()
	if !was {
		return
	}
	if scope == StreamScope {
		c.logger.Info("Reading the stream is no longer held up")
	} else {
		c.logger.Info("Reading the shard is no longer held up", zap.String("shard_id", scope))
	}
	if c.opts.Health != nil {
		c.opts.Health(scope, nil)
	}
}

// kinesisNow is the time on Kinesis's clock, as far as its answers tell: the Date of an
// answer is truncated to the second and was stamped before the answer arrived, so this
// errs early, which reads a little more and never skips a record.
func (c *Consumer) kinesisNow() time.Time {
	return c.opts.Clock().Add(time.Duration(c.skew.Load()))
}

// observeClock measures the skew between Kinesis's clock and ours on an answer's
// metadata (its Date header).
func (c *Consumer) observeClock(md middleware.Metadata) {
	server, ok := awsmiddleware.GetServerTime(md)
	if !ok || server.IsZero() {
		return
	}
	skew := server.Sub(c.opts.Clock())
	c.skew.Store(int64(skew))
	if (skew > maxQuietSkew || skew < -maxQuietSkew) && !c.skewWarned.Swap(true) {
		c.logger.Warn("The collector's clock differs from Kinesis's; times sent to Kinesis are taken from Kinesis's clock",
			zap.Duration("kinesis_minus_collector", skew.Truncate(time.Second)))
	}
}

// maxQuietSkew is the clock difference beyond which the consumer says so in the log.
const maxQuietSkew = 5 * time.Second

func (c *Consumer) listShards(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: c.opts.Stream.namePtr(), StreamARN: c.opts.Stream.arnPtr()}
	for {
		out, err := c.opts.API.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards: %w", err)
		}
		c.observeClock(out.ResultMetadata)
		shards = append(shards, out.Shards...)
		if out.NextToken == nil || *out.NextToken == "" {
			return shards, nil
		}
		// With a NextToken the stream name must not be given again; an ARN must, for a
		// stream shared from another account.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, StreamARN: c.opts.Stream.arnPtr()}
	}
}

// reconcile lists the shards, asks which are ours, stops readers of shards no longer ours
// and starts readers of ours whose parents are done.
func (c *Consumer) reconcile(ctx context.Context) error {
	shards, err := c.listShards(ctx)
	if err != nil {
		return err
	}
	owned, err := c.opts.Assigner.Assign(ctx, shards)
	if err != nil {
		return fmt.Errorf("assign shards: %w", err)
	}
	ownedSet := make(map[string]bool, len(owned))
	for _, id := range owned {
		ownedSet[id] = true
	}
	c.mu.Lock()
	for id, stop := range c.readers {
		if !ownedSet[id] {
			c.logger.Info("Shard no longer assigned here; stopping its reader", zap.String("shard_id", id))
			stop()
		}
	}
	c.mu.Unlock()

	p := planner{c: c, ctx: ctx, byID: make(map[string]*types.Shard, len(shards)), memo: map[string]plan{}, unreadable: map[string]error{}}
	for i := range shards {
		p.byID[*shards[i].ShardId] = &shards[i]
	}
	for _, id := range owned {
		c.mu.Lock()
		_, running := c.readers[id]
		done := c.done[id]
		c.mu.Unlock()
		if running || done || p.byID[id] == nil {
			continue
		}
		// A shard whose checkpoint (or whose parent's) cannot be read waits, and is
		// reported below; the others are read on.
		if pl := p.plan(id); pl.err == nil && pl.state == stateReady {
			c.startReader(ctx, id, pl)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	c.reportUnreadable(p.unreadable)
	return nil
}

// reportUnreadable holds up the shards whose checkpoint could not be read at this
// listing, and releases those that could be read again.
func (c *Consumer) reportUnreadable(now map[string]error) {
	c.mu.Lock()
	var cleared []string
	for id := range c.unreadable {
		if now[id] == nil {
			cleared = append(cleared, id)
			delete(c.unreadable, id)
		}
	}
	for id := range now {
		c.unreadable[id] = true
	}
	c.mu.Unlock()
	for _, id := range cleared {
		c.release(id)
	}
	for id, err := range now {
		c.hold(id, fmt.Errorf("the checkpoint of shard %s cannot be read, so the shard (and its children) is not read: %w", id, err))
	}
}

type shardState int

const (
	stateWaiting shardState = iota // parents not done yet, or its checkpoint could not be read
	stateReady
	stateDone
)

type plan struct {
	state shardState
	from  Position
	err   error
	// checkpointed says the shard has a checkpoint: this consumer, or one sharing its
	// store, has read it.
	checkpointed bool
	// recent are the duplicate-removal windows to start from, oldest first: the
	// parents' last ones, then the shard's own.
	recent [][]byte
}

// planner decides, for one listing, where each shard stands.
type planner struct {
	c    *Consumer
	ctx  context.Context
	byID map[string]*types.Shard
	memo map[string]plan
	// unreadable are the shards whose own checkpoint could not be loaded.
	unreadable map[string]error
}

func parents(s *types.Shard) []string {
	var ids []string
	for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
		if p != nil && *p != "" {
			ids = append(ids, *p)
		}
	}
	return ids
}

func (p *planner) plan(id string) plan {
	if pl, ok := p.memo[id]; ok {
		return pl
	}
	pl := p.decide(id)
	if pl.state == stateDone && p.byID[id] != nil {
		p.c.mu.Lock()
		p.c.done[id] = true
		p.c.mu.Unlock()
	}
	p.memo[id] = pl
	return pl
}

// load reads a shard's checkpoint, noting the shard as unreadable if that fails.
func (p *planner) load(id string) (Checkpoint, bool, error) {
	cp, ok, err := p.c.opts.Checkpoints.Load(p.ctx, id)
	if err != nil && p.ctx.Err() == nil {
		p.unreadable[id] = err
	}
	return cp, ok, err
}

func (p *planner) decide(id string) plan {
	shard := p.byID[id]
	if shard == nil {
		// Expired past retention: done. Its checkpoint, if any, still says whether its
		// children should be read from their beginning.
		cp, ok, err := p.load(id)
		return plan{state: stateDone, checkpointed: ok, err: err, recent: [][]byte{cp.RecentKeys}}
	}
	cp, ok, err := p.load(id)
	if err != nil {
		return plan{err: err}
	}
	if ok && cp.ShardEnd {
		return plan{state: stateDone, checkpointed: true, recent: [][]byte{cp.RecentKeys}}
	}
	parentRead := false
	var recent [][]byte
	for _, parent := range parents(shard) {
		pp := p.plan(parent)
		if pp.err != nil || pp.state != stateDone {
			return plan{state: stateWaiting, err: pp.err, checkpointed: ok}
		}
		parentRead = parentRead || pp.checkpointed
		recent = append(recent, pp.recent...)
	}
	recent = append(recent, cp.RecentKeys)
	ready := func(from Position) plan { return plan{state: stateReady, from: from, recent: recent} }
	switch {
	case ok && cp.SequenceNumber != "":
		return ready(Position{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: cp.SequenceNumber, arrival: cp.ArrivalTime})
	case ok && !cp.StartedAt.IsZero():
		return ready(Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: cp.StartedAt})
	case parentRead:
		// A child of a shard read here holds what came after it: all of it. Reading from
		// a timestamp, though, a parent may have closed before it, and the child's older
		// records are no more wanted than the parent's.
		from := Position{Type: types.ShardIteratorTypeTrimHorizon}
		if p.c.opts.StartPosition.Type == types.ShardIteratorTypeAtTimestamp {
			from = p.c.opts.StartPosition
		}
		return ready(from)
	case p.c.opts.StartPosition.Type == types.ShardIteratorTypeLatest && shard.SequenceNumberRange != nil && shard.SequenceNumberRange.EndingSequenceNumber != nil:
		// Read from LATEST, a closed shard has nothing new.
		return plan{state: stateDone}
	default:
		return ready(p.c.opts.StartPosition)
	}
}

func (c *Consumer) startReader(ctx context.Context, id string, pl plan) {
	from := pl.from
	recent := NewRecentKeys(c.opts.DedupWindow)
	recent.restore(pl.recent...)
	rctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.readers[id] = cancel
	c.mu.Unlock()
	c.logger.Info("Reading shard", zap.String("shard_id", id), zap.Stringer("from", from))
	c.wg.Go(func() {
		defer func() {
			cancel()
			c.mu.Lock()
			delete(c.readers, id)
			ended := c.done[id]
			c.mu.Unlock()
			// Trouble of this reader's (failing reads or saves) ends with it: a shard that
			// is gone, or no longer assigned here, is not held up.
			if ctx.Err() == nil {
				c.release(id)
			}
			// A shard's end makes its children readable: list at once. A reader that
			// stopped for another reason (the shard was not found, say) waits for the next
			// listing, or it would be restarted in a tight loop.
			if ended {
				c.wakeup()
			}
		}()
		c.readShard(rctx, id, from, recent)
	})
}

// readShard reads one shard until its end, or until ctx ends. recent is the shard's
// duplicate-removal window, nil without one.
func (c *Consumer) readShard(ctx context.Context, id string, from Position, recent *RecentKeys) {
	log := c.logger.With(zap.String("shard_id", id))
	lastSeq := from.SequenceNumber
	if from.Type == types.ShardIteratorTypeLatest {
		// On Kinesis's clock, not ours: a collector whose clock runs ahead would otherwise
		// skip what arrives until Kinesis's clock catches up.
		startedAt := c.kinesisNow()
		if !c.commit(ctx, log, id, Checkpoint{StartedAt: startedAt, RecentKeys: recent.encode()}) {
			return
		}
		if c.opts.Replay > 0 {
			// Read on from where the replay stops, which LATEST was.
			from = Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: startedAt}
		}
	}
	if c.opts.Replay > 0 {
		now := c.kinesisNow()
		since := now.Add(-c.opts.Replay)
		switch {
		case from.Type == types.ShardIteratorTypeAtTimestamp && from.Timestamp.After(since):
			// Reading starts at a time (LATEST, or a restart before the first record): what
			// arrived in the window before it rebuilds state.
			at := from.Timestamp
			if !c.replay(ctx, log, id, now, func(r *Record) bool { return !r.ArrivalTime.Before(at) }) {
				return
			}
		case from.Type == types.ShardIteratorTypeAfterSequenceNumber && from.arrival.After(since):
			// The checkpoint is recent, so what came before it is needed to rebuild state.
			if !c.replay(ctx, log, id, now, func(r *Record) bool { return compareSequence(r.SequenceNumber, from.SequenceNumber) > 0 }) {
				return
			}
		}
	}
	stream, err := c.opts.Source.Open(ctx, id, from)
	if err != nil {
		log.Warn("Cannot open shard", zap.Error(err))
		return
	}
	defer stream.Close()

	readRetry := c.opts.ReadBackoff.Start()
	failures := 0
	var failingSince time.Time
	for {
		b, err := stream.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if _, gone := errors.AsType[*types.ResourceNotFoundException](err); gone {
				log.Warn("Shard or stream not found; leaving it to the next listing", zap.Error(err))
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
			part.Records, part.Recent = rest[:n:n], recent
			rest = rest[n:]
			if !c.deliver(ctx, log, part) {
				return
			}
			last := &part.Records[n-1]
			lastSeq = last.SequenceNumber
			if !c.commit(ctx, log, id, Checkpoint{SequenceNumber: lastSeq, ArrivalTime: last.ArrivalTime, RecentKeys: recent.encode()}) {
				return
			}
		}
		if b.End {
			// Children start from this window: a retried write may have landed on them.
			if !c.commit(ctx, log, id, Checkpoint{SequenceNumber: lastSeq, ShardEnd: true, RecentKeys: recent.encode()}) {
				return
			}
			log.Info("Shard read to its end")
			c.mu.Lock()
			c.done[id] = true
			c.mu.Unlock()
			return
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

// replay hands the shard's records of the last Replay before now to the Processor as
// Replay batches, up to the first record past where reading resumes (past reports it).
// False means ctx ended first.
func (c *Consumer) replay(ctx context.Context, log *zap.Logger, id string, now time.Time, past func(*Record) bool) bool {
	since := now.Add(-c.opts.Replay)
	stream, err := c.opts.Source.Open(ctx, id, Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: since})
	if err != nil {
		log.Warn("Cannot replay shard; its agents' state will fill in as they send events", zap.Error(err))
		return ctx.Err() == nil
	}
	defer stream.Close()
	retry := c.opts.ReadBackoff.Start()
	replayed := 0
	for {
		b, err := stream.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			if _, gone := errors.AsType[*types.ResourceNotFoundException](err); gone {
				return true // the normal read finds out, and leaves it to the next listing
			}
			if !retry.wait(ctx) {
				return false
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
		reachedResume := end < len(b.Records)
		if end > 0 {
			b.Records, b.Replay = b.Records[:end], true
			if !c.deliver(ctx, log, b) {
				return false
			}
			replayed += end
		}
		// Done once past the resume point, at the shard's end, or caught up with the tip.
		if reachedResume || b.End || b.MillisBehindLatest == 0 {
			log.Info("Replayed the shard's recent records to rebuild state", zap.Int("records", replayed), zap.Time("since", since))
			return true
		}
		// Within Kinesis's 5 GetRecords calls a second per shard.
		if !sleep(ctx, minPollGap) {
			return false
		}
	}
}

// compareSequence orders Kinesis sequence numbers: decimal strings of up to 128 digits.
func compareSequence(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// deliver offers b to the Processor until it is accepted; false means ctx ended first.
// The keys the Processor admits to b.Recent are remembered only once it accepts.
func (c *Consumer) deliver(ctx context.Context, log *zap.Logger, b Batch) bool {
	retry := c.opts.ProcessBackoff.Start()
	for attempt := 1; ; attempt++ {
		b.Attempt = attempt
		b.Recent.discard()
		err := c.opts.Processor.Process(ctx, b)
		if err == nil {
			b.Recent.commit()
			if attempt > 1 {
				log.Info("Batch accepted after retries", zap.Int("attempts", attempt))
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt == 1 {
			log.Warn("Pipeline refused a batch; retrying it, the shard waits", zap.Int("records", len(b.Records)), zap.Error(err))
		}
		if !retry.wait(ctx) {
			return false
		}
	}
}

// commit stores a shard's checkpoint once the Processor has accepted what it covers.
// Reading waits until it is stored, so that what was handed on but not checkpointed never
// exceeds one part: after a crash at most that is read again, which the duplicate window
// covers. A failing save is retried with backoff, and Health hears of it. Each save runs
// on a context of its own, bounded by finalSaveTimeout, so that the checkpoint of a batch
// accepted just as the consumer shuts down is still stored. False means it was not stored
// and the consumer is shutting down.
func (c *Consumer) commit(ctx context.Context, log *zap.Logger, id string, cp Checkpoint) bool {
	retry := c.opts.ReadBackoff.Start()
	for failures := 0; ; failures++ {
		err := c.saveBounded(ctx, id, cp)
		if err == nil {
			if failures > 0 {
				c.release(id)
			}
			return true
		}
		if ctx.Err() != nil {
			log.Error("The last checkpoint could not be saved at shutdown; the records after the one saved before will be read again", zap.Error(err))
			return false
		}
		if failures == 0 {
			c.hold(id, fmt.Errorf("saving the checkpoint of shard %s failed, so the shard waits until it can be saved: %w", id, err))
		}
		if !retry.wait(ctx) {
			// Shutting down: one more try, on its own context.
			if err := c.saveBounded(ctx, id, cp); err != nil {
				log.Error("The last checkpoint could not be saved at shutdown; the records after the one saved before will be read again", zap.Error(err))
				return false
			}
			return true
		}
	}
}

// saveBounded saves a checkpoint on a context that outlives ctx's cancellation by at
// most finalSaveTimeout.
func (c *Consumer) saveBounded(ctx context.Context, id string, cp Checkpoint) error {
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
	defer cancel()
	return c.opts.Checkpoints.Save(saveCtx, id, cp)
}
