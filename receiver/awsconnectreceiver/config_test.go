package awsconnectreceiver

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// loadConfig unmarshals aws_connect/name of testdata/config.yaml over the defaults.
func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NotEmpty(t, sub.AllKeys(), "no aws_connect/%s in testdata/config.yaml", name)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Empty(t, cfg.StreamName)
	assert.Empty(t, cfg.StreamARN)
	assert.Empty(t, cfg.Region)
	assert.Empty(t, cfg.Endpoint)
	assert.Empty(t, cfg.RoleARN)
	assert.Empty(t, cfg.ExternalID)
	assert.Equal(t, StartLatest, cfg.StartPosition)
	assert.Equal(t, RecordsAgentEvents, cfg.Records, "an agent event stream, as before records existed")
	assert.Empty(t, cfg.QueueNames)
	assert.Equal(t, 24*time.Hour, cfg.ContactTTL)
	assert.True(t, cfg.StartTimestamp.IsZero())
	assert.Nil(t, cfg.Storage)
	assert.Equal(t, time.Second, cfg.PollInterval)
	assert.Equal(t, int32(500), cfg.MaxRecordsPerCall)
	assert.Equal(t, 1000, cfg.MaxRecordsPerRequest)
	assert.Equal(t, 8, cfg.MaxBatchesInFlight)
	assert.Equal(t, 2<<20, cfg.MaxBytesPerRequest)
	assert.Equal(t, 30*time.Second, cfg.ShardDiscoveryInterval)
	assert.True(t, cfg.ErrorBackoff.Enabled)
	assert.Equal(t, 500*time.Millisecond, cfg.ErrorBackoff.InitialInterval)
	assert.Equal(t, 30*time.Second, cfg.ErrorBackoff.MaxInterval)
	assert.Equal(t, time.Duration(0), cfg.ErrorBackoff.MaxElapsedTime, "a batch is never given up on")
	assert.InDelta(t, configretry.NewDefaultBackOffConfig().Multiplier, cfg.ErrorBackoff.Multiplier, 0)
	assert.InDelta(t, configretry.NewDefaultBackOffConfig().RandomizationFactor, cfg.ErrorBackoff.RandomizationFactor, 0)
	assert.Equal(t, DeduplicationConfig{Enabled: true, WindowSize: 10000}, cfg.Deduplication)
	assert.Equal(t, 10000, cfg.dedupWindow())
	assert.Equal(t, eventlog.BodyMap, cfg.LogBody, "bodies are structured maps, as before log_body existed")
	assert.Equal(t, metadata.DefaultResourceAttributesConfig(), cfg.ResourceAttributes)
	for _, ra := range []metadata.ResourceAttributeConfig{
		cfg.ResourceAttributes.AwsConnectInstanceID, cfg.ResourceAttributes.CloudAccountID,
		cfg.ResourceAttributes.CloudProvider, cfg.ResourceAttributes.CloudRegion, cfg.ResourceAttributes.CloudResourceID,
	} {
		assert.True(t, ra.Enabled)
	}

	// The defaults lack only the stream.
	err := confmap.Validate(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream_name or stream_arn is required")
	cfg.StreamName = "connect-agent-events"
	assert.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "defaults")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))

	want := createDefaultConfig().(*Config)
	want.StreamName = "connect-agent-events"
	assert.Equal(t, want, cfg)
}

func TestLoadConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))

	assert.Empty(t, cfg.StreamName)
	assert.Equal(t, "arn:aws:kinesis:eu-west-2:210987654321:stream/connect-agent-events", cfg.StreamARN)
	assert.Equal(t, "eu-west-2", cfg.Region)
	assert.Equal(t, "https://vpce-0123456789abcdef0-abcdefgh.kinesis.eu-west-2.vpce.amazonaws.com", cfg.Endpoint)
	assert.Equal(t, "arn:aws:iam::210987654321:role/connect-reader", cfg.RoleARN)
	assert.Equal(t, configopaque.String("s3cr3t-external-id"), cfg.ExternalID)
	assert.Equal(t, StartAtTimestamp, cfg.StartPosition)
	assert.Equal(t, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), cfg.StartTimestamp.UTC())
	assert.True(t, cfg.StartTimestamp.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)))
	require.NotNil(t, cfg.Storage)
	assert.Equal(t, component.MustNewID("file_storage"), *cfg.Storage)
	assert.Equal(t, 500*time.Millisecond, cfg.PollInterval)
	assert.Equal(t, int32(2500), cfg.MaxRecordsPerCall)
	assert.Equal(t, 500, cfg.MaxRecordsPerRequest)
	assert.Equal(t, 3, cfg.MaxBatchesInFlight)
	assert.Equal(t, 4<<20, cfg.MaxBytesPerRequest)
	assert.Equal(t, time.Minute, cfg.ShardDiscoveryInterval)
	assert.Equal(t, configretry.BackOffConfig{
		Enabled:             true,
		InitialInterval:     time.Second,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         time.Minute,
		MaxElapsedTime:      0,
	}, cfg.ErrorBackoff)
	assert.Equal(t, DeduplicationConfig{Enabled: true, WindowSize: 2000}, cfg.Deduplication)
	assert.Equal(t, eventlog.BodyJSON, cfg.LogBody)
	assert.False(t, cfg.ResourceAttributes.CloudAccountID.Enabled)
	assert.False(t, cfg.ResourceAttributes.AwsConnectInstanceID.Enabled)
	assert.True(t, cfg.ResourceAttributes.CloudProvider.Enabled)
	assert.True(t, cfg.ResourceAttributes.CloudRegion.Enabled)
	assert.True(t, cfg.ResourceAttributes.CloudResourceID.Enabled)

	// The receiver reads from the time the configuration names.
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	pos, err := r.startPosition()
	require.NoError(t, err)
	assert.True(t, pos.Timestamp.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)), pos.String())
}

// TestLoadConfigUnquotedTimestamp: start_timestamp written as a plain YAML timestamp,
// without quotes, is how most users will write it.
func TestLoadConfigUnquotedTimestamp(t *testing.T) {
	cfg, err := loadConfig(t, "unquoted_timestamp")
	require.NoError(t, err, "an unquoted YAML timestamp must decode into start_timestamp")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, StartAtTimestamp, cfg.StartPosition)
	assert.True(t, cfg.StartTimestamp.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)), cfg.StartTimestamp.String())
}

func TestLoadConfigOffsetTimestamp(t *testing.T) {
	cfg, err := loadConfig(t, "offset_timestamp")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.True(t, cfg.StartTimestamp.Equal(time.Date(2024, 5, 1, 0, 0, 0, 500_000_000, time.UTC)), cfg.StartTimestamp.String())
}

func TestLoadConfigTrimHorizon(t *testing.T) {
	cfg, err := loadConfig(t, "trim_horizon")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "connect.agent_events-1", cfg.StreamName)
	assert.Equal(t, "us-west-2", cfg.Region)
	assert.Equal(t, "http://localhost:4568", cfg.Endpoint)
	assert.Equal(t, StartTrimHorizon, cfg.StartPosition)
	require.NotNil(t, cfg.Storage)
	assert.Equal(t, component.MustNewIDWithName("file_storage", "checkpoints"), *cfg.Storage)
	assert.False(t, cfg.ErrorBackoff.Enabled)
	// The rest of error_backoff keeps its defaults.
	assert.Equal(t, 500*time.Millisecond, cfg.ErrorBackoff.InitialInterval)
}

func TestLoadConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		// want are substrings of the error; the first is the field it must name.
		want []string
	}{
		{"no_stream", []string{"stream_name", "stream_arn", "required"}},
		{"both_streams", []string{"stream_name", "stream_arn", "exactly one"}},
		{"bad_stream_name", []string{"stream_name", `"connect agent events"`}},
		{"long_stream_name", []string{"stream_name"}},
		{"bad_stream_arn", []string{"stream_arn", "arn:aws:kinesis:us-east-1:1234:stream/connect-agent-events"}},
		{"stream_arn_not_kinesis", []string{"stream_arn"}},
		{"region_mismatch", []string{"region", "eu-west-1", "us-east-1"}},
		{"bad_region", []string{"region", `"US East"`}},
		{"endpoint_no_scheme", []string{"endpoint", "kinesis.local:4568"}},
		{"endpoint_bad_scheme", []string{"endpoint", "ftp://kinesis.local"}},
		{"bad_role_arn", []string{"role_arn", "connect-reader"}},
		{"external_id_without_role", []string{"external_id", "role_arn"}},
		{"bad_start_position", []string{"start_position", "earliest"}},
		{"at_timestamp_without_timestamp", []string{"start_timestamp", "at_timestamp"}},
		{"timestamp_without_at_timestamp", []string{"start_timestamp", "start_position"}},
		{"poll_interval_too_short", []string{"poll_interval", "100ms"}},
		{"poll_interval_negative", []string{"poll_interval"}},
		{"max_records_zero", []string{"max_records_per_call"}},
		{"max_records_too_many", []string{"max_records_per_call", "10001"}},
		{"max_records_per_request_zero", []string{"max_records_per_request", "0"}},
		{"max_batches_in_flight_zero", []string{"max_batches_in_flight", "0"}},
		{"max_bytes_per_request_too_small", []string{"max_bytes_per_request", "65536", "1 MiB"}},
		{"shard_discovery_too_often", []string{"shard_discovery_interval", "500ms"}},
		{"error_backoff_bad_multiplier", []string{"error_backoff", "multiplier"}},
		{"error_backoff_max_elapsed", []string{"error_backoff", "max_elapsed_time"}},
		{"dedup_window_zero", []string{"deduplication::window_size", "0", "enabled: false"}},
		{"dedup_window_too_big", []string{"deduplication::window_size", "1000000", "100000"}},
		{"bad_records", []string{"records", `"ctr"`, "contact_records"}},
		{"bad_queue_names", []string{"queue_names", `"BasicQueue" is not a queue ARN`}},
		{"empty_queue_name", []string{"queue_names", "is empty"}},
		{"contact_ttl_too_short", []string{"contact_ttl", "10m0s", "1h0m0s"}},
		{"bad_log_body", []string{"log_body", `"text"`, "map, json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tc.name)
			require.NoError(t, err, "unmarshal")
			err = confmap.Validate(cfg)
			require.Error(t, err)
			for _, s := range tc.want {
				assert.Contains(t, err.Error(), s)
			}
			// The secret never shows in an error.
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestLoadConfigContactEvents(t *testing.T) {
	cfg, err := loadConfig(t, "contact_events")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, RecordsContactEvents, cfg.Records)
	assert.Equal(t, 48*time.Hour, cfg.ContactTTL)
	assert.Equal(t, map[string]string{
		"arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444/queue/dddddddd-1111-2222-3333-444444444444": "BasicQueue",
	}, cfg.QueueNames)
}

func TestLoadConfigUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"start_timestamp_not_a_time", "start_timestamp"},
		{"max_records_not_a_number", "max_records_per_call"},
		{"unknown_field", "stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(t, tc.name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigValidateCollectsAllErrors(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Region = "nowhere"
	cfg.PollInterval = time.Millisecond
	cfg.MaxRecordsPerCall = -5
	err := confmap.Validate(cfg)
	require.Error(t, err)
	for _, s := range []string{"stream_name", "region", "poll_interval", "max_records_per_call"} {
		assert.Contains(t, err.Error(), s)
	}
}

func TestConfigValidateBounds(t *testing.T) {
	base := func() *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.StreamName = "connect-agent-events"
		return cfg
	}
	ok := []func(*Config){
		func(c *Config) { c.PollInterval = 200 * time.Millisecond },
		func(c *Config) { c.MaxRecordsPerCall = 1 },
		func(c *Config) { c.MaxRecordsPerCall = 10000 },
		func(c *Config) { c.ShardDiscoveryInterval = time.Second },
		func(c *Config) { c.Region = "us-gov-west-1" },
		func(c *Config) { c.Region = "ap-southeast-2" },
		func(c *Config) { c.RoleARN = "arn:aws-cn:iam::123456789012:role/path/connect-reader" },
		func(c *Config) {
			c.StreamName = ""
			c.StreamARN = "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s"
		},
		func(c *Config) {
			c.StreamName = ""
			c.StreamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
			c.Region = "us-east-1"
		},
		func(c *Config) { c.ErrorBackoff.Enabled = false; c.ErrorBackoff.MaxElapsedTime = time.Minute },
		func(c *Config) { c.Deduplication.WindowSize = 1 },
		func(c *Config) { c.Deduplication.WindowSize = 100000 },
		// Off, the window size is not looked at.
		func(c *Config) { c.Deduplication = DeduplicationConfig{Enabled: false, WindowSize: 0} },
	}
	for i, mod := range ok {
		t.Run(fmt.Sprint("ok", i), func(t *testing.T) {
			cfg := base()
			mod(cfg)
			assert.NoError(t, confmap.Validate(cfg))
		})
	}
	bad := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.PollInterval = 199 * time.Millisecond }, "poll_interval"},
		{func(c *Config) { c.MaxRecordsPerCall = -1 }, "max_records_per_call"},
		{func(c *Config) { c.ShardDiscoveryInterval = 999 * time.Millisecond }, "shard_discovery_interval"},
		{func(c *Config) { c.ShardDiscoveryInterval = 0 }, "shard_discovery_interval"},
		{func(c *Config) { c.StartPosition = "" }, "start_position"},
		{func(c *Config) { c.StartPosition = "LATEST" }, "start_position"},
		{func(c *Config) { c.Endpoint = "http://" }, "endpoint"},
		{func(c *Config) { c.RoleARN = "arn:aws:iam::12345:role/x" }, "role_arn"},
		{func(c *Config) { c.ErrorBackoff.InitialInterval = -time.Second }, "error_backoff"},
		{func(c *Config) { c.Deduplication.WindowSize = -1 }, "deduplication::window_size"},
		{func(c *Config) { c.Deduplication.WindowSize = 100001 }, "deduplication::window_size"},
	}
	for i, tc := range bad {
		t.Run(fmt.Sprint("bad", i, "_", tc.want), func(t *testing.T) {
			cfg := base()
			tc.mod(cfg)
			err := confmap.Validate(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDedupWindowOff(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Deduplication.Enabled = false
	assert.Equal(t, 0, cfg.dedupWindow(), "off, the consumer gets no window")
}

func TestExternalIDIsOpaque(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	var _ configopaque.String = cfg.ExternalID // the field's type
	assert.Equal(t, "[REDACTED]", cfg.ExternalID.String())
	assert.Equal(t, "[REDACTED]", fmt.Sprintf("%v", cfg.ExternalID))
	assert.Equal(t, "[REDACTED]", fmt.Sprint(cfg.ExternalID))
	assert.Equal(t, "s3cr3t-external-id", string(cfg.ExternalID))
	assert.NotContains(t, fmt.Sprintf("%+v", *cfg), "s3cr3t")

	// Marshalling the configuration back, as the collector does to print it, redacts it.
	out := confmap.New()
	require.NoError(t, out.Marshal(cfg))
	assert.Equal(t, "[REDACTED]", out.Get("external_id"))
}

func TestLeasesOffByDefault(t *testing.T) {
	cfg, err := loadConfig(t, "defaults")
	require.NoError(t, err)
	assert.False(t, cfg.Leases.HasValue(), "without the block, no lease table")
	assert.Nil(t, cfg.Leases.Get())

	cfg, err = loadConfig(t, "leases_disabled")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.False(t, cfg.Leases.HasValue(), "enabled: false turns the block off")
}

func TestLoadConfigLeasesDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "leases_defaults")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	l := cfg.Leases.Get()
	require.NotNil(t, l, "the block turns leases on")
	want := LeasesConfig{
		TableName:        "otelcol-amazonconnect-leases",
		CreateTable:      true,
		LeaseDuration:    10 * time.Second,
		RenewInterval:    3 * time.Second,
		MaxLeasesToSteal: 1,
	}
	assert.Equal(t, want, *l)
}

func TestLoadConfigLeasesFull(t *testing.T) {
	cfg, err := loadConfig(t, "leases_full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg), "leases and storage together are valid: storage seeds new lease items")
	require.NotNil(t, cfg.Storage)
	l := cfg.Leases.Get()
	require.NotNil(t, l)
	assert.Equal(t, LeasesConfig{
		TableName:          "otelcol-amazonconnect-leases",
		Region:             "eu-west-1",
		Endpoint:           "https://dynamodb.eu-west-1.amazonaws.com",
		RoleARN:            "arn:aws:iam::111122223333:role/otelcol-leases",
		ExternalID:         "s3cr3t-lease-external-id",
		CreateTable:        false,
		LeaseDuration:      20 * time.Second,
		RenewInterval:      5 * time.Second,
		WorkerID:           "collector-a",
		MaxLeasesPerWorker: 4,
		MaxLeasesToSteal:   2,
	}, *l)

	// Printed back, as the collector does, the lease role's external ID is redacted.
	out := confmap.New()
	require.NoError(t, out.Marshal(cfg))
	assert.Equal(t, "[REDACTED]", out.Get("leases::external_id"))
	assert.Equal(t, "otelcol-amazonconnect-leases", out.Get("leases::table_name"))
}

func TestLoadConfigLeasesInvalid(t *testing.T) {
	tests := []struct {
		name string
		want string // the whole error
	}{
		{"leases_empty", "leases::table_name is required: the DynamoDB table that holds the shard leases, e.g. otelcol-amazonconnect-leases"},
		{"leases_table_too_short", `leases::table_name "ab" is not a DynamoDB table name: 3 to 255 letters, digits, '_', '.' or '-'`},
		{"leases_table_bad_chars", `leases::table_name "lease table" is not a DynamoDB table name: 3 to 255 letters, digits, '_', '.' or '-'`},
		{"leases_bad_region", `leases::region "Ireland" is not an AWS region name such as us-east-1`},
		{"leases_bad_endpoint", `leases::endpoint "localhost:8000" is not a URL such as https://dynamodb.us-east-1.amazonaws.com or http://localhost:8000`},
		{"leases_bad_role_arn", `leases::role_arn "otelcol-leases" is not an IAM role ARN such as arn:aws:iam::123456789012:role/otelcol-leases`},
		{"leases_external_id_without_role", "leases::external_id is set without leases::role_arn: it is only used when assuming a role"},
		{"leases_lease_duration_too_short", "leases::lease_duration 900ms is below 1s: each renewal is a DynamoDB write, and a lease shorter than a few of its round trips expires under a live worker"},
		{"leases_lease_duration_under_two_polls", "leases::lease_duration 3s is below twice poll_interval (2s): a caught-up shard is read once a poll_interval, so a shorter lease could change hands before its holder read the shard twice"},
		{"leases_renew_interval_too_long", "leases::renew_interval 4s is above a third of lease_duration (10s): two renewals in a row may fail (throttling, a network blip) and the third must still come before the lease expires"},
		{"leases_renew_interval_too_short", "leases::renew_interval 50ms is below 100ms: every renewal is a DynamoDB write per held lease"},
		{"leases_bad_worker_id", `leases::worker_id "collector\na" is not a worker ID: at most 256 characters, none of them control characters`},
		{"leases_negative_max_leases", "leases::max_leases_per_worker -1 is negative: 0 means no cap"},
		{"leases_negative_steal", "leases::max_leases_to_steal -2 is negative: 0 turns stealing off"},
		{"leases_dedup_window_too_large", "deduplication::window_size 50000 is above 40000 with leases: the window is saved in each shard's lease item, 8 bytes an EventId, and a DynamoDB item holds at most 400 KB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tc.name)
			require.NoError(t, err, "unmarshal")
			require.EqualError(t, confmap.Validate(cfg), tc.want)
		})
	}
}

func TestLeasesValidateBounds(t *testing.T) {
	base := func() *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.StreamName = "connect-agent-events"
		l := cfg.Leases.GetOrInsertDefault()
		l.TableName = "leases"
		return cfg
	}
	ok := []func(*LeasesConfig){
		func(l *LeasesConfig) { l.TableName = "abc" },
		func(l *LeasesConfig) { l.TableName = strings.Repeat("a", 255) },
		func(l *LeasesConfig) { l.TableName = "otelcol_amazon.connect-leases" },
		func(l *LeasesConfig) { l.LeaseDuration, l.RenewInterval = 2*time.Second, 600*time.Millisecond },
		func(l *LeasesConfig) { l.LeaseDuration, l.RenewInterval = 3*time.Second, time.Second },
		func(l *LeasesConfig) { l.RenewInterval = 100 * time.Millisecond },
		func(l *LeasesConfig) { l.WorkerID = strings.Repeat("w", 256) },
		func(l *LeasesConfig) { l.MaxLeasesPerWorker, l.MaxLeasesToSteal = 0, 0 },
		func(l *LeasesConfig) { l.RoleARN, l.ExternalID = "arn:aws:iam::111122223333:role/x", "ext" },
		func(l *LeasesConfig) { l.Endpoint = "http://127.0.0.1:8000" },
	}
	for i, mod := range ok {
		t.Run(fmt.Sprint("ok", i), func(t *testing.T) {
			cfg := base()
			mod(cfg.Leases.Get())
			assert.NoError(t, confmap.Validate(cfg))
		})
	}
	bad := []struct {
		mod  func(*LeasesConfig)
		want string
	}{
		{func(l *LeasesConfig) { l.TableName = strings.Repeat("a", 256) }, "leases::table_name"},
		{func(l *LeasesConfig) { l.LeaseDuration = 1999 * time.Millisecond }, "leases::lease_duration"}, // under 2 x 1s poll
		{func(l *LeasesConfig) { l.RenewInterval = l.LeaseDuration/3 + time.Millisecond }, "leases::renew_interval"},
		{func(l *LeasesConfig) { l.RenewInterval = 99 * time.Millisecond }, "leases::renew_interval"},
		{func(l *LeasesConfig) { l.WorkerID = strings.Repeat("w", 257) }, "leases::worker_id"},
		{func(l *LeasesConfig) { l.Endpoint = "https://" }, "leases::endpoint"},
	}
	for i, tc := range bad {
		t.Run(fmt.Sprint("bad", i, "_", tc.want), func(t *testing.T) {
			cfg := base()
			tc.mod(cfg.Leases.Get())
			err := confmap.Validate(cfg)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want+" "), err.Error())
		})
	}
}
