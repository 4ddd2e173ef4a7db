package agentstate

import (
	"sort"
	"sync"
)

// Histogram accumulates durations per key, cumulatively, with fixed bucket bounds: the
// shape of an OTLP explicit-bucket histogram with cumulative temporality.
// It keeps at most a bounded number of series (see Limit).
type Histogram[K comparable] struct {
	Bounds []float64

	mu        sync.Mutex
	series    map[K]*Series
	maxSeries int
	overflow  K
}

// DefaultMaxSeries bounds the series of a Histogram unless Limit says otherwise: about
// 200 bytes each, so at most a few MB however many statuses or queues events name.
const DefaultMaxSeries = 5000

// Series is one key's accumulated durations.
type Series struct {
	// Counts has len(Bounds)+1 buckets: values up to Bounds[0], ..., above the last bound.
	Counts   []uint64
	Count    uint64
	Sum      float64
	Min, Max float64
}

// NewHistogram returns an empty Histogram with the given ascending bounds, of at most
// DefaultMaxSeries series, the overflow one being the zero K's.
func NewHistogram[K comparable](bounds []float64) *Histogram[K] {
	return &Histogram[K]{Bounds: bounds, series: map[K]*Series{}, maxSeries: DefaultMaxSeries}
}

// Limit sets the most series h keeps, overflow's included: a value for a new key once
// h has maxSeries-1 others goes to overflow's series instead, as the OpenTelemetry SDKs
// do past their cardinality limit. It returns h.
func (h *Histogram[K]) Limit(maxSeries int, overflow K) *Histogram[K] {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.maxSeries, h.overflow = max(maxSeries, 1), overflow
	return h
}

// Record adds a value to key's series.
func (h *Histogram[K]) Record(key K, v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[key]
	if s == nil && key != h.overflow {
		room := h.maxSeries - len(h.series)
		if _, ok := h.series[h.overflow]; !ok {
			room-- // keep a place for the overflow series
		}
		if room <= 0 {
			key = h.overflow
			s = h.series[key]
		}
	}
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
