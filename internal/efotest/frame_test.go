package efotest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go/eventstream"
)

// The messages a subscription writes, framed by our encoder and by smithy-go's (the one
// aws-sdk-go-v2 decodes with), must be the same bytes.
func TestEncoderMatchesSmithy(t *testing.T) {
	event := []byte(`{"Records":[{"Data":"eyJhIjoxfQ==","SequenceNumber":"49680769168289645736397684483025522202174158804418035714","PartitionKey":"agent-1","ApproximateArrivalTimestamp":1717171717.123}],"ContinuationSequenceNumber":"49680769168289645736397684483025522202174158804418035714","MillisBehindLatest":0}`)
	cases := []struct {
		name    string
		headers []header
		payload []byte
	}{
		{"initial-response", eventHeaders("initial-response"), []byte("{}")},
		{"event", eventHeaders("SubscribeToShardEvent"), event},
		{"exception", exceptionHeaders("InternalFailureException"), []byte(`{"message":"boom"}`)},
		{"no headers", nil, []byte("payload")},
		{"no payload", []header{{"empty", ""}}, nil},
		{"large", eventHeaders("SubscribeToShardEvent"), bytes.Repeat([]byte("x"), 1<<20)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours, err := appendMessage([]byte("kept"), c.headers, c.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(ours, []byte("kept")) {
				t.Fatal("appendMessage overwrote what dst held")
			}
			ours = ours[len("kept"):]
			msg := eventstream.Message{Payload: c.payload}
			for _, h := range c.headers {
				msg.Headers = append(msg.Headers, eventstream.Header{Name: h.name, Value: eventstream.StringValue(h.value)})
			}
			var theirs bytes.Buffer
			if err := eventstream.NewEncoder().Encode(&theirs, msg); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, theirs.Bytes()) {
				t.Fatalf("our frame differs from smithy-go's:\nours   %x\ntheirs %x", head(ours), head(theirs.Bytes()))
			}
			decoded, err := eventstream.NewDecoder().Decode(bytes.NewReader(ours), nil)
			if err != nil {
				t.Fatalf("smithy-go cannot decode our frame: %v", err)
			}
			if !bytes.Equal(decoded.Payload, c.payload) || len(decoded.Headers) != len(c.headers) {
				t.Fatalf("decoded %d headers and %d bytes of payload, want %d and %d", len(decoded.Headers), len(decoded.Payload), len(c.headers), len(c.payload))
			}
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

// AWS's published test vectors (in smithy-go's testdata): each encoded message is
// decoded by smithy-go and, where its headers are all strings, framed again by our
// encoder, which must give the same bytes; the vector's JSON description, framed by
// ours, must too.
func TestEncoderAWSVectors(t *testing.T) {
	dir := smithyTestdata(t)
	entries, err := os.ReadDir(filepath.Join(dir, "encoded", "positive"))
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, e := range entries {
		encoded, err := os.ReadFile(filepath.Join(dir, "encoded", "positive", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := eventstream.NewDecoder().Decode(bytes.NewReader(encoded), nil)
		if err != nil {
			t.Fatalf("%s: smithy-go cannot decode AWS's vector: %v", e.Name(), err)
		}
		headers, ok := stringHeaders(msg.Headers)
		if !ok {
			// Our encoder writes string headers only, all SubscribeToShard sends; the
			// vectors with integer, boolean, byte-array, timestamp or UUID headers test
			// types the server never writes.
			t.Logf("%s: not compared, it has headers of types the server never sends", e.Name())
			continue
		}
		ours, err := appendMessage(nil, headers, msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, encoded) {
			t.Errorf("%s: our frame differs from AWS's vector:\nours %x\naws  %x", e.Name(), ours, encoded)
		}
		fromJSON := describedMessage(t, filepath.Join(dir, "decoded", "positive", e.Name()))
		if !bytes.Equal(fromJSON, encoded) {
			t.Errorf("%s: our frame of the vector's description differs from its bytes:\nours %x\naws  %x", e.Name(), fromJSON, encoded)
		}
		compared++
	}
	// empty_message, payload_no_headers and payload_one_str_header.
	if compared < 3 {
		t.Fatalf("compared %d vectors, want at least 3", compared)
	}
}

func stringHeaders(hs eventstream.Headers) ([]header, bool) {
	out := make([]header, 0, len(hs))
	for _, h := range hs {
		v, ok := h.Value.(eventstream.StringValue)
		if !ok {
			return nil, false
		}
		out = append(out, header{h.Name, string(v)})
	}
	return out, true
}

// describedMessage frames the message a decoded/positive vector describes in JSON.
func describedMessage(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Headers []struct {
			Name  string
			Type  int
			Value string
		}
		Payload []byte // base64 in the JSON
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var headers []header
	for _, h := range d.Headers {
		if h.Type != stringType {
			t.Fatalf("%s: header %s has type %d", path, h.Name, h.Type)
		}
		v, err := base64.StdEncoding.DecodeString(h.Value)
		if err != nil {
			t.Fatal(err)
		}
		headers = append(headers, header{h.Name, string(v)})
	}
	msg, err := appendMessage(nil, headers, d.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// smithyTestdata is smithy-go's eventstream/testdata in the module cache, at the
// version go.mod pins.
func smithyTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/smithy-go").Output()
	if err != nil {
		t.Fatalf("go list smithy-go: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "eventstream", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEncoderRefusesOversize(t *testing.T) {
	if _, err := appendMessage(nil, []header{{strings.Repeat("n", 256), "v"}}, nil); err == nil {
		t.Error("a 256-byte header name was framed")
	}
	if _, err := appendMessage(nil, nil, make([]byte, maxPayloadLen+1)); err == nil {
		t.Error("a payload over 16 MB was framed")
	}
}
