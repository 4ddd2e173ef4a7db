package leases

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// Coordinator shares a stream's shards among workers through a DynamoDB lease table.
type Coordinator struct {
	api    DynamoDBAPI
	cfg    Config
	logger *zap.Logger

	mu sync.Mutex
	// held are the leases this worker holds, by shard ID.
	held map[string]*heldLease
	// seen is, for each lease item, the counter last scanned and when (on this worker's
	// clock) it was first seen at that value: expiry without a shared clock.
	seen map[string]observation
	// nextExpiry is when the first lease held elsewhere expires, as the last scan left
	// them, unless it is renewed first; zero when none will.
	nextExpiry time.Time
	// seeded are the shards whose Initial checkpoint was already consulted.
	seeded map[string]bool
	// intents are the leases this worker asked for (pendingOwner set to it), with when it
	// first saw its request stand: a holder that has not handed over LeaseDuration later
	// is taken from the old way.
	intents    map[string]time.Time
	onRevoke   func(shardID string)
	onHandOver func(shardID string, done func())
	started    bool
	released   bool

	stopRenewer context.CancelFunc
	renewerDone chan struct{}
}

// heldLease is a lease this worker holds. Its mutex serializes the writes made under it
// (renewal, checkpoint, release), each conditional on counter.
type heldLease struct {
	mu      sync.Mutex
	counter int64
	// renewedAt is the last successful write, on this worker's clock.
	renewedAt time.Time
	dropped   bool
	// handingOver is set once another worker's request was seen and the hand-over begun.
	handingOver bool
}

type observation struct {
	counter int64
	since   time.Time
}

var (
	_ kinesisconsumer.Assigner        = (*Coordinator)(nil)
	_ kinesisconsumer.CheckpointStore = (*Coordinator)(nil)
	_ kinesisconsumer.Revoker         = (*Coordinator)(nil)
	_ kinesisconsumer.Releaser        = (*Coordinator)(nil)
	_ kinesisconsumer.HandOverer      = (*Coordinator)(nil)
	_ kinesisconsumer.AssignScheduler = (*Coordinator)(nil)
)

// New checks cfg and returns a Coordinator; Start makes it ready.
func New(api DynamoDBAPI, cfg Config) (*Coordinator, error) {
	if api == nil {
		return nil, errors.New("leases: a DynamoDB client is required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Coordinator{
		api:     api,
		cfg:     cfg,
		logger:  cfg.Logger.With(zap.String("lease_table", cfg.Table), zap.String("worker_id", cfg.WorkerID)),
		held:    map[string]*heldLease{},
		seen:    map[string]observation{},
		seeded:  map[string]bool{},
		intents: map[string]time.Time{},
	}, nil
}

// Start ensures the table and starts renewing the held leases every RenewInterval.
func (c *Coordinator) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("leases: coordinator already started")
	}
	c.started = true
	c.mu.Unlock()
	if err := c.ensureTable(ctx); err != nil {
		c.mu.Lock()
		c.started = false // may be tried again
		c.mu.Unlock()
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.stopRenewer, c.renewerDone = cancel, done
	c.mu.Unlock()
	go func() {
		defer close(done)
		c.renewLoop(rctx)
	}()
	return nil
}

// OnRevoke implements kinesisconsumer.Revoker: fn hears of each lease the renewer finds
// lost, or could not renew for LeaseDuration.
func (c *Coordinator) OnRevoke(fn func(shardID string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onRevoke = fn
}

// OnHandOver implements kinesisconsumer.HandOverer: fn hears of each held lease another
// worker asked for, once, and calls done when the shard's reader has stopped and saved
// its last checkpoint; done hands the lease over. Without fn, a lease asked for is
// handed over at once.
func (c *Coordinator) OnHandOver(fn func(shardID string, done func())) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onHandOver = fn
}

// Held returns the shard IDs whose leases this worker holds, sorted.
func (c *Coordinator) Held() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.held))
	for id := range c.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Close stops the renewer and keeps the leases: others take them once they expire. It
// is what a crash leaves; Release is the graceful way.
func (c *Coordinator) Close() {
	c.mu.Lock()
	stop, done := c.stopRenewer, c.renewerDone
	c.stopRenewer = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// Release implements kinesisconsumer.Releaser: it stops the renewer, then gives back
// each held lease (leaseOwner removed, counter+1), so other workers take them at their
// next Assign instead of after LeaseDuration.
func (c *Coordinator) Release(ctx context.Context) error {
	c.Close()
	c.mu.Lock()
	c.released = true
	held := c.held
	c.held = map[string]*heldLease{}
	c.mu.Unlock()
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(held)) {
		h := held[id]
		h.mu.Lock()
		if !h.dropped {
			h.dropped = true
			err := c.releaseOne(ctx, id, h)
			if err != nil {
				errs = append(errs, err)
			}
		}
		h.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (c *Coordinator) releaseOne(ctx context.Context, id string, h *heldLease) error {
	_, err := c.writeHeld(ctx, id, h, func(counter int64) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			TableName:                aws.String(c.cfg.Table),
			Key:                      keyOf(id),
			UpdateExpression:         aws.String("REMOVE #owner, #pending SET #counter = #counter + :one"),
			ConditionExpression:      aws.String("#owner = :me AND #counter = :held"),
			ExpressionAttributeNames: map[string]string{"#owner": attrOwner, "#counter": attrCounter, "#pending": attrPendingOwner},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":me": str(c.cfg.WorkerID), ":held": num(counter),
			},
		}
	})
	if isConditionFailed(err) {
		c.logger.Info("Lease was already taken by another worker; nothing to release", zap.String("shard_id", id))
		return nil
	}
	if err != nil {
		return describeError(fmt.Sprintf("release the lease of shard %s in table %s (others take it after the lease duration)", id, c.cfg.Table), err)
	}
	c.logger.Info("Released lease", zap.String("shard_id", id))
	c.changed(Released, id)
	return nil
}

// drop forgets a held lease; h.mu must be held.
func (c *Coordinator) drop(id string, h *heldLease) {
	h.dropped = true
	c.mu.Lock()
	if c.held[id] == h {
		delete(c.held, id)
	}
	c.mu.Unlock()
}

// changed tells OnChange of a lease gained or given up, with how many are held after it.
func (c *Coordinator) changed(change Change, id string) {
	if c.cfg.OnChange == nil {
		return
	}
	c.mu.Lock()
	held := len(c.held)
	c.mu.Unlock()
	c.cfg.OnChange(change, id, held)
}

// revoke tells the OnRevoke fn that id is no longer held here.
func (c *Coordinator) revoke(id string) {
	c.mu.Lock()
	fn := c.onRevoke
	c.mu.Unlock()
	if fn != nil {
		fn(id)
	}
}

// heldLeases returns what is held now.
func (c *Coordinator) heldLeases() map[string]*heldLease {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*heldLease, len(c.held))
	for id, h := range c.held {
		out[id] = h
	}
	return out
}

func isConditionFailed(err error) bool {
	_, ok := errors.AsType[*types.ConditionalCheckFailedException](err)
	return ok
}

func zapTable(table string) zap.Field { return zap.String("table", table) }
