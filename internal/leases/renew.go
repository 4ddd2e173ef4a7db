package leases

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"
)

// renewConcurrency bounds the renewals in flight at once.
const renewConcurrency = 8

func (c *Coordinator) renewLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.renewAll(ctx)
		}
	}
}

// renewAll renews every held lease once, a few at a time.
func (c *Coordinator) renewAll(ctx context.Context) {
	sem := make(chan struct{}, renewConcurrency)
	var wg sync.WaitGroup
	for id, h := range c.heldLeases() {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.renew(ctx, id, h)
		})
	}
	wg.Wait()
}

// renew increments the lease's counter, on condition that this worker still owns it at
// the counter it holds. A failed condition means another worker took it; any other
// failure (DynamoDB unreachable, throttled) is retried at the next interval, until the
// lease has gone LeaseDuration unrenewed and others may take it.
func (c *Coordinator) renew(ctx context.Context, id string, h *heldLease) {
	h.mu.Lock()
	if h.dropped {
		h.mu.Unlock()
		return
	}
	// Taken before the write: a lease counts as renewed from when the write was sent,
	// never later than other workers can have seen it, so this worker gives it up no
	// later than they may take it.
	sent := c.cfg.Clock()
	// One interval at most, so that a hung call does not hold up the next renewal.
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.RenewInterval)
	out, err := c.writeHeld(callCtx, id, h, func(counter int64) *dynamodb.UpdateItemInput {
		return &dynamodb.UpdateItemInput{
			TableName:                 aws.String(c.cfg.Table),
			Key:                       keyOf(id),
			UpdateExpression:          aws.String("SET #counter = #counter + :one"),
			ConditionExpression:       aws.String("#owner = :me AND #counter = :held"),
			ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#counter": attrCounter},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":me": str(c.cfg.WorkerID), ":held": num(counter)},
			// All of it: pendingOwner says another worker asked for the lease.
			ReturnValues: types.ReturnValueAllNew,
		}
	})
	cancel()
	now := c.cfg.Clock()
	lost := false
	pending := ""
	switch {
	case err == nil:
		h.counter = counterOf(out.Attributes, h.counter+1)
		h.renewedAt = sent
		if p, ok := out.Attributes[attrPendingOwner].(*types.AttributeValueMemberS); ok && p.Value != "" && !h.handingOver {
			h.handingOver = true
			pending = p.Value
		}
	case isConditionFailed(err):
		c.logger.Info("Lease lost: another worker took it", zap.String("shard_id", id))
		c.drop(id, h)
		lost = true
	case ctx.Err() != nil:
		// Stopping: not a failure of the lease.
	case now.Sub(h.renewedAt) >= c.cfg.LeaseDuration:
		c.logger.Warn("Lease not renewed for the lease duration; giving it up, as other workers may take it now",
			zap.String("shard_id", id), zap.Duration("lease_duration", c.cfg.LeaseDuration), zap.Error(err))
		c.drop(id, h)
		lost = true
	default:
		c.logger.Warn("Renewing a lease failed; will retry", zap.String("shard_id", id), zap.Error(err))
	}
	h.mu.Unlock()
	if lost {
		c.changed(Lost, id)
		c.revoke(id)
	}
	if pending != "" {
		c.beginHandOver(ctx, id, h, pending)
	}
}

// counterOf reads leaseCounter from returned attributes, or else fallback.
func counterOf(attrs map[string]types.AttributeValue, fallback int64) int64 {
	if n, ok := attrs[attrCounter].(*types.AttributeValueMemberN); ok {
		if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return v
		}
	}
	return fallback
}

// errNotHeld is why a write under a lease this worker does not hold is refused.
func errNotHeld(table, id string) error {
	return fmt.Errorf("shard %s: this worker holds no lease on it in table %s: %w", id, table, errLeaseLost)
}
