package fleettest

import (
	"maps"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
)

// Settings are a fleet's timings, short so that tests see leases expire and move.
type Settings struct {
	LeaseDuration, RenewInterval time.Duration
	PollInterval                 time.Duration
	CollectionInterval           time.Duration
	// DiscoveryInterval is shard_discovery_interval: how soon children of a split or a
	// merge are seen.
	DiscoveryInterval time.Duration
}

// TestSettings: leases of 3 s renewed every second, polls every 250 ms, gauges every 2 s.
func TestSettings() Settings {
	return Settings{
		LeaseDuration: 3 * time.Second, RenewInterval: time.Second,
		PollInterval: 250 * time.Millisecond, CollectionInterval: 2 * time.Second,
		DiscoveryInterval: time.Second,
	}
}

// Member is one collector of a fleet, or, with no Table, a single collector reading the
// stream on its own.
type Member struct {
	// ID is the collector's service.instance.id, which the lease code takes as its
	// worker id.
	ID                      string
	Stream, KinesisEndpoint string
	// Table is the lease table at DynamoEndpoint; empty, leases are off.
	Table, DynamoEndpoint string
	// StorageDir holds file_storage: the checkpoints before leases, or without them.
	StorageDir string
	// Backend is the OTLP/gRPC endpoint the collector exports its logs and gauges to.
	Backend  string
	Settings Settings
	// Receiver holds more aws_connect settings, or replaces the ones above.
	Receiver map[string]any
}

// Config is the member's collector configuration: the README's production shape, except
// that the exporter has no queue (sending_queue off), so that a batch the receiver sees
// accepted has reached the backend, and a SIGKILL loses nothing held in memory.
func (m Member) Config() collectortest.Config {
	s := m.Settings
	receiver := map[string]any{
		"poll_interval":            s.PollInterval.String(),
		"collection_interval":      s.CollectionInterval.String(),
		"shard_discovery_interval": s.DiscoveryInterval.String(),
	}
	if m.Table != "" {
		receiver["leases"] = m.Leases()
	}
	maps.Copy(receiver, m.Receiver)
	pipeline := &collectortest.Pipeline{Exporters: []string{"otlp_grpc"}}
	return collectortest.Config{
		Stream: m.Stream, Endpoint: m.KinesisEndpoint, StorageDir: m.StorageDir,
		Receiver: receiver,
		Exporters: map[string]any{"otlp_grpc": map[string]any{
			"endpoint":         m.Backend,
			"tls":              map[string]any{"insecure": true},
			"sending_queue":    map[string]any{"enabled": false},
			"retry_on_failure": map[string]any{"max_elapsed_time": 0},
		}},
		Logs: pipeline, Metrics: pipeline,
		Telemetry: map[string]any{
			"metrics":  map[string]any{"level": "none"},
			"resource": Resource(m.ID),
		},
	}
}

// Leases is the receiver's leases block: the table (created on demand) at the stand-in's
// endpoint, with the settings' lease duration and renew interval.
func (m Member) Leases() map[string]any {
	return map[string]any{
		"table_name":     m.Table,
		"endpoint":       m.DynamoEndpoint,
		"create_table":   true,
		"lease_duration": m.Settings.LeaseDuration.String(),
		"renew_interval": m.Settings.RenewInterval.String(),
	}
}

// Resource is service::telemetry::resource giving the collector its service.instance.id.
func Resource(id string) map[string]any {
	return map[string]any{"attributes": []any{map[string]any{"name": AttrServiceID, "value": id}}}
}
