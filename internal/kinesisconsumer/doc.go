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
// A parent shard is read to its end before its children, so the records of one partition
// key keep their order across splits and merges.
package kinesisconsumer
