package kinesisconsumer

import (
	"math/rand/v2"
	"testing"
)

// keySet answers as a map does through any mix of adds and removes, on a table small
// enough that probes collide and wrap around its end all the time.
func TestKeySetAnswersAsAMap(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		const limit = 10 // a table of 16 slots
		s := newKeySet(limit)
		want := map[uint64]bool{}
		var order []uint64 // members, oldest first, as the ring keeps them
		for step := range 2000 {
			k := rng.Uint64N(40) // 0 included, many keys per home
			if rng.IntN(3) == 0 && len(order) > 0 {
				i := rng.IntN(len(order))
				k = order[i]
				order = append(order[:i], order[i+1:]...)
				s.remove(k)
				delete(want, k)
			} else if !want[k] {
				if len(order) == limit {
					s.remove(order[0])
					delete(want, order[0])
					order = order[1:]
				}
				s.add(k)
				want[k] = true
				order = append(order, k)
			}
			for q := range uint64(40) {
				if s.has(q) != want[q] {
					t.Fatalf("seed %d step %d: has(%d) = %v, want %v", seed, step, q, s.has(q), want[q])
				}
			}
		}
	}
}

// Removing a key that is not there changes nothing.
func TestKeySetRemoveAbsent(t *testing.T) {
	s := newKeySet(4)
	s.add(3)
	s.add(11) // the same home as 3 in 8 slots
	s.remove(19)
	s.remove(0)
	if !s.has(3) || !s.has(11) || s.has(19) || s.has(0) {
		t.Fatalf("set changed by removing absent keys: %v", s.slots)
	}
}
