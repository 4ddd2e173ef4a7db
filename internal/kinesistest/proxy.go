package kinesistest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Account is the AWS account kinesis-local puts its streams in.
const Account = "000000000000"

// Proxy stands in front of a Kinesis endpoint and passes calls on, except the actions it
// is told to refuse, which it answers the way AWS does: the Kinesis JSON protocol's
// error shape, with AWS's own wording.
type Proxy struct {
	// URL is the endpoint to point clients at.
	URL    string
	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu      sync.Mutex
	refuse  map[string]refusal // by action, "*" for every action
	refused map[string]int
}

type refusal struct {
	status  int
	errType string
	message func(action, resource string) string
}

// StartProxy runs a Proxy to target for the test.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{proxy: httputil.NewSingleHostReverseProxy(u), refuse: map[string]refusal{}, refused: map[string]int{}}
	p.server = httptest.NewServer(p)
	p.URL = p.server.URL
	t.Cleanup(p.server.Close)
	return p
}

// Deny answers action (GetRecords, say) with AccessDeniedException, as for an identity
// whose policy lacks kinesis:<action>.
func (p *Proxy) Deny(action string) {
	p.set(action, refusal{status: http.StatusBadRequest, errType: "AccessDeniedException", message: func(action, resource string) string {
		return "User: arn:aws:iam::" + Account + ":user/otelcol is not authorized to perform: kinesis:" + action +
			" on resource: " + resource + " because no identity-based policy allows the kinesis:" + action + " action"
	}})
}

// RefuseCredentials answers every call with UnrecognizedClientException, as AWS answers
// an access key it does not know.
func (p *Proxy) RefuseCredentials() {
	p.set("*", refusal{status: http.StatusBadRequest, errType: "UnrecognizedClientException", message: func(string, string) string {
		return "The security token included in the request is invalid."
	}})
}

// Fail answers action with a 500 InternalFailure, as a Kinesis having a bad moment.
func (p *Proxy) Fail(action string) {
	p.set(action, refusal{status: http.StatusInternalServerError, errType: "InternalFailure", message: func(string, string) string {
		return "We encountered an internal error. Please try again."
	}})
}

// Allow passes action on again; "*" undoes RefuseCredentials.
func (p *Proxy) Allow(action string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.refuse, action)
}

// Refused is how many calls of action were refused so far.
func (p *Proxy) Refused(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused[action]
}

func (p *Proxy) set(action string, r refusal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse[action] = r
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	p.mu.Lock()
	ref, ok := p.refuse[action]
	if !ok {
		ref, ok = p.refuse["*"]
	}
	if ok {
		p.refused[action]++
	}
	p.mu.Unlock()
	if !ok {
		p.proxy.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	WriteError(w, ref.status, ref.errType, ref.message(action, resourceOf(body)))
}

// WriteError answers in the Kinesis JSON protocol's error shape, from which the SDK
// makes its typed errors (*types.ResourceInUseException, say): the type in __type and
// in the X-Amzn-Errortype header.
func WriteError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", errType+":")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": errType, "message": message})
}

// resourceOf is the stream ARN a call names, as AWS's message gives it.
func resourceOf(body []byte) string {
	var in struct{ StreamARN, StreamName string }
	_ = json.NewDecoder(bytes.NewReader(body)).Decode(&in)
	switch {
	case in.StreamARN != "":
		return in.StreamARN
	case in.StreamName != "":
		return "arn:aws:kinesis:" + Region + ":" + Account + ":stream/" + in.StreamName
	}
	return "arn:aws:kinesis:" + Region + ":" + Account + ":stream/*"
}
