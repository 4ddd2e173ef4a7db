// Package getrecords decodes Kinesis GetRecords responses, and the SubscribeToShard
// events of enhanced fan-out, in one pass and a handful of allocations each, where the
// SDK's generic JSON deserializer allocates several times a record (each record's base64
// text, then its data, then each field's pointer). It plugs into the SDK's Kinesis client
// as a wrapper of the client's protocol, so the SDK still serializes requests, signs,
// retries, resolves endpoints and decodes errors: only a successful GetRecords response
// and a well-formed SubscribeToShardEvent take the fast path.
package getrecords

import (
	"bytes"
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Use makes a Kinesis client decode GetRecords responses with this package; pass it
// among the client's option functions.
func Use(o *kinesis.Options) {
	if _, done := o.Protocol.(*protocol); done || o.Protocol == nil {
		return
	}
	o.Protocol = &protocol{ClientProtocol: o.Protocol}
	o.APIOptions = append(o.APIOptions, addSlabMiddleware)
}

// protocol is the client's protocol with GetRecords' successful responses decoded here.
type protocol struct {
	smithyhttp.ClientProtocol
}

func (p *protocol) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, types *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	o, ok := out.(*kinesis.GetRecordsOutput)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return p.ClientProtocol.DeserializeResponse(ctx, schema, types, resp, out)
	}
	buf := takeBody()
	defer keepBody(buf)
	var size int64
	if resp.ContentLength > 0 && resp.ContentLength <= maxResponse {
		size = resp.ContentLength
	}
	if err := readInto(buf, resp.Body, size); err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	// Only a slab the caller can hand back is taken from the idle ones.
	holder := slabHolderOf(ctx)
	slab, err := decodeResponse(buf.Bytes(), o, holder != nil)
	if err != nil {
		return &smithy.DeserializationError{Err: err, Snapshot: snapshot(buf.Bytes())}
	}
	if holder != nil {
		holder.slab = slab
	}
	return nil
}

const (
	// GetRecords answers at most 10 MiB of data, which base64 makes 13.4 MiB of JSON.
	maxResponse = 16 << 20
	// The largest body kept for reuse: 1,000 records of 4 KB is 5.3 MB of JSON.
	maxPooledBody = 8 << 20
)

// bodies keeps a few buffers that responses are read into: nothing of a body is kept
// once it is decoded, so one buffer serves call after call. Not a sync.Pool: a pool
// empties at every other garbage collection, and the collector collects several times
// between two calls of a shard, so most bodies of megabytes were read into a fresh,
// zeroed buffer: 7 to 9% of the collector's CPU on kinesis-local (docs/performance.md).
var bodies = make(chan *bytes.Buffer, keptBodies)

// keptBodies is how many idle buffers are kept: calls of several shards at once take
// fresh ones beyond that, which the GC takes back.
const keptBodies = 2

func takeBody() *bytes.Buffer {
	select {
	case b := <-bodies:
		return b
	default:
		return new(bytes.Buffer)
	}
}

// keepBody keeps buf for the next response, unless an unusually large response grew it
// or enough are kept already.
func keepBody(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBody {
		return
	}
	buf.Reset()
	select {
	case bodies <- buf:
	default:
	}
}

// readInto appends r, to its end, to buf, grown first for size bytes (0 when unknown):
// MinRead more, or ReadFrom doubles a buffer filled to its last byte before it sees the
// end. A buffer too small is replaced by one of slabSize, as slabs are: Grow would double
// it, and a kept buffer twice its responses' size holds megabytes for nothing.
func readInto(buf *bytes.Buffer, r io.Reader, size int64) error {
	if size > 0 {
		if need := int(size) + bytes.MinRead; buf.Available() < need {
			grown := make([]byte, buf.Len(), slabSize(buf.Len()+need))
			copy(grown, buf.Bytes())
			*buf = *bytes.NewBuffer(grown)
		}
	}
	_, err := buf.ReadFrom(r)
	return err
}

// snapshot is the start of a body that could not be decoded, for the error.
func snapshot(b []byte) []byte {
	const max = 1024
	return bytes.Clone(b[:min(len(b), max)])
}
