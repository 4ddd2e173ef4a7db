package awsconnectreceiver

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

func TestEnhancedFanOutOffByDefault(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.False(t, cfg.EnhancedFanOut.Enabled, "polling stays the default")
	assert.True(t, cfg.EnhancedFanOut.Register)
}

func TestLoadConfigEnhancedFanOut(t *testing.T) {
	cfg, err := loadConfig(t, "efo")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.True(t, cfg.EnhancedFanOut.Enabled)
	assert.True(t, cfg.EnhancedFanOut.Register, "register defaults to true")
	assert.Equal(t, "otelcol-aws_connect-agents", cfg.EnhancedFanOut.consumerName(component.MustNewIDWithName("aws_connect", "agents")))
	assert.Equal(t, "otelcol-aws_connect", cfg.EnhancedFanOut.consumerName(component.NewID(metadata.Type)))

	full, err := loadConfig(t, "efo_full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(full))
	assert.False(t, full.EnhancedFanOut.Register)
	assert.Equal(t, "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events/consumer/wallboard:1700000000", full.EnhancedFanOut.ConsumerARN)
}

func TestDerivedConsumerNameIsAConsumerName(t *testing.T) {
	long := component.MustNewIDWithName("aws_connect", strings.Repeat("x", 200))
	name := (&EnhancedFanOutConfig{}).consumerName(long)
	assert.Len(t, name, 128)
	assert.Regexp(t, consumerNamePattern, name)
	odd := component.MustNewIDWithName("aws_connect", "agents+eu")
	assert.Regexp(t, consumerNamePattern, (&EnhancedFanOutConfig{}).consumerName(odd))
}

func TestLoadConfigEnhancedFanOutInvalid(t *testing.T) {
	tests := []struct {
		name string
		want string // the whole error
	}{
		{"efo_not_enabled", "enhanced_fan_out::consumer_name and consumer_arn are set but enabled is false: set enabled: true to read through enhanced fan-out, or remove them"},
		{"efo_bad_name", `enhanced_fan_out::consumer_name "wall board" is not a Kinesis consumer name: 1 to 128 letters, digits, '_', '.' or '-'`},
		{"efo_name_and_arn", "enhanced_fan_out::consumer_name and consumer_arn are both set: set consumer_arn to use an existing registration, or consumer_name to find or register one by name"},
		{"efo_bad_arn", `enhanced_fan_out::consumer_arn "arn:aws:kinesis:us-east-1:111122223333:stream/connect-agent-events" is not a Kinesis stream consumer ARN such as arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events/consumer/otelcol:1700000000`},
		{"efo_arn_other_stream", `enhanced_fan_out::consumer_arn is registered on stream "connect-contact-events", not on stream_name "connect-agent-events"`},
		{"efo_arn_other_region", "enhanced_fan_out::consumer_arn is registered on stream connect-agent-events in us-east-1 of account 111122223333, not on stream_arn arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tc.name)
			require.NoError(t, err, "unmarshal")
			require.EqualError(t, confmap.Validate(cfg), tc.want)
		})
	}
}
