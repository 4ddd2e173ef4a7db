package contactstate

import (
	"fmt"
	"testing"
)

// The keys of real-looking contacts spread evenly over the buckets, and differ wherever
// the instance and the contact ID are split.
func TestContactKeySpreads(t *testing.T) {
	const n = 256 * 400
	var counts [Buckets]int
	seen := map[uint64]bool{}
	for i := range n {
		k := contactKey("arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444",
			fmt.Sprintf("%08x-7b1d-4c39-8f7e-%012x", i, i))
		if seen[k] {
			t.Fatalf("contact %d: key %016x twice", i, k)
		}
		seen[k] = true
		counts[bucketOf(k)]++
	}
	for b, c := range counts {
		if c < 300 || c > 500 { // 400 expected; 5 standard deviations is 100
			t.Errorf("bucket %d holds %d of %d keys", b, c, n)
		}
	}
	if contactKey("ab", "c") == contactKey("a", "bc") || contactKey("", "abc") == contactKey("abc", "") {
		t.Error("the split between instance and contact ID is lost")
	}
}
