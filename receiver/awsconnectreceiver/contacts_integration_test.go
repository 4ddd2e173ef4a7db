package awsconnectreceiver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contacttest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const (
	testQueueSales = contacttest.InstanceARN + "/queue/11111111-0000-0000-0000-000000000001"
	testQueueHelp  = contacttest.InstanceARN + "/queue/11111111-0000-0000-0000-000000000002"
)

// metricsSink keeps every export.
type metricsSink struct {
	mu  sync.Mutex
	all []pmetric.Metrics
}

func (s *metricsSink) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, md)
	return nil
}

// last returns the value of the last data point of metric name whose attributes hold
// attrs, in the latest export that has the metric.
func (s *metricsSink) last(name string, attrs map[string]string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.all) - 1; i >= 0; i-- {
		if v, found := gaugesum.Value(s.all[i], name, attrs); found {
			return v, true
		}
	}
	return 0, false
}

// logSink keeps every log record.
type logSink struct {
	mu      sync.Mutex
	records []plog.LogRecord
}

func (s *logSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				c := plog.NewLogRecord()
				lr.CopyTo(c)
				s.records = append(s.records, c)
			}
		}
	}
	return nil
}

func (s *logSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// startContactsReceiver starts a receiver of both pipelines on cfg.
func startContactsReceiver(t *testing.T, cfg *Config, logs *logSink, metrics *metricsSink, host component.Host) *awsConnectReceiver {
	t.Helper()
	return startReceiverIn(t, cfg, component.NewIDWithName(metadata.Type, "contacts"),
		logsTo(t, logs.ConsumeLogs), metricsTo(t, metrics.ConsumeMetrics), host, zaptest.NewLogger(t))
}

// TestKinesisLocalQueueGaugesSurviveRestart reads contact events from kinesis-local with
// the state in the real file_storage extension: contacts waiting in their queues, one
// answered, one abandoned, the events of one contact spread over shards. After a
// restart nothing is read again, and the gauges of the contacts still waiting are right
// at once; an event after the restart moves them on.
func TestKinesisLocalQueueGaugesSurviveRestart(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "contact-events"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()

	now := time.Now()
	waitingLong := now.Add(-10 * time.Minute)
	evs := []contacttest.Event{
		// Waiting in Sales for 10 minutes, and for 2; waiting in Help.
		{Type: "QUEUED", ContactID: "c-long", Queue: testQueueSales, Enqueued: waitingLong},
		{Type: "QUEUED", ContactID: "c-short", Queue: testQueueSales, Enqueued: now.Add(-2 * time.Minute)},
		{Type: "QUEUED", ContactID: "c-help", Queue: testQueueHelp, Enqueued: now.Add(-time.Minute), Channel: "CHAT"},
		// Answered after 30 s, its QUEUED after its CONNECTED_TO_AGENT.
		{Type: "CONNECTED_TO_AGENT", ContactID: "c-answered", Queue: testQueueSales, Enqueued: now.Add(-5 * time.Minute), Connected: now.Add(-5*time.Minute + 30*time.Second)},
		{Type: "QUEUED", ContactID: "c-answered", Queue: testQueueSales, Enqueued: now.Add(-5 * time.Minute)},
		// Left the queue with no agent.
		{Type: "QUEUED", ContactID: "c-gone", Queue: testQueueSales, Enqueued: now.Add(-3 * time.Minute)},
		{Type: "DISCONNECTED", ContactID: "c-gone", Queue: testQueueSales, Enqueued: now.Add(-3 * time.Minute), Disconnected: now.Add(-time.Minute)},
		// Outbound: never in a queue.
		{Type: "INITIATED", ContactID: "c-out", Method: "OUTBOUND"},
	}
	contacttest.Put(t, srv, stream, evs...)

	cfg := testConfig(srv.Endpoint, stream)
	cfg.Records = RecordsContactEvents
	cfg.CollectionInterval = time.Second
	cfg.QueueNames = map[string]string{testQueueSales: "Sales"}
	id := fileStorageID
	cfg.Storage = &id

	sales := map[string]string{"aws.connect.queue.arn": testQueueSales, "aws.connect.queue.name": "Sales", "aws.connect.channel": "VOICE"}
	help := map[string]string{"aws.connect.queue.arn": testQueueHelp, "aws.connect.channel": "CHAT"}
	waitingIn := func(m *metricsSink, q map[string]string) float64 {
		v, _ := m.last("aws.connect.queue.contacts", q)
		return v
	}

	// First run: every event is logged once, and the gauges count what waits.
	ext := startFileStorage(t, dir)
	host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
	logs, metrics := &logSink{}, &metricsSink{}
	r := startContactsReceiver(t, cfg, logs, metrics, host)
	require.Eventually(t, func() bool { return logs.count() >= len(evs) }, 60*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		return waitingIn(metrics, sales) == 2 && waitingIn(metrics, help) == 1
	}, 30*time.Second, 100*time.Millisecond, "sales %v, help %v", waitingIn(metrics, sales), waitingIn(metrics, help))
	oldest, ok := metrics.last("aws.connect.queue.oldest_contact.age", sales)
	require.True(t, ok)
	assert.InDelta(t, time.Since(waitingLong).Seconds(), oldest, 15, "the oldest contact in Sales has waited 10 minutes")
	answered, _ := metrics.last("aws.connect.queue.contacts.dequeued", map[string]string{"aws.connect.queue.arn": testQueueSales, "aws.connect.queue.outcome": "answered"})
	assert.Equal(t, 1.0, answered)
	waits, _ := metrics.last("aws.connect.queue.wait.duration", map[string]string{"aws.connect.queue.arn": testQueueSales, "aws.connect.queue.outcome": "answered"})
	assert.Equal(t, 1.0, waits, "the answered contact's wait is in the histogram")
	logs.mu.Lock()
	names := map[string]int{}
	for _, lr := range logs.records {
		names[lr.EventName()]++
	}
	logs.mu.Unlock()
	assert.Equal(t, map[string]int{
		"aws.connect.contact.queued": 5, "aws.connect.contact.connected_to_agent": 1,
		"aws.connect.contact.disconnected": 1, "aws.connect.contact.initiated": 1,
	}, names)
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, ext.Shutdown(context.Background()))

	// Second run, on the same storage: no record is read again, and the waiting
	// contacts are counted from the stored state at the first export.
	ext = startFileStorage(t, dir)
	host = storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
	logs, metrics = &logSink{}, &metricsSink{}
	r = startContactsReceiver(t, cfg, logs, metrics, host)
	require.Eventually(t, func() bool {
		_, ok := metrics.last("aws.connect.queue.contacts", sales)
		return ok
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, 2.0, waitingIn(metrics, sales), "the contacts waiting in Sales before the restart")
	assert.Equal(t, 1.0, waitingIn(metrics, help), "the contact waiting in Help before the restart")
	oldest, _ = metrics.last("aws.connect.queue.oldest_contact.age", sales)
	assert.InDelta(t, time.Since(waitingLong).Seconds(), oldest, 15)

	// The long-waiting contact is answered now: Sales has one left.
	contacttest.Put(t, srv, stream, contacttest.Event{Type: "CONNECTED_TO_AGENT", ContactID: "c-long", Queue: testQueueSales, Enqueued: waitingLong, Connected: time.Now()})
	require.Eventually(t, func() bool { return waitingIn(metrics, sales) == 1 }, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, 1, logs.count(), "only the new event is read after the restart")
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, ext.Shutdown(context.Background()))
}
