package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// The secrets a collector handles: its own secret key, the temporary credentials of the
// role it assumes, and the role's external ID.
const (
	baseSecretKey   = "BASE-SECRET-KEY-c0ffee"
	stsSecretKey    = "STS-SECRET-KEY-5ca1ab1e"
	stsSessionToken = "STS-SESSION-TOKEN-f00dcafe"
	externalID      = "EXTERNAL-ID-deadbeef"
)

// fakeSTS answers AssumeRole like AWS STS, on loopback.
type fakeSTS struct {
	mu          sync.Mutex
	externalIDs []string
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRole" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.externalIDs = append(f.externalIDs, r.Form.Get("ExternalId"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAFAKEASSUMEDROLE</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/connect-reader/otelcol-amazonconnect</Arn>
      <AssumedRoleId>AROAFAKE:otelcol-amazonconnect</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, stsSecretKey, stsSessionToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
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

	sts := &fakeSTS{}
	stsServer := httptest.NewServer(sts)
	defer stsServer.Close()

	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint,
		Receiver: map[string]any{"role_arn": "arn:aws:iam::123456789012:role/connect-reader", "external_id": externalID},
		Exporters: map[string]any{
			"file":  collectortest.FileExporter(out),
			"debug": map[string]any{"verbosity": "detailed"},
		},
		Logs:      &collectortest.Pipeline{Exporters: []string{"file", "debug"}},
		Telemetry: map[string]any{"logs": map[string]any{"level": "debug"}, "metrics": map[string]any{"level": "none"}},
	}.Write(t, cfgPath)
	c := collectortest.Start(t, cfgPath,
		"AWS_ACCESS_KEY_ID=AKIAFAKEBASEKEY",
		"AWS_SECRET_ACCESS_KEY="+baseSecretKey,
		"AWS_ENDPOINT_URL_STS="+stsServer.URL,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	require.Eventually(t, func() bool { return len(eventIDs(readLogs(t, out))) == len(ids) }, 60*time.Second, 200*time.Millisecond,
		"the collector read the stream through the assumed role")
	c.Stop(t)

	sts.mu.Lock()
	require.NotEmpty(t, sts.externalIDs, "the role was assumed")
	assert.Equal(t, externalID, sts.externalIDs[0], "with the configured external ID")
	sts.mu.Unlock()

	exported, err := os.ReadFile(out)
	require.NoError(t, err)
	printed := c.Output()
	require.Contains(t, printed, "aws.connect.event.id", "the debug exporter printed the events, so the check below looks at real output")
	for _, secret := range []string{baseSecretKey, stsSecretKey, stsSessionToken, externalID} {
		assert.NotContains(t, printed, secret, "the collector's output shows a secret")
		assert.NotContains(t, string(exported), secret, "the exported data holds a secret")
	}
	assert.False(t, strings.Contains(printed, "Authorization: AWS4"), "request signatures are not logged")
}
