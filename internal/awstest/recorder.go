package awstest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Signature is what a SigV4 Authorization header says about who signed a request.
type Signature struct {
	AccessKeyID string
	Region      string
	Service     string
}

// ParseSignature reads the credential scope of a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...".
func ParseSignature(authorization string) (Signature, bool) {
	const prefix = "AWS4-HMAC-SHA256 Credential="
	if !strings.HasPrefix(authorization, prefix) {
		return Signature{}, false
	}
	scope, _, _ := strings.Cut(strings.TrimPrefix(authorization, prefix), ",")
	parts := strings.Split(scope, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return Signature{}, false
	}
	return Signature{AccessKeyID: parts[0], Region: parts[2], Service: parts[3]}, true
}

// Request is one request a Recorder passed on.
type Request struct {
	Signature Signature
	// Target is the X-Amz-Target header: the service and action of the JSON protocols
	// (Kinesis_20131202.GetRecords, DynamoDB_20120810.PutItem).
	Target string
}

// Recorder stands in front of an endpoint (kinesis-local, dynalite), notes the signature
// of each request and passes it on unchanged.
type Recorder struct {
	// URL is the endpoint to point clients at.
	URL string

	mu       sync.Mutex
	requests []Request
}

// StartRecorder runs a Recorder in front of target for the test.
func StartRecorder(t testing.TB, target string) *Recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sig, _ := ParseSignature(r.Header.Get("Authorization"))
		rec.mu.Lock()
		rec.requests = append(rec.requests, Request{Signature: sig, Target: r.Header.Get("X-Amz-Target")})
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// Requests returns the requests passed on so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// AccessKeyIDs counts the requests passed on so far by the access key that signed them
// ("" for an unsigned request).
func (r *Recorder) AccessKeyIDs() map[string]int {
	counts := map[string]int{}
	for _, req := range r.Requests() {
		counts[req.Signature.AccessKeyID]++
	}
	return counts
}
