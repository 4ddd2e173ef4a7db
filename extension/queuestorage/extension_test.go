package queuestorage

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func startExtension(t *testing.T, cfg *Config) storage.Extension {
	t.Helper()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext.(storage.Extension)
}

func TestEachClientHasItsOwnDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ext := startExtension(t, &Config{Directory: dir, SegmentSize: defaultSegmentSize})
	exporter := component.MustNewIDWithName("otlp_grpc", "datadog-agent")
	logs, err := ext.GetClient(ctx, component.KindExporter, exporter, "logs")
	require.NoError(t, err)
	metrics, err := ext.GetClient(ctx, component.KindExporter, exporter, "metrics")
	require.NoError(t, err)
	require.NoError(t, logs.Set(ctx, "k", []byte("logs")))
	require.NoError(t, metrics.Set(ctx, "k", []byte("metrics")))

	_, err = ext.GetClient(ctx, component.KindExporter, exporter, "logs")
	require.ErrorIs(t, err, errInUse, "one client a directory")

	assert.DirExists(t, filepath.Join(dir, "exporter_otlp_grpc_datadog-agent_logs"))
	assert.DirExists(t, filepath.Join(dir, "exporter_otlp_grpc_datadog-agent_metrics"))

	// Shutdown closes what the components left open; the data stay.
	require.NoError(t, metrics.Close(ctx))
	require.NoError(t, ext.Shutdown(ctx))
	_, err = logs.Get(ctx, "k")
	require.ErrorIs(t, err, errClosed)

	ext = startExtension(t, &Config{Directory: dir, SegmentSize: defaultSegmentSize})
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	logs, err = ext.GetClient(ctx, component.KindExporter, exporter, "logs")
	require.NoError(t, err)
	v, err := logs.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "logs", string(v))
}

func TestMissingDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "queue")
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), &Config{Directory: missing, SegmentSize: defaultSegmentSize})
	require.NoError(t, err)
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "create_directory: true creates it")
	require.ErrorContains(t, err, missing)

	startExtension(t, &Config{Directory: missing, CreateDirectory: true, SegmentSize: defaultSegmentSize})
	assert.DirExists(t, missing)
}

func TestSanitize(t *testing.T) {
	assert.Equal(t, "exporter_otlp_grpc_a~2Fb~20c", sanitize("exporter_otlp_grpc_a/b c"))
	assert.Equal(t, "~2E.", sanitize(".."), "never a name that means a parent")
}
