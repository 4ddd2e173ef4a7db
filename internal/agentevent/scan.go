package agentevent

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner reads one JSON document (RFC 8259, strictly) front to back without building a
// tree: the decoder asks it for the next key or value where the data model expects one.
// A syntax error panics with a *syntaxError, which Decode recovers.
type scanner struct {
	data  []byte
	pos   int
	depth int
	// keyBuf and strBuf hold keys and string values that had escapes, unescaped; a key
	// stays valid while its value is read.
	keyBuf, strBuf []byte
	// keyEscaped says the last key read is in keyBuf, not in data.
	keyEscaped bool
}

type syntaxError struct {
	msg string
	// detail quotes the offending input, if any.
	detail string
	pos    int
}

// maxDepth bounds nesting, so that hostile input cannot exhaust the stack. Agent events
// nest six levels deep.
const maxDepth = 64

type kind uint8

const (
	kindObject kind = iota
	kindArray
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

func (k kind) String() string {
	return [...]string{"object", "array", "string", "number", "true", "false", "null"}[k]
}

func (s *scanner) reset(data []byte) {
	s.data, s.pos, s.depth = data, 0, 0
}

func (s *scanner) fail(msg string) {
	panic(&syntaxError{msg: msg, pos: s.pos})
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// next returns the kind of the next value, without reading it.
func (s *scanner) next() kind {
	switch c := s.peek(); {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	case c == 't':
		return kindTrue
	case c == 'f':
		return kindFalse
	case c == 'n':
		return kindNull
	case c == 0 && s.pos >= len(s.data):
		s.fail("unexpected end of input")
	}
	panic(&syntaxError{msg: "unexpected character", detail: strconv.QuoteRune(rune(s.data[s.pos])), pos: s.pos})
}

// end checks that nothing but white space follows the document.
func (s *scanner) end() {
	if s.peek() != 0 || s.pos < len(s.data) {
		s.fail("unexpected data after the document")
	}
}

func (s *scanner) literal(lit string) {
	if !bytes.HasPrefix(s.data[s.pos:], unsafe.Slice(unsafe.StringData(lit), len(lit))) {
		s.fail("invalid literal")
	}
	s.pos += len(lit)
}

func (s *scanner) enter() {
	s.pos++ // '{' or '['
	s.depth++
	if s.depth > maxDepth {
		s.fail("nested too deep")
	}
}

// nextKey reads the next key of the object being read and the colon after it; false means
// the object ended. first is true before its first member.
func (s *scanner) nextKey(first *bool) ([]byte, bool) {
	c := s.peek()
	if c == '}' {
		s.pos++
		s.depth--
		return nil, false
	}
	if !*first {
		if c != ',' {
			s.fail("expected ',' or '}' after an object member")
		}
		s.pos++
		c = s.peek()
	}
	*first = false
	if c != '"' {
		s.fail("expected a string key")
	}
	key := s.readString(&s.keyBuf)
	s.keyEscaped = len(key) > 0 && len(s.keyBuf) > 0 && unsafe.SliceData(key) == unsafe.SliceData(s.keyBuf)
	if s.peek() != ':' {
		s.fail("expected ':' after a key")
	}
	s.pos++
	return key, true
}

// nextElement says whether the array being read has another element, and moves to it.
func (s *scanner) nextElement(first *bool) bool {
	c := s.peek()
	if c == ']' {
		s.pos++
		s.depth--
		return false
	}
	if !*first {
		if c != ',' {
			s.fail("expected ',' or ']' after an array element")
		}
		s.pos++
	}
	*first = false
	return true
}

// readString reads a string at pos (its opening quote). Without escapes it returns the
// bytes inside the record; with escapes, their unescaped form in *buf, valid until the
// next string read into the same buffer.
func (s *scanner) readString(buf *[]byte) []byte {
	start := s.pos + 1
	for i := skipPlain(s.data, start); i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return s.data[start:i]
		case c == '\\':
			return s.readEscaped(start, i, buf)
		case c < 0x20:
			s.pos = i
			s.fail("control character in a string")
		}
	}
	s.pos = len(s.data)
	s.fail("unterminated string")
	return nil
}

// skipPlain returns the index of the first byte from i on that may need a look inside a
// string (see lookMask), going eight bytes at a time; only the last few bytes before the
// end of d, where no whole word is left, are for the caller to go through one by one.
func skipPlain(d []byte, i int) int {
	for i+8 <= len(d) {
		if m := lookMask(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	return i
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// needsLook reports whether any of the eight bytes in x ends a string, starts an escape
// or is a control character: a quote, a backslash, or a byte below 0x20.
func needsLook(x uint64) bool { return lookMask(x) != 0 }

// lookMask has the high bit set of each byte of x (little-endian) that may need a look.
// The lowest set bit is exact: a borrow can only mark bytes above a byte that does need
// one.
func lookMask(x uint64) uint64 {
	quote := x ^ (lowBits * '"')
	backslash := x ^ (lowBits * '\\')
	zeroQuote := (quote - lowBits) &^ quote
	zeroBackslash := (backslash - lowBits) &^ backslash
	below20 := (x - lowBits*0x20) &^ x
	return (zeroQuote | zeroBackslash | below20) & highBits
}

func (s *scanner) readEscaped(start, i int, buf *[]byte) []byte {
	out := append((*buf)[:0], s.data[start:i]...)
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			*buf = out
			return out
		case c < 0x20:
			s.pos = i
			s.fail("control character in a string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s.data) {
			break
		}
		switch e := s.data[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.data[i+2:])
			if !ok {
				s.pos = i
				s.fail("invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half becomes U+FFFD, as encoding/json does.
				r2, ok := rune(-1), false
				if i+1 < len(s.data) && s.data[i] == '\\' && s.data[i+1] == 'u' {
					r2, ok = hex4(s.data[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			s.pos = i
			s.fail("invalid escape")
		}
		i += 2
	}
	s.pos = len(s.data)
	s.fail("unterminated string")
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// readNumber reads a number and reports whether it is an integer that fits an int64; if
// not, it returns the number as a float64.
func (s *scanner) readNumber() (i int64, f float64, isInt bool) {
	start := s.pos
	p := s.pos
	d := s.data
	neg := p < len(d) && d[p] == '-'
	if neg {
		p++
	}
	digits := func() int {
		n := 0
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
			n++
		}
		return n
	}
	intStart := p
	switch {
	case p < len(d) && d[p] == '0':
		p++
	case digits() == 0:
		s.pos = p
		s.fail("invalid number")
	}
	intEnd := p
	integral := true
	if p < len(d) && d[p] == '.' {
		p++
		integral = false
		if digits() == 0 {
			s.pos = p
			s.fail("invalid number")
		}
	}
	if p < len(d) && (d[p] == 'e' || d[p] == 'E') {
		p++
		integral = false
		if p < len(d) && (d[p] == '+' || d[p] == '-') {
			p++
		}
		if digits() == 0 {
			s.pos = p
			s.fail("invalid number")
		}
	}
	s.pos = p
	if integral && intEnd-intStart <= 18 { // 18 digits cannot overflow
		var n int64
		for _, c := range d[intStart:intEnd] {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, float64(n), true
	}
	raw := d[start:p]
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
	if err != nil {
		// Beyond float64 (1e400): no OTLP value holds it, and encoding/json refuses it too.
		s.fail("number out of range")
	}
	if integral && f >= math.MinInt64 && f < math.MaxInt64 {
		if n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(raw), len(raw)), 10, 64); err == nil {
			return n, f, true
		}
	}
	return 0, f, false
}
