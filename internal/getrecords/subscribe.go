package getrecords

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithy "github.com/aws/smithy-go"
)

// DeserializeEventMessage reads the next message of a SubscribeToShard stream. A
// SubscribeToShardEvent is decoded here, in one pass into the same few allocations as a
// GetRecords response, where the SDK grows a fresh buffer for each message and decodes
// its JSON generically. Anything else (an exception, an unknown event, a frame that is
// short or fails its checksum, JSON the fast path refuses) is handed to the SDK's
// protocol, as bytes already read followed by the rest of the stream, so it ends exactly
// as the SDK would have it.
func (p *protocol) DeserializeEventMessage(schema *smithy.Schema, types *smithy.TypeRegistry, r io.Reader) (smithy.Deserializable, error) {
	if schema != schemas.SubscribeToShardEventStream {
		return p.ClientProtocol.DeserializeEventMessage(schema, types, r)
	}
	buf := takeBody()
	defer keepBody(buf)
	if ev, ok := readEvent(r, buf); ok {
		return ev, nil
	}
	return p.ClientProtocol.DeserializeEventMessage(schema, types, io.MultiReader(bytes.NewReader(buf.Bytes()), r))
}

// Event stream framing (the SDK's eventstream package): a prelude of the total and
// headers lengths and its CRC32, the headers, the payload, and the message's CRC32.
const (
	preludeLen = 12
	crcLen     = 4
	// The SDK's bounds: a longer message is refused before it is read.
	maxPayloadLen = 16 << 20
	maxHeadersLen = 128 << 10
)

// readEvent reads one message into buf and decodes it if it is a well-formed
// SubscribeToShardEvent. Otherwise ok is false, and buf holds every byte taken from r.
func readEvent(r io.Reader, buf *bytes.Buffer) (ev *types.SubscribeToShardEvent, ok bool) {
	var prelude [preludeLen]byte
	n, err := io.ReadFull(r, prelude[:])
	buf.Write(prelude[:n])
	if err != nil {
		return nil, false
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headersLen := binary.BigEndian.Uint32(prelude[4:8])
	if crc32.ChecksumIEEE(prelude[:8]) != binary.BigEndian.Uint32(prelude[8:12]) ||
		headersLen > maxHeadersLen || total < preludeLen+headersLen+crcLen ||
		total-preludeLen-headersLen-crcLen > maxPayloadLen {
		return nil, false
	}
	rest := int64(total) - preludeLen
	if err := readInto(buf, io.LimitReader(r, rest), rest); err != nil || buf.Len() != int(total) {
		return nil, false
	}
	whole := buf.Bytes()
	body := whole[:len(whole)-crcLen]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(whole[len(body):]) {
		return nil, false
	}
	headers, payload := body[preludeLen:preludeLen+headersLen], body[preludeLen+headersLen:]
	// An empty payload is an error to the SDK, not an empty event.
	if len(payload) == 0 || !isSubscribeToShardEvent(headers) {
		return nil, false
	}
	ev = &types.SubscribeToShardEvent{}
	if DecodeEvent(payload, ev) != nil {
		return nil, false
	}
	return ev, true
}

// isSubscribeToShardEvent says whether headers, well formed, are an event message's of
// type SubscribeToShardEvent.
func isSubscribeToShardEvent(h []byte) bool {
	var event, ofType bool
	for len(h) > 0 {
		nameLen := int(h[0])
		if len(h) < 1+nameLen+1 {
			return false
		}
		name, kind := string(h[1:1+nameLen]), h[1+nameLen]
		h = h[2+nameLen:]
		size := 0
		switch kind {
		case 0, 1: // true, false: no value
		case 2: // byte
			size = 1
		case 3: // int16
			size = 2
		case 4: // int32
			size = 4
		case 5, 8: // int64, timestamp
			size = 8
		case 9: // UUID
			size = 16
		case 6, 7: // bytes, string: a 2-byte length first
			if len(h) < 2 {
				return false
			}
			size = int(binary.BigEndian.Uint16(h))
			h = h[2:]
		default:
			return false
		}
		if len(h) < size {
			return false
		}
		value := string(h[:size])
		h = h[size:]
		switch name {
		case ":message-type":
			event = kind == 7 && value == "event"
		case ":event-type":
			ofType = kind == 7 && value == "SubscribeToShardEvent"
		}
	}
	return event && ofType
}
