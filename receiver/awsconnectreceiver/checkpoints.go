package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"fmt"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// storageCheckpoints keeps shard checkpoints in a storage extension, one key per shard,
// under a prefix naming the stream so that pointing the receiver at another stream does
// not resume from this one's positions.
type storageCheckpoints struct {
	client storage.Client
	prefix string
}

var _ kinesisconsumer.CheckpointStore = (*storageCheckpoints)(nil)

func newStorageCheckpoints(client storage.Client, stream string) *storageCheckpoints {
	return &storageCheckpoints{client: client, prefix: "kinesis_checkpoint/" + stream + "/"}
}

func (s *storageCheckpoints) Load(ctx context.Context, shardID string) (kinesisconsumer.Checkpoint, bool, error) {
	var cp kinesisconsumer.Checkpoint
	data, err := s.client.Get(ctx, s.prefix+shardID)
	if err != nil {
		return cp, false, fmt.Errorf("read checkpoint: %w", err)
	}
	if data == nil {
		return cp, false, nil
	}
	if err := json.Unmarshal(data, &cp); err != nil {
		return cp, false, fmt.Errorf("stored checkpoint of shard %s is unreadable: %w", shardID, err)
	}
	return cp, true, nil
}

func (s *storageCheckpoints) Save(ctx context.Context, shardID string, cp kinesisconsumer.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return s.client.Set(ctx, s.prefix+shardID, data)
}
