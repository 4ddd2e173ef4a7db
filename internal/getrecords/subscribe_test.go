package getrecords

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventReader is the part of a protocol that reads an event stream's messages.
type eventReader interface {
	DeserializeEventMessage(*smithy.Schema, *smithy.TypeRegistry, io.Reader) (smithy.Deserializable, error)
}

// readStream reads every message of stream through a protocol, as the SDK's event
// stream reader does, and renders what each call gave: an event, or the error that ends
// the stream.
func readStream(p eventReader, stream []byte) []string {
	r := bytes.NewReader(stream)
	var got []string
	for {
		ev, err := p.DeserializeEventMessage(schemas.SubscribeToShardEventStream, kinesis.TypeRegistry, r)
		if err != nil {
			return append(got, fmt.Sprintf("error %T: %v", err, err))
		}
		switch v := ev.(type) {
		case *types.SubscribeToShardEvent:
			got = append(got, dump(&kinesis.GetRecordsOutput{Records: v.Records, NextShardIterator: v.ContinuationSequenceNumber,
				MillisBehindLatest: v.MillisBehindLatest, ChildShards: v.ChildShards}))
		case *eventstream.UnknownUnionMember:
			got = append(got, fmt.Sprintf("unknown %s: %x", v.Tag, v.Value))
		default:
			got = append(got, fmt.Sprintf("%T %+v", ev, ev))
		}
	}
}

// message encodes one event stream message with the SDK's encoder.
func message(t testing.TB, headers map[string]string, payload string) []byte {
	msg := eventstream.Message{Payload: []byte(payload)}
	for _, name := range []string{":message-type", ":event-type", ":exception-type", ":content-type"} {
		if v, ok := headers[name]; ok {
			msg.Headers.Set(name, eventstream.StringValue(v))
		}
	}
	var b bytes.Buffer
	require.NoError(t, eventstream.NewEncoder().Encode(&b, msg))
	return b.Bytes()
}

func event(t testing.TB, payload string) []byte {
	return message(t, map[string]string{":message-type": "event", ":event-type": "SubscribeToShardEvent", ":content-type": "application/json"}, payload)
}

// asEvent turns a GetRecords response into a SubscribeToShardEvent's payload.
func asEvent(body string) string {
	return strings.ReplaceAll(body, `"NextShardIterator"`, `"ContinuationSequenceNumber"`)
}

// Every message a stream can carry reads as the SDK reads it: events, exceptions, unknown
// events, broken frames, and the end.
func TestEventsReadAsTheSDKReadsThem(t *testing.T) {
	var events [][]byte
	for _, name := range slices.Sorted(maps.Keys(sdkCases)) {
		if sdkCases[name] != "" { // an empty payload ends the stream: a case of its own below
			events = append(events, event(t, asEvent(sdkCases[name])))
		}
	}
	simulated, _ := simulatedResponse(t, 50)
	events = append(events, event(t, asEvent(string(simulated))))
	all := bytes.Join(events, nil)

	badPrelude := event(t, `{"Records":[]}`)
	badPrelude[9] ^= 1
	badMessage := event(t, `{"Records":[]}`)
	badMessage[len(badMessage)-1] ^= 1
	whole := event(t, asEvent(string(simulated)))

	for name, stream := range map[string][]byte{
		"events": all,
		"an exception": append(event(t, `{"Records":[]}`), message(t, map[string]string{":message-type": "exception",
			":exception-type": "ResourceNotFoundException", ":content-type": "application/json"}, `{"message":"consumer gone"}`)...),
		"an unknown event":           message(t, map[string]string{":message-type": "event", ":event-type": "FutureEvent"}, `{"x":1}`),
		"an error message":           message(t, map[string]string{":message-type": "error"}, ``),
		"no message type":            message(t, map[string]string{":event-type": "SubscribeToShardEvent"}, `{}`),
		"no event type":              message(t, map[string]string{":message-type": "event"}, `{}`),
		"JSON the SDK refuses":       event(t, `{"Records":{}}`),
		"an empty payload":           event(t, ``),
		"a bad prelude checksum":     badPrelude,
		"a bad message checksum":     badMessage,
		"cut in the prelude":         whole[:7],
		"cut in the payload":         whole[:len(whole)/2],
		"cut before the checksum":    whole[:len(whole)-2],
		"a prelude that claims more": append(append([]byte{}, whole[:preludeLen]...), whole[preludeLen:preludeLen+100]...),
		"nothing":                    nil,
	} {
		t.Run(name, func(t *testing.T) {
			want := readStream(sdkProtocol(), stream)
			got := readStream(fastProtocol(), stream)
			assert.Equal(t, want, got)
			if name == "events" {
				require.Len(t, got, len(events)+1, "every event, then the end")
			}
		})
	}
}

// A SubscribeToShardEvent takes the fast path: a few allocations, where the SDK makes
// several for each record.
func TestEventsAreDecodedHere(t *testing.T) {
	simulated, _ := simulatedResponse(t, 100)
	msg := event(t, asEvent(string(simulated)))
	read := func(p eventReader) float64 {
		return testing.AllocsPerRun(20, func() {
			ev, err := p.DeserializeEventMessage(schemas.SubscribeToShardEventStream, kinesis.TypeRegistry, bytes.NewReader(msg))
			require.NoError(t, err)
			require.Len(t, ev.(*types.SubscribeToShardEvent).Records, 100)
		})
	}
	sdk, fast := read(sdkProtocol()), read(fastProtocol())
	t.Logf("allocations a 100-record event: SDK %.0f, here %.0f", sdk, fast)
	assert.Less(t, fast, 50.0)
	assert.Greater(t, sdk, 500.0)
}

// BenchmarkEvent reads a 1,000-record SubscribeToShardEvent here and the SDK's way.
func BenchmarkEvent(b *testing.B) {
	simulated, dataBytes := simulatedResponse(b, 1000)
	msg := event(b, asEvent(string(simulated)))
	read := func(p eventReader) func() error {
		return func() error {
			_, err := p.DeserializeEventMessage(schemas.SubscribeToShardEventStream, kinesis.TypeRegistry, bytes.NewReader(msg))
			return err
		}
	}
	benchPerRecord(b, dataBytes, map[string]func() error{"fast": read(fastProtocol()), "sdk": read(sdkProtocol())})
}

// FuzzEventStream reads any bytes as a stream both ways: whatever the SDK makes of them,
// events or the error that ends the stream, is what comes out here.
func FuzzEventStream(f *testing.F) {
	f.Add(event(f, asEvent(sdkCases["records"])))
	f.Add(event(f, asEvent(sdkCases["shard end"])))
	f.Add(append(event(f, `{"Records":[]}`), message(f, map[string]string{":message-type": "exception",
		":exception-type": "ResourceInUseException", ":content-type": "application/json"}, `{"message":"x"}`)...))
	f.Add(message(f, map[string]string{":message-type": "event", ":event-type": "Other"}, `{}`))
	f.Fuzz(func(t *testing.T, stream []byte) {
		want := readStream(sdkProtocol(), stream)
		got := readStream(fastProtocol(), stream)
		if !slices.Equal(want, got) {
			t.Fatalf("read differently from the SDK\nSDK:  %q\nhere: %q", want, got)
		}
	})
}
