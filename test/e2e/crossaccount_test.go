package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awstest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// TestCollectorBinaryCrossAccount runs the built collector with the stream read through
// one role (role_arn) and the lease table through another (leases::role_arn), each
// assumed through STS: every Kinesis request carries the stream role's key, every
// DynamoDB request the table role's, and neither role's secrets, nor the external IDs,
// show in what the collector printed or exported.
func TestCollectorBinaryCrossAccount(t *testing.T) {
	const (
		stream        = "xacct"
		table         = "otelcol-amazonconnect-leases"
		streamRole    = "arn:aws:iam::111111111111:role/connect-stream-reader"
		tableRole     = "arn:aws:iam::222222222222:role/otelcol-lease-table"
		tableExternal = "TABLE-EXTERNAL-ID-0ddba11"
	)
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, 2)
	dyn := dynamotest.Start(t)
	sts := awstest.StartSTS(t)
	kinRec := awstest.StartRecorder(t, kin.Endpoint)
	dynRec := awstest.StartRecorder(t, dyn.Endpoint)
	keys, ids, data := events(t, "xacct", 20)
	kin.Put(t, stream, keys, data)

	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	cfgPath := filepath.Join(dir, "config.yaml")
	collectortest.Config{
		Stream: stream, Endpoint: kinRec.URL,
		Receiver: map[string]any{
			"role_arn": streamRole, "external_id": externalID,
			"leases": map[string]any{
				"table_name": table, "endpoint": dynRec.URL, "region": "eu-west-1",
				"role_arn": tableRole, "external_id": tableExternal,
				"lease_duration": "3s", "renew_interval": "1s",
			},
		},
		Exporters: map[string]any{"file": collectortest.FileExporter(out)},
		Logs:      &collectortest.Pipeline{Exporters: []string{"file"}},
		Telemetry: map[string]any{"logs": map[string]any{"level": "debug"}, "metrics": map[string]any{"level": "none"}},
	}.Write(t, cfgPath)
	c := collectortest.Start(t, cfgPath, baseCredentialsEnv(sts.URL)...)
	require.Eventually(t, func() bool { return len(eventIDs(readLogs(t, out))) == len(ids) }, 60*time.Second, 200*time.Millisecond,
		"the collector read the stream through the stream role, with leases through the table role")
	c.Stop(t)

	assert.Equal(t, []string{sts.AccessKeyID(streamRole)}, signers(kinRec), "every Kinesis request carries the stream role's key")
	assert.Equal(t, []string{sts.AccessKeyID(tableRole)}, signers(dynRec), "every DynamoDB request carries the table role's key")
	regions := map[string]string{}
	for _, call := range sts.Calls() {
		regions[call.RoleARN] = call.Signature.Region
		assert.Equal(t, baseAccessKey, call.Signature.AccessKeyID, "the collector's own credentials assume each role")
	}
	assert.Equal(t, map[string]string{streamRole: "us-east-1", tableRole: "eu-west-1"}, regions, "each role assumed in its own service's region")

	exported, err := os.ReadFile(out)
	require.NoError(t, err)
	printed := c.Output()
	for _, secret := range []string{
		baseSecretKey, externalID, tableExternal,
		sts.SecretAccessKey(streamRole), sts.SessionToken(streamRole),
		sts.SecretAccessKey(tableRole), sts.SessionToken(tableRole),
	} {
		assert.NotContains(t, printed, secret, "the collector's output shows a secret")
		assert.NotContains(t, string(exported), secret, "the exported data holds a secret")
	}
}

// signers are the access key IDs that signed the requests a recorder passed on.
func signers(rec *awstest.Recorder) []string {
	var keys []string
	for k := range rec.AccessKeyIDs() {
		keys = append(keys, k)
	}
	return keys
}
