package kinesisconsumer

import (
	"crypto/md5"
	"math/big"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// hashRange is the range of hash keys a shard holds; Kinesis routes a record to the open
// shard whose range holds the MD5 of its partition key, read as a 128-bit integer.
type hashRange struct {
	start, end *big.Int // nil: every key
}

func shardHashRange(s *types.Shard) hashRange {
	if s == nil || s.HashKeyRange == nil || s.HashKeyRange.StartingHashKey == nil || s.HashKeyRange.EndingHashKey == nil {
		return hashRange{}
	}
	start, ok1 := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
	end, ok2 := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
	if !ok1 || !ok2 {
		return hashRange{}
	}
	return hashRange{start: start, end: end}
}

// holds says whether the record's partition key falls in the range.
func (h hashRange) holds(r *Record) bool {
	if h.start == nil {
		return true
	}
	sum := md5.Sum([]byte(r.PartitionKey))
	k := new(big.Int).SetBytes(sum[:])
	return k.Cmp(h.start) >= 0 && k.Cmp(h.end) <= 0
}
