package kinesisconsumer

import (
	"context"
	"errors"
)

// ErrLeaseLost is what a CheckpointStore's Save returns (wrapped) when this consumer no
// longer holds the shard: another consumer took its lease. The shard's reader stops at
// once and hands nothing more to the Processor.
var ErrLeaseLost = errors.New("lease lost")

// StopReason says why reading a shard stopped.
type StopReason int

const (
	// StopShutdown: the consumer is shutting down; its last checkpoint was saved if it
	// could be.
	StopShutdown StopReason = iota
	// StopShardEnd: the shard was read to its end; its children carry its records on.
	StopShardEnd
	// StopLeaseLost: the shard's lease is held elsewhere now, found on a checkpoint save
	// or a renewal.
	StopLeaseLost
	// StopUnassigned: the Assigner no longer assigns the shard here.
	StopUnassigned
	// StopShardGone: Kinesis no longer knows the shard (or the stream).
	StopShardGone
	// StopHandedOver: the shard's lease was asked for by another consumer, to balance the
	// fleet; the reader stopped as at shutdown (the batch in flight finished and
	// checkpointed) and the lease was handed over.
	StopHandedOver
)

func (r StopReason) String() string {
	switch r {
	case StopShutdown:
		return "shutdown"
	case StopShardEnd:
		return "shard_end"
	case StopLeaseLost:
		return "lease_lost"
	case StopUnassigned:
		return "unassigned"
	case StopShardGone:
		return "shard_gone"
	case StopHandedOver:
		return "handed_over"
	}
	return "unknown"
}

// ShardHooks is implemented by a Processor that wants to hear when this consumer starts
// and stops reading a shard, to keep state by shard. ShardStarted comes before the
// shard's first batch (replayed or not); ShardStopped after its last one. Neither may
// block for long.
type ShardHooks interface {
	ShardStarted(shardID string)
	ShardStopped(shardID string, reason StopReason)
}

// Revoker is implemented by an Assigner whose assignments can end between two calls of
// Assign: a lease found lost when it is renewed.
type Revoker interface {
	// OnRevoke registers fn, to be called with a shard ID that is no longer assigned
	// here. fn does not block. It is called before the consumer starts.
	OnRevoke(fn func(shardID string))
}

// Releaser is implemented by an Assigner that gives its shards back when the consumer
// shuts down: Release runs after every reader has stopped and saved its last checkpoint.
type Releaser interface {
	Release(ctx context.Context) error
}

// HandOverer is implemented by an Assigner whose shards other consumers may ask for: a
// lease stolen to balance the fleet is handed over by its holder, so that what the
// holder was handing on is finished and checkpointed rather than read twice.
type HandOverer interface {
	// OnHandOver registers fn, to be called with a shard another consumer asked for. The
	// consumer stops the shard's reader as a shutdown does (reading ends, the batch in
	// flight finishes within ShutdownGrace and is checkpointed, else it is abandoned),
	// then calls done, which hands the lease over. fn does not block. It is called
	// before the consumer starts.
	OnHandOver(fn func(shardID string, done func()))
}
