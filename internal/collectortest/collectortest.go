// Package collectortest finds what the tests of the built collector need: the
// repository root, and the binary `make build` leaves.
package collectortest

import (
	"os"
	"path/filepath"
	"testing"
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
