package contactlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

// bodyBuilder makes a log record's body of a whole JSON document: every field, known or
// not, in document order; integers as ints, other numbers as doubles, null as an empty
// value; a repeated key keeps its last value, as encoding/json does. With a Redactor,
// personal values are dropped, or hashed whole: every scalar inside them, and the keys
// of objects inside them.
type bodyBuilder struct {
	redact *eventlog.Redactor
	slab   *pdataslab.Slab
	dec    *json.Decoder
	rd     bytes.Reader
	// repeats counts the repeated keys of the record.
	repeats int
}

// build fills body with the document data. The decoder read data already; should it
// still not be JSON, the body is its text.
func (b *bodyBuilder) build(body pcommon.Value, data []byte) {
	b.rd.Reset(data)
	b.dec = json.NewDecoder(&b.rd)
	b.dec.UseNumber()
	b.repeats = 0
	tok, err := b.dec.Token()
	if err == nil {
		err = b.fill(body, tok, "", "", false)
	}
	if err != nil {
		body.SetStr(string(data))
	}
}

// fill sets v to the value that starts with tok. key is the key whose value it is,
// parent the key of the object holding it; hash says it is personal data to hash.
func (b *bodyBuilder) fill(v pcommon.Value, tok json.Token, key, parent string, hash bool) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return b.array(v, key, parent, hash)
		}
		return b.object(v, key, hash)
	case string:
		if hash || (b.redact.HashesAgentARN() && eventlog.IsAgentARN(t)) {
			t = b.redact.Hash(t)
		}
		b.slab.SetStr(v, t)
	case json.Number:
		switch {
		case hash:
			b.slab.SetStr(v, b.redact.Hash(t.String()))
		default:
			setNumber(b.slab, v, t.String())
		}
	case bool:
		if hash {
			b.slab.SetStr(v, b.redact.Hash(strconv.FormatBool(t)))
		} else {
			b.slab.SetBool(v, t)
		}
	case nil:
		// null says nothing about anyone, and stays an empty value.
	}
	return nil
}

// setNumber sets an integer as an int, any other number as a double; one too large for
// a double keeps its text.
func setNumber(slab *pdataslab.Slab, v pcommon.Value, s string) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		slab.SetInt(v, i)
		return
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		slab.SetDouble(v, f)
		return
	}
	slab.SetStr(v, s)
}

// indexFrom is the size from which an object's keys are looked up in a Go map, not by
// pdata's scan: a hostile record with thousands of keys must not cost their square.
const indexFrom = 16

// maxRepeats bounds the repeated keys of a record: each costs a scan of its object. A
// record with more is not what Connect writes, and its body is its text.
const maxRepeats = 64

var errRepeats = errors.New("too many repeated keys")

func (b *bodyBuilder) object(v pcommon.Value, key string, hash bool) error {
	m := b.slab.SetEmptyMap(v, 8)
	var index map[string]struct{}
	for b.dec.More() {
		tok, err := b.dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		personal := hash || b.personal(k, key)
		if personal && b.redact.Mode() == eventlog.RedactDrop {
			if err := b.skip(); err != nil {
				return err
			}
			continue
		}
		if hash {
			k = b.redact.Hash(k)
		}
		var slot pcommon.Value
		seen := false
		if index != nil {
			_, seen = index[k]
		} else {
			_, seen = m.Get(k)
		}
		if seen {
			// The last value wins, in the first one's place, as in encoding/json.
			if b.repeats++; b.repeats > maxRepeats {
				return errRepeats
			}
			slot, _ = m.Get(k)
			pcommon.NewValueEmpty().CopyTo(slot)
		} else {
			slot = b.slab.PutNewEmpty(m, k)
			if index != nil {
				index[k] = struct{}{}
			} else if m.Len() >= indexFrom {
				index = make(map[string]struct{}, 2*indexFrom)
				for mk := range m.All() {
					index[mk] = struct{}{}
				}
			}
		}
		tok, err = b.dec.Token()
		if err != nil {
			return err
		}
		if err := b.fill(slot, tok, k, key, personal); err != nil {
			return err
		}
	}
	_, err := b.dec.Token() // }
	return err
}

// array fills the elements of an array; they are the value of key as the array is.
func (b *bodyBuilder) array(v pcommon.Value, key, parent string, hash bool) error {
	s := b.slab.SetEmptySlice(v, 4)
	for b.dec.More() {
		tok, err := b.dec.Token()
		if err != nil {
			return err
		}
		if err := b.fill(s.AppendEmpty(), tok, key, parent, hash); err != nil {
			return err
		}
	}
	_, err := b.dec.Token() // ]
	return err
}

// skip reads past the next value.
func (b *bodyBuilder) skip() error {
	var raw json.RawMessage
	return b.dec.Decode(&raw)
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
