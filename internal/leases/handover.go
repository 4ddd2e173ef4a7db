package leases

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"
)

// A steal is a request, not a take: the thief sets pendingOwner, and the holder, which
// stays the owner meanwhile, stops its reader as a graceful stop does (the batch in
// flight finished and checkpointed), then hands the lease over. So balancing repeats
// nothing, where taking the lease at once repeats what the holder had in flight.

// requestHandOver asks l's owner for it: pendingOwner set to this worker, conditional on
// the owner and counter scanned and on nobody having asked already. Owner and counter
// are left as they are, so the holder's renewals and checkpoints go on.
func (c *Coordinator) requestHandOver(ctx context.Context, l *lease) {
	_, err := c.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(c.cfg.Table),
		Key:                      keyOf(l.key),
		UpdateExpression:         aws.String("SET #pending = :me"),
		ConditionExpression:      aws.String("#owner = :victim AND #counter = :seen AND attribute_not_exists(#pending)"),
		ExpressionAttributeNames: map[string]string{"#owner": attrOwner, "#counter": attrCounter, "#pending": attrPendingOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me": str(c.cfg.WorkerID), ":victim": str(l.owner), ":seen": num(l.counter),
		},
	})
	if isConditionFailed(err) {
		c.logger.Debug("The lease changed before it could be asked for", zap.String("shard_id", l.key))
		return
	}
	if err != nil {
		c.logger.Warn("Asking for a lease failed; will try again at the next assignment", zap.String("shard_id", l.key), zap.Error(describeError("ask for a lease in table "+c.cfg.Table, err)))
		return
	}
	c.mu.Lock()
	c.intents[l.key] = c.cfg.Clock()
	c.mu.Unlock()
	c.logger.Info("Asked a more loaded worker to hand a lease over, to balance the workers", zap.String("shard_id", l.key), zap.String("owner", l.owner))
}

// beginHandOver tells the OnHandOver fn that pending asked for the held lease id; done
// hands it over. Renewals go on until then, so the lease never expires meanwhile.
func (c *Coordinator) beginHandOver(ctx context.Context, id string, h *heldLease, pending string) {
	c.logger.Info("Another worker asked for a lease; handing it over once its reader has stopped", zap.String("shard_id", id), zap.String("pending_owner", pending))
	c.mu.Lock()
	fn := c.onHandOver
	c.mu.Unlock()
	var once sync.Once
	done := func() { once.Do(func() { c.handOver(ctx, id, h, pending) }) }
	if fn == nil {
		go done()
		return
	}
	fn(id, done)
}

// handOver makes pending the lease's owner, conditional on this worker still owning it
// at the counter held and pending still being the one asking. A failure to reach
// DynamoDB is retried every RenewInterval while the lease is held; a failed condition
// means the lease is no longer this worker's to give.
func (c *Coordinator) handOver(ctx context.Context, id string, h *heldLease, pending string) {
	for {
		h.mu.Lock()
		if h.dropped {
			h.mu.Unlock()
			return
		}
		_, err := c.writeHeld(ctx, id, h, func(counter int64) *dynamodb.UpdateItemInput {
			return &dynamodb.UpdateItemInput{
				TableName:                aws.String(c.cfg.Table),
				Key:                      keyOf(id),
				UpdateExpression:         aws.String("SET #owner = #pending, #counter = #counter + :one, #switches = if_not_exists(#switches, :zero) + :one REMOVE #pending"),
				ConditionExpression:      aws.String("#owner = :me AND #counter = :held AND #pending = :p"),
				ExpressionAttributeNames: map[string]string{"#owner": attrOwner, "#counter": attrCounter, "#switches": attrOwnerSwitches, "#pending": attrPendingOwner},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":one": num(1), ":zero": num(0), ":me": str(c.cfg.WorkerID), ":held": num(counter), ":p": str(pending),
				},
			}
		})
		switch {
		case err == nil:
			c.drop(id, h)
			h.mu.Unlock()
			c.logger.Info("Handed a lease over", zap.String("shard_id", id), zap.String("new_owner", pending))
			c.changed(HandedOver, id)
			return
		case isConditionFailed(err):
			c.drop(id, h)
			h.mu.Unlock()
			c.logger.Info("Lease lost before it could be handed over", zap.String("shard_id", id), zap.String("pending_owner", pending))
			c.changed(Lost, id)
			c.revoke(id)
			return
		}
		h.mu.Unlock()
		c.logger.Warn("Handing a lease over failed; will retry", zap.String("shard_id", id), zap.Error(describeError("hand over a lease in table "+c.cfg.Table, err)))
		t := time.NewTimer(c.cfg.RenewInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
