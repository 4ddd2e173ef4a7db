package efotest

import (
	"testing"

	"go.uber.org/goleak"
)

// A closed server leaves no goroutine behind: no handler, no connection to the backend.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
