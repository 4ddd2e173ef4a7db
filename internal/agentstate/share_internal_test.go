package agentstate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Long status or queue names could fill the shared strings with megabytes each: their
// bytes are bounded, not just their number, and past the bound a string is still handed
// back (as its own copy), so nothing is lost.
func TestSharedStringsBoundedInBytes(t *testing.T) {
	s := New(0)
	long := strings.Repeat("x", 64<<10)
	for i := range 2 * maxSharedBytes / len(long) {
		v := fmt.Sprintf("%06d%s", i, long)
		assert.Equal(t, v, s.share(v))
	}
	held := 0
	for k := range s.strs {
		held += len(k)
	}
	assert.LessOrEqual(t, held, maxSharedBytes)
	assert.Equal(t, held, s.strBytes)
	assert.Positive(t, held)
}
