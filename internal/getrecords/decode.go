package getrecords

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	asmbase64 "github.com/segmentio/asm/base64"
)

// Decode fills out from body, a GetRecords response in Kinesis's JSON 1.1 protocol. The
// records' data are decoded into one allocation, their strings share another, and out
// keeps nothing of body, which the caller may reuse. Members it does not know are skipped,
// as the SDK skips them; null members are left unset.
func Decode(body []byte, out *kinesis.GetRecordsOutput) error {
	_, err := decodeResponse(body, out, false)
	return err
}

// decodeResponse is Decode, and returns the slab the records' data were decoded into.
// With recycled, the slab is one of the idle ones, with room for later responses, as a
// slab that Recycle may hand back.
func decodeResponse(body []byte, out *kinesis.GetRecordsOutput, recycled bool) ([]byte, error) {
	return decodeBatch(body, batchFields{
		records: &out.Records, children: &out.ChildShards, millisBehind: &out.MillisBehindLatest,
		positionKey: "NextShardIterator", position: &out.NextShardIterator, recycled: recycled,
	})
}

// DecodeEvent fills ev from payload, a SubscribeToShardEvent's JSON, as Decode does a
// GetRecords response: the same records, with a continuation sequence number for an
// iterator.
func DecodeEvent(payload []byte, ev *types.SubscribeToShardEvent) error {
	_, err := decodeBatch(payload, batchFields{
		records: &ev.Records, children: &ev.ChildShards, millisBehind: &ev.MillisBehindLatest,
		positionKey: "ContinuationSequenceNumber", position: &ev.ContinuationSequenceNumber,
	})
	return err
}

// batchFields are where a batch of records goes: a GetRecords response and a
// SubscribeToShard event differ only in the member that says where to go on.
type batchFields struct {
	records      *[]types.Record
	children     *[]types.ChildShard
	millisBehind **int64
	positionKey  string
	position     **string
	// recycled takes the data's slab from the idle ones (decodeResponse).
	recycled bool
}

// decodeBatch decodes a batch into out, and returns the slab its records' data were
// decoded into (nil without records).
func decodeBatch(body []byte, out batchFields) ([]byte, error) {
	if len(body) == 0 {
		return nil, nil // as the SDK: an empty body is an empty output
	}
	d := decoder{b: body, recycled: out.recycled}
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "Records":
			return d.records(out.records)
		case out.positionKey:
			return d.stringPtr(out.position)
		case "MillisBehindLatest":
			n, ok, err := d.int64()
			if ok {
				*out.millisBehind = &n
			}
			return err
		case "ChildShards":
			return d.childShards(out.children)
		}
		_, err := d.skip()
		return err
	})
	if err == nil {
		err = d.end()
	}
	return d.slab, err
}

// childShards decodes the ChildShards array, which a shard's last response holds.
func (d *decoder) childShards(out *[]types.ChildShard) error {
	if d.isNull() {
		return nil
	}
	*out = []types.ChildShard{}
	return d.array(func() error {
		var c types.ChildShard
		if !d.isNull() {
			err := d.object(func(key []byte) error {
				switch string(key) {
				case "ShardId":
					return d.stringPtr(&c.ShardId)
				case "ParentShards":
					if d.isNull() {
						return nil
					}
					c.ParentShards = []string{}
					return d.array(func() error {
						s, _, err := d.string() // a null element is ""
						c.ParentShards = append(c.ParentShards, s)
						return err
					})
				case "HashKeyRange":
					if d.isNull() {
						return nil
					}
					c.HashKeyRange = &types.HashKeyRange{}
					return d.object(func(key []byte) error {
						switch string(key) {
						case "StartingHashKey":
							return d.stringPtr(&c.HashKeyRange.StartingHashKey)
						case "EndingHashKey":
							return d.stringPtr(&c.HashKeyRange.EndingHashKey)
						}
						_, err := d.skip()
						return err
					})
				}
				_, err := d.skip()
				return err
			})
			if err != nil {
				return err
			}
		}
		*out = append(*out, c)
		return nil
	})
}

// stringPtr sets *p to the next string, or leaves it for null.
func (d *decoder) stringPtr(p **string) error {
	s, ok, err := d.string()
	if ok {
		*p = &s
	}
	return err
}

// recordText is where a record's strings lie in the decoder's text, until the text is
// one string.
type recordText struct {
	seq, key, enc span
	arrival       time.Time
	hasArrival    bool
	data          span
	hasData       bool
}

type span struct{ from, to int32 }

func (s span) set() bool { return s.to > 0 }

// records decodes the Records array into *out.
func (d *decoder) records(out *[]types.Record) error {
	if d.isNull() {
		return nil
	}
	// base64 never holds a quote, so every record has one "SequenceNumber" key at most and
	// the count sizes everything once (another member's escaped string cannot hold it
	// either).
	n := bytes.Count(d.b[d.i:], []byte(`"SequenceNumber"`))
	recs := make([]recordText, 0, n)
	// The data decode into one slab: base64 takes 4 bytes for 3, and the body holds all
	// of it.
	var slab []byte
	if size := (len(d.b)-d.i)/4*3 + 3; d.recycled {
		slab = takeSlab(size)
	} else {
		slab = make([]byte, 0, size)
	}
	d.slab = slab
	text := make([]byte, 0, n*96) // a sequence number and a partition key

	err := d.array(func() error {
		var rt recordText
		if d.isNull() {
			recs = append(recs, rt)
			return nil
		}
		err := d.object(func(key []byte) error {
			switch string(key) {
			case "Data":
				raw, ok, err := d.quoted()
				if err != nil || !ok {
					return err
				}
				// An encoder may escape base64's slash.
				if raw, err = d.unescaped(raw); err != nil {
					return err
				}
				at := len(slab)
				m, err := dataEncoding.Decode(slab[at:cap(slab)], raw)
				if err != nil {
					// encoding/base64's own error, whose offset counts from the start.
					_, err = base64.StdEncoding.Decode(slab[at:cap(slab)], raw)
					return fmt.Errorf("record data: %w", err)
				}
				slab = slab[:at+m]
				rt.data, rt.hasData = span{int32(at), int32(at + m)}, true
				return nil
			case "SequenceNumber":
				return d.textOf(&text, &rt.seq)
			case "PartitionKey":
				return d.textOf(&text, &rt.key)
			case "EncryptionType":
				return d.textOf(&text, &rt.enc)
			case "ApproximateArrivalTimestamp":
				f, ok, err := d.float()
				if ok {
					rt.arrival, rt.hasArrival = epochSeconds(f), true
				}
				return err
			}
			_, err := d.skip()
			return err
		})
		recs = append(recs, rt)
		return err
	})
	if err != nil {
		return err
	}
	// One string for all the records' strings, one slice for their pointers and one for
	// their times: the SDK's types want pointers.
	all := string(text)
	strs := make([]string, 0, 2*len(recs))
	times := make([]time.Time, 0, len(recs))
	ptr := func(s span) *string {
		strs = append(strs, all[s.from-1:s.to-1])
		return &strs[len(strs)-1]
	}
	*out = make([]types.Record, len(recs))
	for i := range recs {
		rt, r := &recs[i], &(*out)[i]
		if rt.hasData {
			r.Data = slab[rt.data.from:rt.data.to:rt.data.to]
		}
		if rt.seq.set() {
			r.SequenceNumber = ptr(rt.seq)
		}
		if rt.key.set() {
			r.PartitionKey = ptr(rt.key)
		}
		if rt.enc.set() {
			r.EncryptionType = types.EncryptionType(all[rt.enc.from-1 : rt.enc.to-1])
		}
		if rt.hasArrival {
			times = append(times, rt.arrival)
			r.ApproximateArrivalTimestamp = &times[len(times)-1]
		}
	}
	return nil
}

// textOf appends the next string to text and says where it lies, offset by one so that
// the zero span means unset; null leaves it unset.
func (d *decoder) textOf(text *[]byte, s *span) error {
	raw, ok, err := d.rawString()
	if err != nil || !ok {
		return err
	}
	from := len(*text)
	if raw, err = d.unescaped(raw); err != nil {
		return err
	}
	*text = append(*text, raw...)
	*s = span{int32(from + 1), int32(len(*text) + 1)}
	return nil
}

// dataEncoding decodes the records' data: encoding/base64's alphabet, padding and
// results, with AVX2 or NEON where the CPU has them. It decodes 8 times as fast as
// encoding/base64 on this project's build machine, where base64 was 9% of the
// collector's CPU. dst must hold the whole decoded length: the vector loop stores 32
// bytes at a time.
var dataEncoding = asmbase64.StdEncoding

var null = []byte("null")

// decoder is a JSON scanner over one response body, for the shapes GetRecords answers.
type decoder struct {
	b []byte
	i int
	// last is where the last string token started, quote included.
	last int
	// depth is how deep skip is in nested values.
	depth int
	// slab is what the records' data were decoded into; recycled, whether it is taken
	// from the idle slabs.
	slab     []byte
	recycled bool
}

// maxDepth bounds the nesting of skipped values, so that no body can exhaust the stack.
const maxDepth = 256

var errSyntax = errors.New("malformed JSON")

func (d *decoder) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, d.i)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// end checks nothing but whitespace follows the value.
func (d *decoder) end() error {
	d.ws()
	if d.i != len(d.b) {
		return d.fail("data after the response")
	}
	return nil
}

// isNull consumes a null, if that is what comes next.
func (d *decoder) isNull() bool {
	d.ws()
	if bytes.HasPrefix(d.b[d.i:], null) {
		d.i += len(null)
		return true
	}
	return false
}

// object calls member for each key of the object that comes next, the scanner then at
// the key's value, which member must consume.
func (d *decoder) object(member func(key []byte) error) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return d.fail("object expected")
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.ws()
		key, ok, err := d.rawString()
		if err != nil {
			return err
		}
		if !ok {
			return d.fail("key expected")
		}
		if key, err = d.unescaped(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.fail("colon expected")
		}
		d.i++
		if err := member(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.fail("unterminated object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.fail("comma or end of object expected")
		}
	}
}

// array calls element for each element of the array that comes next.
func (d *decoder) array(element func() error) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return d.fail("array expected")
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.fail("unterminated array")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.fail("comma or end of array expected")
		}
	}
}

// rawString is the next string's bytes between its quotes, escapes as they are; ok is
// false for null.
func (d *decoder) rawString() (raw []byte, ok bool, err error) {
	raw, ok, err = d.quoted()
	if err == nil && ok {
		for _, c := range raw {
			if c < 0x20 {
				return nil, false, d.fail("control character in string")
			}
		}
	}
	return raw, ok, err
}

// quoted is rawString without the check for control characters, for base64 text, whose
// decoder refuses them itself (but for CR and LF, which it skips), in a fraction of the
// time of a loop over every byte.
func (d *decoder) quoted() (raw []byte, ok bool, err error) {
	if d.isNull() {
		return nil, false, nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false, d.fail("string expected")
	}
	d.last = d.i
	from := d.i + 1
	for at := from; ; {
		q := bytes.IndexByte(d.b[at:], '"')
		if q < 0 {
			d.i = len(d.b)
			return nil, false, d.fail("unterminated string")
		}
		q += at
		// A quote after an odd number of backslashes is escaped.
		escapes := 0
		for j := q - 1; j >= from && d.b[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			d.i = q + 1
			return d.b[from:q], true, nil
		}
		at = q + 1
	}
}

// string is the next string, unescaped; ok is false for null.
func (d *decoder) string() (string, bool, error) {
	raw, ok, err := d.rawString()
	if err != nil || !ok {
		return "", false, err
	}
	if raw, err = d.unescaped(raw); err != nil {
		return "", false, err
	}
	return string(raw), true, nil
}

// unescaped is raw, the text between the quotes of the last string read, with its
// escapes undone: raw itself when it has none, as nearly every string here.
func (d *decoder) unescaped(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(d.b[d.last:d.i], &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// number is the next number's text; ok is false for null.
func (d *decoder) number() ([]byte, bool, error) {
	if d.isNull() {
		return nil, false, nil
	}
	from := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		d.i++
	}
	if d.i == from {
		return nil, false, d.fail("number expected")
	}
	return d.b[from:d.i], true, nil
}

func (d *decoder) int64() (int64, bool, error) {
	text, ok, err := d.number()
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := strconv.ParseInt(transient(text), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("integer expected: %w", err)
	}
	return n, true, nil
}

func (d *decoder) float() (float64, bool, error) {
	text, ok, err := d.number()
	if err != nil || !ok {
		return 0, false, err
	}
	f, err := strconv.ParseFloat(transient(text), 64)
	if err != nil {
		return 0, false, fmt.Errorf("number expected: %w", err)
	}
	return f, true, nil
}

// epochSeconds is the time of Kinesis's epoch-seconds timestamp, to the millisecond, as
// the SDK reads it (smithy-go's ParseEpochSeconds, which multiplies in a big.Float of
// float64's precision: the same rounding as a float64 product, and two allocations).
func epochSeconds(v float64) time.Time {
	ms := v * 1000
	var i int64
	switch {
	case ms >= math.MaxInt64: // 2^63 as a float64
		i = math.MaxInt64
	case ms < math.MinInt64:
		i = math.MinInt64
	default:
		i = int64(ms) // toward zero
	}
	return time.Unix(0, i*1e6).UTC()
}

// transient is b as a string for a call that keeps nothing of it: no copy.
func transient(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// skip consumes the next value of any kind and returns its text.
func (d *decoder) skip() ([]byte, error) {
	d.ws()
	if d.i >= len(d.b) {
		return nil, d.fail("value expected")
	}
	from := d.i
	if d.depth++; d.depth > maxDepth {
		return nil, d.fail("values nested too deep")
	}
	defer func() { d.depth-- }()
	switch c := d.b[d.i]; {
	case c == '"':
		if _, _, err := d.rawString(); err != nil {
			return nil, err
		}
	case c == '{':
		if err := d.object(func([]byte) error { _, err := d.skip(); return err }); err != nil {
			return nil, err
		}
	case c == '[':
		if err := d.array(func() error { _, err := d.skip(); return err }); err != nil {
			return nil, err
		}
	case c == 't' && bytes.HasPrefix(d.b[d.i:], []byte("true")):
		d.i += 4
	case c == 'f' && bytes.HasPrefix(d.b[d.i:], []byte("false")):
		d.i += 5
	case c == 'n' && bytes.HasPrefix(d.b[d.i:], null):
		d.i += 4
	default:
		if _, _, err := d.number(); err != nil {
			return nil, err
		}
	}
	return d.b[from:d.i], nil
}
