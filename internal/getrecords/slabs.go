package getrecords

import (
	"context"
	"math/bits"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// The data of a response's records are decoded into one slab. A new slab of megabytes
// is zeroed by make before the data are written over it: that zeroing was 12 to 15% of
// the collector's CPU profile on kinesis-local (docs/performance.md, "GetRecords decoding").
// So a caller done with every record of a response hands its slab back with Recycle,
// and the next response is decoded into it, unzeroed: a record's data cover only what
// was written for it.
//
// The slab travels with the response: in the GetRecords output's ResultMetadata, put
// there by slabMiddleware around the SDK's deserializer.

// slabRef is a response's slab, until it is recycled.
type slabRef struct {
	mu   sync.Mutex
	slab []byte
}

type slabKey struct{}

// idle holds the recycled slabs, ready for the next responses.
var idle = struct {
	sync.Mutex
	slabs [][]byte
	// poison overwrites a recycled slab, for tests (Poison).
	poison bool
}{}

const (
	// idleSlabs is how many recycled slabs are kept: as for bodies, reads of several
	// shards at once take fresh ones beyond that.
	idleSlabs = 2
	// maxKeptSlab is the largest slab kept: 1,000 records of 4 KB is 4 MB of data.
	maxKeptSlab = 8 << 20
)

// takeSlab returns an empty slab of at least size bytes: the smallest recycled one that
// is large enough, else a new one.
func takeSlab(size int) []byte {
	idle.Lock()
	defer idle.Unlock()
	best := -1
	for i, s := range idle.slabs {
		if cap(s) >= size && (best < 0 || cap(s) < cap(idle.slabs[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, 0, slabSize(size))
	}
	s := idle.slabs[best]
	last := len(idle.slabs) - 1
	idle.slabs[best], idle.slabs[last] = idle.slabs[last], nil
	idle.slabs = idle.slabs[:last]
	return s
}

// slabSize is the capacity of a new slab for size bytes: an eighth more, rounded up to an
// eighth of its power of two, so that the next responses, a few records more or a little
// larger, fit it too. At least minSlab: a quiet shard's responses are small.
func slabSize(size int) int {
	size += size / 8
	if size <= minSlab {
		return minSlab
	}
	step := 1 << (bits.Len(uint(size)) - 3)
	return (size + step - 1) &^ (step - 1)
}

const minSlab = 64 << 10

// Recycle hands back the slab of the GetRecords response whose output's ResultMetadata
// md is, for the next response to be decoded into. The caller must be done with the Data
// of every record of that response, for good: they will be overwritten. A second call
// for the same response, and a response of another decoder, are ignored.
func Recycle(md middleware.Metadata) {
	ref, ok := md.Get(slabKey{}).(*slabRef)
	if !ok {
		return
	}
	ref.mu.Lock()
	slab := ref.slab
	ref.slab = nil
	ref.mu.Unlock()
	if cap(slab) == 0 || cap(slab) > maxKeptSlab {
		return
	}
	idle.Lock()
	defer idle.Unlock()
	if idle.poison {
		slab = slab[:cap(slab)]
		for i := range slab {
			slab[i] = 0xA5
		}
	}
	if len(idle.slabs) < idleSlabs {
		idle.slabs = append(idle.slabs, slab[:0])
		return
	}
	// Full: this one takes the place of the smallest, which fewer responses fit (those of
	// a quiet spell, say, before a backlog).
	smallest := 0
	for i, s := range idle.slabs {
		if cap(s) < cap(idle.slabs[smallest]) {
			smallest = i
		}
	}
	if cap(slab) > cap(idle.slabs[smallest]) {
		idle.slabs[smallest] = slab[:0]
	}
}

// Poison makes Recycle overwrite every slab it takes back, so that a test that reads a
// record's data after recycling it reads garbage instead of what it expects.
func Poison(on bool) {
	idle.Lock()
	defer idle.Unlock()
	idle.poison = on
}

// slabMiddleware puts the slab that DeserializeResponse decoded a GetRecords response's
// data into in the response's metadata, where Recycle finds it: the protocol sees the
// output, not the metadata the SDK then gives it.
type slabMiddleware struct{}

// slabHolder is where DeserializeResponse leaves the slab, found in its context.
type slabHolder struct{ slab []byte }

type holderKey struct{}

func (slabMiddleware) ID() string { return "getrecords.RecycleSlab" }

func (slabMiddleware) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	holder := &slabHolder{}
	out, md, err := next.HandleDeserialize(context.WithValue(ctx, holderKey{}, holder), in)
	if err == nil && holder.slab != nil {
		md.Set(slabKey{}, &slabRef{slab: holder.slab})
	}
	return out, md, err
}

// slabHolderOf is where DeserializeResponse leaves its slab for the slabMiddleware
// around it; nil without one (the slab could not be recycled).
func slabHolderOf(ctx context.Context) *slabHolder {
	h, _ := ctx.Value(holderKey{}).(*slabHolder)
	return h
}

// addSlabMiddleware places slabMiddleware around the SDK's deserializer.
func addSlabMiddleware(stack *middleware.Stack) error {
	return stack.Deserialize.Insert(slabMiddleware{}, "OperationDeserializer", middleware.Before)
}
