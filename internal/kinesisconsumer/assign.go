package kinesisconsumer

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Assigner decides which of a stream's shards this consumer reads.
type Assigner interface {
	// Assign returns the IDs of the shards, among those listed, to read now. A shard that
	// was assigned before and is not any more has its reader stopped.
	Assign(ctx context.Context, shards []types.Shard) ([]string, error)
}

// AssignScheduler is an Assigner that knows when it should be called next, when that is
// before AssignInterval is up: a lease assigner, when a lease held elsewhere expires
// unless it is renewed first. Waiting for the next interval instead would add up to one
// to every failover.
type AssignScheduler interface {
	// NextAssignIn is how long until Assign should be called again; false when nothing
	// is due.
	NextAssignIn() (time.Duration, bool)
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
