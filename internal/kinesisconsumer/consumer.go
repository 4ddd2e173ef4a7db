package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// minAssignGap is the least wait between assignments an AssignScheduler asks for: one
// due as the last ended comes a moment later, rather than in a tight loop.
const minAssignGap = 10 * time.Millisecond

// Options configure a Consumer. API, Stream and Processor are required.
type Options struct {
	API       KinesisAPI
	Stream    StreamRef
	Processor Processor

	// Source defaults to a PollingSource over API with MaxRecords and Recycle (see
	// PollingSource.Recycle: the hand-back of each read's memory once it is done with).
	Source     Source
	MaxRecords int32
	Recycle    func(middleware.Metadata)
	// ReplaySource reads the records replayed to rebuild state (Replay); it defaults to
	// Source. A subscription Source reads its replays better by polling: a replay is a
	// short read of history, and a subscription of its own would collide with the
	// shard's, one being allowed per consumer and shard.
	ReplaySource Source
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
	// ShutdownGrace is how long Shutdown lets the batches in flight finish (the pipeline
	// accept them, and their checkpoints be saved) before it abandons them. Defaults to
	// 5 s.
	ShutdownGrace time.Duration
	// AssignInterval is the wait between calls of the Assigner on the last listing, when
	// shorter than DiscoveryInterval: a lease Assigner takes expired leases that often.
	AssignInterval time.Duration
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
	// MaxBatchesInFlight, when above 0, bounds how many shards hold a batch at once, from
	// their GetRecords call to the checkpoint of its last part; the others wait their turn
	// before calling GetRecords. Memory then stays at about this many responses however
	// many shards are read, even while the pipeline refuses batches: a shard keeps its
	// turn while its batch is refused, and gives it up only while its reads fail.
	MaxBatchesInFlight int
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

// Polling is the PollingSource the options describe: API, Stream, MaxRecords (10,000
// when unset) and Recycle. It is the default Source; a subscribing Source's caller can
// take it for ReplaySource.
func (o Options) Polling() *PollingSource {
	maxRecords := o.MaxRecords
	if maxRecords <= 0 {
		maxRecords = 10000
	}
	return &PollingSource{API: o.API, Stream: o.Stream, MaxRecords: maxRecords, Recycle: o.Recycle}
}

// Consumer reads a stream's assigned shards and hands their records to a Processor.
type Consumer struct {
	opts   Options
	logger *zap.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}
	// readRoot ends every reader's reading at shutdown; procRoot abandons the batches
	// they are processing, once shutdown's deadline has passed.
	readRoot, procRoot      context.Context
	stopReading, abandonAll context.CancelFunc

	// replaysAsRead says replays read as shards are read (one Source): a replay's stream
	// reads on where the replay stops.
	replaysAsRead bool

	// turns holds a token for each shard holding a batch, when MaxBatchesInFlight bounds
	// them.
	turns chan struct{}

	mu      sync.Mutex
	readers map[string]*shardReader
	// done holds shards known to be finished, by this consumer or by another sharing the store.
	done map[string]bool
	// held are the scopes Health was last told are held up, with what holds them.
	held map[string]error
	// unreadable are the shards whose checkpoint could not be read at the last listing.
	unreadable map[string]bool
	// handingOver are the shards being handed over: not read again here, though their
	// lease is still held, until the hand-over is done.
	handingOver map[string]bool
	// children are the shards that shards read to their end named as their children,
	// until a listing shows them: they are read though ListShards lags or fails.
	children map[string]types.Shard

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
	if opts.Source == nil {
		opts.Source = opts.Polling()
	}
	replaysAsRead := opts.ReplaySource == nil
	if replaysAsRead {
		opts.ReplaySource = opts.Source
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
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 5 * time.Second
	}
	if opts.AssignInterval <= 0 || opts.AssignInterval > opts.DiscoveryInterval {
		opts.AssignInterval = opts.DiscoveryInterval
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
	var turns chan struct{}
	if opts.MaxBatchesInFlight > 0 {
		turns = make(chan struct{}, opts.MaxBatchesInFlight)
	}
	return &Consumer{
		opts:          opts,
		replaysAsRead: replaysAsRead,
		turns:         turns,
		logger:        opts.Logger.With(zap.String("stream", opts.Stream.Label())),
		wake:          make(chan struct{}, 1),
		readers:       map[string]*shardReader{},
		done:          map[string]bool{},
		held:          map[string]error{},
		unreadable:    map[string]bool{},
		handingOver:   map[string]bool{},
		children:      map[string]types.Shard{},
	}, nil
}

// Start begins reading in the background and returns at once.
func (c *Consumer) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.readRoot, c.stopReading = context.WithCancel(context.Background())
	c.procRoot, c.abandonAll = context.WithCancel(context.Background())
	if rv, ok := c.opts.Assigner.(Revoker); ok {
		rv.OnRevoke(c.revoke)
	}
	if ho, ok := c.opts.Assigner.(HandOverer); ok {
		ho.OnHandOver(c.handOver)
	}
	c.wg.Go(func() { c.run(ctx) })
}

// revoke stops the reader of a shard that is no longer assigned here, at once.
func (c *Consumer) revoke(shardID string) {
	c.mu.Lock()
	r := c.readers[shardID]
	c.mu.Unlock()
	if r != nil {
		r.stop(StopLeaseLost)
	}
}

// handOver stops the reader of a shard another consumer asked for as a shutdown does:
// reading ends, and the batch in flight finishes and is checkpointed within
// ShutdownGrace, else it is abandoned. Then done hands the lease over. The shard is not
// read here again meanwhile.
func (c *Consumer) handOver(shardID string, done func()) {
	c.mu.Lock()
	if c.handingOver[shardID] {
		c.mu.Unlock()
		return
	}
	c.handingOver[shardID] = true
	r := c.readers[shardID]
	c.mu.Unlock()
	finish := func() {
		done()
		c.mu.Lock()
		delete(c.handingOver, shardID)
		c.mu.Unlock()
	}
	if r == nil {
		go finish()
		return
	}
	c.logger.Info("Another consumer asked for the shard; finishing the batch in flight, then handing it over", zap.String("shard_id", shardID))
	r.stop(StopHandedOver)
	go func() {
		grace := time.NewTimer(c.opts.ShutdownGrace)
		defer grace.Stop()
		select {
		case <-r.exited:
		case <-grace.C:
			r.log.Warn("The batch in flight was not accepted within the shutdown grace; abandoning it: the next holder reads it again", zap.Duration("grace", c.opts.ShutdownGrace))
			r.abandon()
			<-r.exited
		}
		finish()
	}()
}

// Shutdown stops every reader and waits for them. A batch being processed is finished
// and checkpointed if the pipeline accepts it within ShutdownGrace (and before ctx ends);
// otherwise it is abandoned (its context is cancelled) and read again by whoever reads
// the shard next. Once every reader has stopped, an Assigner that is a Releaser gives its
// shards back, so that another consumer takes them at once.
func (c *Consumer) Shutdown(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.stopReading()
	finished := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(finished)
	}()
	grace := time.NewTimer(c.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-finished:
	case <-grace.C:
		c.logger.Warn("Batches in flight were not accepted within the shutdown grace; abandoning them: they are read again from the last checkpoint", zap.Duration("grace", c.opts.ShutdownGrace))
	case <-ctx.Done():
	}
	c.abandonAll()
	select {
	case <-finished:
	case <-ctx.Done():
		return fmt.Errorf("readers did not stop in time: %w", ctx.Err())
	}
	if rel, ok := c.opts.Assigner.(Releaser); ok {
		// On a context of its own: handing the shards over matters most when the
		// collector is already late.
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
		defer cancel()
		if err := rel.Release(relCtx); err != nil {
			return fmt.Errorf("release shards: %w", err)
		}
	}
	return nil
}

func (c *Consumer) wakeup() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Consumer) run(ctx context.Context) {
	retry := c.opts.ReadBackoff.Start()
	var failingSince, listedAt time.Time
	var shards []types.Shard
	for {
		wait := c.opts.AssignInterval
		var err error
		if shards == nil || c.opts.Clock().Sub(listedAt) >= c.opts.DiscoveryInterval {
			var listed []types.Shard
			if listed, err = c.listShards(ctx); err == nil {
				shards, listedAt = listed, c.opts.Clock()
			}
		}
		// On the last listing when this one failed: the children that ended shards named
		// are read all the same.
		if shards != nil {
			if rerr := c.reconcile(ctx, c.withChildren(shards)); err == nil {
				err = rerr
			}
		}
		if err != nil {
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
			if s, ok := c.opts.Assigner.(AssignScheduler); ok {
				if due, ok := s.NextAssignIn(); ok {
					wait = min(wait, max(due, minAssignGap))
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.wake:
			listedAt = time.Time{} // a shard ended: list its children at once
		case <-t.C:
		}
		t.Stop()
	}
}

// noteChildren remembers the children a shard read to its end named, for the listings
// that do not show them yet.
func (c *Consumer) noteChildren(children []types.ChildShard) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, child := range children {
		id := aws.ToString(child.ShardId)
		if id == "" {
			continue
		}
		s := types.Shard{ShardId: aws.String(id), HashKeyRange: child.HashKeyRange}
		if len(child.ParentShards) > 0 {
			s.ParentShardId = aws.String(child.ParentShards[0])
		}
		if len(child.ParentShards) > 1 {
			s.AdjacentParentShardId = aws.String(child.ParentShards[1])
		}
		c.children[id] = s
	}
}

// withChildren is the listing shards with the noted children it lacks; those it has are
// no longer noted.
func (c *Consumer) withChildren(shards []types.Shard) []types.Shard {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.children) == 0 {
		return shards
	}
	for i := range shards {
		delete(c.children, aws.ToString(shards[i].ShardId))
	}
	all := slices.Clip(shards)
	for _, child := range c.children {
		all = append(all, child)
	}
	return all
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

// reconcile asks which of the listed shards are ours, stops readers of shards no longer
// ours and starts readers of ours whose parents are done.
func (c *Consumer) reconcile(ctx context.Context, shards []types.Shard) error {
	owned, err := c.opts.Assigner.Assign(ctx, shards)
	if err != nil {
		return fmt.Errorf("assign shards: %w", err)
	}
	ownedSet := make(map[string]bool, len(owned))
	for _, id := range owned {
		ownedSet[id] = true
	}
	c.mu.Lock()
	var unassigned []*shardReader
	for id, r := range c.readers {
		if !ownedSet[id] {
			unassigned = append(unassigned, r)
		}
	}
	c.mu.Unlock()
	for _, r := range unassigned {
		c.logger.Info("Shard no longer assigned here; stopping its reader", zap.String("shard_id", r.id))
		r.stop(StopUnassigned)
	}

	p := planner{c: c, ctx: ctx, byID: make(map[string]*types.Shard, len(shards)), memo: map[string]plan{}, unreadable: map[string]error{}}
	for i := range shards {
		p.byID[*shards[i].ShardId] = &shards[i]
	}
	for _, id := range owned {
		c.mu.Lock()
		_, running := c.readers[id]
		done := c.done[id]
		handingOver := c.handingOver[id]
		c.mu.Unlock()
		if running || done || handingOver || p.byID[id] == nil {
			continue
		}
		// A shard whose checkpoint (or whose parent's) cannot be read waits, and is
		// reported below; the others are read on.
		pl := p.plan(id)
		switch {
		case pl.err != nil:
		case pl.state == stateReady:
			c.startReader(id, pl)
		case pl.state == stateDone && pl.markEnd:
			// Closed before reading began at LATEST: nothing to read. Saying so in its
			// checkpoint lets its children be read, here or by another consumer.
			if err := c.saveBounded(ctx, id, Checkpoint{ShardEnd: true, StartedAt: pl.skippedSince}); err != nil && ctx.Err() == nil {
				c.mu.Lock()
				delete(c.done, id) // tried again at the next round
				c.mu.Unlock()
				c.logger.Warn("Cannot mark a closed shard as read", zap.String("shard_id", id), zap.Error(err))
			}
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
	// parents are the shard's parents still listed, whose last records rebuild its
	// agents' state when it is first read.
	parents []string
	// markEnd says the shard is done without a checkpoint saying so: it was closed when
	// reading began at LATEST, at skippedSince.
	markEnd bool
	// skippedSince is when a shard passed over unread at a LATEST start was passed over.
	skippedSince time.Time
	// hashes are the hash keys the shard holds, which select its agents among its
	// parents' records.
	hashes hashRange
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
		return donePlan(cp, ok, err)
	}
	cp, ok, err := p.load(id)
	if err != nil {
		return plan{err: err}
	}
	if ok && cp.ShardEnd {
		return donePlan(cp, ok, nil)
	}
	parentRead := false
	var skippedSince time.Time
	var recent [][]byte
	for _, parent := range parents(shard) {
		pp := p.plan(parent)
		if pp.err != nil || pp.state != stateDone {
			return plan{state: stateWaiting, err: pp.err, checkpointed: ok}
		}
		parentRead = parentRead || pp.checkpointed
		if pp.skippedSince.After(skippedSince) {
			skippedSince = pp.skippedSince
		}
		recent = append(recent, pp.recent...)
	}
	recent = append(recent, cp.RecentKeys)
	var listed []string
	for _, parent := range parents(shard) {
		if p.byID[parent] != nil {
			listed = append(listed, parent)
		}
	}
	ready := func(from Position) plan {
		return plan{state: stateReady, from: from, recent: recent, parents: listed, hashes: shardHashRange(shard)}
	}
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
	case !skippedSince.IsZero():
		// Its parents were passed over at a LATEST start: the child's records from before
		// that start are no more wanted than theirs.
		return ready(Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: skippedSince})
	case p.c.opts.StartPosition.Type == types.ShardIteratorTypeLatest && shard.SequenceNumberRange != nil && shard.SequenceNumberRange.EndingSequenceNumber != nil:
		// Read from LATEST, a closed shard has nothing new.
		return plan{state: stateDone, markEnd: true, skippedSince: p.c.kinesisNow()}
	default:
		return ready(p.c.opts.StartPosition)
	}
}

// donePlan is the plan of a shard that is done: read to its end (its children follow on
// from it), or passed over unread at a LATEST start (its children start at that time).
func donePlan(cp Checkpoint, ok bool, err error) plan {
	if ok && cp.ShardEnd && cp.SequenceNumber == "" && !cp.StartedAt.IsZero() {
		return plan{state: stateDone, skippedSince: cp.StartedAt, err: err, recent: [][]byte{cp.RecentKeys}}
	}
	return plan{state: stateDone, checkpointed: ok, err: err, recent: [][]byte{cp.RecentKeys}}
}

// CompareSequence orders Kinesis sequence numbers, decimal strings of up to 128 digits,
// as strings.Compare orders strings.
func CompareSequence(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
