// Package kinesisconsumer reads a Kinesis data stream shard by shard, at least once.
//
// It is divided the way the Kinesis Client Library divides a consumer, so each part can be
// replaced alone:
//   - an Assigner says which shards this consumer reads (all of them for a single
//     collector; leases shared through DynamoDB for several),
//   - a CheckpointStore says where each shard's position lives,
//   - a Source says how records arrive (GetRecords polling; SubscribeToShard later),
//   - a Processor takes each batch; the shard's checkpoint moves past a batch only after
//     the Processor accepted it.
//
// Each shard is read by a shardReader (reader.go), started when the Assigner gives the
// shard and its parents are done, and stopped for a StopReason: the shard's end, the
// Assigner taking it away (StopUnassigned), its lease lost (a Save answering
// ErrLeaseLost, or a Revoker revoking it between assignments), the shard gone, or
// shutdown. A Processor that implements ShardHooks hears of each start and stop, to keep
// state by shard. The Assigner runs every AssignInterval on the last listing; shards are
// listed every DiscoveryInterval and when a shard ends. At shutdown the batches in flight
// finish within ShutdownGrace and are checkpointed, then a Releaser gives its shards back.
//
// A parent shard is read to its end before its children, so the records of one partition
// key keep their order across splits and merges. With Replay, a child read from its start
// first replays its parents' recent records of the partition keys it holds, so the state
// of the agents that moved to it is rebuilt wherever it is read.
package kinesisconsumer
