package awsconnectreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// The metrics section takes the generated gauges' settings and the histograms' alike.
func TestMetricsConfigUnmarshal(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.True(t, cfg.Metrics.AwsConnectAgentOnline.Enabled)
	assert.True(t, cfg.Metrics.AwsConnectAgentStatusDuration.Enabled)
	assert.Equal(t, 10*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 5*time.Minute, cfg.AgentTTL)

	conf := confmap.NewFromStringMap(map[string]any{
		"stream_name":         "s",
		"collection_interval": "5s",
		"agent_ttl":           "10m",
		"metrics": map[string]any{
			"aws.connect.agent.online":                        map[string]any{"enabled": false},
			"aws.connect.contact.after_contact_work.duration": map[string]any{"enabled": false},
		},
	})
	require.NoError(t, conf.Unmarshal(cfg))
	assert.False(t, cfg.Metrics.AwsConnectAgentOnline.Enabled)
	assert.True(t, cfg.Metrics.AwsConnectAgentStaffed.Enabled)
	assert.False(t, cfg.Metrics.AwsConnectContactAfterContactWorkDuration.Enabled)
	assert.True(t, cfg.Metrics.AwsConnectAgentStatusDuration.Enabled)
	assert.Equal(t, 5*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 10*time.Minute, cfg.AgentTTL)
	require.NoError(t, cfg.Validate())

	bad := confmap.NewFromStringMap(map[string]any{"metrics": map[string]any{"aws.connect.agent.nonsense": map[string]any{"enabled": true}}})
	require.Error(t, bad.Unmarshal(createDefaultConfig()), "an unknown metric name is refused")

	cfg.CollectionInterval, cfg.AgentTTL = 100*time.Millisecond, time.Minute
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "collection_interval")
	assert.Contains(t, err.Error(), "agent_ttl")
}

func TestRedactConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.StreamName = "s"
	assert.Equal(t, "none", cfg.Redact.Mode)
	require.NoError(t, cfg.Validate())

	cfg.Redact.Mode = "scramble"
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redact::mode")

	cfg.Redact.Mode = "hash"
	err = cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redact::salt")

	cfg.Redact.Salt = "pepper"
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "[REDACTED]", cfg.Redact.Salt.String(), "the salt is never printed")
}
