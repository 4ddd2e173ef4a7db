package efotest

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// local is the package's one kinesis-local: each test has a stream of its own on it.
var local *kinesistest.Server

// A closed server leaves no goroutine behind: no handler, no connection to the backend.
func TestMain(m *testing.M) {
	os.Exit(kinesistest.RunShared(m, "../..", &local, func() error { return goleak.Find() }))
}
