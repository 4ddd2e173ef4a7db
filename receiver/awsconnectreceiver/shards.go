package awsconnectreceiver

import (
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

var _ kinesisconsumer.ShardHooks = (*awsConnectReceiver)(nil)

// ShardStarted implements kinesisconsumer.ShardHooks.
func (r *awsConnectReceiver) ShardStarted(shardID string) {
	r.set.Logger.Debug("Reading shard", zap.String("shard_id", shardID))
}

// ShardStopped implements kinesisconsumer.ShardHooks: the gauges stop counting the agents
// of a shard no longer read here at once, whatever the reason but shutdown. An agent's
// events stay on one shard (the partition key is its ARN), so whoever reads the shard now
// counts them: the collector that took its lease, or the reader of its children, which
// replays the shard's tail before reading on. At shutdown they stay, for a last export.
func (r *awsConnectReceiver) ShardStopped(shardID string, reason kinesisconsumer.StopReason) {
	if reason != kinesisconsumer.StopShutdown && r.contactsReplayed() {
		n := r.forgetShardContacts(shardID)
		r.set.Logger.Debug("Stopped reading shard; its contacts are counted wherever it is read now",
			zap.String("shard_id", shardID), zap.Stringer("reason", reason), zap.Int("contacts_forgotten", n))
		return
	}
	if r.state == nil || reason == kinesisconsumer.StopShutdown {
		r.set.Logger.Debug("Stopped reading shard", zap.String("shard_id", shardID), zap.Stringer("reason", reason))
		return
	}
	n := r.state.ForgetShard(shardID)
	r.set.Logger.Debug("Stopped reading shard; its agents are counted wherever it is read now",
		zap.String("shard_id", shardID), zap.Stringer("reason", reason), zap.Int("agents_forgotten", n))
}
