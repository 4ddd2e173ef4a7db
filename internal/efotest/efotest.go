// Package efotest is an in-process Kinesis enhanced fan-out endpoint for tests. It
// stands in front of a Kinesis endpoint (kinesis-local), answers the consumer calls and
// SubscribeToShard itself, and passes every other call on, so data, shards and reshards
// are the backend's. kinesis-local's own SubscribeToShard sends no initial-response,
// without which aws-sdk-go-v2 fails; this server writes the real event-stream encoding
// over HTTP/2 and TLS, as AWS does, and can be told to fail the ways AWS fails.
//
// In a test: k := kinesistest.Start(t); efo := efotest.Start(t, efotest.Options{Backend:
// k.Endpoint}); then efo.NewKinesisClient() in process, or a collector given efo.URL as
// its endpoint and the path efo.WriteCAFile(dir) returns as its tls ca_file. Assert efo.Violations() is
// empty at the end: it lists what the client's SubscribeToShard calls got wrong.
package efotest

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// Options say how the server behaves; zero values take the defaults given.
type Options struct {
	// Backend is the Kinesis endpoint holding the streams: kinesis-local's URL.
	Backend string
	// ActivateAfter is how many DescribeStreamConsumer answers say CREATING before a new
	// consumer is ACTIVE: 0 means 1, negative means ACTIVE from its registration.
	ActivateAfter int
	// PollInterval is how often the backend is asked for records while a subscription
	// has caught up: 100ms.
	PollInterval time.Duration
	// HeartbeatInterval is how long a caught-up subscription stays silent before an
	// empty event: 1s (AWS sends one about every 5s).
	HeartbeatInterval time.Duration
	// SubscriptionLifetime is when the server ends a subscription cleanly: 5 minutes,
	// as AWS. SetLifetime changes it later.
	SubscriptionLifetime time.Duration
	// MaxRecordsPerEvent splits a GetRecords answer into events of at most this many
	// records; 0 sends each answer as one event.
	MaxRecordsPerEvent int
	// Linger keeps a (consumer, shard) in use this long after its subscription ended,
	// as AWS does for a few seconds.
	Linger time.Duration
	// OmitInitialResponse leaves out the initial-response message, as kinesis-local
	// does: aws-sdk-go-v2's SubscribeToShard then fails.
	OmitInitialResponse bool
}

// Server is a running enhanced fan-out endpoint.
type Server struct {
	// URL is its https endpoint, for a client's BaseEndpoint.
	URL string

	opts    Options
	http    *httptest.Server
	proxy   *httputil.ReverseProxy
	backend *kinesis.Client
	// toBackend carries the server's own calls to the backend; Close drops its idle
	// connections, so a test's goroutine-leak check finds none left.
	toBackend *http.Transport
	// closing ends the open subscriptions when the server closes.
	closing   chan struct{}
	closeOnce sync.Once

	mu            sync.Mutex
	lifetime      time.Duration
	consumers     map[string]*consumer // by ARN
	subs          []*subscription      // every subscription opened, oldest first
	failSubscribe failure
	failDescribe  failure
	streamFaults  []streamFault // each taken by the next subscription opened
	registers     int
	describes     int
	violations    []string
}

// Start runs a server for the test and closes it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New runs a server; Close ends it.
func New(opts Options) (*Server, error) {
	backend, err := url.Parse(opts.Backend)
	if err != nil || backend.Host == "" {
		return nil, fmt.Errorf("efotest: backend %q is not a URL", opts.Backend)
	}
	if opts.ActivateAfter == 0 {
		opts.ActivateAfter = 1
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = time.Second
	}
	if opts.SubscriptionLifetime <= 0 {
		opts.SubscriptionLifetime = 5 * time.Minute
	}
	toBackend := http.DefaultTransport.(*http.Transport).Clone()
	s := &Server{
		opts:  opts,
		proxy: httputil.NewSingleHostReverseProxy(backend),
		backend: kinesis.New(kinesis.Options{
			Region:       kinesistest.Region,
			BaseEndpoint: aws.String(opts.Backend),
			Credentials:  credentials.NewStaticCredentialsProvider(kinesistest.AccessKey, kinesistest.SecretKey, ""),
			HTTPClient:   &http.Client{Transport: toBackend},
		}),
		toBackend: toBackend,
		closing:   make(chan struct{}),
		lifetime:  opts.SubscriptionLifetime,
		consumers: map[string]*consumer{},
	}
	s.proxy.Transport = toBackend
	s.http = httptest.NewUnstartedServer(s)
	s.http.EnableHTTP2 = true
	s.http.StartTLS()
	s.URL = s.http.URL
	return s, nil
}

// Close ends the open subscriptions and the server. A handler blocked writing to a
// client that stopped reading is freed by closing the connections first.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.http.CloseClientConnections()
		s.http.Close()
		s.toBackend.CloseIdleConnections()
	})
}

// Client is an HTTP/2 client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.http.Client() }

// CertPEM is the server's certificate, PEM-encoded, for a client's CA file.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.http.Certificate().Raw})
}

// WriteCAFile writes the certificate to dir, for a collector's `tls: {ca_file: ...}`,
// and returns the file's path.
func (s *Server) WriteCAFile(dir string) (string, error) {
	path := filepath.Join(dir, "efotest-ca.pem")
	return path, os.WriteFile(path, s.CertPEM(), 0o600)
}

// NewKinesisClient is an aws-sdk-go-v2 client pointed at the server, with kinesistest's
// region and static credentials; optFns change its options (retries, say).
func (s *Server) NewKinesisClient(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       kinesistest.Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(kinesistest.AccessKey, kinesistest.SecretKey, ""),
		HTTPClient:   s.Client(),
	}, optFns...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	if !ok {
		s.proxy.ServeHTTP(w, r)
		return
	}
	switch action {
	case "RegisterStreamConsumer":
		s.registerConsumer(w, r)
	case "DescribeStreamConsumer":
		s.describeConsumer(w, r)
	case "ListStreamConsumers":
		s.listConsumers(w, r)
	case "DeregisterStreamConsumer":
		s.deregisterConsumer(w, r)
	case "SubscribeToShard":
		s.subscribeToShard(w, r)
	default:
		s.proxy.ServeHTTP(w, r)
	}
}

// violate records a breach of the wire protocol; tests assert there are none.
func (s *Server) violate(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}
