package queuestorage

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/extension/queuestorage/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestConfig(t *testing.T) {
	assert.Equal(t, &Config{Directory: "/var/lib/otelcol/queue", SegmentSize: 32 << 20}, loadConfig(t, ""))
	assert.NoError(t, loadConfig(t, "").Validate())
	all := loadConfig(t, "all")
	assert.Equal(t, &Config{Directory: "/var/lib/otelcol/queue", CreateDirectory: true, SegmentSize: 8 << 20, Fsync: true}, all)
	assert.NoError(t, all.Validate())
}

func TestInvalidConfigNamesTheField(t *testing.T) {
	err := loadConfig(t, "no_directory").Validate()
	assert.ErrorContains(t, err, "directory must be set")
	err = loadConfig(t, "small_segments").Validate()
	assert.ErrorContains(t, err, "segment_size 1000 is not between")
}
