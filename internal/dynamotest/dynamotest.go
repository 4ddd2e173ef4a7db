// Package dynamotest runs the dynalite stand-in (the real DynamoDB wire protocol) for
// tests, on a free port, and stops it when the test ends; Launch runs it for programs
// such as the soak run.
package dynamotest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
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
	cmd      *exec.Cmd
	exited   chan struct{}
}

// Start runs dynalite for the test. It fails the test, saying what to run, if the npm
// packages are not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch(collectortest.RepoRoot(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch runs dynalite from the npm packages of the repository at root, on a free port,
// in memory, with its log in dir; Stop ends it. Tables are created and deleted at once
// (no CREATING state to wait out).
func Launch(root, dir string) (*Server, error) {
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
	cmd := exec.Command("node", cli, "--port", fmt.Sprint(port), "--host", "127.0.0.1",
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Dir = dir
	logFile, err := os.Create(filepath.Join(dir, "dynalite.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	s.Client = NewClient(s.Endpoint)
	if err := s.waitReady(60 * time.Second); err != nil {
		s.Stop()
		log, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("dynalite did not come up: %w\n%s", err, log)
	}
	return s, nil
}

// NewClient returns a DynamoDB client for a stand-in endpoint.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("process exited")
		default:
		}
		// dynalite answers any request, a GET with an error document.
		resp, err := client.Get(s.Endpoint)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out")
}

// Stop ends the process.
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}
