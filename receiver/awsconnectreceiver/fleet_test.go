package awsconnectreceiver

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// simEvent is one simulated agent event on the shard Kinesis would put it on.
type simEvent struct {
	shard int
	key   string // the partition key: the agent ARN
	at    time.Time
	rec   kinesisconsumer.Record
}

func shardName(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// simulate runs the contact-center simulator for dur of virtual time and places each
// event on one of shards shards as Kinesis does with evenly split hash key ranges: by the
// MD5 hash of its partition key, the agent ARN.
func simulate(t *testing.T, agents int, dur time.Duration, shards int) []simEvent {
	t.Helper()
	cfg := connectsim.DefaultConfig()
	cfg.Agents, cfg.Seed, cfg.ShiftStagger = agents, 7, 2*time.Minute
	return simulateOn(t, cfg, dur, shards, connectsim.KindAgentEvent)
}

// simulateOn runs the simulator on cfg and places its records of one kind on shards.
func simulateOn(t *testing.T, cfg connectsim.Config, dur time.Duration, shards int, kind connectsim.Kind) []simEvent {
	t.Helper()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sim, err := connectsim.New(cfg, start)
	require.NoError(t, err)
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	var out []simEvent
	used := map[int]bool{}
	for seq := 0; ; seq++ {
		r := sim.Next()
		if r.At.Sub(start) > dur {
			break
		}
		if r.Kind != kind {
			continue
		}
		sum := md5.Sum([]byte(r.Key))
		h := new(big.Int).SetBytes(sum[:])
		shard := int(new(big.Int).Div(h.Mul(h, big.NewInt(int64(shards))), space).Int64())
		used[shard] = true
		out = append(out, simEvent{shard: shard, key: r.Key, at: r.At, rec: kinesisconsumer.Record{
			Data: bytes.Clone(r.Data), SequenceNumber: fmt.Sprintf("%021d", seq),
		}})
	}
	require.Len(t, used, shards, "every shard carries records")
	return out
}

// feed hands events to the receivers reading their shards (owner[shard]), one batch per
// shard, as live reads, and to solo, when given, which reads every shard.
func feed(t *testing.T, events []simEvent, owner map[int]*awsConnectReceiver, solo *awsConnectReceiver) {
	t.Helper()
	byShard := map[int][]kinesisconsumer.Record{}
	var order []int
	for _, e := range events {
		if _, ok := byShard[e.shard]; !ok {
			order = append(order, e.shard)
		}
		byShard[e.shard] = append(byShard[e.shard], e.rec)
	}
	for _, shard := range order {
		b := kinesisconsumer.Batch{StreamName: "s", ShardID: shardName(shard), Attempt: 1, Records: byShard[shard]}
		if r := owner[shard]; r != nil {
			require.NoError(t, r.Process(context.Background(), b))
		}
		if solo != nil {
			require.NoError(t, solo.Process(context.Background(), b))
		}
	}
}

// moveShard moves shard from one collector to another, as a lease changing hands does:
// lost there, then those of its events read that happened at since or later replayed
// here, before it is read on.
func moveShard(t *testing.T, read []simEvent, shard int, from, to *awsConnectReceiver, since time.Time) {
	t.Helper()
	from.ShardStopped(shardName(shard), kinesisconsumer.StopLeaseLost)
	to.ShardStarted(shardName(shard))
	var tail []kinesisconsumer.Record
	for _, e := range read {
		if e.shard == shard && !e.at.Before(since) {
			tail = append(tail, e.rec)
		}
	}
	require.NotEmpty(t, tail)
	replay := kinesisconsumer.Batch{StreamName: "s", ShardID: shardName(shard), Attempt: 1, Replay: true, Records: tail}
	require.NoError(t, to.Process(context.Background(), replay))
}

// collectByHand leaves every collection to the test: the receiver's own would not come
// before an hour, so it never runs beside the test's (the metrics builder is not safe for
// concurrent use).
func collectByHand(c *Config) { c.CollectionInterval = time.Hour }

// short keeps a failure's list of differing series readable.
func short(diff []string) []string {
	if len(diff) > 5 {
		return append(diff[:5], fmt.Sprintf("... and %d more", len(diff)-5))
	}
	return diff
}

func collectAll(now time.Time, rs ...*awsConnectReceiver) []pmetric.Metrics {
	out := make([]pmetric.Metrics, len(rs))
	for i, r := range rs {
		out[i] = r.metrics.collect(now)
	}
	return out
}

// TestStoppedShardLosesItsAgentsAtOnce: when a shard stops being read here for any reason
// but shutdown, the next gauges count only the other shards' agents, exactly as a
// collector that never read it; at shutdown they stay.
func TestStoppedShardLosesItsAgentsAtOnce(t *testing.T) {
	events := simulate(t, 30, 10*time.Minute, 2)
	for _, reason := range []kinesisconsumer.StopReason{
		kinesisconsumer.StopLeaseLost, kinesisconsumer.StopUnassigned, kinesisconsumer.StopShardEnd,
		kinesisconsumer.StopShardGone, kinesisconsumer.StopShutdown,
	} {
		t.Run(reason.String(), func(t *testing.T) {
			both := startTestReceiver(t, nil, consumertest.NewNop(), collectByHand)
			onlyOne := startTestReceiver(t, nil, consumertest.NewNop(), collectByHand)
			feed(t, events, map[int]*awsConnectReceiver{0: both, 1: onlyOne}, nil)
			feed(t, events, map[int]*awsConnectReceiver{1: both}, nil)
			before := gaugesum.Gauges(both.metrics.collect(time.Now()))
			require.NotEqual(t, before, gaugesum.Gauges(onlyOne.metrics.collect(time.Now())), "both shards hold agents")

			both.ShardStarted(shardName(0))
			both.ShardStopped(shardName(0), reason)
			got := gaugesum.Gauges(both.metrics.collect(time.Now()))
			want := gaugesum.Gauges(onlyOne.metrics.collect(time.Now()))
			if reason == kinesisconsumer.StopShutdown {
				want = before
			}
			require.NotEmpty(t, want)
			assert.Empty(t, short(gaugesum.Diff(want, got)))
		})
	}
}

// TestFleetGaugesSumToOneCollector: three collectors, each reading one of three shards,
// export gauges that sum to those of one collector reading all three, at every
// collection; and still when a shard moves from one collector to another (lost there,
// replayed here from its last replayWindow, then read on). The histograms' counts sum the
// same: the move neither repeats nor loses an observation.
func TestFleetGaugesSumToOneCollector(t *testing.T) {
	const (
		shards   = 3
		interval = 10 * time.Second
		moveAt   = 12 * time.Minute
	)
	events := simulate(t, 60, 25*time.Minute, shards)
	solo := startTestReceiver(t, nil, consumertest.NewNop(), collectByHand)
	fleet := []*awsConnectReceiver{
		startTestReceiver(t, nil, consumertest.NewNop(), collectByHand),
		startTestReceiver(t, nil, consumertest.NewNop(), collectByHand),
		startTestReceiver(t, nil, consumertest.NewNop(), collectByHand),
	}
	owner := map[int]*awsConnectReceiver{0: fleet[0], 1: fleet[1], 2: fleet[2]}

	compare := func(when string) {
		t.Helper()
		now := time.Now()
		want := solo.metrics.collect(now)
		got := collectAll(now, fleet...)
		require.Empty(t, short(gaugesum.Diff(gaugesum.Gauges(want), gaugesum.Gauges(got...))), "gauges at %s", when)
		require.Empty(t, short(gaugesum.Diff(gaugesum.HistogramCounts(want), gaugesum.HistogramCounts(got...))), "histogram counts at %s", when)
	}

	start := events[0].at
	var collections, points int
	moved := false
	for i := 0; i < len(events); {
		end := start.Add(time.Duration(collections+1) * interval)
		j := i
		for j < len(events) && events[j].at.Before(end) {
			j++
		}
		feed(t, events[i:j], owner, solo)
		i = j

		if !moved && end.Sub(start) >= moveAt {
			// Shard 2 moves from fleet[2] to fleet[0]: lost there, then its last
			// replayWindow replayed here before it is read on.
			moveShard(t, events[:i], 2, fleet[2], fleet[0], end.Add(-replayWindow))
			owner[2] = fleet[0]
			moved = true
			compare("the shard move")
		}

		compare(fmt.Sprintf("collection %d (%s of events)", collections, end.Sub(start)))
		collections++
		points += gaugesum.Points(solo.metrics.collect(time.Now()))
	}
	require.True(t, moved)
	assert.Greater(t, collections, 100)
	assert.Positive(t, points)
	assert.Positive(t, len(gaugesum.HistogramCounts(solo.metrics.collect(time.Now()))), "the run measured durations")
	assert.Zero(t, gaugesum.Points(fleet[2].metrics.collect(time.Now())), "the collector that lost its only shard exports no gauges")
}

// TestMetricsCarryTheCollectorsInstanceID: every resource of the metrics, gauges and
// histograms, carries the collector's own service.instance.id, so that collectors sharing
// a stream export series apart; the logs do not; and the attribute can be turned off.
func TestMetricsCarryTheCollectorsInstanceID(t *testing.T) {
	set := receivertest.NewNopSettings(metadata.Type)
	set.Resource.Attributes().PutStr("service.instance.id", "collector-7")
	events := simulate(t, 20, 10*time.Minute, 1)

	logs := new(consumertest.LogsSink)
	r := startTestReceiverWith(t, set, logs, consumertest.NewNop(), collectByHand)
	feed(t, events, map[int]*awsConnectReceiver{0: r}, nil)
	md := r.metrics.collect(time.Now())
	require.Positive(t, gaugesum.Points(md))
	require.NotEmpty(t, gaugesum.HistogramCounts(md))
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		id, ok := md.ResourceMetrics().At(i).Resource().Attributes().Get("service.instance.id")
		require.True(t, ok, "resource %d: %v", i, md.ResourceMetrics().At(i).Resource().Attributes().AsRaw())
		assert.Equal(t, "collector-7", id.Str())
	}
	require.NotEmpty(t, logs.AllLogs())
	for _, ld := range logs.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			_, ok := ld.ResourceLogs().At(i).Resource().Attributes().Get("service.instance.id")
			assert.False(t, ok, "the logs need no service.instance.id")
		}
	}

	off := startTestReceiverWith(t, set, nil, consumertest.NewNop(), collectByHand, func(c *Config) {
		c.ResourceAttributes.ServiceInstanceID.Enabled = false
	})
	feed(t, events, map[int]*awsConnectReceiver{0: off}, nil)
	md = off.metrics.collect(time.Now())
	require.Positive(t, gaugesum.Points(md))
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		_, ok := md.ResourceMetrics().At(i).Resource().Attributes().Get("service.instance.id")
		assert.False(t, ok, "turned off")
	}
}

// exports records the metrics the pipeline took, refusing while refuse is set.
type exports struct {
	taken  []pmetric.Metrics
	refuse bool
}

func (e *exports) consumer(t *testing.T) consumer.Metrics {
	next, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		if e.refuse {
			return errors.New("sending queue is full")
		}
		cp := pmetric.NewMetrics()
		md.CopyTo(cp)
		e.taken = append(e.taken, cp)
		return nil
	})
	require.NoError(t, err)
	return next
}

// TestGoneSeriesGoOutOnceAtZero: a gauge series sent before and gone now (here, the
// agents of a shard read elsewhere now) goes out once more at zero, in the first export
// the pipeline takes, and not after; so a backend that keeps showing a series with no end
// (Prometheus, for its lookback) shows zero instead of counting them on.
func TestGoneSeriesGoOutOnceAtZero(t *testing.T) {
	events := simulate(t, 30, 10*time.Minute, 2)
	e := &exports{}
	r := startTestReceiver(t, nil, e.consumer(t), collectByHand)
	onlyOne := startTestReceiver(t, nil, consumertest.NewNop(), collectByHand)
	feed(t, events, map[int]*awsConnectReceiver{0: r, 1: onlyOne}, nil)
	feed(t, events, map[int]*awsConnectReceiver{1: r}, nil)
	ctx := context.Background()

	require.NoError(t, r.exportGauges(ctx, time.Now()))
	before := gaugesum.GaugesWithZeros(e.taken[0])
	r.ShardStopped(shardName(0), kinesisconsumer.StopLeaseLost)
	after := gaugesum.GaugesWithZeros(onlyOne.metrics.collect(time.Now()))
	var goneSeries []gaugesum.Series
	for s := range before {
		if _, ok := after[s]; !ok {
			goneSeries = append(goneSeries, s)
		}
	}
	require.NotEmpty(t, goneSeries, "some series were only shard 0's agents'")

	e.refuse = true
	require.Error(t, r.exportGauges(ctx, time.Now()))
	e.refuse = false
	require.NoError(t, r.exportGauges(ctx, time.Now()))
	got := gaugesum.GaugesWithZeros(e.taken[1])
	for _, s := range goneSeries {
		v, ok := got[s]
		if assert.True(t, ok, "%s not sent at zero after a refused export", s) {
			assert.Zero(t, v, "%s", s)
		}
	}
	for s, v := range after {
		assert.Equal(t, v, got[s], "%s", s)
	}
	assert.Len(t, got, len(after)+len(goneSeries), "nothing else")

	require.NoError(t, r.exportGauges(ctx, time.Now()))
	assert.Equal(t, after, gaugesum.GaugesWithZeros(e.taken[2]), "sent at zero once")
}

// TestStoppedCollectorEndsItsSeriesAtZero: a collector that shuts down sends every gauge
// series it last exported once more, at zero, after its shards are released, so that a
// backend does not keep showing them while the collector that takes the shards over
// counts the same agents.
func TestStoppedCollectorEndsItsSeriesAtZero(t *testing.T) {
	events := simulate(t, 30, 10*time.Minute, 1)
	e := &exports{}
	next := e.consumer(t)
	cfg := createDefaultConfig().(*Config)
	cfg.StreamName, cfg.Region, cfg.Endpoint = "s", "us-east-1", "http://127.0.0.1:9"
	collectByHand(cfg)
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	r.nextMetrics = next
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	feed(t, events, map[int]*awsConnectReceiver{0: r}, nil)
	require.NoError(t, r.exportGauges(context.Background(), time.Now()))
	r.ShardStopped(shardName(0), kinesisconsumer.StopShutdown)
	require.NoError(t, r.Shutdown(context.Background()))

	require.Len(t, e.taken, 2, "one export, then the last one at shutdown")
	sent, last := gaugesum.GaugesWithZeros(e.taken[0]), gaugesum.GaugesWithZeros(e.taken[1])
	require.NotEmpty(t, gaugesum.Gauges(e.taken[0]))
	assert.Len(t, last, len(sent), "every series sent")
	for s := range sent {
		v, ok := last[s]
		assert.True(t, ok && v == 0, "%s: %v, present %v", s, v, ok)
	}
	assert.Empty(t, gaugesum.HistogramCounts(e.taken[1]), "no histograms: they are cumulative")
}
