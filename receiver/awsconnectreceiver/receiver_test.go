package awsconnectreceiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

func fixtureBatch(t *testing.T, files ...string) kinesisconsumer.Batch {
	b := kinesisconsumer.Batch{StreamName: "s", ShardID: "shardId-000000000000", Attempt: 1}
	for i, f := range files {
		raw, err := os.ReadFile("../../testdata/events/" + f)
		require.NoError(t, err)
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, raw))
		b.Records = append(b.Records, kinesisconsumer.Record{Data: c.Bytes(), SequenceNumber: string(rune('1' + i))})
	}
	return b
}

// startTestReceiver starts a receiver whose stream does not exist (nothing listens at
// the endpoint), to drive Process by hand; mods change its configuration.
func startTestReceiver(t *testing.T, logs consumer.Logs, metrics consumer.Metrics, mods ...func(*Config)) *awsConnectReceiver {
	return startTestReceiverWith(t, receivertest.NewNopSettings(metadata.Type), logs, metrics, mods...)
}

// startTestReceiverWith is startTestReceiver with the collector's settings given.
func startTestReceiverWith(t *testing.T, set receiver.Settings, logs consumer.Logs, metrics consumer.Metrics, mods ...func(*Config)) *awsConnectReceiver {
	cfg := createDefaultConfig().(*Config)
	cfg.StreamName, cfg.Region, cfg.Endpoint = "s", "us-east-1", "http://127.0.0.1:9"
	for _, mod := range mods {
		mod(cfg)
	}
	r, err := newReceiver(cfg, set)
	require.NoError(t, err)
	r.nextLogs, r.nextMetrics = logs, metrics
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

func gauge(t *testing.T, md pmetric.Metrics, name string) int64 {
	var total int64
	found := false
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			if ms.At(j).Name() != name {
				continue
			}
			found = true
			for k := 0; k < ms.At(j).Gauge().DataPoints().Len(); k++ {
				total += ms.At(j).Gauge().DataPoints().At(k).IntValue()
			}
		}
	}
	require.True(t, found, "no %s", name)
	return total
}

func histogramCount(md pmetric.Metrics, name string) uint64 {
	var n uint64
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			if ms.At(j).Name() == name {
				for k := 0; k < ms.At(j).Histogram().DataPoints().Len(); k++ {
					n += ms.At(j).Histogram().DataPoints().At(k).Count()
				}
			}
		}
	}
	return n
}

// With only a metrics pipeline, batches still reach the state, and replayed ones do too.
func TestMetricsOnlyPipelineKeepsState(t *testing.T) {
	r := startTestReceiver(t, nil, consumertest.NewNop())
	require.NoError(t, r.Process(context.Background(), fixtureBatch(t, "login.json", "state_change_status.json")))
	replay := fixtureBatch(t, "heart_beat.json")
	replay.Replay = true
	require.NoError(t, r.Process(context.Background(), replay))
	md := r.metrics.collect(time.Now())
	assert.Positive(t, gauge(t, md, "aws.connect.agent.count"))
	assert.Equal(t, int64(r.state.Agents()), gauge(t, md, "aws.connect.agent.count"))
	// The resource is the instance's, as for the logs.
	id, ok := md.ResourceMetrics().At(0).Resource().Attributes().Get("cloud.resource_id")
	require.True(t, ok)
	assert.Contains(t, id.Str(), ":instance/")
}

// A batch the logs pipeline refuses and takes on the second offer counts its events in
// the state once; a replayed batch emits no log record.
func TestRetriedBatchCountsOnce(t *testing.T) {
	refusals := 1
	var delivered []plog.Logs
	logs, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		if refusals > 0 {
			refusals--
			return errors.New("queue full")
		}
		delivered = append(delivered, ld)
		return nil
	})
	require.NoError(t, err)
	r := startTestReceiver(t, logs, consumertest.NewNop())

	// state_change_status.json moves its agent from Available to Break: one status duration.
	b := fixtureBatch(t, "login.json", "state_change_status.json")
	require.Error(t, r.Process(context.Background(), b))
	b.Attempt = 2
	require.NoError(t, r.Process(context.Background(), b))
	require.Len(t, delivered, 1)
	assert.Equal(t, 2, delivered[0].LogRecordCount())

	replay := fixtureBatch(t, "heart_beat.json")
	replay.Replay = true
	require.NoError(t, r.Process(context.Background(), replay))
	assert.Len(t, delivered, 1, "a replayed batch emits no log record")

	md := r.metrics.collect(time.Now())
	assert.Equal(t, uint64(1), histogramCount(md, metricStatusDur), "the status change is counted once, not once per offer")
}

// offers records when the metrics pipeline was offered gauges, answering each offer with
// the error answer gives it (nil to accept).
type offers struct {
	mu     sync.Mutex
	at     []time.Time
	answer func(n int) error
}

func (o *offers) consumer(t *testing.T) consumer.Metrics {
	next, err := consumer.NewMetrics(func(context.Context, pmetric.Metrics) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.at = append(o.at, time.Now())
		return o.answer(len(o.at))
	})
	require.NoError(t, err)
	return next
}

func (o *offers) times() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.at)
}

// Gauges the pipeline refuses with a retryable error are collected and offered again after
// error_backoff, not an interval later; a permanent refusal waits for the next interval.
func TestRefusedGaugesAreOfferedAgain(t *testing.T) {
	const interval = 2 * time.Second
	fast := func(c *Config) {
		c.CollectionInterval = interval
		c.ErrorBackoff.InitialInterval = 10 * time.Millisecond
		c.ErrorBackoff.MaxInterval = 50 * time.Millisecond
	}
	t.Run("retryable", func(t *testing.T) {
		o := &offers{answer: func(n int) error {
			if n <= 3 {
				return errors.New("sending queue is full")
			}
			return nil
		}}
		r := startTestReceiver(t, nil, o.consumer(t), fast)
		require.NoError(t, r.Process(context.Background(), fixtureBatch(t, "login.json")))
		require.Eventually(t, func() bool { return len(o.times()) >= 4 }, 3*interval, 10*time.Millisecond)
		at := o.times()
		assert.Less(t, at[3].Sub(at[0]), interval/2, "the refused gauges waited for the next interval")
	})
	t.Run("permanent", func(t *testing.T) {
		o := &offers{answer: func(n int) error {
			if n == 1 {
				return consumererror.NewPermanent(errors.New("rejected"))
			}
			return nil
		}}
		r := startTestReceiver(t, nil, o.consumer(t), fast)
		require.NoError(t, r.Process(context.Background(), fixtureBatch(t, "login.json")))
		require.Eventually(t, func() bool { return len(o.times()) >= 2 }, 3*interval, 10*time.Millisecond)
		at := o.times()
		assert.Greater(t, at[1].Sub(at[0]), interval/2, "permanently refused gauges were offered again at once")
	})
}

// TestProcessLeavesOutDuplicates: an event whose EventId the shard's window does not
// admit is left out of the logs and of the state; records without an EventId (malformed
// ones) never are; the first of two is kept, with its own sequence number.
func TestProcessLeavesOutDuplicates(t *testing.T) {
	login := fixtureBatch(t, "login.json").Records[0].Data
	logout := fixtureBatch(t, "logout.json").Records[0].Data
	garbage := []byte("not json")
	batch := func() kinesisconsumer.Batch {
		b := kinesisconsumer.Batch{StreamName: "s", ShardID: "shardId-000000000000", Attempt: 1, Recent: kinesisconsumer.NewRecentKeys(10)}
		for i, data := range [][]byte{login, garbage, login, logout, garbage, login} {
			b.Records = append(b.Records, kinesisconsumer.Record{Data: data, SequenceNumber: string(rune('1' + i))})
		}
		return b
	}

	logs := new(consumertest.LogsSink)
	r := startTestReceiver(t, logs, consumertest.NewNop())
	require.NoError(t, r.Process(context.Background(), batch()))
	var seqs []string
	for _, ld := range logs.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			lrs := ld.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				seq, _ := lrs.At(j).Attributes().Get("aws.kinesis.sequence_number")
				seqs = append(seqs, seq.Str())
			}
		}
	}
	slices.Sort(seqs)
	assert.Equal(t, []string{"1", "2", "4", "5"}, seqs, "the duplicates of the login are left out, the malformed records kept")
	// The state took the events (a repeat would change nothing there: it ignores an
	// event it has applied).
	assert.Equal(t, 1, r.state.Agents())

	// A metrics-only pipeline runs the same flow.
	mr := startTestReceiver(t, nil, consumertest.NewNop())
	require.NoError(t, mr.Process(context.Background(), batch()))
	assert.Equal(t, 1, mr.state.Agents())
}
