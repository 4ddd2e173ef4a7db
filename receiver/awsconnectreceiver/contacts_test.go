package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contacttest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

func logsTo(t *testing.T, fn consumer.ConsumeLogsFunc) consumer.Logs {
	l, err := consumer.NewLogs(fn)
	require.NoError(t, err)
	return l
}

func metricsTo(t *testing.T, fn consumer.ConsumeMetricsFunc) consumer.Metrics {
	m, err := consumer.NewMetrics(fn)
	require.NoError(t, err)
	return m
}

// contactBatch is a first offer of records, as a shard hands them to Process.
func contactBatch(data ...[]byte) kinesisconsumer.Batch {
	b := kinesisconsumer.Batch{StreamName: "s", ShardID: "shardId-000000000000", Attempt: 1, Recent: kinesisconsumer.NewRecentKeys(100)}
	for i, d := range data {
		b.Records = append(b.Records, kinesisconsumer.Record{Data: d, SequenceNumber: string(rune('a' + i))})
	}
	return b
}

func contactEvents(evs ...contacttest.Event) [][]byte {
	_, data := contacttest.Records(evs...)
	return data
}

// storedQueues is the waiting count per queue ARN of the state stored in client.
func storedQueues(t *testing.T, client storage.Client) map[string]int64 {
	t.Helper()
	c := newContactState(createDefaultConfig().(*Config), zap.NewNop())
	require.NoError(t, c.load(context.Background(), client, "s"))
	out := map[string]int64{}
	c.store.Queues(time.Now(), func(k contactstate.QueueKey, q contactstate.QueueStats) { out[k.QueueARN] += q.Waiting })
	return out
}

// A batch of contact events is only done (and so checkpointed) once the state it left is
// in the storage extension: a crash right after its checkpoint loses no contact.
func TestContactStateSavedBeforeTheBatchIsDone(t *testing.T) {
	logs := newEventSink()
	r := startTestReceiver(t, logsTo(t, logs.ConsumeLogs), metricsTo(t, (&metricsSink{}).ConsumeMetrics),
		func(c *Config) { c.Records = RecordsContactEvents })
	client := fileStorageClient(t, t.TempDir())
	require.NoError(t, r.contacts.load(context.Background(), client, "s"))

	enqueued := time.Now().Add(-time.Minute)
	require.NoError(t, r.Process(context.Background(), contactBatch(contactEvents(
		contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: testQueueSales, Enqueued: enqueued},
		contacttest.Event{Type: "QUEUED", ContactID: "c2", Queue: testQueueSales, Enqueued: enqueued},
	)...)))
	assert.Equal(t, map[string]int64{testQueueSales: 2}, storedQueues(t, client))

	require.NoError(t, r.Process(context.Background(), contactBatch(contactEvents(
		contacttest.Event{Type: "CONNECTED_TO_AGENT", ContactID: "c1", Queue: testQueueSales, Enqueued: enqueued, Connected: time.Now()},
	)...)))
	assert.Equal(t, map[string]int64{testQueueSales: 1}, storedQueues(t, client))
}

// failingStorage is a storage client whose writes fail while fail is set.
type failingStorage struct {
	storage.Client
	fail bool
}

func (f *failingStorage) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if f.fail {
		for _, op := range ops {
			if op.Type != storage.Get {
				return errors.New("disk full")
			}
		}
	}
	return f.Client.Batch(ctx, ops...)
}

// A batch whose state cannot be saved is refused, retryably, and not handed to the logs
// pipeline; offered again, it is saved then, its events applied once.
func TestContactStateSaveFailureRefusesTheBatch(t *testing.T) {
	logs := newEventSink()
	r := startTestReceiver(t, logsTo(t, logs.ConsumeLogs), metricsTo(t, (&metricsSink{}).ConsumeMetrics),
		func(c *Config) { c.Records = RecordsContactEvents })
	client := &failingStorage{Client: fileStorageClient(t, t.TempDir())}
	require.NoError(t, r.contacts.load(context.Background(), client, "s"))

	b := contactBatch(contactEvents(contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: testQueueSales, Enqueued: time.Now()})...)
	client.fail = true
	err := r.Process(context.Background(), b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.Zero(t, logs.count(), "nothing goes down the pipeline before the state is saved")

	client.fail = false
	// Offered again as the consumer does: the refused offer's keys forgotten.
	b.Attempt, b.Recent = 2, kinesisconsumer.NewRecentKeys(100)
	require.NoError(t, r.Process(context.Background(), b))
	assert.Equal(t, map[string]int64{testQueueSales: 1}, storedQueues(t, client))
	assert.Equal(t, 1, logs.count())
	assert.Equal(t, 1, r.contacts.store.Stats().Waiting, "applied once")
}

// A contact record delivered twice and updated later counts its contact once; each
// copy but the duplicate is logged, and a record that is not a contact record is flagged.
func TestContactRecordsCountEachContactOnce(t *testing.T) {
	var records []plog.LogRecord
	metrics := &metricsSink{}
	r := startTestReceiver(t, logsTo(t, func(_ context.Context, ld plog.Logs) error {
		for _, rl := range ld.ResourceLogs().All() {
			for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
				c := plog.NewLogRecord()
				lr.CopyTo(c)
				records = append(records, c)
			}
		}
		return nil
	}), metricsTo(t, metrics.ConsumeMetrics), func(c *Config) { c.Records = RecordsContactRecords })

	raw, err := os.ReadFile("../../testdata/contacts/records/sample_ctr.json")
	require.NoError(t, err)
	var ctr map[string]any
	require.NoError(t, json.Unmarshal(raw, &ctr))
	first, _ := json.Marshal(ctr)
	ctr["LastUpdateTimestamp"] = "2022-04-08T16:00:00Z" // an update: new attributes, say
	update, _ := json.Marshal(ctr)
	agentEvent, err := os.ReadFile("../../testdata/events/login.json")
	require.NoError(t, err)

	require.NoError(t, r.Process(context.Background(), contactBatch(first, first, update, agentEvent)))
	require.NoError(t, r.exportGauges(context.Background(), time.Now()))

	require.Len(t, records, 3, "the record, its update, and the agent event flagged; the duplicate copy left out")
	assert.Equal(t, "aws.connect.contact_record", records[0].EventName())
	assert.Equal(t, "aws.connect.contact_record", records[1].EventName())
	assert.Equal(t, plog.SeverityNumberError, records[2].SeverityNumber())
	errType, _ := records[2].Attributes().Get("error.type")
	assert.Equal(t, "not_a_contact_record", errType.Str())

	require.NotEmpty(t, metrics.all)
	md := metrics.all[len(metrics.all)-1]
	n, ok := gaugesum.Value(md, "aws.connect.contact.records", map[string]string{
		"aws.connect.queue.name": "BasicQueue", "aws.connect.channel": "VOICE",
		"aws.connect.contact.disconnect_reason": "CUSTOMER_DISCONNECT", "aws.connect.contact.handled": "true",
	})
	require.True(t, ok)
	assert.Equal(t, 1.0, n, "one contact, however many copies")
	handled, ok := gaugesum.Value(md, "aws.connect.contact.handle.duration", map[string]string{"aws.connect.queue.name": "BasicQueue"})
	require.True(t, ok)
	assert.Equal(t, 1.0, handled, "one handle time")
}

// What the contact state's bound evicts is reported at each collection, once.
func TestContactEvictionsReported(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	set := receivertest.NewNopSettings(metadata.Type)
	store := contactstate.New(contactstate.Config{MaxContacts: 2, MaxRecords: 1})
	m := newQueueMetrics(cfg, set, newMetricResources(cfg, set, eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig())), store, time.Now())
	var contacts, records int64
	m.evicted = func(c, r int64) { contacts, records = contacts+c, records+r }

	for _, data := range contactEvents(
		contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: testQueueSales, Enqueued: time.Now()},
		contacttest.Event{Type: "QUEUED", ContactID: "c2", Queue: testQueueSales, Enqueued: time.Now()},
		contacttest.Event{Type: "QUEUED", ContactID: "c3", Queue: testQueueSales, Enqueued: time.Now()},
		contacttest.Event{Type: "QUEUED", ContactID: "c4", Queue: testQueueSales, Enqueued: time.Now()},
	) {
		var ev contactevent.Event
		require.NoError(t, contactevent.Decode(data, &ev))
		store.ApplyEvent(&ev, time.Now(), nil)
	}
	m.collect(time.Now())
	assert.Equal(t, int64(2), contacts, "four contacts, room for two")
	m.collect(time.Now())
	assert.Equal(t, int64(2), contacts, "reported once")
	assert.Zero(t, records)
}

// A contact whose DISCONNECTED was lost stops waiting when its contact record comes, read
// by the collector's contact_records receiver; the contact events receiver's state is
// saved before the record's batch is done.
func TestContactRecordEndsAContactWhoseEventsWereLost(t *testing.T) {
	metrics := &metricsSink{}
	events := startTestReceiver(t, nil, metricsTo(t, metrics.ConsumeMetrics), func(c *Config) { c.Records = RecordsContactEvents })
	client := fileStorageClient(t, t.TempDir())
	require.NoError(t, events.contacts.load(context.Background(), client, "s"))
	contactEventReceivers.add(events) // as connect does once the state is loaded
	t.Cleanup(func() { contactEventReceivers.remove(events) })
	records := startTestReceiver(t, nil, nil, func(c *Config) { c.Records = RecordsContactRecords })

	enqueued := time.Now().Add(-3 * time.Minute).Truncate(time.Second)
	require.NoError(t, events.Process(context.Background(), contactBatch(contactEvents(
		contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: testQueueSales, Enqueued: enqueued},
	)...)))
	waiting := func() float64 {
		require.NoError(t, events.exportGauges(context.Background(), time.Now()))
		v, _ := gaugesum.Value(metrics.all[len(metrics.all)-1], "aws.connect.queue.contacts", map[string]string{"aws.connect.queue.arn": testQueueSales})
		return v
	}
	require.Equal(t, 1.0, waiting())

	raw, err := os.ReadFile("../../testdata/contacts/records/sample_ctr.json")
	require.NoError(t, err)
	var ctr map[string]any
	require.NoError(t, json.Unmarshal(raw, &ctr))
	stamp := func(at time.Time) string { return at.UTC().Format(time.RFC3339) }
	ctr["InstanceARN"], ctr["ContactId"] = contacttest.InstanceARN, "c1"
	ctr["Queue"] = map[string]any{"ARN": testQueueSales, "Name": "Sales", "EnqueueTimestamp": stamp(enqueued),
		"DequeueTimestamp": stamp(enqueued.Add(25 * time.Second)), "Duration": 25}
	agent := ctr["Agent"].(map[string]any)
	agent["ConnectedToAgentTimestamp"] = stamp(enqueued.Add(25 * time.Second))
	ctr["DisconnectTimestamp"] = stamp(enqueued.Add(2 * time.Minute))
	data, err := json.Marshal(ctr)
	require.NoError(t, err)
	require.NoError(t, records.Process(context.Background(), contactBatch(data)))

	assert.Equal(t, map[string]int64{testQueueSales: 0}, storedQueues(t, client), "saved before the record's batch is done")
	assert.Equal(t, 0.0, waiting())
	answered, _ := gaugesum.Value(metrics.all[len(metrics.all)-1], "aws.connect.queue.contacts.dequeued",
		map[string]string{"aws.connect.queue.arn": testQueueSales, "aws.connect.queue.outcome": "answered"})
	assert.Equal(t, 1.0, answered)
}

// The names of queues that contact events name by ARN only are learned from the agent
// events and contact records the collector reads, and offered as aws.connect.queue.info,
// while the queue metrics keep the name queue_names gives (none here): their series keep
// one identity whether a name is known yet or not.
func TestQueueNamesLearnedFromAgentEventsAndContactRecords(t *testing.T) {
	const (
		basicQueue = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333/queue/e70e5eb4-74c8-464d-a095-3aa32dbd7c39"
		ctrQueue   = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444/queue/dddddddd-1111-2222-3333-444444444444"
	)
	// Names other tests' receivers learned are not this one's.
	saved := learnedQueueNames
	learnedQueueNames = newQueueNames()
	t.Cleanup(func() { learnedQueueNames = saved })
	metrics := &metricsSink{}
	events := startTestReceiver(t, nil, metricsTo(t, metrics.ConsumeMetrics), func(c *Config) { c.Records = RecordsContactEvents })
	contactEventReceivers.add(events) // as connect does
	t.Cleanup(func() { contactEventReceivers.remove(events) })
	agents := startTestReceiver(t, logsTo(t, newEventSink().ConsumeLogs), nil)
	records := startTestReceiver(t, nil, nil, func(c *Config) { c.Records = RecordsContactRecords })

	require.NoError(t, events.Process(context.Background(), contactBatch(contactEvents(
		contacttest.Event{Type: "QUEUED", ContactID: "c1", Queue: basicQueue, Enqueued: time.Now()},
		contacttest.Event{Type: "QUEUED", ContactID: "c2", Queue: ctrQueue, Enqueued: time.Now()},
	)...)))
	info := func() map[string]float64 {
		require.NoError(t, events.exportGauges(context.Background(), time.Now()))
		out := map[string]float64{}
		for s, v := range gaugesum.GaugesWithZeros(metrics.all[len(metrics.all)-1]) {
			if s.Metric == "aws.connect.queue.info" {
				out[s.Attributes] = v
			}
		}
		return out
	}
	assert.Empty(t, info(), "no name known yet")

	agentBatch := fixtureBatch(t, "heart_beat.json")
	agentBatch.Recent = kinesisconsumer.NewRecentKeys(10)
	require.NoError(t, agents.Process(context.Background(), agentBatch))
	raw, err := os.ReadFile("../../testdata/contacts/records/sample_ctr.json")
	require.NoError(t, err)
	require.NoError(t, records.Process(context.Background(), contactBatch(raw)))

	got := info()
	require.Len(t, got, 2)
	for attrs, v := range got {
		assert.Equal(t, 1.0, v, attrs)
		switch {
		case strings.Contains(attrs, basicQueue):
			assert.Contains(t, attrs, "aws.connect.queue.name=BasicQueue", "from the agent event")
		case strings.Contains(attrs, ctrQueue):
			assert.Contains(t, attrs, "aws.connect.queue.name=BasicQueue", "from the contact record")
		default:
			t.Errorf("info series of another queue: %s", attrs)
		}
	}
	for s := range gaugesum.GaugesWithZeros(metrics.all[len(metrics.all)-1]) {
		if s.Metric == "aws.connect.queue.contacts" {
			assert.Contains(t, s.Attributes, "aws.connect.queue.name=,", "the queue metrics' own name stays queue_names'")
		}
	}
}
