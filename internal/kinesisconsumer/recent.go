package kinesisconsumer

import "encoding/binary"

// RecentKeys remembers the keys (an event's ID, say) of the last records a shard handed
// on, so that a record the stream carries twice is dropped: a producer that retries a
// write whose answer it lost writes the record again, with a sequence number of its own.
// The consumer saves the window with the shard's checkpoint, so it outlives a restart,
// and a child shard starts with its parents' windows.
//
// It cannot catch a batch read again because the collector stopped between handing it on
// and saving its checkpoint: the window saved is the one of that older checkpoint.
//
// A Processor calls Admit for each record of a batch. The keys it admits are remembered
// only once the batch is accepted: a batch offered again gets the same answers.
//
// A window belongs to its shard's reader and is not safe for concurrent use. The methods
// of a nil *RecentKeys admit everything: no duplicate removal.
type RecentKeys struct {
	limit int
	// ring holds the remembered keys, oldest at next once it is full. Keys are 64-bit
	// FNV-1a hashes: stable across restarts, 8 bytes each, and with a window of 10^5 keys
	// the odds of a false match stay below 1 in 10^14 per record.
	ring   []uint64
	next   int
	member keySet
	// staged are the keys admitted in the batch being offered, in order.
	staged    []uint64
	stagedSet map[uint64]struct{}
}

// NewRecentKeys returns an empty window of limit keys; nil, which admits everything, for
// a limit of 0.
func NewRecentKeys(limit int) *RecentKeys {
	if limit <= 0 {
		return nil
	}
	return &RecentKeys{limit: limit, member: newKeySet(limit), stagedSet: map[uint64]struct{}{}}
}

// keyHash is FNV-1a, 64 bits (as hash/fnv's New64a), without allocating.
func keyHash(key string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime
	}
	return h
}

// Admit reports whether a record with this key is new: not handed on lately, nor earlier
// in this batch. An empty key (a record that has none) is always admitted.
func (r *RecentKeys) Admit(key string) bool {
	if r == nil || key == "" {
		return true
	}
	h := keyHash(key)
	if r.member.has(h) {
		return false
	}
	if _, ok := r.stagedSet[h]; ok {
		return false
	}
	r.staged = append(r.staged, h)
	r.stagedSet[h] = struct{}{}
	return true
}

// Len is how many keys are remembered.
func (r *RecentKeys) Len() int {
	if r == nil {
		return 0
	}
	return len(r.ring)
}

// discard forgets the keys admitted since the last commit: the batch was not accepted.
func (r *RecentKeys) discard() {
	if r == nil {
		return
	}
	r.staged = r.staged[:0]
	clear(r.stagedSet)
}

// commit remembers the keys admitted since the last commit, forgetting the oldest beyond
// the limit: the batch was accepted.
func (r *RecentKeys) commit() {
	if r == nil {
		return
	}
	for _, h := range r.staged {
		r.remember(h)
	}
	r.discard()
}

func (r *RecentKeys) remember(h uint64) {
	if r.member.has(h) {
		return
	}
	if len(r.ring) < r.limit {
		r.ring = append(r.ring, h)
	} else {
		r.member.remove(r.ring[r.next])
		r.ring[r.next] = h
		r.next = (r.next + 1) % r.limit
	}
	r.member.add(h)
}

// encode is the remembered keys, oldest first, 8 bytes each, for a checkpoint.
func (r *RecentKeys) encode() []byte {
	if r == nil || len(r.ring) == 0 {
		return nil
	}
	out := make([]byte, 0, 8*len(r.ring))
	for i := range r.ring {
		out = binary.BigEndian.AppendUint64(out, r.ring[(r.next+i)%len(r.ring)])
	}
	return out
}

// restore adds the keys of encoded windows (a shard's own checkpoint, or its parents'
// final ones), oldest first; beyond the limit the newest are kept. Bytes that do not
// make a whole key are ignored.
func (r *RecentKeys) restore(encoded ...[]byte) {
	if r == nil {
		return
	}
	for _, data := range encoded {
		for ; len(data) >= 8; data = data[8:] {
			r.remember(binary.BigEndian.Uint64(data))
		}
	}
}
