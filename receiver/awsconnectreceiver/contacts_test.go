package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contacttest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
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
