package kinesisconsumer

// keySet is a set of 64-bit keys in one array, open addressing with linear probing: for
// a full duplicate window about a third of a map[uint64]struct{}'s memory, which
// matters as a collector holds one window per shard.
type keySet struct {
	// slots holds the keys; 0 marks an empty slot, so key 0 lives in zero instead.
	slots []uint64
	mask  uint64
	zero  bool
}

// newKeySet returns a set for at most limit keys, its table under two thirds full.
func newKeySet(limit int) keySet {
	size := 8
	for size < limit+limit/2 {
		size <<= 1
	}
	return keySet{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// home is where key k's probe starts. Keys are FNV-1a hashes already; the fold mixes
// their high bits in.
func (s *keySet) home(k uint64) uint64 { return (k ^ k>>32) & s.mask }

func (s *keySet) has(k uint64) bool {
	if k == 0 {
		return s.zero
	}
	for i := s.home(k); ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// add puts k in the set; the caller keeps it within the limit it was made for.
func (s *keySet) add(k uint64) {
	if k == 0 {
		s.zero = true
		return
	}
	i := s.home(k)
	for s.slots[i] != 0 && s.slots[i] != k {
		i = (i + 1) & s.mask
	}
	s.slots[i] = k
}

// remove takes k out, shifting back the keys probed past its slot so that every key
// stays reachable from its home without tombstones.
func (s *keySet) remove(k uint64) {
	if k == 0 {
		s.zero = false
		return
	}
	i := s.home(k)
	for s.slots[i] != k {
		if s.slots[i] == 0 {
			return
		}
		i = (i + 1) & s.mask
	}
	for j := (i + 1) & s.mask; s.slots[j] != 0; j = (j + 1) & s.mask {
		// The key at j may move to the hole at i unless its home lies cyclically in
		// (i, j]: there it would become unreachable.
		h := s.home(s.slots[j])
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
}
