// Package pdataslab sets pdata values (strings, numbers, maps, slices) with memory carved
// from slabs: one allocation for hundreds of values, where pdata's own setters make one
// to three for each (the oneof wrapper of every value, and a list and its array for
// every map or slice). The values are pdata's own types, laid out as pdata lays them out:
// nothing downstream can tell them apart, and pdata may change or delete them as usual.
//
// It writes through mirrors of pdata's internal types, checked field by field against
// the real ones when the program starts (see checkLayout). Should a pdata upgrade change
// the layout, Enabled reports false and every method is pdata's own setter.
//
// A slab lives as long as any value carved from it: keeping one value (not a copy of it)
// keeps its slab, a few KB, alive.
package pdataslab

import (
	"unsafe"

	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Slab carves values; its zero value is ready. It is not safe for concurrent use. Slots
// are never reused: a value set here belongs to whoever holds it, for good.
type Slab struct {
	strs       chunk[stringValue]
	ints       chunk[intValue]
	doubles    chunk[doubleValue]
	bools      chunk[boolValue]
	kvlists    chunk[kvlistValue]
	lists      chunk[keyValueList]
	members    chunk[keyValue]
	arrays     chunk[arrayValue]
	arrayLists chunk[arrayValueList]
	elements   chunk[anyValue]

	// recent holds the wrappers of strings set before, by the address of their bytes: the
	// same string (an interned status, ARN or channel; the stream name) shares one.
	recent [recentStrs]recentStr
	// sharing is 1 when wrappers may be shared, -1 when not; 0 until known.
	sharing int8
}

// recentStrs is how many wrappers of recent strings are kept: an agent event has ~70
// strings, about half of them repeated from event to event.
const recentStrs = 256

type recentStr struct {
	data *byte
	n    int
	w    *stringValue
}

// PoolingGate is pdata's alpha feature gate (v1.67.0) that hands pdata's objects, its
// wrappers among them, back to pools once a pipeline call returns: a recycled wrapper is
// cleared and reused, so with it on no wrapper may be shared.
const PoolingGate = "pdata.useProtoPooling"

// sharesWrappers reports whether values may share a wrapper. Without pooling pdata never
// writes to a wrapper it did not just make (it replaces a value's wrapper, never changes
// it), so a shared wrapper is as good as one's own.
func (sl *Slab) sharesWrappers() bool {
	if sl.sharing == 0 {
		sl.sharing = 1
		featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
			if g.ID() == PoolingGate && g.IsEnabled() {
				sl.sharing = -1
			}
		})
	}
	return sl.sharing > 0
}

// smallInts are the wrappers of the integers most set (slots, levels), shared by all.
var smallInts = func() (w [16]intValue) {
	for i := range w {
		w[i].IntValue = int64(i)
	}
	return w
}()

// slabBytes is the size of a slab. Measured on eventlog's BenchmarkBuild (Go 1.26, CPU
// time an event): 64 to 192 bytes ~14% less than pdata's setters; 512 bytes no better;
// 8 KB to 32 KB worse: Go's collector scans small objects by span, cheaply, and a large
// slab costs it more than the allocations saved. At 128 bytes a map's members (40 bytes
// each) get an array of their own, as with pdata; separate slabs of members were no
// faster either. A variable for the tests.
var slabBytes = 128

func perSlab[T any]() int {
	var t T
	return max(slabBytes/int(unsafe.Sizeof(t)), 1)
}

// SetStr is v.SetStr(s).
func (sl *Slab) SetStr(v pcommon.Value, s string) {
	if !enabled {
		v.SetStr(s)
		return
	}
	if len(s) == 0 || !sl.sharesWrappers() {
		origOf(v).Value = oneof(types.str, unsafe.Pointer(sl.newStr(s)))
		return
	}
	data := unsafe.StringData(s)
	r := &sl.recent[(uintptr(unsafe.Pointer(data))>>3^uintptr(len(s)))%recentStrs]
	if r.data != data || r.n != len(s) {
		*r = recentStr{data: data, n: len(s), w: sl.newStr(s)}
	}
	origOf(v).Value = oneof(types.str, unsafe.Pointer(r.w))
}

func (sl *Slab) newStr(s string) *stringValue {
	p := sl.strs.one()
	p.StringValue = s
	return p
}

// SetInt is v.SetInt(i).
func (sl *Slab) SetInt(v pcommon.Value, i int64) {
	if !enabled {
		v.SetInt(i)
		return
	}
	var p *intValue
	if i >= 0 && i < int64(len(smallInts)) && sl.sharesWrappers() {
		p = &smallInts[i]
	} else {
		p = sl.ints.one()
		p.IntValue = i
	}
	origOf(v).Value = oneof(types.int, unsafe.Pointer(p))
}

// SetDouble is v.SetDouble(f).
func (sl *Slab) SetDouble(v pcommon.Value, f float64) {
	if !enabled {
		v.SetDouble(f)
		return
	}
	p := sl.doubles.one()
	p.DoubleValue = f
	origOf(v).Value = oneof(types.double, unsafe.Pointer(p))
}

// SetBool is v.SetBool(b).
func (sl *Slab) SetBool(v pcommon.Value, b bool) {
	if !enabled {
		v.SetBool(b)
		return
	}
	p := sl.bools.one()
	p.BoolValue = b
	origOf(v).Value = oneof(types.bool, unsafe.Pointer(p))
}

// SetEmptyMap is v.SetEmptyMap() with room for capacity members; more still fit, in an
// array of their own.
func (sl *Slab) SetEmptyMap(v pcommon.Value, capacity int) pcommon.Map {
	if !enabled {
		m := v.SetEmptyMap()
		m.EnsureCapacity(capacity)
		return m
	}
	list := sl.lists.one()
	list.Values = sl.members.many(capacity)
	w := sl.kvlists.one()
	w.KvlistValue = list
	origOf(v).Value = oneof(types.kvlist, unsafe.Pointer(w))
	return v.Map()
}

// SetEmptySlice is v.SetEmptySlice() with room for capacity elements.
func (sl *Slab) SetEmptySlice(v pcommon.Value, capacity int) pcommon.Slice {
	if !enabled {
		s := v.SetEmptySlice()
		s.EnsureCapacity(capacity)
		return s
	}
	list := sl.arrayLists.one()
	list.Values = sl.elements.many(capacity)
	w := sl.arrays.one()
	w.ArrayValue = list
	origOf(v).Value = oneof(types.array, unsafe.Pointer(w))
	return v.Slice()
}

// EnsureCapacity is m.EnsureCapacity(capacity).
func (sl *Slab) EnsureCapacity(m pcommon.Map, capacity int) {
	if !enabled {
		m.EnsureCapacity(capacity)
		return
	}
	orig := mapOrigOf(m)
	if capacity <= cap(*orig) {
		return
	}
	*orig = append(sl.members.many(capacity), *orig...)
}

// PutStr is m.PutStr(k, s).
func (sl *Slab) PutStr(m pcommon.Map, k, s string) { sl.SetStr(m.PutEmpty(k), s) }

// PutNewStr is m.PutStr(k, s) for a key the caller knows is not in m (see PutNewEmpty).
func (sl *Slab) PutNewStr(m pcommon.Map, k, s string) { sl.SetStr(sl.PutNewEmpty(m, k), s) }

// PutNewEmpty is m.PutEmpty(k) for a key the caller knows is not in m: it appends, without
// pdata's look for the key among the members already there.
func (sl *Slab) PutNewEmpty(m pcommon.Map, k string) pcommon.Value {
	if !enabled {
		return m.PutEmpty(k)
	}
	w := (*mapWrapper)(unsafe.Pointer(&m))
	members := *w.orig
	n := len(members)
	if n == cap(members) {
		*w.orig = append(members, keyValue{})
	} else {
		// Only the length changes: writing it alone writes no pointer, so it costs no
		// write barrier while the collector marks.
		(*sliceHeader)(unsafe.Pointer(w.orig)).len = n + 1
	}
	kv := &(*w.orig)[n]
	kv.Key = k
	return *(*pcommon.Value)(unsafe.Pointer(&valueWrapper{orig: &kv.Value, state: w.state}))
}

// chunk hands out the slots of one slab of Ts at a time.
type chunk[T any] struct{ free []T }

// one returns a zero slot, from a new slab of perSlab when this one is used up.
func (c *chunk[T]) one() *T {
	if len(c.free) == cap(c.free) {
		c.free = make([]T, 0, perSlab[T]())
	}
	c.free = c.free[:len(c.free)+1]
	return &c.free[len(c.free)-1]
}

// many returns an empty slice with room for n, whose appends past n go to a new array,
// never to the next slots. A request of more than a quarter of a slab gets its own array.
func (c *chunk[T]) many(n int) []T {
	switch {
	case n <= 0:
		return nil
	case n > perSlab[T]()/4:
		return make([]T, 0, n)
	case cap(c.free)-len(c.free) < n:
		c.free = make([]T, 0, perSlab[T]())
	}
	start := len(c.free)
	c.free = c.free[:start+n]
	return c.free[start : start : start+n]
}
