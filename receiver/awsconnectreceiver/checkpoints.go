package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// checkpointFormat is the version of the stored checkpoint value. A value without one was
// written before versions were recorded, in the same shape as format 1.
const checkpointFormat = 1

// storedCheckpoint is a checkpoint as the storage extension keeps it.
type storedCheckpoint struct {
	Format int `json:"format"`
	kinesisconsumer.Checkpoint
}

// storageCheckpoints keeps shard checkpoints in a storage extension, one key per shard,
// under a prefix naming the stream by its ARN: its identity, however the configuration
// spells it. Checkpoints written under the stream's name (before they were keyed by ARN,
// or by a receiver configured with stream_name that could not learn the ARN) are still
// found.
type storageCheckpoints struct {
	client storage.Client
	prefix string
	// legacy are older prefixes to look under when the prefix holds no checkpoint.
	legacy []string
}

var _ kinesisconsumer.CheckpointStore = (*storageCheckpoints)(nil)

// newStorageCheckpoints keys checkpoints by stream, which is the stream's ARN where known,
// else its name.
func newStorageCheckpoints(client storage.Client, stream string) *storageCheckpoints {
	s := &storageCheckpoints{client: client, prefix: checkpointPrefix(stream)}
	if a, err := parseStreamARN(stream); err == nil {
		s.legacy = []string{checkpointPrefix(a.name)}
	}
	return s
}

func checkpointPrefix(stream string) string { return "kinesis_checkpoint/" + stream + "/" }

func (s *storageCheckpoints) Load(ctx context.Context, shardID string) (kinesisconsumer.Checkpoint, bool, error) {
	for _, prefix := range append([]string{s.prefix}, s.legacy...) {
		data, err := s.client.Get(ctx, prefix+shardID)
		if err != nil {
			return kinesisconsumer.Checkpoint{}, false, fmt.Errorf("read checkpoint: %w", err)
		}
		if data != nil {
			cp, err := decodeCheckpoint(data)
			if err != nil {
				return cp, false, fmt.Errorf("stored checkpoint of shard %s (key %q) is unreadable: %w", shardID, prefix+shardID, err)
			}
			return cp, true, nil
		}
	}
	return kinesisconsumer.Checkpoint{}, false, nil
}

func decodeCheckpoint(data []byte) (kinesisconsumer.Checkpoint, error) {
	var sc storedCheckpoint
	if err := json.Unmarshal(data, &sc); err != nil {
		return kinesisconsumer.Checkpoint{}, fmt.Errorf("%w (value begins %q)", err, strings.ToValidUTF8(string(data[:min(len(data), 40)]), "?"))
	}
	if sc.Format > checkpointFormat {
		return kinesisconsumer.Checkpoint{}, fmt.Errorf("it is in format %d, written by a newer version of the receiver; this one reads format %d at most", sc.Format, checkpointFormat)
	}
	return sc.Checkpoint, nil
}

func (s *storageCheckpoints) Save(ctx context.Context, shardID string, cp kinesisconsumer.Checkpoint) error {
	data, err := json.Marshal(storedCheckpoint{Format: checkpointFormat, Checkpoint: cp})
	if err != nil {
		return err
	}
	return s.client.Set(ctx, s.prefix+shardID, data)
}
