// Package configs checks the ready-made collector configurations in config/ and the
// Grafana dashboard in config/grafana/: every configuration passes the built binary's
// `validate` command, and every metric the dashboard queries is one the receiver emits.
package configs

import (
	"context"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func repoRoot(t *testing.T) string { return collectortest.RepoRoot(t) }

func binary(t *testing.T) string { return collectortest.Binary(t) }

// validate runs `<binary> validate --config <file>` with exactly the given variables for
// the names in unset removed from the environment, and returns the combined output and
// the exit error (nil when the configuration is valid).
func validate(t *testing.T, file string, set map[string]string, unset []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "validate", "--config", file)
	// A scratch working directory: relative paths in a configuration must not touch the checkout.
	cmd.Dir = t.TempDir()
	cmd.Env = environ(set, unset)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("validate of %s did not finish within 2 minutes; output:\n%s", file, out)
	}
	return string(out), err
}

// environ is this process's environment without the names in unset and the keys of set,
// then with set added.
func environ(set map[string]string, unset []string) []string {
	drop := map[string]bool{}
	for _, name := range unset {
		drop[name] = true
	}
	for name := range set {
		drop[name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			env = append(env, kv)
		}
	}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		env = append(env, name+"="+set[name])
	}
	return env
}

// envRef matches the collector's environment references: ${env:NAME} and ${env:NAME:-default}.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// envVars lists the environment variables a configuration refers to outside comments,
// each with whether it has a default.
func envVars(content string) map[string]bool {
	hasDefault := map[string]bool{}
	for _, line := range strings.Split(content, "\n") {
		line = stripComment(line)
		for _, m := range envRef.FindAllStringSubmatch(line, -1) {
			name, withDefault := m[1], m[2] != ""
			if prev, seen := hasDefault[name]; seen {
				// Required anywhere means required.
				hasDefault[name] = prev && withDefault
			} else {
				hasDefault[name] = withDefault
			}
		}
	}
	return hasDefault
}

// stripComment drops a YAML comment: a line starting with #, or " #" and what follows
// outside quotes.
func stripComment(line string) string {
	if strings.HasPrefix(strings.TrimSpace(line), "#") {
		return ""
	}
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && i > 0 && (line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// dummyValue is a stand-in for a required variable that passes the components' own
// checks: a region name for regions, a directory for directories, a URL for endpoints.
func dummyValue(t *testing.T, name string) string {
	upper := strings.ToUpper(name)
	switch {
	case strings.Contains(upper, "REGION"):
		return "us-east-1"
	case strings.HasSuffix(upper, "_DIR") || strings.Contains(upper, "DIRECTORY"):
		return t.TempDir()
	case strings.Contains(upper, "STREAM_ARN"):
		return "arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events"
	case strings.Contains(upper, "ROLE_ARN"):
		return "arn:aws:iam::123456789012:role/connect-agent-events-reader"
	case strings.Contains(upper, "STREAM"):
		return "connect-agent-events"
	case strings.Contains(upper, "URL") || strings.HasSuffix(upper, "ENDPOINT"):
		// .invalid never resolves: nothing is contacted even if something tried.
		return "https://backend.example.invalid/otlp"
	default:
		return "dummy-" + strings.ToLower(name)
	}
}

// readYAML parses a YAML file into plain maps and slices, ${env:...} left as written.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	retrieved, err := confmap.NewRetrievedFromYAML(content)
	require.NoError(t, err, "parse %s", path)
	raw, err := retrieved.AsRaw()
	require.NoError(t, err, "parse %s", path)
	m, ok := raw.(map[string]any)
	require.True(t, ok, "%s is not a YAML mapping", path)
	return m
}

// dig walks nested maps by key; nil if a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// strings of a YAML list; nil if it is not one.
func stringList(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, _ := item.(string)
		out = append(out, s)
	}
	return out
}
