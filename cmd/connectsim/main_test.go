package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
)

func TestParseFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags([]string{
		"--agents", "7", "--seed", "42", "--speed", "0", "--duration", "2h", "--events", "99",
		"--start", "2024-03-07T08:00:00Z", "--region", "eu-west-2",
		"--voice-mix", "inbound=1,outbound=0.5", "--chat-mix", "api=1", "--channel-mix", "voice=1,chat=2,task=0",
		"--handle-time", "voice=1m,chat=2m,task=3m", "--statuses", "Break=1/5m,Coaching=0.5/20m",
		"--old-version-fraction", "0.1", "--no-type-fraction", "0.2", "--enqueue-spelling-fraction", "0.3",
	}, &stderr)
	require.NoError(t, err)
	c := o.cfg
	assert.Equal(t, 7, c.Agents)
	assert.Equal(t, uint64(42), c.Seed)
	assert.Equal(t, 2*time.Hour, o.duration)
	assert.Equal(t, int64(99), o.events)
	assert.Equal(t, "eu-west-2", c.Region)
	assert.Equal(t, time.Date(2024, 3, 7, 8, 0, 0, 0, time.UTC), o.start)
	assert.Equal(t, connectsim.InitiationMix{Inbound: 1, Outbound: 0.5}, c.VoiceMix)
	assert.Equal(t, connectsim.InitiationMix{API: 1}, c.ChatMix)
	assert.Equal(t, connectsim.ChannelWeights{Voice: 1, Chat: 2}, c.ChannelMix)
	assert.Equal(t, connectsim.ChannelDurations{Voice: time.Minute, Chat: 2 * time.Minute, Task: 3 * time.Minute}, c.HandleTime)
	assert.Equal(t, []connectsim.CustomStatus{{Name: "Break", PerHour: 1, MeanDuration: 5 * time.Minute},
		{Name: "Coaching", PerHour: 0.5, MeanDuration: 20 * time.Minute}}, c.CustomStatuses)
	assert.InDelta(t, 0.3, c.EnqueueSpellingFraction, 1e-9)

	// The defaults are the library's.
	o, err = parseFlags(nil, &stderr)
	require.NoError(t, err)
	def := connectsim.DefaultConfig()
	def.Region = o.cfg.Region
	assert.Equal(t, def, o.cfg)

	for _, bad := range [][]string{
		{"--voice-mix", "inbound"}, {"--voice-mix", "carrier=1"}, {"--handle-time", "voice=soon"},
		{"--statuses", "Break"}, {"--missed-prob", "2"}, {"--agents", "0"}, {"--speed", "-1"}, {"--start", "yesterday"},
	} {
		_, err := parseFlags(bad, &stderr)
		assert.Error(t, err, "%v", bad)
	}
}

func TestRunToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var stderr bytes.Buffer
	err := run([]string{"--output", "file", "--file", path, "--speed", "0", "--events", "250", "--agents", "10"}, io.Discard, &stderr)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 250, strings.Count(string(data), "\n"))
	assert.Contains(t, stderr.String(), "done: 250 events written")

	err = run([]string{"--output", "kafka"}, io.Discard, &stderr)
	assert.ErrorContains(t, err, "kinesis, file or stdout")
}

// With the stream flags set, a file gets the contact events and records of the same
// contacts beside the agent events; without them, none.
func TestRunContactKindsToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.jsonl")
	var stderr bytes.Buffer
	err := run([]string{"--output", "file", "--file", path, "--speed", "0", "--duration", "2h", "--agents", "10",
		"--start", "2024-03-07T08:00:00Z", "--contact-events-stream", "on", "--contact-records-stream", "on"}, io.Discard, &stderr)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		switch {
		case strings.Contains(line, `"detail-type":"Amazon Connect Contact Event"`):
			kinds["contact event"]++
		case strings.HasPrefix(line, `{"AWSAccountId"`) && strings.Contains(line, `"AWSContactTraceRecordFormatVersion"`):
			kinds["contact record"]++
		case strings.Contains(line, `"AgentARN"`):
			kinds["agent event"]++
		default:
			t.Fatalf("a line of no kind: %s", line)
		}
	}
	assert.Positive(t, kinds["agent event"])
	assert.Positive(t, kinds["contact event"])
	assert.Positive(t, kinds["contact record"])

	o, err := parseFlags([]string{"--contact-events-stream", "connect-contact-events"}, &stderr)
	require.NoError(t, err)
	assert.True(t, o.cfg.ContactEvents)
	assert.False(t, o.cfg.ContactRecords)
}

// TestDemoQueueNames: config/demo.yaml maps exactly the simulator's queues, as the demo
// runs it (its defaults, region us-east-1), and -print-queue-names prints the same.
func TestDemoQueueNames(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "demo.yaml"))
	require.NoError(t, err)
	var demo struct {
		Receivers map[string]struct {
			QueueNames map[string]string `yaml:"queue_names"`
		} `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &demo))
	got := demo.Receivers["aws_connect/contacts"].QueueNames

	o, err := parseFlags([]string{"--region", "us-east-1"}, io.Discard)
	require.NoError(t, err)
	want := map[string]string{}
	for _, q := range o.cfg.Queues {
		want[o.cfg.QueueARN(q.Name)] = q.Name
	}
	assert.Equal(t, want, got)

	var printed bytes.Buffer
	require.NoError(t, run([]string{"--region", "us-east-1", "--print-queue-names"}, &printed, io.Discard))
	var parsed struct {
		QueueNames map[string]string `yaml:"queue_names"`
	}
	require.NoError(t, yaml.Unmarshal(printed.Bytes(), &parsed))
	assert.Equal(t, want, parsed.QueueNames)
}
