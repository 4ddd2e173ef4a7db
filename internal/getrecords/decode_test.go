package getrecords

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkProtocol is the protocol a Kinesis client has by default.
func sdkProtocol() *awsjson.Protocol { return awsjson.New11(schemas.Kinesis_20131202) }

// fastProtocol is the same wrapped, as a client with Use has it.
func fastProtocol() *protocol {
	o := kinesis.Options{Protocol: sdkProtocol()}
	Use(&o)
	return o.Protocol.(*protocol)
}

// sdkDecode decodes body the SDK's own way.
func sdkDecode(body []byte) (*kinesis.GetRecordsOutput, error) {
	return decodeWith(sdkProtocol(), body)
}

// fastDecode decodes body through the wrapped protocol.
func fastDecode(body []byte) (*kinesis.GetRecordsOutput, error) {
	return decodeWith(fastProtocol(), body)
}

func decodeWith(p smithyhttp.ClientProtocol, body []byte) (*kinesis.GetRecordsOutput, error) {
	out := &kinesis.GetRecordsOutput{}
	err := p.DeserializeResponse(context.Background(),
		smithy.NewOperationSchema(schemas.GetRecords, schemas.GetRecordsInput, schemas.GetRecordsOutput),
		kinesis.TypeRegistry, response(200, body), out)
	return out, err
}

func response(status int, body []byte) *smithyhttp.Response {
	return &smithyhttp.Response{Response: &http.Response{
		StatusCode:    status,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// sdkCases are bodies both decoders must read alike.
var sdkCases = map[string]string{
	"records": `{"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ApproximateArrivalTimestamp":1.701504000123E9,"Data":"` + b64(`{"EventType":"HEART_BEAT"}`) + `","PartitionKey":"agent-1"},` +
		`{"SequenceNumber":"49590338271490256608559692538361571095921575989136588899","ApproximateArrivalTimestamp":1701504001,"Data":"` + b64("second") + `","PartitionKey":"agent-2","EncryptionType":"KMS"}],` +
		`"NextShardIterator":"AAAAAAAAAAH+/=","MillisBehindLatest":86400000}`,
	"at the tip":          `{"Records":[],"NextShardIterator":"it","MillisBehindLatest":0}`,
	"shard end":           `{"Records":[],"MillisBehindLatest":0,"ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000","shardId-000000000001"],"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"}}]}`,
	"nulls":               `{"Records":[{"SequenceNumber":null,"Data":null,"PartitionKey":null,"ApproximateArrivalTimestamp":null,"EncryptionType":null}],"NextShardIterator":null,"MillisBehindLatest":null,"ChildShards":null}`,
	"null records":        `{"Records":null}`,
	"a null record":       `{"Records":[null,{"SequenceNumber":"1"}]}`,
	"empty":               `{}`,
	"unknown members":     `{"Future":{"a":[1,2,{"b":"c\"}"}],"d":true},"Records":[{"Extra":[[],{}],"SequenceNumber":"7","Data":"","Other":false,"More":null,"Num":-1.5e-3}],"Later":"x"}`,
	"escapes":             `{"Records":[{"SequenceNumber":"\u0034\u0032","PartitionKey":"caf\u00e9 \"quoted\" \\ \ud83d\ude00 tab\t","Data":"` + strings.ReplaceAll(b64("a?b>c/d"), "/", `\/`) + `"}],"NextShardIterator":"a\/b"}`,
	"backslash last":      `{"Records":[{"SequenceNumber":"1","PartitionKey":"ends in a backslash\\"},{"SequenceNumber":"2","PartitionKey":"\\\"\\"}]}`,
	"escaped key":         `{"Rec\u006frds":[{"SequenceNumber":"1"}]}`,
	"whitespace":          " \n{ \"Records\" : [ { \"SequenceNumber\" : \"1\" , \"Data\" : \"" + b64("x") + "\" } ] ,\r\n\t\"MillisBehindLatest\" : 5 } \n",
	"unicode partition":   `{"Records":[{"SequenceNumber":"1","PartitionKey":"агент-αβγ-エージェント"}]}`,
	"timestamp forms":     `{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.7015040001E+9},{"SequenceNumber":"2","ApproximateArrivalTimestamp":0},{"SequenceNumber":"3","ApproximateArrivalTimestamp":-1.5},{"ApproximateArrivalTimestamp":1764547200.0009999},{"ApproximateArrivalTimestamp":-0.0005},{"ApproximateArrivalTimestamp":1e300},{"ApproximateArrivalTimestamp":-1e300},{"ApproximateArrivalTimestamp":9223372036854775.807}]}`,
	"sequence in a value": `{"Records":[{"PartitionKey":"\"SequenceNumber\"","SequenceNumber":"1"},{"SequenceNumber":"2"}]}`,
	"no sequence numbers": `{"Records":[{"PartitionKey":"a"},{"PartitionKey":"b"},{"Data":"` + b64("c") + `"}]}`,
	"empty body":          ``,
	// Long enough for the vector loop (45 characters and more), in several shapes of tail.
	"long data": `{"Records":[{"SequenceNumber":"1","Data":"` + b64(strings.Repeat("agent event ", 40)) + `"},` +
		`{"SequenceNumber":"2","Data":"` + b64(strings.Repeat("x", 100)) + `"},{"SequenceNumber":"3","Data":"` + b64(strings.Repeat("y", 101)) + `"},` +
		`{"SequenceNumber":"4","Data":"` + strings.ReplaceAll(b64(strings.Repeat("\xff\xfe?>", 60)), "/", `\/`) + `"}]}`,
	// encoding/base64 skips CR and LF, and the SDK with it.
	"long data with line breaks": `{"Records":[{"Data":"` + b64(strings.Repeat("a", 90))[:40] + `\r\n` + b64(strings.Repeat("a", 90))[40:] + `"}]}`,
}

func TestDecodeReadsWhatTheSDKReads(t *testing.T) {
	for name, body := range sdkCases {
		t.Run(name, func(t *testing.T) {
			want, err := sdkDecode([]byte(body))
			require.NoError(t, err, "the SDK reads it")
			got, err := fastDecode([]byte(body))
			require.NoError(t, err)
			assert.Equal(t, dump(want), dump(got))
		})
	}
}

// dump renders an output for comparison: pointers by value, times in UTC to the
// nanosecond, data as bytes.
func dump(o *kinesis.GetRecordsOutput) string {
	type rec struct {
		Data                         []byte
		SequenceNumber, PartitionKey *string
		Arrival                      *string
		EncryptionType               string
	}
	var recs []rec
	if o.Records != nil {
		recs = []rec{}
	}
	for _, r := range o.Records {
		var at *string
		if r.ApproximateArrivalTimestamp != nil {
			s := r.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano)
			at = &s
		}
		recs = append(recs, rec{r.Data, r.SequenceNumber, r.PartitionKey, at, string(r.EncryptionType)})
	}
	b, err := json.MarshalIndent(map[string]any{
		"Records": recs, "NextShardIterator": o.NextShardIterator,
		"MillisBehindLatest": o.MillisBehindLatest, "ChildShards": o.ChildShards,
	}, "", " ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestDecodeRefusesWhatIsNotAResponse(t *testing.T) {
	for name, body := range map[string]string{
		"truncated":             `{"Records":[{"SequenceNumber":"1"`,
		"truncated string":      `{"Records":[{"SequenceNumber":"1`,
		"escaped last quote":    `{"NextShardIterator":"a\"}`,
		"not base64":            `{"Records":[{"Data":"not base64!"}]}`,
		"records not an array":  `{"Records":{}}`,
		"string for a number":   `{"MillisBehindLatest":"5"}`,
		"fraction for an int":   `{"MillisBehindLatest":1.5}`,
		"number for a string":   `{"NextShardIterator":5}`,
		"trailing data":         `{} {}`,
		"missing colon":         `{"Records" []}`,
		"missing comma":         `{"Records":[] "MillisBehindLatest":1}`,
		"control character":     "{\"NextShardIterator\":\"a\x01b\"}",
		"bad child shards":      `{"ChildShards":{"ShardId":1}}`,
		"nested too deep":       `{"X":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"array for the body":    `[]`,
		"null body":             `null`,
		"record not an object":  `{"Records":[1]}`,
		"bad unknown member":    `{"X":tru}`,
		"bad escape in a value": `{"Records":[{"PartitionKey":"\x"}]}`,
		"not base64, long":      `{"Records":[{"Data":"` + b64(strings.Repeat("a", 120))[:100] + `!` + b64(strings.Repeat("a", 120))[101:] + `"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fastDecode([]byte(body))
			require.Error(t, err)
			var de *smithy.DeserializationError
			require.ErrorAs(t, err, &de, "a deserialization error, as the SDK's")
		})
	}
}

// Bad data is reported where encoding/base64 reports it, from the start of the record's
// data, however much of it the vector loop decoded first.
func TestBadDataIsReportedAtItsOffset(t *testing.T) {
	text := b64(strings.Repeat("agent event ", 40))
	for _, at := range []int{0, 44, 45, 100, len(text) - 2} {
		bad := text[:at] + "!" + text[at+1:]
		_, want := base64.StdEncoding.DecodeString(bad)
		require.Error(t, want)
		_, err := fastDecode([]byte(`{"Records":[{"Data":"` + bad + `"}]}`))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "record data: "+want.Error())
	}
}

// Errors are the SDK's to decode: they keep their types.
func TestErrorResponsesKeepTheirTypes(t *testing.T) {
	o := kinesis.Options{Protocol: awsjson.New11(schemas.Kinesis_20131202)}
	Use(&o)
	Use(&o) // twice wraps once
	_, wrappedTwice := o.Protocol.(*protocol).ClientProtocol.(*protocol)
	require.False(t, wrappedTwice)
	body := []byte(`{"__type":"ExpiredIteratorException","message":"Iterator expired"}`)
	err := o.Protocol.DeserializeResponse(context.Background(),
		smithy.NewOperationSchema(schemas.GetRecords, schemas.GetRecordsInput, schemas.GetRecordsOutput),
		kinesis.TypeRegistry, response(400, body), &kinesis.GetRecordsOutput{})
	require.Error(t, err)
	assert.Contains(t, fmt.Sprintf("%T", err), "ExpiredIteratorException")
}

// Each record's data is its own: appending to one cannot overwrite the next.
func TestRecordDataDoNotOverlap(t *testing.T) {
	out, err := fastDecode([]byte(`{"Records":[{"Data":"` + b64("first") + `"},{"Data":"` + b64("second") + `"}]}`))
	require.NoError(t, err)
	_ = append(out.Records[0].Data, "XXXXXX"...)
	assert.Equal(t, "second", string(out.Records[1].Data))
	assert.Equal(t, "first", string(out.Records[0].Data))
}

func FuzzDecode(f *testing.F) {
	for _, body := range sdkCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := fastDecode(body) // never panics
		want, sdkErr := sdkDecode(body)
		if sdkErr != nil || err != nil {
			return
		}
		if dump(want) != dump(got) {
			t.Fatalf("decoded differently from the SDK\nSDK:  %s\nhere: %s", dump(want), dump(got))
		}
	})
}

// A response is read into a buffer kept from an earlier call, even after garbage
// collections: allocating and zeroing megabytes a call is what the kept buffers save. The
// larger response fills 6.7 MB, which a buffer doubled at its last byte would take past
// the largest size kept.
func TestBodyBuffersOutliveGarbageCollections(t *testing.T) {
	for _, records := range []int{300, 1000} {
		t.Run(fmt.Sprintf("%d records", records), func(t *testing.T) {
			body, _ := simulatedResponse(t, records)
			_, err := fastDecode(body) // a first call makes the buffer
			require.NoError(t, err)

			runtime.GC()
			runtime.GC() // a sync.Pool is empty after two
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := fastDecode(body)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.Len(t, out.Records, records)

			// The decoded data take three quarters of the body; a fresh buffer would add
			// the whole body again.
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(len(body)), "a call allocated %d bytes for a %d-byte body", allocated, len(body))
		})
	}
}

// A kept buffer too small for a response is replaced by one of about the response's size
// (an eighth more, rounded), not doubled as bytes.Buffer.Grow would: two kept buffers
// of twice the responses' size held 12 MB of a collector's 34 MB live heap.
func TestBodyBuffersGrowToTheResponse(t *testing.T) {
	buf := bytes.NewBuffer(make([]byte, 0, 3<<20))
	body := bytes.Repeat([]byte("x"), 3<<20+100_000)
	require.NoError(t, readInto(buf, bytes.NewReader(body), int64(len(body))))
	assert.Equal(t, body, buf.Bytes())
	assert.Equal(t, slabSize(len(body)+bytes.MinRead), buf.Cap())
	assert.Less(t, buf.Cap(), len(body)*5/4)

	// What is already in the buffer stays, ahead of what is read.
	buf = bytes.NewBufferString("prelude")
	require.NoError(t, readInto(buf, bytes.NewReader(body), int64(len(body))))
	assert.Equal(t, append([]byte("prelude"), body...), buf.Bytes())

	// A buffer large enough is read into as it is.
	buf = bytes.NewBuffer(make([]byte, 0, 8<<20))
	before := &buf.Bytes()[:1][0]
	require.NoError(t, readInto(buf, bytes.NewReader(body), int64(len(body))))
	assert.Same(t, before, &buf.Bytes()[0])
}
