package leases

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// Attribute names: KCL's where they fit, so operators who know KCL's table can read ours.
const (
	attrKey           = "leaseKey"
	attrOwner         = "leaseOwner"
	attrCounter       = "leaseCounter"
	attrCheckpoint    = "checkpoint"
	attrSubSequence   = "checkpointSubSequenceNumber"
	attrOwnerSwitches = "ownerSwitchesSinceCheckpoint"
	attrParents       = "parentShardIds"
	attrStream        = "streamArn"
	// Ours: the rest of a kinesisconsumer.Checkpoint.
	attrArrival   = "checkpointArrivalTime"
	attrStartedAt = "startedAt"
	attrRecent    = "recentEventIds"
	// attrEndSequence keeps the last sequence number read of a shard whose checkpoint is
	// SHARD_END.
	attrEndSequence = "shardEndSequenceNumber"
	// attrPendingOwner names the worker that asked for the lease to balance the fleet:
	// the owner hands it over once its reader has finished what it was handing on.
	attrPendingOwner = "pendingOwner"
)

// lease is one item of the table, as scanned or read.
type lease struct {
	key           string
	owner         string // "" when free
	pendingOwner  string // the worker the owner is to hand the lease over to; "" for none
	counter       int64
	checkpoint    string // a sequence number or a sentinel
	ownerSwitches int64
	parents       []string
	stream        string
	arrival       time.Time
	startedAt     time.Time
	recent        []byte
	endSequence   string
}

func isSentinel(cp string) bool {
	switch cp {
	case sentinelTrimHorizon, sentinelLatest, sentinelAtTimestamp, sentinelShardEnd:
		return true
	}
	return false
}

func (l *lease) shardEnd() bool { return l.checkpoint == sentinelShardEnd }

// toCheckpoint maps the item to a consumer checkpoint; false when it holds none: a
// sentinel other than SHARD_END, with no start time nor duplicate window.
func (l *lease) toCheckpoint() (kinesisconsumer.Checkpoint, bool) {
	cp := kinesisconsumer.Checkpoint{ArrivalTime: l.arrival, StartedAt: l.startedAt, RecentKeys: l.recent}
	switch {
	case l.checkpoint == sentinelShardEnd:
		cp.ShardEnd = true
		cp.SequenceNumber = l.endSequence
	case isSentinel(l.checkpoint) || l.checkpoint == "":
		if l.startedAt.IsZero() && len(l.recent) == 0 {
			return kinesisconsumer.Checkpoint{}, false
		}
	default:
		cp.SequenceNumber = l.checkpoint
	}
	return cp, true
}

// checkpointAttributes are the attributes that store cp; the names in remove are those
// cp leaves empty. blank is the sentinel of a checkpoint with no sequence number nor
// start time.
func checkpointAttributes(cp kinesisconsumer.Checkpoint, blank string) (set map[string]types.AttributeValue, remove []string) {
	set = map[string]types.AttributeValue{}
	switch {
	case cp.ShardEnd:
		set[attrCheckpoint] = str(sentinelShardEnd)
	case cp.SequenceNumber != "":
		set[attrCheckpoint] = str(cp.SequenceNumber)
	case !cp.StartedAt.IsZero():
		set[attrCheckpoint] = str(sentinelAtTimestamp)
	default:
		set[attrCheckpoint] = str(blank)
	}
	optional := func(name string, v types.AttributeValue, present bool) {
		if present {
			set[name] = v
		} else {
			remove = append(remove, name)
		}
	}
	optional(attrEndSequence, str(cp.SequenceNumber), cp.ShardEnd && cp.SequenceNumber != "")
	optional(attrArrival, str(cp.ArrivalTime.UTC().Format(time.RFC3339Nano)), !cp.ArrivalTime.IsZero())
	optional(attrStartedAt, str(cp.StartedAt.UTC().Format(time.RFC3339Nano)), !cp.StartedAt.IsZero())
	optional(attrRecent, &types.AttributeValueMemberB{Value: cp.RecentKeys}, len(cp.RecentKeys) > 0)
	return set, remove
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func keyOf(shardID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrKey: str(shardID)}
}

// decodeLease reads an item; an attribute of the wrong type is an error naming it.
func decodeLease(item map[string]types.AttributeValue) (*lease, error) {
	l := &lease{}
	var err error
	getS := func(name string, dst *string) {
		v, ok := item[name]
		if !ok || err != nil {
			return
		}
		s, isS := v.(*types.AttributeValueMemberS)
		if !isS {
			err = fmt.Errorf("attribute %s is not a string", name)
			return
		}
		*dst = s.Value
	}
	getN := func(name string, dst *int64) {
		v, ok := item[name]
		if !ok || err != nil {
			return
		}
		n, isN := v.(*types.AttributeValueMemberN)
		if !isN {
			err = fmt.Errorf("attribute %s is not a number", name)
			return
		}
		*dst, err = strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			err = fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	getT := func(name string, dst *time.Time) {
		var s string
		getS(name, &s)
		if s == "" || err != nil {
			return
		}
		*dst, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			err = fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	getS(attrKey, &l.key)
	getS(attrOwner, &l.owner)
	getS(attrPendingOwner, &l.pendingOwner)
	getN(attrCounter, &l.counter)
	getS(attrCheckpoint, &l.checkpoint)
	getN(attrOwnerSwitches, &l.ownerSwitches)
	getS(attrStream, &l.stream)
	getS(attrEndSequence, &l.endSequence)
	getT(attrArrival, &l.arrival)
	getT(attrStartedAt, &l.startedAt)
	if v, ok := item[attrParents]; ok && err == nil {
		ss, isSS := v.(*types.AttributeValueMemberSS)
		if !isSS {
			err = fmt.Errorf("attribute %s is not a string set", attrParents)
		} else {
			l.parents = slices.Sorted(slices.Values(ss.Value))
		}
	}
	if v, ok := item[attrRecent]; ok && err == nil {
		b, isB := v.(*types.AttributeValueMemberB)
		if !isB {
			err = fmt.Errorf("attribute %s is not binary", attrRecent)
		} else {
			l.recent = b.Value
		}
	}
	if err == nil && l.key == "" {
		err = fmt.Errorf("no %s", attrKey)
	}
	if err != nil {
		return nil, fmt.Errorf("lease item %q: %w", l.key, err)
	}
	return l, nil
}
