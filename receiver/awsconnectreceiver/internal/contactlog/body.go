package contactlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

// bodyBuilder makes a log record's body of a whole JSON document: every field, known or
// not, in document order; integers as ints, other numbers as doubles, null as an empty
// value; a repeated key keeps its last value, as encoding/json does. With a Redactor,
// personal values are dropped, or hashed whole: every scalar inside them, and the keys
// of objects inside them. It walks the bytes itself: encoding/json's Decoder.Token costs
// a few allocations a token.
type bodyBuilder struct {
	redact *eventlog.Redactor
	slab   *pdataslab.Slab
	data   []byte
	pos    int
	// repeats counts the repeated keys of the record.
	repeats int
}

// build fills body with the document data; data that is not JSON is a text body.
func (b *bodyBuilder) build(body pcommon.Value, data []byte) {
	if !json.Valid(data) {
		body.SetStr(string(data))
		return
	}
	b.data, b.pos, b.repeats = data, 0, 0
	err := b.value(body, "", "", false, 0)
	b.data = nil
	if err != nil {
		body.SetStr(string(data))
	}
}

var (
	errRepeats = errors.New("too many repeated keys")
	errSyntax  = errors.New("not JSON")
)

// maxDepth is encoding/json's bound on nesting, which valid data is within.
const maxDepth = 10000

func (b *bodyBuilder) skipSpace() {
	for b.pos < len(b.data) {
		switch b.data[b.pos] {
		case ' ', '\t', '\n', '\r':
			b.pos++
		default:
			return
		}
	}
}

// peek returns the next byte past whitespace, 0 at the end.
func (b *bodyBuilder) peek() byte {
	b.skipSpace()
	if b.pos >= len(b.data) {
		return 0
	}
	return b.data[b.pos]
}

// value sets v to the next value. key is the key whose value it is, parent the key of
// the object holding it; hash says it is personal data to hash.
func (b *bodyBuilder) value(v pcommon.Value, key, parent string, hash bool, depth int) error {
	if depth > maxDepth {
		return errSyntax
	}
	switch c := b.peek(); {
	case c == '{':
		return b.object(v, key, hash, depth)
	case c == '[':
		return b.array(v, key, parent, hash, depth)
	case c == '"':
		s, err := b.str()
		if err != nil {
			return err
		}
		if hash || (b.redact.HashesAgentARN() && eventlog.IsAgentARN(s)) {
			s = b.redact.Hash(s)
		}
		b.slab.SetStr(v, s)
	case c == 't' || c == 'f':
		t := c == 't'
		if !b.literal(strconv.FormatBool(t)) {
			return errSyntax
		}
		if hash {
			b.slab.SetStr(v, b.redact.Hash(strconv.FormatBool(t)))
		} else {
			b.slab.SetBool(v, t)
		}
	case c == 'n':
		// null says nothing about anyone, and stays an empty value.
		if !b.literal("null") {
			return errSyntax
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := b.pos
		for b.pos < len(b.data) && strings.IndexByte("+-0123456789.eE", b.data[b.pos]) >= 0 {
			b.pos++
		}
		text := b.data[start:b.pos]
		if hash {
			b.slab.SetStr(v, b.redact.Hash(string(text)))
		} else {
			setNumber(b.slab, v, text)
		}
	default:
		return errSyntax
	}
	return nil
}

func (b *bodyBuilder) literal(word string) bool {
	if !bytes.HasPrefix(b.data[b.pos:], []byte(word)) {
		return false
	}
	b.pos += len(word)
	return true
}

// str reads a string; one with escapes goes through encoding/json, the rest is copied.
func (b *bodyBuilder) str() (string, error) {
	start := b.pos
	escaped := false
	for i := start + 1; i < len(b.data); i++ {
		switch b.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			b.pos = i + 1
			if !escaped {
				return string(b.data[start+1 : i]), nil
			}
			var s string
			if err := json.Unmarshal(b.data[start:i+1], &s); err != nil {
				return "", err
			}
			return s, nil
		}
	}
	return "", errSyntax
}

// setNumber sets an integer as an int, any other number as a double; one too large for
// a double keeps its text.
func setNumber(slab *pdataslab.Slab, v pcommon.Value, text []byte) {
	s := unsafe.String(unsafe.SliceData(text), len(text)) // parsed only, not kept
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		slab.SetInt(v, i)
		return
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		slab.SetDouble(v, f)
		return
	}
	slab.SetStr(v, string(text))
}

// indexFrom is the size from which an object's keys are looked up in a Go map, not by
// pdata's scan: a hostile record with thousands of keys must not cost their square.
const indexFrom = 16

// maxRepeats bounds the repeated keys of a record: each costs a scan of its object. A
// record with more is not what Connect writes, and its body is its text.
const maxRepeats = 64

func (b *bodyBuilder) object(v pcommon.Value, key string, hash bool, depth int) error {
	b.pos++ // {
	m := b.slab.SetEmptyMap(v, 8)
	var index map[string]struct{}
	if b.peek() == '}' {
		b.pos++
		return nil
	}
	for {
		if b.peek() != '"' {
			return errSyntax
		}
		k, err := b.str()
		if err != nil {
			return err
		}
		if b.peek() != ':' {
			return errSyntax
		}
		b.pos++
		personal := hash || b.personal(k, key)
		if personal && b.redact.Mode() == eventlog.RedactDrop {
			// Read into a value thrown away.
			if err := b.value(pcommon.NewValueEmpty(), k, key, false, depth+1); err != nil {
				return err
			}
		} else {
			if hash {
				k = b.redact.Hash(k)
			}
			slot, err := b.slot(m, k, &index)
			if err != nil {
				return err
			}
			if err := b.value(slot, k, key, personal, depth+1); err != nil {
				return err
			}
		}
		switch b.peek() {
		case ',':
			b.pos++
		case '}':
			b.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// slot returns the value to fill for key k of m: a new member, or, for a repeated key,
// the first one's, emptied (the last value wins, in the first one's place).
func (b *bodyBuilder) slot(m pcommon.Map, k string, index *map[string]struct{}) (pcommon.Value, error) {
	seen := false
	if *index != nil {
		_, seen = (*index)[k]
	} else {
		_, seen = m.Get(k)
	}
	if seen {
		if b.repeats++; b.repeats > maxRepeats {
			return pcommon.Value{}, errRepeats
		}
		slot, _ := m.Get(k)
		pcommon.NewValueEmpty().CopyTo(slot)
		return slot, nil
	}
	slot := b.slab.PutNewEmpty(m, k)
	switch {
	case *index != nil:
		(*index)[k] = struct{}{}
	case m.Len() >= indexFrom:
		*index = make(map[string]struct{}, 2*indexFrom)
		for mk := range m.All() {
			(*index)[mk] = struct{}{}
		}
	}
	return slot, nil
}

// array fills the elements of an array; they are the value of key as the array is.
func (b *bodyBuilder) array(v pcommon.Value, key, parent string, hash bool, depth int) error {
	b.pos++ // [
	s := b.slab.SetEmptySlice(v, 4)
	if b.peek() == ']' {
		b.pos++
		return nil
	}
	for {
		if err := b.value(s.AppendEmpty(), key, parent, hash, depth+1); err != nil {
			return err
		}
		switch b.peek() {
		case ',':
			b.pos++
		case ']':
			b.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// personal reports whether the value of key, in the object that is the value of parent,
// is personal data (keys in any case, as AWS's samples vary): the agent's names, the
// customer's and a transfer's endpoint, hierarchy group names, and, hashing agent ARNs,
// the agent's ARN (fill hashes any other string that is an agent's ARN too).
func (b *bodyBuilder) personal(key, parent string) bool {
	if !b.redact.Active() {
		return false
	}
	switch {
	case strings.EqualFold(key, "Username"), strings.EqualFold(key, "FirstName"), strings.EqualFold(key, "LastName"):
		return true
	case strings.EqualFold(key, "Address"), strings.EqualFold(key, "DisplayName"):
		return strings.EqualFold(parent, "CustomerEndpoint") || strings.EqualFold(parent, "TransferredToEndpoint")
	case strings.EqualFold(key, "GroupName"), strings.EqualFold(key, "Name"):
		return isHierarchyLevel(parent)
	case strings.EqualFold(key, "ARN"):
		return b.redact.HashesAgentARN() && strings.EqualFold(parent, "Agent")
	case strings.EqualFold(key, "agentArn"):
		return b.redact.HashesAgentARN() && strings.EqualFold(parent, "agentInfo")
	}
	return false
}

// isHierarchyLevel reports whether k is Level1..Level5 (any case): a hierarchy group.
func isHierarchyLevel(k string) bool {
	return len(k) == 6 && strings.EqualFold(k[:5], "Level") && k[5] >= '1' && k[5] <= '5'
}
