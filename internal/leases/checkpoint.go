package leases

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

var errLeaseLost = kinesisconsumer.ErrLeaseLost

// Load implements kinesisconsumer.CheckpointStore with a consistent read of the shard's
// lease item. A sentinel is no checkpoint, except SHARD_END.
func (c *Coordinator) Load(ctx context.Context, shardID string) (kinesisconsumer.Checkpoint, bool, error) {
	l, err := c.get(ctx, shardID)
	if err != nil || l == nil {
		return kinesisconsumer.Checkpoint{}, false, err
	}
	cp, ok := l.toCheckpoint()
	return cp, ok, nil
}

// get reads a lease item consistently; nil if there is none.
func (c *Coordinator) get(ctx context.Context, shardID string) (*lease, error) {
	out, err := c.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(c.cfg.Table),
		Key:            keyOf(shardID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, describeError(fmt.Sprintf("read the lease of shard %s in table %s", shardID, c.cfg.Table), err)
	}
	if out.Item == nil {
		return nil, nil
	}
	l, err := decodeLease(out.Item)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", c.cfg.Table, err)
	}
	if err := c.checkStream(l); err != nil {
		return nil, err
	}
	return l, nil
}

// checkStream refuses an item of another stream: one table serves one stream.
func (c *Coordinator) checkStream(l *lease) error {
	if c.cfg.StreamARN != "" && l.stream != "" && l.stream != c.cfg.StreamARN {
		return fmt.Errorf("lease table %s holds shard %s of stream %s, not of stream %s: use one lease table per stream", c.cfg.Table, l.key, l.stream, c.cfg.StreamARN)
	}
	return nil
}

// Save implements kinesisconsumer.CheckpointStore. The write is conditional on this
// worker owning the lease at the counter it holds; if it does not, the error wraps
// kinesisconsumer.ErrLeaseLost and the lease is no longer held. A checkpoint at the
// shard's end gives the lease up: there is nothing more to read under it.
func (c *Coordinator) Save(ctx context.Context, shardID string, cp kinesisconsumer.Checkpoint) error {
	c.mu.Lock()
	h := c.held[shardID]
	c.mu.Unlock()
	if h == nil {
		return errNotHeld(c.cfg.Table, shardID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dropped {
		return errNotHeld(c.cfg.Table, shardID)
	}
	set, remove := checkpointAttributes(cp, c.cfg.InitialPosition)
	names := map[string]string{"#owner": attrOwner, "#counter": attrCounter, "#switches": attrOwnerSwitches, "#sub": attrSubSequence}
	values := map[string]types.AttributeValue{":one": num(1), ":zero": num(0), ":me": str(c.cfg.WorkerID)}
	sets := []string{"#counter = #counter + :one", "#switches = :zero", "#sub = :zero"}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		names["#"+name] = name
		values[":"+name] = set[name]
		sets = append(sets, fmt.Sprintf("#%s = :%s", name, name))
	}
	removes := []string{}
	for _, name := range remove {
		names["#"+name] = name
		removes = append(removes, "#"+name)
	}
	if cp.ShardEnd {
		// Nothing more to read under it: nobody is to take it, however asked for.
		names["#pending"] = attrPendingOwner
		removes = append(removes, "#owner", "#pending")
	}
	update := "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	sent := c.cfg.Clock()
	out, err := c.writeHeld(ctx, shardID, h, func(counter int64) *dynamodb.UpdateItemInput {
		values[":held"] = num(counter)
		return &dynamodb.UpdateItemInput{
			TableName:                 aws.String(c.cfg.Table),
			Key:                       keyOf(shardID),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String("#owner = :me AND #counter = :held"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
			ReturnValues:              types.ReturnValueUpdatedNew,
		}
	})
	if isConditionFailed(err) {
		c.drop(shardID, h)
		c.logger.Info("Checkpoint refused: the lease was taken by another worker", zap.String("shard_id", shardID))
		c.changed(Lost, shardID)
		return fmt.Errorf("save the checkpoint of shard %s in table %s: another worker took its lease: %w", shardID, c.cfg.Table, errLeaseLost)
	}
	if err != nil {
		return describeError(fmt.Sprintf("save the checkpoint of shard %s in table %s", shardID, c.cfg.Table), err)
	}
	h.counter = counterOf(out.Attributes, h.counter+1)
	h.renewedAt = sent
	if cp.ShardEnd {
		c.drop(shardID, h)
		c.logger.Info("Shard read to its end; its lease is given up", zap.String("shard_id", shardID))
		c.changed(Ended, shardID)
	}
	return nil
}
