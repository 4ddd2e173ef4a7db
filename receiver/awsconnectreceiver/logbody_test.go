package awsconnectreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contacttest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
)

// bodiesBySequence is every log record's body, by its sequence number.
func bodiesBySequence(t *testing.T, sink *consumertest.LogsSink) map[string]pcommon.Value {
	out := map[string]pcommon.Value{}
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
				seq, ok := lr.Attributes().Get(eventlog.AttrSequenceNumber)
				require.True(t, ok)
				out[seq.Str()] = lr.Body()
			}
		}
	}
	return out
}

// With log_body: json, each agent event's and contact event's log record carries its
// record's text as its body; a malformed record's body is its text as before, and the
// agents' state is kept the same.
func TestLogBodyJSONCarriesTheRecordsText(t *testing.T) {
	json := func(c *Config) { c.LogBody = eventlog.BodyJSON }
	bodiesOf := func(b kinesisconsumer.Batch, mods ...func(*Config)) (map[string]pcommon.Value, *awsConnectReceiver) {
		sink := &consumertest.LogsSink{}
		r := startTestReceiver(t, sink, consumertest.NewNop(), mods...)
		require.NoError(t, r.Process(context.Background(), b))
		return bodiesBySequence(t, sink), r
	}

	agents := fixtureBatch(t, "login.json", "state_change_two_contacts.json", "heart_beat.json")
	agents.Records = append(agents.Records, kinesisconsumer.Record{Data: []byte(`{"EventType":`), SequenceNumber: "9"})
	asMap, mapReceiver := bodiesOf(agents)
	asJSON, jsonReceiver := bodiesOf(agents, json)
	require.Len(t, asJSON, len(agents.Records))
	for _, rec := range agents.Records {
		got := asJSON[rec.SequenceNumber]
		require.Equal(t, pcommon.ValueTypeStr, got.Type(), rec.SequenceNumber)
		assert.Equal(t, string(rec.Data), got.Str(), rec.SequenceNumber)
		if rec.SequenceNumber != "9" {
			assert.Equal(t, pcommon.ValueTypeMap, asMap[rec.SequenceNumber].Type(), "map bodies without log_body")
		}
	}
	assert.Equal(t, mapReceiver.state.Agents(), jsonReceiver.state.Agents())
	now := time.Now()
	assert.Equal(t, gauge(t, mapReceiver.metrics.collect(now), "aws.connect.agent.count"),
		gauge(t, jsonReceiver.metrics.collect(now), "aws.connect.agent.count"))

	contacts := contactBatch(contactEvents(
		contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: testQueueSales, Enqueued: time.Now().Add(-time.Minute)},
		contacttest.Event{Type: "CONNECTED_TO_AGENT", ContactID: "c1", Queue: testQueueSales, Enqueued: time.Now().Add(-time.Minute), Connected: time.Now()},
	)...)
	asJSON, _ = bodiesOf(contacts, json, func(c *Config) { c.Records = RecordsContactEvents })
	require.Len(t, asJSON, len(contacts.Records))
	for _, rec := range contacts.Records {
		assert.Equal(t, string(rec.Data), asJSON[rec.SequenceNumber].Str(), rec.SequenceNumber)
	}
}
