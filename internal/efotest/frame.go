package efotest

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// header is one event-stream header. The server only sends string values (type 7),
// which is all Kinesis's SubscribeToShard messages carry.
type header struct{ name, value string }

const (
	stringType = 7
	// preludeLen is total length, headers length and the prelude's CRC; a message ends
	// with 4 bytes of CRC over everything before them.
	preludeLen = 12
	trailerLen = 4
	// AWS's limits: smithy-go's decoder refuses larger.
	maxHeadersLen = 128 * 1024
	maxPayloadLen = 16 * 1024 * 1024
)

// appendMessage appends one event-stream message to dst. It is written out here, not
// taken from smithy-go, so the tests can hold it against smithy-go's encoder and AWS's
// test vectors: a server built from the client's own encoder would agree with the
// client even where both were wrong.
func appendMessage(dst []byte, headers []header, payload []byte) ([]byte, error) {
	headersLen := 0
	for _, h := range headers {
		if len(h.name) == 0 || len(h.name) > 255 {
			return dst, fmt.Errorf("header name %q: length must be 1 to 255", h.name)
		}
		if len(h.value) > 32767 {
			return dst, fmt.Errorf("header %s: value longer than 32767 bytes", h.name)
		}
		headersLen += 1 + len(h.name) + 1 + 2 + len(h.value)
	}
	if headersLen > maxHeadersLen || len(payload) > maxPayloadLen {
		return dst, fmt.Errorf("message too large: %d bytes of headers, %d of payload", headersLen, len(payload))
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(preludeLen+headersLen+len(payload)+trailerLen))
	dst = binary.BigEndian.AppendUint32(dst, uint32(headersLen))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
	for _, h := range headers {
		dst = append(dst, byte(len(h.name)))
		dst = append(dst, h.name...)
		dst = append(dst, stringType)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.value)))
		dst = append(dst, h.value...)
	}
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:])), nil
}

// The messages SubscribeToShard's response carries.
func eventHeaders(eventType string) []header {
	return []header{{":message-type", "event"}, {":event-type", eventType}, {":content-type", "application/json"}}
}

func exceptionHeaders(exceptionType string) []header {
	return []header{{":message-type", "exception"}, {":exception-type", exceptionType}, {":content-type", "application/json"}}
}
