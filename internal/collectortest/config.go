package collectortest

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Config is a collector configuration for the tests of the built binary, made of the
// pieces they share: the aws_connect receiver reading a kinesis-local stream from
// trim_horizon, checkpoints in file_storage, an OTLP exporter with its queue on disk in
// queue_storage, and the collector's own telemetry off or served on a port.
type Config struct {
	// Stream and Endpoint are the stream the receiver reads and kinesis-local's address.
	Stream, Endpoint string
	// StorageDir, when set, holds the file_storage extension's files, where the
	// receiver's checkpoints go, and in its queue directory the queue_storage
	// extension's, where OTLPExporter's queue goes.
	StorageDir string
	// Receiver holds aws_connect settings beside the shared ones, or in their place.
	Receiver map[string]any
	// Extensions beside file_storage and queue_storage, by ID.
	Extensions map[string]any
	Processors map[string]any
	Exporters  map[string]any
	// Logs and Metrics are the pipelines from aws_connect, when set.
	Logs, Metrics *Pipeline
	// Telemetry is service::telemetry; nil turns the collector's own metrics off, which
	// keeps parallel collectors from competing for their default port.
	Telemetry map[string]any
}

// Pipeline lists the processors and exporters of a pipeline from aws_connect.
type Pipeline struct {
	Processors []string
	Exporters  []string
}

// Write writes the configuration to path; the collector reads JSON as YAML.
func (c Config) Write(t testing.TB, path string) string {
	t.Helper()
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteFile writes the configuration to path, for callers without a testing.TB.
func (c Config) WriteFile(path string) error {
	data, err := json.MarshalIndent(c.document(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func (c Config) document() map[string]any {
	receiver := map[string]any{
		"stream_name":    c.Stream,
		"region":         "us-east-1",
		"endpoint":       c.Endpoint,
		"start_position": "trim_horizon",
		"poll_interval":  "200ms",
	}
	extensions := map[string]any{}
	maps.Copy(extensions, c.Extensions)
	if c.StorageDir != "" {
		extensions["file_storage"] = map[string]any{"directory": c.StorageDir, "create_directory": true}
		extensions["queue_storage"] = map[string]any{"directory": filepath.Join(c.StorageDir, "queue"), "create_directory": true}
		receiver["storage"] = "file_storage"
	}
	maps.Copy(receiver, c.Receiver)

	pipelines := map[string]any{}
	for name, p := range map[string]*Pipeline{"logs": c.Logs, "metrics": c.Metrics} {
		if p == nil {
			continue
		}
		pl := map[string]any{"receivers": []string{"aws_connect"}, "exporters": p.Exporters}
		if len(p.Processors) > 0 {
			pl["processors"] = p.Processors
		}
		pipelines[name] = pl
	}
	telemetry := c.Telemetry
	if telemetry == nil {
		telemetry = map[string]any{"metrics": map[string]any{"level": "none"}}
	}
	service := map[string]any{"telemetry": telemetry, "pipelines": pipelines}
	if len(extensions) > 0 {
		service["extensions"] = sortedKeys(extensions)
	}
	doc := map[string]any{
		"receivers": map[string]any{"aws_connect": receiver},
		"exporters": c.Exporters,
		"service":   service,
	}
	if len(extensions) > 0 {
		doc["extensions"] = extensions
	}
	if len(c.Processors) > 0 {
		doc["processors"] = c.Processors
	}
	return doc
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// OTLPExporter is an otlp_grpc exporter to a plain-text endpoint whose queue is kept in
// queue_storage (Config.StorageDir) and whose retries never give up, as the shipped
// configs have it; queue adds to or overrides sending_queue's settings, retry to
// retry_on_failure's.
func OTLPExporter(endpoint string, queue, retry map[string]any) map[string]any {
	q := map[string]any{"enabled": true, "storage": "queue_storage"}
	maps.Copy(q, queue)
	r := map[string]any{"max_elapsed_time": 0}
	maps.Copy(r, retry)
	return map[string]any{
		"endpoint":         endpoint,
		"tls":              map[string]any{"insecure": true},
		"sending_queue":    q,
		"retry_on_failure": r,
	}
}

// FileExporter writes what it receives to path as JSON lines, flushed every 100 ms.
func FileExporter(path string) map[string]any {
	return map[string]any{"path": path, "flush_interval": "100ms"}
}

// ServedTelemetry serves the collector's own metrics at level on 127.0.0.1:port, for
// Telemetry.
func ServedTelemetry(level string, port int) map[string]any {
	return map[string]any{"metrics": map[string]any{
		"level": level,
		"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
			"prometheus": map[string]any{"host": "127.0.0.1", "port": port},
		}}}},
	}}
}
