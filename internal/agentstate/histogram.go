package agentstate

import (
	"sort"
	"sync"
)

// Histogram accumulates durations per key, cumulatively, with fixed bucket bounds: the
// shape of an OTLP explicit-bucket histogram with cumulative temporality.
type Histogram[K comparable] struct {
	Bounds []float64

	mu     sync.Mutex
	series map[K]*Series
}

// Series is one key's accumulated durations.
type Series struct {
	// Counts has len(Bounds)+1 buckets: values up to Bounds[0], ..., above the last bound.
	Counts   []uint64
	Count    uint64
	Sum      float64
	Min, Max float64
}

// NewHistogram returns an empty Histogram with the given ascending bounds.
func NewHistogram[K comparable](bounds []float64) *Histogram[K] {
	return &Histogram[K]{Bounds: bounds, series: map[K]*Series{}}
}

// Record adds a value to key's series.
func (h *Histogram[K]) Record(key K, v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[key]
	if s == nil {
		s = &Series{Counts: make([]uint64, len(h.Bounds)+1), Min: v, Max: v}
		h.series[key] = s
	}
	// A value equal to a bound belongs to that bound's bucket (upper bounds are inclusive).
	s.Counts[sort.SearchFloat64s(h.Bounds, v)]++
	s.Count++
	s.Sum += v
	s.Min, s.Max = min(s.Min, v), max(s.Max, v)
}

// Each calls fn with a copy of every series.
func (h *Histogram[K]) Each(fn func(K, Series)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, s := range h.series {
		c := *s
		c.Counts = append([]uint64(nil), s.Counts...)
		fn(k, c)
	}
}
