// Package collectortest holds what the tests of the built collector need: the repository
// root, the binary `make build` leaves and a runner for it, an OTLP backend that counts
// what the collector exports, and readers of the collector's own metrics and memory.
package collectortest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RepoRoot is the nearest directory up from the working directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary is the collector under test: OTELCOL_BINARY, or the one `make build` leaves. It
// fails the test, saying what to run, when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("OTELCOL_BINARY")
	if path == "" {
		path = filepath.Join(RepoRoot(t), "_build", "otelcol-amazonconnect")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("collector binary not found at %s (%v): run `make build`, or `make test` which builds it", path, err)
	}
	return path
}

// Process is a running collector binary.
type Process struct {
	cmd *exec.Cmd
	out *lockedBuffer // nil when the output goes elsewhere
	// Exited is closed once the process has exited.
	Exited chan struct{}
}

// Start runs the collector binary with a config file and extra environment; the test's
// end kills it if it still runs, and prints its output if the test failed.
func Start(t testing.TB, cfgPath string, env ...string) *Process {
	t.Helper()
	return StartArgs(t, []string{"--config", cfgPath}, env...)
}

// StartWithFlags is Start with more command-line flags, such as
// --feature-gates=+extension.healthcheck.useComponentStatus.
func StartWithFlags(t testing.TB, cfgPath string, flags []string, env ...string) *Process {
	t.Helper()
	return StartArgs(t, append([]string{"--config", cfgPath}, flags...), env...)
}

// StartArgs is Start with the collector's whole command line after the binary, e.g.
// several --config flags, the later ones overriding the earlier.
func StartArgs(t testing.TB, args []string, env ...string) *Process {
	t.Helper()
	return StartBinary(t, Binary(t), args, env...)
}

// StartBinary is StartArgs with the collector binary at path, e.g. to compare builds.
func StartBinary(t testing.TB, path string, args []string, env ...string) *Process {
	t.Helper()
	out := &lockedBuffer{}
	p, err := RunArgs(path, args, out, env...)
	if err != nil {
		t.Fatal(err)
	}
	p.out = out
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("collector output:\n%s", p.Output())
		}
	})
	return p
}

// Run starts the collector binary at path with a config file, its output going to out,
// and extra environment; for programs, such as the soak run.
func Run(path, cfgPath string, out io.Writer, env ...string) (*Process, error) {
	return RunArgs(path, []string{"--config", cfgPath}, out, env...)
}

// RunArgs is Run with the collector's whole command line after the binary.
func RunArgs(path string, args []string, out io.Writer, env ...string) (*Process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the collector: %w", err)
	}
	p := &Process{cmd: cmd, Exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.Exited)
	}()
	return p, nil
}

// PID is the process's ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Output is what the collector printed so far, when Start runs it.
func (p *Process) Output() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// Kill sends SIGKILL, no shutdown and no flush, and waits for the exit.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.Exited
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	if err := p.Terminate(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// Terminate sends SIGTERM and waits up to timeout for the process to exit with code 0.
func (p *Process) Terminate(timeout time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal the collector: %w", err)
	}
	select {
	case <-p.Exited:
	case <-time.After(timeout):
		return fmt.Errorf("collector did not stop within %s of SIGTERM", timeout)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("collector exit code %d", code)
	}
	return nil
}

// lockedBuffer lets the test read the output while the process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
