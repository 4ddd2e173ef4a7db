package leases

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// createMissing puts an unowned item for each listed shard that has none, conditional on
// there still being none: every worker may try at once.
func (c *Coordinator) createMissing(ctx context.Context, shards []ktypes.Shard, items map[string]*lease) error {
	for i := range shards {
		s := &shards[i]
		id := aws.ToString(s.ShardId)
		if items[id] != nil {
			continue
		}
		l := &lease{key: id, checkpoint: c.cfg.InitialPosition, parents: parentsOf(s), stream: c.cfg.StreamARN}
		if len(l.parents) > 0 && c.cfg.InitialPosition != sentinelAtTimestamp {
			// A child is read from its start once its parents are done, as in KCL.
			l.checkpoint = sentinelTrimHorizon
		}
		item := map[string]types.AttributeValue{
			attrKey: str(id), attrCounter: num(0), attrCheckpoint: str(l.checkpoint),
			attrSubSequence: num(0), attrOwnerSwitches: num(0),
		}
		if len(l.parents) > 0 {
			item[attrParents] = &types.AttributeValueMemberSS{Value: l.parents}
		}
		if l.stream != "" {
			item[attrStream] = str(l.stream)
		}
		seed, seeded, err := c.initialCheckpoint(ctx, id)
		if err != nil {
			return err
		}
		if seeded {
			set, _ := checkpointAttributes(seed, l.checkpoint)
			for k, v := range set {
				item[k] = v
			}
		}
		_, err = c.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                aws.String(c.cfg.Table),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#key)"),
			ExpressionAttributeNames: map[string]string{"#key": attrKey},
		})
		switch {
		case err == nil:
			c.markSeeded(id)
			created, err := decodeLease(item)
			if err != nil {
				return err
			}
			items[id] = created
			c.logger.Debug("Created lease item", zap.String("shard_id", id), zap.Bool("seeded", seeded))
		case isConditionFailed(err):
			// Another worker created it first: read what it wrote.
			got, err := c.get(ctx, id)
			if err != nil {
				return err
			}
			if got != nil {
				items[id] = got
			}
		default:
			return describeError(fmt.Sprintf("create the lease item of shard %s in table %s", id, c.cfg.Table), err)
		}
	}
	return nil
}

// initialCheckpoint consults Config.Initial, until the shard is marked seeded.
func (c *Coordinator) initialCheckpoint(ctx context.Context, id string) (cp kinesisconsumer.Checkpoint, ok bool, err error) {
	if c.cfg.Initial == nil {
		return cp, false, nil
	}
	c.mu.Lock()
	done := c.seeded[id]
	c.mu.Unlock()
	if done {
		return cp, false, nil
	}
	cp, ok, err = c.cfg.Initial.Load(ctx, id)
	if err != nil {
		return cp, false, fmt.Errorf("read the checkpoint of shard %s kept before leases, to seed its lease: %w", id, err)
	}
	return cp, ok, nil
}

// markSeeded notes that shard id's item holds what Initial had for it, or never will.
func (c *Coordinator) markSeeded(id string) {
	c.mu.Lock()
	c.seeded[id] = true
	c.mu.Unlock()
}

// seedFromInitial moves the checkpoints kept before leases into items another worker
// created but nobody ever owned (counter 0, no checkpoint), so a migrating collector's
// checkpoints are kept whichever worker created the items.
func (c *Coordinator) seedFromInitial(ctx context.Context, items map[string]*lease) error {
	if c.cfg.Initial == nil {
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(items)) {
		l := items[id]
		if _, has := l.toCheckpoint(); has || l.counter != 0 || l.owner != "" {
			continue
		}
		cp, ok, err := c.initialCheckpoint(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			c.markSeeded(id)
			continue
		}
		set, _ := checkpointAttributes(cp, l.checkpoint)
		names := map[string]string{"#owner": attrOwner, "#counter": attrCounter}
		values := map[string]types.AttributeValue{":one": num(1), ":zero": num(0)}
		update := "SET #counter = #counter + :one"
		for name, v := range set {
			names["#"+name] = name
			values[":"+name] = v
			update += fmt.Sprintf(", #%s = :%s", name, name)
		}
		_, err = c.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(c.cfg.Table),
			Key:                       keyOf(id),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String("#counter = :zero AND attribute_not_exists(#owner)"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		if err != nil && !isConditionFailed(err) {
			return describeError(fmt.Sprintf("seed the lease of shard %s in table %s", id, c.cfg.Table), err)
		}
		// Seeded, or owned by now: either way, final.
		c.markSeeded(id)
		got, err := c.get(ctx, id)
		if err != nil {
			return err
		}
		if got != nil {
			items[id] = got
		}
	}
	return nil
}
