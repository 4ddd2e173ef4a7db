package intern

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// Long status or queue names could fill the shared strings with megabytes each: their
// bytes are bounded, not just their number, and past the bound a string is still handed
// back (as its own copy), so nothing is lost.
func TestSharedStringsBoundedInBytes(t *testing.T) {
	const maxBytes = 1 << 20
	s := New(1<<16, maxBytes)
	long := strings.Repeat("x", 64<<10)
	for i := range 2 * maxBytes / len(long) {
		v := fmt.Sprintf("%06d%s", i, long)
		assert.Equal(t, v, s.Get(v))
	}
	held := 0
	for k := range s.strs {
		held += len(k)
	}
	assert.LessOrEqual(t, held, maxBytes)
	assert.Equal(t, held, s.Bytes())
	assert.Positive(t, held)
}

// A string is shared once, and never the caller's memory, which a decoder reuses.
func TestSharedCopy(t *testing.T) {
	s := New(10, 1<<10)
	buf := []byte("BasicQueue")
	a := s.Get(string(buf))
	buf[0] = 'X'
	b := s.Get("BasicQueue")
	assert.Equal(t, "BasicQueue", a)
	assert.Same(t, unsafe.StringData(a), unsafe.StringData(b))
	assert.Len(t, s.strs, 1)
	assert.Empty(t, s.Get(""))
}
