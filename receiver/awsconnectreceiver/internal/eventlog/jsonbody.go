package eventlog

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// BodyFormat is what a log record's body holds.
type BodyFormat string

const (
	// BodyMap is the record as a structured map: every field, in document order.
	BodyMap BodyFormat = "map"
	// BodyJSON is the record's JSON text as a string: the record byte for byte, or, with
	// redact on, the redacted document written as compact JSON in document order. Backends
	// that turn a map body into JSON text anyway (Loki's log line, Datadog's message) get
	// the same document, for a fraction of the CPU and memory on the way.
	BodyJSON BodyFormat = "json"
)

// WithBodyFormat sets what the bodies of agent events, contact events and contact
// records hold; BodyMap without it. Malformed records' bodies are their text either way.
func WithBodyFormat(f BodyFormat) Option { return func(b *Builder) { b.bodyFormat = f } }

// BodyIsRecordText reports whether a decoded record's body is its own text, unchanged:
// JSON bodies without redaction, which need no body built while decoding.
func (b *Builder) BodyIsRecordText() bool { return b.bodyFormat == BodyJSON && !b.redact.Active() }

// BodyIsRedactedJSON reports whether a body built as a map is then written as JSON text:
// JSON bodies under redaction, whose text must not carry what was redacted.
func (b *Builder) BodyIsRedactedJSON() bool { return b.bodyFormat == BodyJSON && b.redact.Active() }

// SetJSON replaces a map or slice body by its compact JSON text, members in their order;
// any other body stays as it is. buf is scratch space, returned for the next call unless
// a hostile record made it larger than maxKeptScratch.
func SetJSON(body pcommon.Value, buf []byte) []byte {
	switch body.Type() {
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		buf = appendJSON(buf[:0], body)
		body.SetStr(string(buf))
	}
	if cap(buf) > maxKeptScratch {
		return nil
	}
	return buf
}

// maxKeptScratch bounds the scratch space a decoder keeps: room for agent events of a
// few KB many times over, far below a record's 1 MiB.
const maxKeptScratch = 64 << 10

func appendJSON(buf []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		buf = append(buf, '{')
		first := true
		for k, member := range v.Map().All() {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendJSON(buf, member)
		}
		return append(buf, '}')
	case pcommon.ValueTypeSlice:
		buf = append(buf, '[')
		for i, element := range v.Slice().All() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, element)
		}
		return append(buf, ']')
	case pcommon.ValueTypeStr:
		return appendJSONString(buf, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendJSONNumber(buf, v.Double())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeBytes:
		// Never made from a decoded record; written as pdata's own JSON does.
		return appendJSONString(buf, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
	default:
		return append(buf, "null"...)
	}
}

// appendJSONNumber writes f as encoding/json does, but a whole number keeps a ".0": the
// record's 3.0 reads back as a double, as in a map body, not as an integer. A decoded
// number is finite; anything else (never made here) becomes null, to stay JSON.
func appendJSONNumber(buf []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(buf, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'f' && !bytes.ContainsRune(buf[start:], '.') {
		buf = append(buf, ".0"...)
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string: quotes, backslashes and control characters
// escaped, everything else as it is. Decoded strings are valid UTF-8; a byte that is not
// becomes U+FFFD, so the text stays valid JSON.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
