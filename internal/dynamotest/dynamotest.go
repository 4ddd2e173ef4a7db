// Package dynamotest runs the dynalite stand-in (the real DynamoDB wire protocol) for
// tests, on a free port, and stops it when the test ends; Launch runs it for programs
// such as the soak run.
package dynamotest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/standin"
)

// Region and static credentials the stand-in accepts (it checks none).
const (
	Region    = kinesistest.Region
	AccessKey = kinesistest.AccessKey
	SecretKey = kinesistest.SecretKey
)

// Server is a running dynalite.
type Server struct {
	// Endpoint is its plain HTTP endpoint.
	Endpoint string
	Client   *dynamodb.Client
	*standin.Process
}

// Start runs dynalite for the test. It fails the test, saying what to run, if the npm
// packages are not installed.
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

// survivesAborts is loaded before dynalite. dynalite 4.0.0 throws from a request's
// 'error' handler, so a client that gives up on a request while sending it (a context
// cancelled at shutdown) ends the process, and every later call is refused; DynamoDB
// itself lives on. Those errors are logged and survived; any other still ends it.
const survivesAborts = `process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error('a client aborted a request: ' + err.message);
    return;
  }
  console.error(err);
  process.exit(1);
});
`

// Launch runs dynalite from the npm packages of the repository at root, on a free port,
// in memory, with its log in dir; Stop ends it. Tables are created and deleted with no
// delay, though a new table is CREATING until dynalite's next turn: wait for ACTIVE.
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
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("dynalite is not installed (%v): run `make test`, or `npm ci` in %s", err, root)
	}
	port, err := kinesistest.PickFreePort()
	if err != nil {
		return nil, err
	}
	// Absolute: node would take a relative path for a module's name.
	shim, err := filepath.Abs(filepath.Join(dir, "dynalite-survives-aborts.js"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(shim, []byte(survivesAborts), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "--require", shim, cli, "--port", fmt.Sprint(port), "--host", "127.0.0.1",
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Dir = dir
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	proc, err := standin.Start("dynalite", cmd, filepath.Join(dir, "dynalite.log"), endpoint)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: endpoint, Client: NewClient(endpoint), Process: proc}, nil
}

// NewClient returns a DynamoDB client for a stand-in endpoint.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}
