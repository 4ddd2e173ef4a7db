package agentevent

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// needsLook must flag a chunk exactly when one of its bytes is a quote, a backslash or a
// control character, wherever that byte sits, whatever the other bytes are.
func TestNeedsLookEveryByteEveryPosition(t *testing.T) {
	for _, filler := range []byte{'a', ' ', 0x7f, 0x80, 0xc3, 0xff} {
		for pos := range 8 {
			for b := range 256 {
				chunk := [8]byte{}
				for i := range chunk {
					chunk[i] = filler
				}
				chunk[pos] = byte(b)
				want := b == '"' || b == '\\' || b < 0x20
				if got := needsLook(binary.LittleEndian.Uint64(chunk[:])); got != want {
					t.Fatalf("filler %#x, byte %#x at %d: needsLook = %v, want %v", filler, b, pos, got, want)
				}
			}
		}
	}
}

// The lowest byte lookMask marks is the first byte that needs a look, with any bytes at
// all after it (a borrow marks some of those too).
func TestLookMaskFindsTheFirstByte(t *testing.T) {
	special := func(b byte) bool { return b == '"' || b == '\\' || b < 0x20 }
	for _, filler := range []byte{'a', ' ', 0x7f, 0x80, 0xc3, 0xff} {
		for pos := range 8 {
			for b := range 256 {
				for _, after := range []byte{filler, 0, '"', '\\', 0x1f, 0x20, 0x21, 0xa0} {
					chunk := [8]byte{}
					for i := range chunk {
						chunk[i] = filler
						if i > pos {
							chunk[i] = after
						}
					}
					chunk[pos] = byte(b)
					want := 8
					for i, c := range chunk {
						if special(c) {
							want = i
							break
						}
					}
					got := 8
					if m := lookMask(binary.LittleEndian.Uint64(chunk[:])); m != 0 {
						got = bits.TrailingZeros64(m) / 8
					}
					if got != want {
						t.Fatalf("chunk % x: first byte to look at %d, want %d", chunk, got, want)
					}
				}
			}
		}
	}
}

func TestScannerRejectsWhatJSONRejects(t *testing.T) {
	for _, doc := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{"a":[1,]}`, `{"a":[,1]}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"tab\there\"}", `{"a":"unterminated}`, `{"a":1}x`, `{"a":1}{}`,
		`{'a':1}`, `{"a":NaN}`, `{"a":Infinity}`,
	} {
		d := NewDecoder()
		var ev Event
		err := d.Decode([]byte(doc), &ev, nil)
		de, ok := err.(*DecodeError)
		if !ok || de.Kind != ErrKindInvalidJSON {
			t.Errorf("%q: got %v, want an invalid_json error", doc, err)
		}
	}
}

func TestScannerNestingIsBounded(t *testing.T) {
	deep := make([]byte, 0, 4*maxDepth)
	deep = append(deep, `{"EventType":"LOGIN","x":`...)
	for range maxDepth + 1 {
		deep = append(deep, '[')
	}
	for range maxDepth + 1 {
		deep = append(deep, ']')
	}
	deep = append(deep, '}')
	var ev Event
	err := NewDecoder().Decode(deep, &ev, nil)
	de, ok := err.(*DecodeError)
	if !ok || de.Kind != ErrKindInvalidJSON {
		t.Fatalf("got %v, want invalid_json for nesting deeper than %d", err, maxDepth)
	}
}
