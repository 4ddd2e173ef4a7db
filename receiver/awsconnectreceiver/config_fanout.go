package awsconnectreceiver

import (
	"fmt"
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/component"
)

// EnhancedFanOutConfig reads the stream through enhanced fan-out: a registered stream
// consumer to which Kinesis pushes each shard's records (SubscribeToShard), with 2 MB/s
// per shard of its own, instead of polling with GetRecords, whose 2 MB/s and 5 calls a
// second per shard every polling reader of the stream shares.
type EnhancedFanOutConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// ConsumerName is the stream consumer to subscribe as, registered if missing (see
	// Register). Collectors with the same name share one registration. It defaults to
	// otelcol-<receiver ID>, e.g. otelcol-aws_connect-agents for aws_connect/agents.
	ConsumerName string `mapstructure:"consumer_name"`
	// ConsumerARN names an existing registration to use instead of a name.
	ConsumerARN string `mapstructure:"consumer_arn"`
	// Register registers ConsumerName when the stream has no consumer of that name.
	// With false, a missing consumer is an error until someone registers it.
	Register bool `mapstructure:"register"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var (
	// Kinesis consumer names: 1 to 128 of these characters.
	consumerNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
	// arn:PARTITION:kinesis:REGION:ACCOUNT:stream/STREAM/consumer/NAME:CREATION_EPOCH.
	consumerARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([a-zA-Z0-9_.-]{1,128})/consumer/([a-zA-Z0-9_.-]{1,128}):\d+$`)
	// What a receiver ID may hold that a consumer name may not.
	notInConsumerName = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)
)

// validate checks the enhanced_fan_out block against the stream it reads; each error
// names its field under enhanced_fan_out::.
func (e *EnhancedFanOutConfig) validate(cfg *Config) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("enhanced_fan_out::"+format, args...))
	}
	if !e.Enabled {
		if e.ConsumerName != "" || e.ConsumerARN != "" {
			add("consumer_name and consumer_arn are set but enabled is false: set enabled: true to read through enhanced fan-out, or remove them")
		}
		return errs
	}
	if e.ConsumerName != "" && !consumerNamePattern.MatchString(e.ConsumerName) {
		add("consumer_name %q is not a Kinesis consumer name: 1 to 128 letters, digits, '_', '.' or '-'", e.ConsumerName)
	}
	if e.ConsumerARN == "" {
		return errs
	}
	if e.ConsumerName != "" {
		add("consumer_name and consumer_arn are both set: set consumer_arn to use an existing registration, or consumer_name to find or register one by name")
	}
	m := consumerARNPattern.FindStringSubmatch(e.ConsumerARN)
	if m == nil {
		add("consumer_arn %q is not a Kinesis stream consumer ARN such as arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events/consumer/otelcol:1700000000", e.ConsumerARN)
		return errs
	}
	region, account, stream := m[1], m[2], m[3]
	switch {
	case cfg.StreamName != "" && stream != cfg.StreamName:
		add("consumer_arn is registered on stream %q, not on stream_name %q", stream, cfg.StreamName)
	case cfg.StreamARN != "":
		if a, err := parseStreamARN(cfg.StreamARN); err == nil && (a.name != stream || a.region != region || a.account != account) {
			add("consumer_arn is registered on stream %s in %s of account %s, not on stream_arn %s", stream, region, account, cfg.StreamARN)
		}
	}
	if cfg.Region != "" && region != cfg.Region {
		add("consumer_arn is in region %q, the stream in %q", region, cfg.Region)
	}
	return errs
}

// consumerName is the consumer to find or register: the configured name, or one derived
// from the receiver's ID, so that the collectors of one configuration share it.
func (e *EnhancedFanOutConfig) consumerName(id component.ID) string {
	if e.ConsumerName != "" {
		return e.ConsumerName
	}
	name := "otelcol-" + notInConsumerName.ReplaceAllString(strings.ReplaceAll(id.String(), "/", "-"), "_")
	return name[:min(len(name), 128)]
}
