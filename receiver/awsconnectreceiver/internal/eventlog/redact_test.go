package eventlog

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// state_change_two_contacts.json is Maria Garcia's, username mgarcia, in both snapshots.
func redactedRecord(t *testing.T, mode, salt string) (plog.LogRecord, string) {
	b := NewBuilder(metadata.DefaultResourceAttributesConfig(), WithRedactor(NewRedactor(mode, salt)))
	res := b.Build(batchOf(readCompact(t, "state_change_two_contacts.json")), time.Unix(1, 0))
	var m plog.JSONMarshaler
	out, err := m.MarshalLogs(res.Logs)
	require.NoError(t, err)
	_, lr := onlyRecord(t, res.Logs)
	return lr, string(out)
}

func configuration(t *testing.T, lr plog.LogRecord, snapshot string) map[string]any {
	snap, ok := lr.Body().Map().AsRaw()[snapshot].(map[string]any)
	require.True(t, ok, snapshot)
	return snap["Configuration"].(map[string]any)
}

func TestRedactDrop(t *testing.T) {
	lr, exported := redactedRecord(t, RedactDrop, "")
	for _, personalData := range []string{"Maria", "Garcia", "mgarcia"} {
		assert.NotContains(t, exported, personalData, "nothing personal is exported")
	}
	for _, snap := range []string{"CurrentAgentSnapshot", "PreviousAgentSnapshot"} {
		c := configuration(t, lr, snap)
		assert.NotContains(t, c, "FirstName")
		assert.NotContains(t, c, "LastName")
		assert.NotContains(t, c, "Username")
		assert.Equal(t, "Basic Routing Profile", c["RoutingProfile"].(map[string]any)["Name"], "the rest stays")
	}
	_, ok := lr.Attributes().Get(AttrAgentUsername)
	assert.False(t, ok)
	status, _ := lr.Attributes().Get(AttrStatusName)
	assert.Equal(t, "Available", status.Str())
}

func TestRedactHash(t *testing.T) {
	lr, exported := redactedRecord(t, RedactHash, "pepper")
	for _, personalData := range []string{"Maria", "Garcia", "mgarcia"} {
		assert.NotContains(t, exported, personalData)
	}
	user, ok := lr.Attributes().Get(AttrAgentUsername)
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(user.Str(), "sha256:"), user.Str())
	for _, snap := range []string{"CurrentAgentSnapshot", "PreviousAgentSnapshot"} {
		c := configuration(t, lr, snap)
		assert.Equal(t, user.Str(), c["Username"], "the same pseudonym in the body and the attribute")
		assert.NotEqual(t, c["FirstName"], c["LastName"])
		assert.True(t, strings.HasPrefix(c["FirstName"].(string), "sha256:"))
	}
	again, _ := redactedRecord(t, RedactHash, "pepper")
	same, _ := again.Attributes().Get(AttrAgentUsername)
	assert.Equal(t, user.Str(), same.Str(), "stable across records")
	other, _ := redactedRecord(t, RedactHash, "salt")
	diff, _ := other.Attributes().Get(AttrAgentUsername)
	assert.NotEqual(t, user.Str(), diff.Str(), "the salt keys the hash")
}

func TestRedactNoneKeepsNames(t *testing.T) {
	lr, exported := redactedRecord(t, RedactNone, "")
	assert.Contains(t, exported, "mgarcia")
	assert.Equal(t, "Maria", configuration(t, lr, "CurrentAgentSnapshot")["FirstName"])
}
