package awsconnectreceiver

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

func loadRedactConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "redact.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NotEmpty(t, sub.AllKeys(), "no aws_connect/%s in testdata/redact.yaml", name)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestRedactAgentARNConfig(t *testing.T) {
	cfg := loadRedactConfig(t, "hash_agent_arn")
	require.NoError(t, confmap.Validate(cfg))
	assert.True(t, cfg.Redact.AgentARN)
	assert.Equal(t, "hash", cfg.Redact.Mode)

	assert.False(t, createDefaultConfig().(*Config).Redact.AgentARN, "off by default")

	// Hashing agent ARNs only makes sense with hash mode: drop keeps ARNs, none keeps all.
	for _, name := range []string{"agent_arn_with_drop", "agent_arn_without_mode"} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadRedactConfig(t, name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "redact::agent_arn")
			assert.Contains(t, err.Error(), "redact::mode hash")
		})
	}
}
