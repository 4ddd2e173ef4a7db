package awsconnectreceiver

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/leases"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// Start positions for shards that have no checkpoint yet.
const (
	StartLatest      = "latest"
	StartTrimHorizon = "trim_horizon"
	StartAtTimestamp = "at_timestamp"
)

// Kinesis limits that bound the settings.
const (
	maxRecordsPerCallLimit = 10000
	// A shard serves reads at 2 MB/s, about 770 agent events of 2.6 KB a second, and
	// GetRecords 5 times a second shared by all its consumers: 500 records a call keep up
	// with a full shard in under two calls a second, at a twentieth of the memory of
	// Kinesis's 10,000 (and 1,000 cost a third more CPU an event, in GC: docs/performance.md).
	defaultMaxRecordsPerCall = 500
	// A pipeline call of about a second of a full shard: 2 MiB of events becomes an OTLP
	// request well under the 4 MiB a gRPC server takes by default.
	defaultMaxRecordsPerRequest = 1000
	defaultMaxBytesPerRequest   = 2 << 20
	// A Kinesis record holds up to 1 MiB, and a request holds at least one record.
	minMaxBytesPerRequest = 1 << 20
	// Shards holding a batch at once: memory stays at about this many GetRecords
	// responses however many shards a collector reads, while one core keeps up with a
	// few dozen shards at Kinesis's full read rate.
	defaultMaxBatchesInFlight = 8
	// GetRecords allows 5 calls a second per shard, shared by all polling consumers.
	minPollInterval = 200 * time.Millisecond
	// A waiting contact has no event until it leaves the queue.
	minContactTTL = time.Hour
)

// What a stream carries: the value of records.
const (
	RecordsAgentEvents    = "agent_events"
	RecordsContactEvents  = "contact_events"
	RecordsContactRecords = "contact_records"
)

// Config is the configuration of the aws_connect receiver.
type Config struct {
	// StreamName names the Kinesis stream Amazon Connect writes to.
	// Exactly one of StreamName and StreamARN is set.
	StreamName string `mapstructure:"stream_name"`
	// StreamARN names the stream by ARN, as a stream shared from another account needs.
	StreamARN string `mapstructure:"stream_arn"`
	// Region is the stream's region. It defaults to the region in StreamARN, then to the
	// AWS SDK's default chain (AWS_REGION, the shared config file).
	Region string `mapstructure:"region"`
	// Endpoint overrides the Kinesis endpoint: a VPC endpoint, or a local stand-in.
	Endpoint string `mapstructure:"endpoint"`
	// RoleARN is a role to assume for reading the stream, for example in the account
	// that owns it. Credentials otherwise come from the AWS SDK's default chain.
	RoleARN string `mapstructure:"role_arn"`
	// ExternalID goes with RoleARN when the role's trust policy asks for one.
	ExternalID configopaque.String `mapstructure:"external_id"`
	// Records is what the stream carries: agent_events (the agent event stream),
	// contact_events (EventBridge's contact events, sent to the stream by a rule), or
	// contact_records (contact records, from the instance's data streaming).
	Records string `mapstructure:"records"`
	// QueueNames maps queue ARNs to names for the queue metrics of contact events,
	// which name queues by ARN only.
	QueueNames map[string]string `mapstructure:"queue_names"`
	// ContactTTL is how long a contact with no event is kept: one whose last event was
	// lost (Amazon Connect delivers contact events on a best-effort basis) would
	// otherwise wait in its queue for ever. Longer than any contact waits.
	ContactTTL time.Duration `mapstructure:"contact_ttl"`

	// TLS settings of the AWS calls: a CA for a TLS-intercepting proxy or a private
	// endpoint, say. Certificates are verified unless insecure_skip_verify is set.
	TLS configtls.ClientConfig `mapstructure:"tls"`

	// StartPosition applies to shards that have no checkpoint yet.
	StartPosition string `mapstructure:"start_position"`
	// StartTimestamp is where at_timestamp starts (RFC 3339).
	StartTimestamp time.Time `mapstructure:"start_timestamp"`

	// Storage is the ID of a storage extension (file_storage, say) that keeps shard
	// checkpoints across restarts. Without it, checkpoints live in memory only.
	Storage *component.ID `mapstructure:"storage"`

	// PollInterval is the wait between GetRecords calls on a shard that is caught up.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// MaxRecordsPerCall is the Limit of each GetRecords call.
	MaxRecordsPerCall int32 `mapstructure:"max_records_per_call"`
	// MaxRecordsPerRequest and MaxBytesPerRequest bound each call to the pipeline: a
	// GetRecords batch larger than either goes down the pipeline in parts, each
	// checkpointed once accepted. Bytes count the records' data, which their log records
	// take about the same room as in OTLP.
	MaxRecordsPerRequest int `mapstructure:"max_records_per_request"`
	MaxBytesPerRequest   int `mapstructure:"max_bytes_per_request"`
	// MaxBatchesInFlight bounds how many shards hold a batch at once, from their
	// GetRecords call until its last part is checkpointed; the others wait their turn.
	MaxBatchesInFlight int `mapstructure:"max_batches_in_flight"`
	// ShardDiscoveryInterval is the wait between listings of the stream's shards.
	ShardDiscoveryInterval time.Duration `mapstructure:"shard_discovery_interval"`
	// ErrorBackoff paces retries when the pipeline refuses a batch or Kinesis fails.
	ErrorBackoff configretry.BackOffConfig `mapstructure:"error_backoff"`
	// Deduplication drops an event whose EventId its shard handed on lately.
	Deduplication DeduplicationConfig `mapstructure:"deduplication"`

	// Redact drops or hashes agents' names and usernames, for teams that may not export
	// personal data.
	Redact RedactConfig `mapstructure:"redact"`
	// LogBody is what a log record's body holds: map (the record as a structured map) or
	// json (its JSON text, a string).
	LogBody eventlog.BodyFormat `mapstructure:"log_body"`

	// ResourceAttributes turns each resource attribute on or off.
	ResourceAttributes metadata.ResourceAttributesConfig `mapstructure:"resource_attributes"`

	// CollectionInterval is how often the gauges of a metrics pipeline are exported.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// AgentTTL is how long an agent with no event is kept. Amazon Connect writes an
	// event for every live agent at least every 120 s.
	AgentTTL time.Duration `mapstructure:"agent_ttl"`
	// Metrics turns each metric on or off.
	Metrics MetricsConfig `mapstructure:"metrics"`

	// Leases, when present, shares the stream's shards with other collectors through a
	// DynamoDB lease table, and keeps checkpoints there.
	Leases configoptional.Optional[LeasesConfig] `mapstructure:"leases"`
	// EnhancedFanOut reads the stream through enhanced fan-out (SubscribeToShard)
	// instead of polling it (GetRecords).
	EnhancedFanOut EnhancedFanOutConfig `mapstructure:"enhanced_fan_out"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// LeasesConfig shares a stream between collectors, as the Kinesis Client Library does:
// each shard has a lease item in a DynamoDB table, held by one collector at a time, with
// the shard's checkpoint in it.
type LeasesConfig struct {
	// TableName is the lease table.
	TableName string `mapstructure:"table_name"`
	// Region is the table's region; it defaults to the stream's.
	Region string `mapstructure:"region"`
	// Endpoint overrides the DynamoDB endpoint: a VPC endpoint, or a local stand-in.
	Endpoint string `mapstructure:"endpoint"`
	// RoleARN is a role to assume for the table, whose credentials are then its own; the
	// stream's role_arn does not apply to the table.
	RoleARN string `mapstructure:"role_arn"`
	// ExternalID goes with RoleARN when the role's trust policy asks for one.
	ExternalID configopaque.String `mapstructure:"external_id"`
	// CreateTable creates the table (on-demand billing) if it does not exist.
	CreateTable bool `mapstructure:"create_table"`
	// LeaseDuration is how long a lease stays held without a renewal.
	LeaseDuration time.Duration `mapstructure:"lease_duration"`
	// RenewInterval is how often held leases are renewed, and shards assigned.
	RenewInterval time.Duration `mapstructure:"renew_interval"`
	// WorkerID names this collector in the table; it defaults to the collector's
	// service.instance.id.
	WorkerID string `mapstructure:"worker_id"`
	// MaxLeasesPerWorker caps the leases this collector holds; 0 is no cap.
	MaxLeasesPerWorker int `mapstructure:"max_leases_per_worker"`
	// MaxLeasesToSteal is how many leases one assignment may take from a worker holding
	// more than its share; 0 turns stealing off.
	MaxLeasesToSteal int `mapstructure:"max_leases_to_steal"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// MetricsConfig turns each metric on or off: the gauges declared in metadata.yaml, and
// the two histograms, which mdatagen v0.161.0 cannot generate (its histogram template
// writes number data points).
type MetricsConfig struct {
	metadata.MetricsConfig `mapstructure:",squash"`

	AwsConnectAgentStatusDuration             HistogramConfig `mapstructure:"aws.connect.agent.status.duration"`
	AwsConnectContactAfterContactWorkDuration HistogramConfig `mapstructure:"aws.connect.contact.after_contact_work.duration"`
	AwsConnectQueueWaitDuration               HistogramConfig `mapstructure:"aws.connect.queue.wait.duration"`
	AwsConnectContactHandleDuration           HistogramConfig `mapstructure:"aws.connect.contact.handle.duration"`
	AwsConnectContactHoldDuration             HistogramConfig `mapstructure:"aws.connect.contact.hold.duration"`
}

// RedactConfig says what happens to personal data in log records: agents' first and
// last names and usernames, and hierarchy group names, in attributes and bodies; with
// AgentARN, agent ARNs too. Malformed records are then exported without their bytes.
type RedactConfig struct {
	// Mode is none (the default), drop, or hash (a keyed SHA-256: the same agent keeps
	// the same pseudonym).
	Mode string `mapstructure:"mode"`
	// Salt keys the hash, so that pseudonyms cannot be recomputed from known usernames.
	Salt configopaque.String `mapstructure:"salt"`
	// AgentARN hashes agent ARNs (and the ARNs of agents' own queues), which anyone with
	// Connect API access can resolve to a person; with mode hash only.
	AgentARN bool `mapstructure:"agent_arn"`
}

// DeduplicationConfig sets the window of recent EventIds each shard remembers, saved
// with its checkpoint, to drop an event the stream carries twice: a producer that
// retries a write whose answer it lost writes the record again.
type DeduplicationConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// WindowSize is how many EventIds each shard remembers.
	WindowSize int `mapstructure:"window_size"`
}

// HistogramConfig turns a histogram on or off.
type HistogramConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// maxDedupWindow bounds the EventIds remembered per shard: 8 bytes each in memory and in
// every checkpoint saved.
const maxDedupWindow = 100000

// dedupWindow is the window size the consumer takes: 0 turns duplicate removal off.
func (cfg *Config) dedupWindow() int {
	if !cfg.Deduplication.Enabled {
		return 0
	}
	return cfg.Deduplication.WindowSize
}

// replayWindow is how far back a shard is replayed to rebuild agent state: a little
// more than the 120 s within which every live agent has an event.
const replayWindow = 150 * time.Second

// Lease defaults, KCL's own but for the lease duration (10 s here, 10 s in KCL 2.x too):
// failover takes about a lease duration.
const (
	defaultLeaseDuration = 10 * time.Second
	defaultRenewInterval = 3 * time.Second
	minLeaseDuration     = time.Second
	minRenewInterval     = 100 * time.Millisecond
	maxWorkerIDLength    = 256
)

func defaultLeasesConfig() LeasesConfig {
	return LeasesConfig{
		CreateTable:      true,
		LeaseDuration:    defaultLeaseDuration,
		RenewInterval:    defaultRenewInterval,
		MaxLeasesToSteal: 1,
	}
}

func createDefaultConfig() component.Config {
	backoff := configretry.NewDefaultBackOffConfig()
	backoff.InitialInterval = 500 * time.Millisecond
	backoff.MaxInterval = 30 * time.Second
	// A batch is never given up on for taking long: that would lose it.
	backoff.MaxElapsedTime = 0
	return &Config{
		Records:                RecordsAgentEvents,
		ContactTTL:             24 * time.Hour,
		StartPosition:          StartLatest,
		Redact:                 RedactConfig{Mode: eventlog.RedactNone},
		LogBody:                eventlog.BodyMap,
		TLS:                    configtls.NewDefaultClientConfig(),
		PollInterval:           time.Second,
		MaxRecordsPerCall:      defaultMaxRecordsPerCall,
		MaxRecordsPerRequest:   defaultMaxRecordsPerRequest,
		MaxBatchesInFlight:     defaultMaxBatchesInFlight,
		MaxBytesPerRequest:     defaultMaxBytesPerRequest,
		ShardDiscoveryInterval: 30 * time.Second,
		ErrorBackoff:           backoff,
		Deduplication:          DeduplicationConfig{Enabled: true, WindowSize: 10000},
		ResourceAttributes:     metadata.DefaultResourceAttributesConfig(),
		CollectionInterval:     10 * time.Second,
		AgentTTL:               5 * time.Minute,
		Metrics: MetricsConfig{
			MetricsConfig:                             metadata.DefaultMetricsConfig(),
			AwsConnectAgentStatusDuration:             HistogramConfig{Enabled: true},
			AwsConnectContactAfterContactWorkDuration: HistogramConfig{Enabled: true},
			AwsConnectQueueWaitDuration:               HistogramConfig{Enabled: true},
			AwsConnectContactHandleDuration:           HistogramConfig{Enabled: true},
			AwsConnectContactHoldDuration:             HistogramConfig{Enabled: true},
		},
		// Off unless the block is present; present, it starts from these defaults.
		Leases:         configoptional.Default(defaultLeasesConfig()),
		EnhancedFanOut: EnhancedFanOutConfig{Register: true},
	}
}

var (
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	streamNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
	roleARNPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
	// arn:PARTITION:connect:REGION:ACCOUNT:instance/ID/queue/ID, or .../queue/agent/ID.
	queueARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:connect:[a-z0-9-]*:\d{12}:instance/[^/]+/queue/.+$`)
	// DynamoDB table names: 3 to 255 of these characters.
	tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
)

// Validate checks the configuration; each error names the field and what would be right.
func (cfg *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch {
	case cfg.StreamName == "" && cfg.StreamARN == "":
		add("stream_name or stream_arn is required: the Kinesis stream your Amazon Connect instance writes agent events to")
	case cfg.StreamName != "" && cfg.StreamARN != "":
		add("stream_name and stream_arn are both set: set exactly one")
	case cfg.StreamName != "" && !streamNamePattern.MatchString(cfg.StreamName):
		add("stream_name %q is not a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'", cfg.StreamName)
	case cfg.StreamARN != "":
		if _, err := parseStreamARN(cfg.StreamARN); err != nil {
			add("stream_arn: %w", err)
		} else if region := streamARNRegion(cfg.StreamARN); cfg.Region != "" && region != cfg.Region {
			add("region %q differs from the region of stream_arn (%q): leave region empty or make them agree", cfg.Region, region)
		}
	}
	if cfg.Region != "" && !regionPattern.MatchString(cfg.Region) {
		add("region %q is not an AWS region name such as us-east-1", cfg.Region)
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoint %q is not a URL such as https://kinesis.us-east-1.amazonaws.com or http://localhost:4568", cfg.Endpoint)
		}
	}
	if cfg.RoleARN != "" && !roleARNPattern.MatchString(cfg.RoleARN) {
		add("role_arn %q is not an IAM role ARN such as arn:aws:iam::123456789012:role/connect-reader", cfg.RoleARN)
	}
	if cfg.ExternalID != "" && cfg.RoleARN == "" {
		add("external_id is set without role_arn: it is only used when assuming a role")
	}

	switch cfg.Records {
	case RecordsAgentEvents, RecordsContactEvents, RecordsContactRecords:
	default:
		add("records %q is not one of %s, %s, %s: what the stream carries", cfg.Records, RecordsAgentEvents, RecordsContactEvents, RecordsContactRecords)
	}
	for arn, name := range cfg.QueueNames {
		if !queueARNPattern.MatchString(arn) {
			add("queue_names: %q is not a queue ARN such as arn:aws:connect:us-east-1:123456789012:instance/INSTANCE_ID/queue/QUEUE_ID", arn)
		}
		if strings.TrimSpace(name) == "" {
			add("queue_names: the name of %q is empty", arn)
		}
	}
	if cfg.ContactTTL < minContactTTL {
		add("contact_ttl %s is below %s: a contact waiting in a queue may have no event for as long as it waits, and chats and tasks can wait for hours", cfg.ContactTTL, minContactTTL)
	}

	switch cfg.StartPosition {
	case StartLatest, StartTrimHorizon:
		if !cfg.StartTimestamp.IsZero() {
			add("start_timestamp is set but start_position is %q: set start_position to %q or remove start_timestamp", cfg.StartPosition, StartAtTimestamp)
		}
	case StartAtTimestamp:
		if cfg.StartTimestamp.IsZero() {
			add("start_timestamp is required when start_position is %q: an RFC 3339 time such as 2024-05-01T00:00:00Z", StartAtTimestamp)
		}
	default:
		add("start_position %q is not one of %s, %s, %s", cfg.StartPosition, StartLatest, StartTrimHorizon, StartAtTimestamp)
	}

	if cfg.PollInterval < minPollInterval {
		add("poll_interval %s is below %s: Kinesis allows 5 GetRecords calls a second per shard", cfg.PollInterval, minPollInterval)
	}
	if cfg.MaxRecordsPerCall < 1 || cfg.MaxRecordsPerCall > maxRecordsPerCallLimit {
		add("max_records_per_call %d is out of range: Kinesis takes 1 to %d", cfg.MaxRecordsPerCall, maxRecordsPerCallLimit)
	}
	if cfg.MaxBatchesInFlight < 1 {
		add("max_batches_in_flight %d is out of range: at least 1 shard must be able to hold a batch", cfg.MaxBatchesInFlight)
	}
	if cfg.MaxRecordsPerRequest < 1 {
		add("max_records_per_request %d is out of range: at least 1 record per call to the pipeline", cfg.MaxRecordsPerRequest)
	}
	if cfg.MaxBytesPerRequest < minMaxBytesPerRequest {
		add("max_bytes_per_request %d is below %d (1 MiB): a Kinesis record holds up to 1 MiB, and a request holds at least one record", cfg.MaxBytesPerRequest, minMaxBytesPerRequest)
	}
	if cfg.ShardDiscoveryInterval < time.Second {
		add("shard_discovery_interval %s is below 1s: listing shards that often only spends ListShards quota", cfg.ShardDiscoveryInterval)
	}
	// error_backoff's own Validate runs too: the collector validates nested configs.
	if cfg.Deduplication.Enabled && (cfg.Deduplication.WindowSize < 1 || cfg.Deduplication.WindowSize > maxDedupWindow) {
		add("deduplication::window_size %d is out of range: 1 to %d EventIds per shard, or deduplication::enabled: false", cfg.Deduplication.WindowSize, maxDedupWindow)
	}
	switch cfg.Redact.Mode {
	case eventlog.RedactNone, eventlog.RedactDrop, eventlog.RedactHash:
	default:
		add("redact::mode %q is not one of %s, %s, %s", cfg.Redact.Mode, eventlog.RedactNone, eventlog.RedactDrop, eventlog.RedactHash)
	}
	if cfg.Redact.Mode == eventlog.RedactHash && cfg.Redact.Salt == "" {
		add("redact::salt is required with redact::mode hash: without it anyone can hash a known username and match it")
	}
	if cfg.Redact.AgentARN && cfg.Redact.Mode != eventlog.RedactHash {
		add("redact::agent_arn needs redact::mode hash (it is %q): agent ARNs are replaced by a keyed hash, so that one agent's events stay linked", cfg.Redact.Mode)
	}
	switch cfg.LogBody {
	case eventlog.BodyMap, eventlog.BodyJSON:
	default:
		add("log_body %q is not one of %s, %s", cfg.LogBody, eventlog.BodyMap, eventlog.BodyJSON)
	}
	if cfg.CollectionInterval < time.Second {
		add("collection_interval %s is below 1s: gauges change with agent events, which come in at most a few a second per agent", cfg.CollectionInterval)
	}
	if cfg.AgentTTL < 3*time.Minute {
		add("agent_ttl %s is below 3m: Amazon Connect sends a live agent's heartbeat only every 120 s, so live agents would be dropped", cfg.AgentTTL)
	}
	if cfg.ErrorBackoff.Enabled && cfg.ErrorBackoff.MaxElapsedTime != 0 {
		add("error_backoff::max_elapsed_time must be 0: the receiver never gives up on a batch, as that would lose it")
	}
	errs = append(errs, cfg.EnhancedFanOut.validate(cfg)...)
	if l := cfg.Leases.Get(); l != nil {
		errs = append(errs, l.validate(cfg.PollInterval)...)
		if w := cfg.dedupWindow(); w > leases.MaxRecentKeys {
			add("deduplication::window_size %d is above %d with leases: the window is saved in each shard's lease item, 8 bytes an EventId, and a DynamoDB item holds at most 400 KB", w, leases.MaxRecentKeys)
		}
	}
	return errors.Join(errs...)
}

// validate checks the leases block, pairing its durations with each other and with
// poll_interval; each error names its field under leases::.
func (l *LeasesConfig) validate(pollInterval time.Duration) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("leases::"+format, args...)) }
	switch {
	case l.TableName == "":
		add("table_name is required: the DynamoDB table that holds the shard leases, e.g. otelcol-amazonconnect-leases")
	case !tableNamePattern.MatchString(l.TableName):
		add("table_name %q is not a DynamoDB table name: 3 to 255 letters, digits, '_', '.' or '-'", l.TableName)
	}
	if l.Region != "" && !regionPattern.MatchString(l.Region) {
		add("region %q is not an AWS region name such as us-east-1", l.Region)
	}
	if l.Endpoint != "" {
		u, err := url.Parse(l.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoint %q is not a URL such as https://dynamodb.us-east-1.amazonaws.com or http://localhost:8000", l.Endpoint)
		}
	}
	if l.RoleARN != "" && !roleARNPattern.MatchString(l.RoleARN) {
		add("role_arn %q is not an IAM role ARN such as arn:aws:iam::123456789012:role/otelcol-leases", l.RoleARN)
	}
	if l.ExternalID != "" && l.RoleARN == "" {
		add("external_id is set without leases::role_arn: it is only used when assuming a role")
	}
	if l.LeaseDuration < minLeaseDuration {
		add("lease_duration %s is below %s: each renewal is a DynamoDB write, and a lease shorter than a few of its round trips expires under a live worker", l.LeaseDuration, minLeaseDuration)
	}
	if pollInterval > 0 && l.LeaseDuration < 2*pollInterval {
		add("lease_duration %s is below twice poll_interval (%s): a caught-up shard is read once a poll_interval, so a shorter lease could change hands before its holder read the shard twice", l.LeaseDuration, pollInterval)
	}
	if l.RenewInterval < minRenewInterval {
		add("renew_interval %s is below %s: every renewal is a DynamoDB write per held lease", l.RenewInterval, minRenewInterval)
	}
	if l.LeaseDuration >= minLeaseDuration && l.RenewInterval > l.LeaseDuration/3 {
		add("renew_interval %s is above a third of lease_duration (%s): two renewals in a row may fail (throttling, a network blip) and the third must still come before the lease expires", l.RenewInterval, l.LeaseDuration)
	}
	if len(l.WorkerID) > maxWorkerIDLength || strings.ContainsFunc(l.WorkerID, unicode.IsControl) {
		add("worker_id %q is not a worker ID: at most %d characters, none of them control characters", l.WorkerID, maxWorkerIDLength)
	}
	if l.MaxLeasesPerWorker < 0 {
		add("max_leases_per_worker %d is negative: 0 means no cap", l.MaxLeasesPerWorker)
	}
	if l.MaxLeasesToSteal < 0 {
		add("max_leases_to_steal %d is negative: 0 turns stealing off", l.MaxLeasesToSteal)
	}
	return errs
}

// streamARN is arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME.
type streamARN struct {
	region, account, name string
}

func parseStreamARN(arn string) (streamARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "kinesis" ||
		!regionPattern.MatchString(parts[3]) || len(parts[4]) != 12 || !strings.HasPrefix(parts[5], "stream/") ||
		!streamNamePattern.MatchString(strings.TrimPrefix(parts[5], "stream/")) {
		return streamARN{}, fmt.Errorf("%q is not a Kinesis stream ARN such as arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events", arn)
	}
	return streamARN{region: parts[3], account: parts[4], name: strings.TrimPrefix(parts[5], "stream/")}, nil
}

func streamARNRegion(arn string) string {
	a, _ := parseStreamARN(arn)
	return a.region
}
