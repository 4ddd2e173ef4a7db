package wallboard

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	basicARN   = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333/queue/0a1b2c3d-0000-5000-8000-000000000001"
	salesARN   = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333/queue/5a1e5000-0000-5000-8000-000000000002"
	agentQ1ARN = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333/queue/agent/aaaa0000-0000-4000-8000-000000000001"
	agentQ2ARN = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333/queue/agent/aaaa0000-0000-4000-8000-000000000002"
)

// queueScrape is the queue side as the Prometheus exporter serves it: BasicQueue named
// by queue_names, Sales not; two channels in BasicQueue; two agent queues.
var queueScrape = strings.NewReplacer("BASIC", basicARN, "SALES", salesARN, "AGENTQ1", agentQ1ARN, "AGENTQ2", agentQ2ARN).Replace(`# HELP aws_connect_queue_contacts Contacts waiting in the queue now
# TYPE aws_connect_queue_contacts gauge
aws_connect_queue_contacts{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",otel_scope_name="awsconnect"} 3
aws_connect_queue_contacts{aws_connect_channel="CHAT",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",otel_scope_name="awsconnect"} 1
aws_connect_queue_contacts{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",otel_scope_name="awsconnect"} 0
aws_connect_queue_contacts{aws_connect_channel="VOICE",aws_connect_queue_arn="AGENTQ1",otel_scope_name="awsconnect"} 1
aws_connect_queue_contacts{aws_connect_channel="VOICE",aws_connect_queue_arn="AGENTQ2",otel_scope_name="awsconnect"} 1
# TYPE aws_connect_queue_oldest_contact_age_seconds gauge
aws_connect_queue_oldest_contact_age_seconds{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue"} 65.4
aws_connect_queue_oldest_contact_age_seconds{aws_connect_channel="CHAT",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue"} 12
aws_connect_queue_oldest_contact_age_seconds{aws_connect_channel="VOICE",aws_connect_queue_arn="AGENTQ1"} 7
aws_connect_queue_oldest_contact_age_seconds{aws_connect_channel="VOICE",aws_connect_queue_arn="AGENTQ2"} 9
# TYPE aws_connect_queue_contacts_dequeued_total counter
aws_connect_queue_contacts_dequeued_total{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered"} 8
aws_connect_queue_contacts_dequeued_total{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned"} 2
aws_connect_queue_contacts_dequeued_total{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback"} 1
aws_connect_queue_contacts_dequeued_total{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred"} 3
aws_connect_queue_contacts_dequeued_total{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned"} 1
# TYPE aws_connect_queue_wait_duration_seconds histogram
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered",le="15"} 5
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered",le="20"} 6
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered",le="+Inf"} 8
aws_connect_queue_wait_duration_seconds_sum{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered"} 180
aws_connect_queue_wait_duration_seconds_count{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="answered"} 8
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned",le="15"} 1
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned",le="20"} 1
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned",le="+Inf"} 2
aws_connect_queue_wait_duration_seconds_sum{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned"} 70
aws_connect_queue_wait_duration_seconds_count{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="abandoned"} 2
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback",le="15"} 0
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback",le="20"} 0
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback",le="+Inf"} 1
aws_connect_queue_wait_duration_seconds_sum{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback"} 40
aws_connect_queue_wait_duration_seconds_count{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="callback"} 1
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred",le="15"} 3
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred",le="20"} 3
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred",le="+Inf"} 3
aws_connect_queue_wait_duration_seconds_sum{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred"} 30
aws_connect_queue_wait_duration_seconds_count{aws_connect_channel="VOICE",aws_connect_queue_arn="BASIC",aws_connect_queue_name="BasicQueue",aws_connect_queue_outcome="transferred"} 3
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned",le="15"} 0
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned",le="20"} 0
aws_connect_queue_wait_duration_seconds_bucket{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned",le="+Inf"} 1
aws_connect_queue_wait_duration_seconds_sum{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned"} 95
aws_connect_queue_wait_duration_seconds_count{aws_connect_channel="VOICE",aws_connect_queue_arn="SALES",aws_connect_queue_outcome="abandoned"} 1
`)

func TestQueuesFromAScrape(t *testing.T) {
	b, err := Parse(strings.NewReader(queueScrape))
	require.NoError(t, err)
	require.Len(t, b.Queues, 3, "BasicQueue, Sales and the agent queues together")

	basic := b.Queues[basicARN]
	require.NotNil(t, basic)
	assert.Equal(t, "BasicQueue", basic.Name)
	assert.Equal(t, int64(4), basic.InQueue, "both channels")
	assert.InDelta(t, 65.4, basic.OldestSeconds, 1e-9, "the oldest of both channels")
	// Answered 8 (6 within 20 s), abandoned 2 (1), callback 1 (0); the 3 transferred
	// count in the queue they went to.
	assert.InDelta(t, 11, basic.Dequeued, 1e-9)
	assert.InDelta(t, 7, basic.WithinThreshold, 1e-9)
	sl, ok := basic.ServiceLevel()
	require.True(t, ok)
	assert.InDelta(t, 7.0/11, sl, 1e-9)
	assert.InDelta(t, 2, basic.Abandoned, 1e-9)

	sales := b.Queues[salesARN]
	require.NotNil(t, sales)
	assert.Equal(t, "queue 5a1e5000", sales.Name, "no queue_names entry: a short ARN")
	assert.Equal(t, int64(0), sales.InQueue)
	sl, ok = sales.ServiceLevel()
	require.True(t, ok)
	assert.Zero(t, sl)

	agents := b.Queues[AgentQueues]
	require.NotNil(t, agents)
	assert.Equal(t, int64(2), agents.InQueue)
	assert.InDelta(t, 9, agents.OldestSeconds, 1e-9)
	_, ok = agents.ServiceLevel()
	assert.False(t, ok, "nobody left the agent queues yet")

	var out bytes.Buffer
	b.Render(&out, time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC))
	text := out.String()
	assert.Regexp(t, `BasicQueue\s+4\s+1:05\s+64% of 11\s+2\n`, text)
	assert.Regexp(t, `queue 5a1e5000\s+0\s+0:00\s+0% of 1\s+1\n`, text)
	assert.Regexp(t, `\(agent queues\)\s+2\s+0:09\s+-\s+0\n`, text)
}

func TestQueuesOfAFleetAndAWindow(t *testing.T) {
	one, err := Parse(strings.NewReader(queueScrape))
	require.NoError(t, err)
	two, err := Parse(strings.NewReader(queueScrape))
	require.NoError(t, err)
	one.Add(two)
	basic := one.Queues[basicARN]
	assert.Equal(t, int64(8), basic.InQueue)
	assert.InDelta(t, 65.4, basic.OldestSeconds, 1e-9, "the oldest is a maximum, not a sum")
	assert.InDelta(t, 22, basic.Dequeued, 1e-9)

	// A window: the doubled board since the single one is the single one again.
	single, err := Parse(strings.NewReader(queueScrape))
	require.NoError(t, err)
	w := one.Since(single).Queues[basicARN]
	assert.InDelta(t, 11, w.Dequeued, 1e-9)
	assert.InDelta(t, 7, w.WithinThreshold, 1e-9)
	assert.InDelta(t, 2, w.Abandoned, 1e-9)
	assert.Equal(t, int64(8), w.InQueue, "gauges are now's")
	// After a restart the counters went down: the window counts from zero.
	r := single.Since(one).Queues[basicARN]
	assert.InDelta(t, 11, r.Dequeued, 1e-9)
}

func TestMinSec(t *testing.T) {
	assert.Equal(t, "0:00", MinSec(0))
	assert.Equal(t, "0:59", MinSec(59.9))
	assert.Equal(t, "12:05", MinSec(725))
}

func TestNoQueueSide(t *testing.T) {
	b, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)
	var out bytes.Buffer
	b.Render(&out, time.Now())
	assert.Contains(t, out.String(), "Queues    - (no contact events)")
}
