package efotest

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"go.uber.org/goleak"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// local is the package's one kinesis-local: each test has a stream of its own on it.
var local *kinesistest.Server

var notInStreamName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// A closed server leaves no goroutine behind: no handler, no connection to the backend.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "efotest-kinesis-local")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	local, err = kinesistest.Launch("../..", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, local.Report())
	}
	local.Stop()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
