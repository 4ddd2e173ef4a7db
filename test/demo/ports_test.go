// Package demo tests that `make run` stops at once, before building or starting
// anything, when a port the demo binds is taken (most often by an earlier demo still
// running), and says which port and what holds it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fast bounds a check that must not build or start anything; a build takes minutes.
const fast = 10 * time.Second

type result struct {
	output string
	code   int // -1 when it was stopped for running too long
	took   time.Duration
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// run runs a command at the repository's root in a process group of its own. Past
// timeout the group gets SIGTERM (demo.sh then stops what it started), and SIGKILL a
// few seconds later.
func run(t *testing.T, timeout time.Duration, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		// A make of its own, not a sub-make of whatever runs the tests.
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "KINESIS_PORT", "DEMO_PORT_LOOKUP":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := result{output: string(out), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		r.code = -1
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		require.NoError(t, err)
	}
	t.Logf("%s %s: exit %d after %s\n%s", name, strings.Join(args, " "), r.code, r.took.Round(time.Millisecond), r.output)
	return r
}

// holdPort listens on a free port until the test ends, as an earlier demo's
// kinesis-local would.
func holdPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// assertStoppedNamingHolder: a quick failure whose message names the port, this test
// process as its holder, and the holder's command line.
func assertStoppedNamingHolder(t *testing.T, r result, port int) {
	t.Helper()
	require.NotEqual(t, -1, r.code, "still running after %s: it did not stop at the busy port", fast)
	assert.NotZero(t, r.code, "exit status")
	assert.Less(t, r.took, fast)
	assert.Contains(t, r.output, fmt.Sprintf("port %d ", port))
	assert.Contains(t, r.output, fmt.Sprintf("in use by pid %d: ", os.Getpid()))
	assert.Contains(t, r.output, filepath.Base(os.Args[0]), "the holder's command line")
}

// TestPortCheckNamesTheHolder: with each way of finding a port's holder this machine has,
// a busy port stops the check with the holder's pid and command line; without one, the
// check still stops and says the port is taken.
func TestPortCheckNamesTheHolder(t *testing.T) {
	port := holdPort(t)
	lookups := []string{"proc"}
	if _, err := exec.LookPath("ss"); err == nil {
		lookups = append(lookups, "ss")
	}
	t.Logf("lookups tried: %v", lookups)
	for _, lookup := range lookups {
		t.Run(lookup, func(t *testing.T) {
			r := run(t, fast, []string{"DEMO_PORT_LOOKUP=" + lookup}, "scripts/demo-ports.sh", strconv.Itoa(port))
			assertStoppedNamingHolder(t, r, port)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.output, fmt.Sprintf("kill %d", os.Getpid()), "how to stop it")
		})
	}
	t.Run("none", func(t *testing.T) {
		r := run(t, fast, []string{"DEMO_PORT_LOOKUP=none"}, "scripts/demo-ports.sh", strconv.Itoa(port))
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.output, fmt.Sprintf("port %d is in use by another process", port))
	})
}

// TestPortCheckPassesFreePorts: free ports pass without a word.
func TestPortCheckPassesFreePorts(t *testing.T) {
	var free []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		free = append(free, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		require.NoError(t, ln.Close())
	}
	for _, lookup := range []string{"", "proc", "none"} {
		r := run(t, fast, []string{"DEMO_PORT_LOOKUP=" + lookup}, "scripts/demo-ports.sh", free...)
		assert.Zero(t, r.code, "lookup %q", lookup)
		assert.Empty(t, r.output, "lookup %q", lookup)
	}
}

// TestPortCheckRefusesABadKinesisPort: a KINESIS_PORT that is no port is named.
func TestPortCheckRefusesABadKinesisPort(t *testing.T) {
	for _, bad := range []string{"abc", "1", "70000"} {
		r := run(t, fast, []string{"KINESIS_PORT=" + bad}, "scripts/demo-ports.sh")
		assert.Equal(t, 2, r.code, "KINESIS_PORT=%s", bad)
		assert.Contains(t, r.output, "KINESIS_PORT must be a port number")
	}
}

// TestPortListCoversTheDemo: the check covers every port config/demo.yaml and demo.sh
// bind: kinesis-local's two, every endpoint in the config, and the collector's own
// metrics at their default, as the config sets no telemetry.
func TestPortListCoversTheDemo(t *testing.T) {
	r := run(t, fast, []string{"KINESIS_PORT=5000"}, "scripts/demo-ports.sh", "--list")
	require.Zero(t, r.code)
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.output), "\n") {
		port, what, ok := strings.Cut(line, "\t")
		require.True(t, ok, "line %q", line)
		assert.NotEmpty(t, what, "port %s says what binds it", port)
		listed[port] = true
	}
	want := []string{"5000", "4999", "8888"}
	config, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "demo.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, string(config), "telemetry:", "the collector's own metrics would not be on 8888")
	for _, m := range regexp.MustCompile(`(?m)^\s*endpoint: (.+)$`).FindAllStringSubmatch(string(config), -1) {
		if strings.Contains(m[1], "KINESIS_ENDPOINT") {
			continue // kinesis-local's, KINESIS_PORT above
		}
		port := regexp.MustCompile(`:(\d+)\s*$`).FindStringSubmatch(m[1])
		require.NotNil(t, port, "endpoint %q has a port", m[1])
		want = append(want, port[1])
	}
	assert.Len(t, want, 5, "kinesis-local's two, prometheus, health_check, own metrics")
	for _, port := range want {
		assert.True(t, listed[port], "port %s is checked", port)
	}
}

// TestDemoStopsAtABusyPort: demo.sh, with kinesis-local's port taken, stops at once
// naming it and its holder, and starts nothing.
func TestDemoStopsAtABusyPort(t *testing.T) {
	port := holdPort(t)
	r := run(t, fast, []string{"KINESIS_PORT=" + strconv.Itoa(port)}, "scripts/demo.sh")
	assertStoppedNamingHolder(t, r, port)
	assert.NotContains(t, r.output, "Starting")
}

// TestMakeRunStopsBeforeBuilding: `make run`, with kinesis-local's port taken, stops
// before npm and the build.
func TestMakeRunStopsBeforeBuilding(t *testing.T) {
	port := holdPort(t)
	r := run(t, fast, []string{"KINESIS_PORT=" + strconv.Itoa(port)}, "make", "--no-print-directory", "run")
	assertStoppedNamingHolder(t, r, port)
	assert.NotContains(t, r.output, "npm ci")
	assert.NotContains(t, r.output, "builder")
	assert.NotContains(t, r.output, "Starting")
}
