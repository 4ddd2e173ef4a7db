package kinesisconsumer

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Assigner decides which of a stream's shards this consumer reads.
type Assigner interface {
	// Assign returns the IDs of the shards, among those listed, to read now. A shard that
	// was assigned before and is not any more has its reader stopped.
	Assign(ctx context.Context, shards []types.Shard) ([]string, error)
}

// AllShards assigns every shard to this consumer: the assigner of a single collector.
type AllShards struct{}

// Assign implements Assigner.
func (AllShards) Assign(_ context.Context, shards []types.Shard) ([]string, error) {
	ids := make([]string, 0, len(shards))
	for _, s := range shards {
		ids = append(ids, *s.ShardId)
	}
	return ids, nil
}
