package kinesisconsumer

import (
	"context"
	"sync"
	"time"
)

// Checkpoint is how far a shard has been read and handed on.
type Checkpoint struct {
	// SequenceNumber is the last record the Processor accepted.
	SequenceNumber string `json:"sequence_number,omitempty"`
	// ArrivalTime is when that record reached the stream.
	ArrivalTime time.Time `json:"arrival_time,omitzero"`
	// ShardEnd is set once a closed shard has been read to its end.
	ShardEnd bool `json:"shard_end,omitempty"`
	// StartedAt is set for a shard first opened at LATEST before any record was accepted:
	// a restart resumes at that time instead of at a new LATEST, so records that arrived
	// while the collector was down are not skipped.
	StartedAt time.Time `json:"started_at,omitzero"`
	// RecentKeys are the keys of the last records accepted (see RecentKeys), when
	// duplicate removal is on.
	RecentKeys []byte `json:"recent_keys,omitempty"`
}

// CheckpointStore keeps shard checkpoints.
type CheckpointStore interface {
	// Load returns the shard's checkpoint, and false if it has none.
	Load(ctx context.Context, shardID string) (Checkpoint, bool, error)
	Save(ctx context.Context, shardID string, cp Checkpoint) error
}

// MemoryStore keeps checkpoints in memory only: a restart starts over from the
// configured start position.
type MemoryStore struct {
	mu  sync.Mutex
	cps map[string]Checkpoint
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{cps: map[string]Checkpoint{}}
}

// Load implements CheckpointStore.
func (m *MemoryStore) Load(_ context.Context, shardID string) (Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[shardID]
	return cp, ok, nil
}

// Save implements CheckpointStore.
func (m *MemoryStore) Save(_ context.Context, shardID string, cp Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[shardID] = cp
	return nil
}
