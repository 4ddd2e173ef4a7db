package kinesistest

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// RunShared runs a package's tests (from its TestMain) with one kinesis-local for all of
// them, launched from the repository at root into *srv: starting one costs seconds, and
// each test makes a stream of its own (StreamName). after runs once the tests passed and
// the stand-in stopped (goleak, say), and may fail the run. It returns the exit code.
func RunShared(m *testing.M, root string, srv **Server, after ...func() error) int {
	dir, err := os.MkdirTemp("", "kinesis-local-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *srv, err = Launch(root, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, (*srv).Report())
	}
	(*srv).Stop()
	for _, check := range after {
		if code != 0 {
			break
		}
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	return code
}

var notInStreamName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// StreamName is a stream name of the test's own, from its name.
func StreamName(t testing.TB) string {
	name := notInStreamName.ReplaceAllString(t.Name(), "-")
	return name[:min(len(name), 128)]
}
