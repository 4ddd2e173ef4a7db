package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awstest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The secrets a collector handles: its own secret key, the temporary credentials of the
// role it assumes (from awstest.STS), and the role's external ID.
const (
	baseAccessKey = "AKIAFAKEBASEKEY"
	baseSecretKey = "BASE-SECRET-KEY-c0ffee"
	externalID    = "EXTERNAL-ID-deadbeef"
	readerRole    = "arn:aws:iam::123456789012:role/connect-reader"
)

// baseCredentialsEnv is the environment of a collector whose own credentials are the
// base keys, assuming its roles through the STS stand-in at stsURL.
func baseCredentialsEnv(stsURL string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + baseAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + baseSecretKey,
		"AWS_ENDPOINT_URL_STS=" + stsURL,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// TestSecretsNeverLeak runs the collector with the most talkative settings (debug logs,
// the detailed debug exporter) through an assumed role, and looks for every secret it
// handled in everything it printed and exported.
func TestSecretsNeverLeak(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "secrets"
	srv.CreateStream(t, stream, 1)
	keys, ids, data := events(t, "secret", 5)
	srv.Put(t, stream, keys, data)

	sts := awstest.StartSTS(t)

	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint,
		Receiver: map[string]any{"role_arn": readerRole, "external_id": externalID},
		Exporters: map[string]any{
			"file":  collectortest.FileExporter(out),
			"debug": map[string]any{"verbosity": "detailed"},
		},
		Logs:      &collectortest.Pipeline{Exporters: []string{"file", "debug"}},
		Telemetry: map[string]any{"logs": map[string]any{"level": "debug"}, "metrics": map[string]any{"level": "none"}},
	}.Write(t, cfgPath)
	c := collectortest.Start(t, cfgPath, baseCredentialsEnv(sts.URL)...)
	require.Eventually(t, func() bool { return len(eventIDs(readLogs(t, out))) == len(ids) }, 60*time.Second, 200*time.Millisecond,
		"the collector read the stream through the assumed role")
	c.Stop(t)

	calls := sts.Calls()
	require.NotEmpty(t, calls, "the role was assumed")
	assert.Equal(t, externalID, calls[0].ExternalID, "with the configured external ID")

	exported, err := os.ReadFile(out)
	require.NoError(t, err)
	printed := c.Output()
	require.Contains(t, printed, "aws.connect.event.id", "the debug exporter printed the events, so the check below looks at real output")
	for _, secret := range []string{baseSecretKey, sts.SecretAccessKey(readerRole), sts.SessionToken(readerRole), externalID} {
		assert.NotContains(t, printed, secret, "the collector's output shows a secret")
		assert.NotContains(t, string(exported), secret, "the exported data holds a secret")
	}
	assert.False(t, strings.Contains(printed, "Authorization: AWS4"), "request signatures are not logged")
}
