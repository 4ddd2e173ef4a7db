// Package kinesistest runs the kinesis-local stand-in (the real Kinesis wire protocol)
// for tests, on free ports, and stops it when the test ends; Launch runs it for programs
// such as the soak run.
package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/standin"
)

// Region and static credentials the stand-in accepts.
const (
	Region    = "us-east-1"
	AccessKey = "local-access-key"
	SecretKey = "local-secret-key"
)

// Server is a running kinesis-local.
type Server struct {
	// Endpoint is its plain HTTP endpoint.
	Endpoint string
	Client   *kinesis.Client
	*standin.Process
}

// FreePort returns a TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	port, err := PickFreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// PickFreePort is FreePort for programs.
func PickFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs kinesis-local for the test. It fails the test, saying what to run, if the
// npm packages are not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch(collectortest.RepoRoot(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Report())
		}
		s.Stop()
	})
	return s
}

// Launch runs kinesis-local from the npm packages of the repository at root, on free
// ports, with its files in dir; Stop ends it.
func Launch(root, dir string) (*Server, error) {
	// Ports are picked free and taken a moment later: a test running at once may take
	// one first, and then another port is tried.
	for attempt := 1; ; attempt++ {
		s, err := launchOnce(root, dir)
		if !errors.Is(err, standin.ErrPortTaken) || attempt == 5 {
			return s, err
		}
	}
}

// launchOnce is Launch on one pick of ports.
func launchOnce(root, dir string) (*Server, error) {
	root, err := filepath.Abs(root) // the process runs in dir
	if err != nil {
		return nil, err
	}
	modDir := filepath.Join(root, "node_modules", "kinesis-local")
	mainJS := filepath.Join(modDir, "main.js")
	if _, err := os.Stat(mainJS); err != nil {
		return nil, fmt.Errorf("kinesis-local is not installed (%v): run `make test`, or `npm ci` in %s", err, root)
	}
	plain, err := PickFreePort()
	if err != nil {
		return nil, err
	}
	tls, err := PickFreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", mainJS)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"KINESIS_MOCK_CERT_PATH="+filepath.Join(modDir, "server.json"),
		fmt.Sprintf("KINESIS_MOCK_PLAIN_PORT=%d", plain),
		fmt.Sprintf("KINESIS_MOCK_TLS_PORT=%d", tls),
		"AWS_REGION="+Region,
		"LOG_LEVEL=WARN",
		// Resharding completes quickly, as in tests nobody waits for AWS's minutes.
		"SPLIT_SHARD_DURATION=100ms", "MERGE_SHARDS_DURATION=100ms", "CREATE_STREAM_DURATION=100ms",
	)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", plain)
	proc, err := standin.Start("kinesis-local", cmd, filepath.Join(dir, "kinesis-local.log"), endpoint)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: endpoint, Client: NewClient(endpoint), Process: proc}, nil
}

// CollectorEnv is the environment a collector binary needs to read from the stand-in:
// its static credentials, and no probing of the EC2 instance metadata endpoint.
func CollectorEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_EC2_METADATA_DISABLED=true"}
}

// NewClient returns a Kinesis client for a stand-in endpoint.
func NewClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// CreateStream creates a stream and waits until it is active.
func (s *Server) CreateStream(t testing.TB, name string, shards int32) {
	t.Helper()
	if err := s.NewStream(name, shards); err != nil {
		t.Fatal(err)
	}
}

// NewStream is CreateStream for programs.
func (s *Server) NewStream(name string, shards int32) error {
	ctx := context.Background()
	if _, err := s.Client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	return s.waitActive(name)
}

// WaitActive waits until a stream is ACTIVE (after creation or resharding).
func (s *Server) WaitActive(t testing.TB, name string) {
	t.Helper()
	if err := s.waitActive(name); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) waitActive(name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := s.Client.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("stream %s did not become active", name)
}

// Put writes records with PutRecords (up to 500 a call), retrying entries the stand-in
// failed, and returns their sequence numbers in order.
func (s *Server) Put(t testing.TB, stream string, keys []string, data [][]byte) []string {
	t.Helper()
	seqs := make([]string, len(data))
	for start := 0; start < len(data); start += 500 {
		end := min(start+500, len(data))
		pending := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			pending = append(pending, i)
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 20 {
				t.Fatalf("put records: %d entries still failing", len(pending))
			}
			entries := make([]types.PutRecordsRequestEntry, len(pending))
			for j, i := range pending {
				entries[j] = types.PutRecordsRequestEntry{Data: data[i], PartitionKey: aws.String(keys[i])}
			}
			out, err := s.Client.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: &stream, Records: entries})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			var failed []int
			for j, r := range out.Records {
				if r.ErrorCode != nil {
					failed = append(failed, pending[j])
					continue
				}
				seqs[pending[j]] = aws.ToString(r.SequenceNumber)
			}
			pending = failed
		}
	}
	return seqs
}
