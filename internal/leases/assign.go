package leases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"
)

// Assign implements kinesisconsumer.Assigner. It creates the items of listed shards that
// have none, scans the table, lets go of leases found taken, takes available leases up
// to this worker's fair share or else steals from the most loaded worker, and returns
// the listed shards it holds.
func (c *Coordinator) Assign(ctx context.Context, shards []ktypes.Shard) ([]string, error) {
	c.mu.Lock()
	released := c.released
	c.mu.Unlock()
	if released {
		return nil, errors.New("leases: the coordinator has released its leases")
	}
	items, err := c.scan(ctx)
	if err != nil {
		return nil, err
	}
	listed := make(map[string]*ktypes.Shard, len(shards))
	for i := range shards {
		listed[aws.ToString(shards[i].ShardId)] = &shards[i]
	}
	if err := c.createMissing(ctx, shards, items); err != nil {
		return nil, err
	}
	if err := c.seedFromInitial(ctx, items); err != nil {
		return nil, err
	}
	now := c.cfg.Clock()
	expired := c.observe(items, now)
	c.letGoOfLost(items, now)
	c.noteIntents(items, now)

	c.giveUpUnlisted(ctx, listed)
	eligible := c.eligible(items, listed)
	heldNow := c.heldLeases()
	held := make(map[string]bool, len(heldNow))
	for id := range heldNow {
		held[id] = true
	}
	c.takeWhereNotHandedOver(ctx, eligible, held, expired, now)
	choice := chooseLeases(c.cfg.WorkerID, eligible, held, expired, c.cfg.MaxLeasesPerWorker, c.cfg.MaxLeasesToSteal)
	for _, l := range choice.take {
		if choice.steal {
			c.requestHandOver(ctx, l)
			continue
		}
		c.take(ctx, l, expired[l.key], false)
	}

	var ids []string
	for _, id := range c.Held() {
		if listed[id] != nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// scan reads the whole table, consistently.
func (c *Coordinator) scan(ctx context.Context) (map[string]*lease, error) {
	items := map[string]*lease{}
	in := &dynamodb.ScanInput{TableName: aws.String(c.cfg.Table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := c.api.Scan(ctx, in)
		if err != nil {
			return nil, describeError("scan lease table "+c.cfg.Table, err)
		}
		for _, item := range out.Items {
			l, err := decodeLease(item)
			if err != nil {
				return nil, fmt.Errorf("lease table %s: %w", c.cfg.Table, err)
			}
			if err := c.checkStream(l); err != nil {
				return nil, err
			}
			items[l.key] = l
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// observe notes, for each item, when this worker first saw its current counter, and
// returns the leases held by other workers whose counter has not moved for
// LeaseDuration on this worker's clock: KCL's expiry, with no clock shared.
func (c *Coordinator) observe(items map[string]*lease, now time.Time) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	expired := map[string]bool{}
	c.nextExpiry = time.Time{}
	for id, l := range items {
		o, ok := c.seen[id]
		if !ok || o.counter != l.counter {
			o = observation{counter: l.counter, since: now}
			c.seen[id] = o
		}
		if l.owner == "" || l.owner == c.cfg.WorkerID {
			continue
		}
		expiry := o.since.Add(c.cfg.LeaseDuration)
		switch {
		case !now.Before(expiry):
			expired[id] = true
		case c.nextExpiry.IsZero() || expiry.Before(c.nextExpiry):
			c.nextExpiry = expiry
		}
	}
	for id := range c.seen {
		if items[id] == nil {
			delete(c.seen, id)
		}
	}
	return expired
}

// NextAssignIn implements kinesisconsumer.AssignScheduler: Assign is due again when the
// first lease held elsewhere expires, if it is not renewed by then, so that it is taken
// at once rather than at the next interval.
func (c *Coordinator) NextAssignIn() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nextExpiry.IsZero() {
		return 0, false
	}
	return c.nextExpiry.Sub(c.cfg.Clock()), true
}

// letGoOfLost drops the held leases the scan shows owned by another worker (or gone),
// and those not renewed for LeaseDuration, and tells the OnRevoke fn.
func (c *Coordinator) letGoOfLost(items map[string]*lease, now time.Time) {
	for id, h := range c.heldLeases() {
		h.mu.Lock()
		reason := ""
		if !h.dropped {
			switch l := items[id]; {
			case l == nil:
				reason = "its item is gone from the table"
			case l.owner != c.cfg.WorkerID:
				reason = "another worker took it: " + l.owner
			case now.Sub(h.renewedAt) >= c.cfg.LeaseDuration:
				reason = "not renewed for the lease duration"
			}
			if reason != "" {
				c.drop(id, h)
			}
		}
		h.mu.Unlock()
		if reason != "" {
			c.logger.Info("Lease lost", zap.String("shard_id", id), zap.String("reason", reason))
			c.changed(Lost, id)
			c.revoke(id)
		}
	}
}

// eligible are the listed shards' leases that can be read now: not ended, and every
// parent done (at SHARD_END, or no longer listed).
func (c *Coordinator) eligible(items map[string]*lease, listed map[string]*ktypes.Shard) []*lease {
	var out []*lease
	for id, shard := range listed {
		l := items[id]
		if l == nil || c.ended(l) {
			continue
		}
		ready := true
		for _, p := range parentsOf(shard) {
			if ps := listed[p]; ps != nil && (items[p] == nil || !c.ended(items[p])) {
				ready = false
				break
			}
		}
		if ready {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *lease) int { return cmpString(a.key, b.key) })
	return out
}

// ended says a shard needs no more reading: its checkpoint is SHARD_END. (A consumer
// reading from LATEST saves SHARD_END for a shard closed before it read anything, so
// its children are not held up.)
func (c *Coordinator) ended(l *lease) bool {
	return l.shardEnd()
}

// giveUpUnlisted releases the held leases of shards no longer listed (past the
// stream's retention), so they are not renewed forever.
func (c *Coordinator) giveUpUnlisted(ctx context.Context, listed map[string]*ktypes.Shard) {
	for id, h := range c.heldLeases() {
		if listed[id] != nil {
			continue
		}
		h.mu.Lock()
		if !h.dropped {
			c.drop(id, h)
			if err := c.releaseOne(ctx, id, h); err != nil {
				c.logger.Warn("Giving up the lease of a shard no longer listed failed", zap.String("shard_id", id), zap.Error(err))
			}
		}
		h.mu.Unlock()
	}
}

// noteIntents keeps, of this worker's requests, those that still stand (pendingOwner is
// this worker) and those granted (handed over, not taken yet), noting when each was
// first seen if this worker did not make it (before a restart).
func (c *Coordinator) noteIntents(items map[string]*lease, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, l := range items {
		asked := l.pendingOwner == c.cfg.WorkerID && l.owner != "" && l.owner != c.cfg.WorkerID
		granted := l.owner == c.cfg.WorkerID && l.pendingOwner == "" && c.held[id] == nil
		if _, ok := c.intents[id]; !ok && asked {
			c.intents[id] = now
		}
		if !asked && !granted {
			delete(c.intents, id)
		}
	}
	for id := range c.intents {
		if items[id] == nil {
			delete(c.intents, id)
		}
	}
}

// takeWhereNotHandedOver takes, the old way, the leases this worker asked for whose
// holders have not handed them over within LeaseDuration (an older version, or stuck):
// what such a holder had in flight is read again, as before hand-overs.
func (c *Coordinator) takeWhereNotHandedOver(ctx context.Context, eligible []*lease, held, expired map[string]bool, now time.Time) {
	for _, l := range eligible {
		if held[l.key] || expired[l.key] || l.pendingOwner != c.cfg.WorkerID || l.owner == "" || l.owner == c.cfg.WorkerID {
			continue
		}
		c.mu.Lock()
		since, ok := c.intents[l.key]
		c.mu.Unlock()
		if ok && now.Sub(since) >= c.cfg.LeaseDuration {
			c.logger.Warn("The holder of a lease asked for has not handed it over within the lease duration; taking it", zap.String("shard_id", l.key), zap.String("owner", l.owner))
			c.take(ctx, l, false, true)
		}
	}
}

// take makes this worker the lease's owner, conditional on its counter and owner being
// those scanned (and, when forced, on pendingOwner being this worker). Any pendingOwner
// is removed: a request to a holder that stopped renewing is void.
func (c *Coordinator) take(ctx context.Context, l *lease, expired, forced bool) {
	names := map[string]string{"#owner": attrOwner, "#counter": attrCounter, "#switches": attrOwnerSwitches, "#pending": attrPendingOwner}
	values := map[string]types.AttributeValue{":one": num(1), ":zero": num(0), ":me": str(c.cfg.WorkerID), ":seen": num(l.counter)}
	cond := "#counter = :seen AND attribute_not_exists(#owner)"
	if l.owner != "" {
		cond = "#counter = :seen AND #owner = :prev"
		values[":prev"] = str(l.owner)
	}
	if forced {
		cond += " AND #pending = :me"
	}
	sent := c.cfg.Clock()
	out, err := c.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(c.cfg.Table),
		Key:                       keyOf(l.key),
		UpdateExpression:          aws.String("SET #owner = :me, #counter = #counter + :one, #switches = if_not_exists(#switches, :zero) + :one REMOVE #pending"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if isConditionFailed(err) {
		c.logger.Debug("Another worker changed the lease first", zap.String("shard_id", l.key))
		return
	}
	if err != nil {
		c.logger.Warn("Taking a lease failed; will try again at the next assignment", zap.String("shard_id", l.key), zap.Error(describeError("take lease in table "+c.cfg.Table, err)))
		return
	}
	h := &heldLease{counter: counterOf(out.Attributes, l.counter+1), renewedAt: sent}
	c.mu.Lock()
	c.held[l.key] = h
	_, asked := c.intents[l.key]
	delete(c.intents, l.key)
	c.mu.Unlock()
	msg, change := "Took lease", Taken
	switch {
	case forced:
		msg, change = "Stole lease its holder did not hand over", Stolen
	case asked:
		msg, change = "Took lease handed over to balance the workers", Stolen
	case expired:
		msg, change = "Took expired lease", Expired
	}
	c.logger.Info(msg, zap.String("shard_id", l.key), zap.String("previous_owner", l.owner))
	c.changed(change, l.key)
}

func parentsOf(s *ktypes.Shard) []string {
	var ids []string
	for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
		if id := aws.ToString(p); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
