package perftest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
)

// EnvInt is the integer in environment variable name, or def when it is unset.
func EnvInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// List splits a comma-separated list, dropping empty items.
func List(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Binaries are the collectors to measure, as absolute paths: BACKLOG_BINARIES
// (comma-separated), else OTELCOL_BINARY or the one `make build` leaves.
func Binaries(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, item := range List(os.Getenv("BACKLOG_BINARIES")) {
		abs, err := filepath.Abs(item)
		require.NoError(t, err)
		out = append(out, abs)
	}
	if len(out) == 0 {
		out = []string{collectortest.Binary(t)}
	}
	return out
}
