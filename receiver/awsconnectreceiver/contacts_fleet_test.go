package awsconnectreceiver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// contactEventsOnShards are 90 virtual minutes of the simulator's contact events on
// shards keyed by contact ID, as we tell users to set EventBridge's partition key.
func contactEventsOnShards(t *testing.T, shards int) []simEvent {
	cfg := connectsim.DefaultConfig()
	cfg.Agents, cfg.Seed, cfg.ShiftStagger, cfg.ContactsPerAgentHour = 60, 7, 2*time.Minute, 9
	cfg.ContactEvents = true
	return simulateOn(t, cfg, 90*time.Minute, shards, connectsim.KindContactEvent)
}

// inFleet reads contact events as a member of a fleet sharing the stream by leases.
func inFleet(c *Config) {
	c.Records = RecordsContactEvents
	l := defaultLeasesConfig()
	l.TableName = "leases"
	c.Leases = configoptional.Some(l)
	collectByHand(c)
}

// queueGauges are the contacts in queue of metrics, summed across them, as a dashboard
// adds up a fleet's series.
func queueGauges(mds ...pmetric.Metrics) gaugesum.Sums {
	out := gaugesum.Sums{}
	for s, v := range gaugesum.Gauges(mds...) {
		if s.Metric == "aws.connect.queue.contacts" {
			out[s] = v
		}
	}
	return out
}

// dequeued is the contacts that left each queue, whatever the outcome, summed across
// collectors.
func dequeued(mds ...pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, md := range mds {
		for key, v := range sums(md) {
			if !strings.HasPrefix(key, "aws.connect.queue.contacts.dequeued,") {
				continue
			}
			for pair := range strings.SplitSeq(key, ",") {
				if strings.HasPrefix(pair, "aws.connect.queue.arn=") {
					out[pair] += v
				}
			}
		}
	}
	return out
}

// TestContactFleetSumsToOneCollector: three collectors sharing a stream of contact events
// by leases, each reading one of three shards, count contacts in queue that sum to those
// of one collector reading all three, at every collection; and still when a shard moves
// from one collector to another (forgotten there, its last hour replayed here, then read
// on). Each contact leaves its queue once across the fleet.
func TestContactFleetSumsToOneCollector(t *testing.T) {
	const (
		shards   = 3
		interval = 10 * time.Second
		moveAt   = 50 * time.Minute
	)
	events := contactEventsOnShards(t, shards)
	solo := startTestReceiver(t, nil, consumertest.NewNop(), func(c *Config) { c.Records = RecordsContactEvents; collectByHand(c) })
	fleet := []*awsConnectReceiver{
		startTestReceiver(t, nil, consumertest.NewNop(), inFleet),
		startTestReceiver(t, nil, consumertest.NewNop(), inFleet),
		startTestReceiver(t, nil, consumertest.NewNop(), inFleet),
	}
	owner := map[int]*awsConnectReceiver{0: fleet[0], 1: fleet[1], 2: fleet[2]}
	compare := func(when string) {
		t.Helper()
		now := time.Now()
		want := queueGauges(solo.metrics.collect(now))
		got := queueGauges(collectAll(now, fleet...)...)
		require.Empty(t, short(gaugesum.Diff(want, got)), "contacts in queue at %s", when)
	}

	start := events[0].at
	moved, collections, busy := false, 0, 0
	for i := 0; i < len(events); collections++ {
		end := start.Add(time.Duration(collections+1) * interval)
		j := i
		for j < len(events) && events[j].at.Before(end) {
			j++
		}
		feed(t, events[i:j], owner, solo)
		i = j
		if !moved && end.Sub(start) >= moveAt {
			moveShard(t, events[:i], 2, fleet[2], fleet[0], end.Add(-contactReplayWindow))
			owner[2] = fleet[0]
			moved = true
			compare("the shard move")
		}
		compare(fmt.Sprintf("collection %d (%s of events)", collections, end.Sub(start)))
		if len(queueGauges(solo.metrics.collect(time.Now()))) > 0 {
			busy++
		}
	}
	require.True(t, moved)
	assert.Greater(t, busy, 100, "collections with contacts waiting")

	// Once the abandons held for their grace are settled: each contact left its queue
	// once across the fleet (a callback or queue transfer whose contacts fell on two
	// collectors counts as an abandon, so outcomes are not compared).
	later := time.Now().Add(time.Minute)
	want := dequeued(solo.metrics.collect(later))
	require.NotEmpty(t, want)
	assert.Equal(t, want, dequeued(collectAll(later, fleet...)...))
	assert.Empty(t, queueGauges(fleet[2].metrics.collect(later)), "the collector that lost its only shard counts none waiting")
}

// queueGaugesWithZeros is queueGauges keeping the series at zero.
func queueGaugesWithZeros(md pmetric.Metrics) gaugesum.Sums {
	out := gaugesum.Sums{}
	for s, v := range gaugesum.GaugesWithZeros(md) {
		if s.Metric == "aws.connect.queue.contacts" {
			out[s] = v
		}
	}
	return out
}

// The queue series of a shard read elsewhere now go out once more at zero, and not after;
// and a collector that stops ends every queue series it sent at zero, so that a backend's
// lookback does not count them on beside the collector that reads the shards next.
func TestContactQueueSeriesEndAtZero(t *testing.T) {
	events := contactEventsOnShards(t, 1)
	e := &exports{}
	r := startTestReceiver(t, nil, e.consumer(t), inFleet)
	// The first hour: contacts wait in several queues at its end.
	var first []simEvent
	for _, ev := range events {
		if ev.at.Sub(events[0].at) < time.Hour {
			first = append(first, ev)
		}
	}
	feed(t, first, map[int]*awsConnectReceiver{0: r}, nil)
	require.NoError(t, r.exportGauges(context.Background(), time.Now()))
	sent := queueGauges(e.taken[0])
	require.NotEmpty(t, sent, "contacts wait")

	r.ShardStopped(shardName(0), kinesisconsumer.StopLeaseLost)
	require.NoError(t, r.exportGauges(context.Background(), time.Now()))
	gone := queueGaugesWithZeros(e.taken[1])
	for s := range sent {
		v, ok := gone[s]
		assert.True(t, ok && v == 0, "%s: %v, sent %v", s, v, ok)
	}
	require.NoError(t, r.exportGauges(context.Background(), time.Now()))
	require.Len(t, e.taken, 3, "the counts of contacts dequeued go on")
	assert.Empty(t, queueGaugesWithZeros(e.taken[2]), "sent at zero once")

	// A collector that stops.
	e2 := &exports{}
	r2, err := newReceiver(r.cfg, r.set)
	require.NoError(t, err)
	r2.nextMetrics = e2.consumer(t)
	require.NoError(t, r2.Start(context.Background(), componenttest.NewNopHost()))
	feed(t, first, map[int]*awsConnectReceiver{0: r2}, nil)
	require.NoError(t, r2.exportGauges(context.Background(), time.Now()))
	require.NoError(t, r2.Shutdown(context.Background()))
	require.Len(t, e2.taken, 2, "one export, then the last one at shutdown")
	last := queueGaugesWithZeros(e2.taken[1])
	for s := range queueGaugesWithZeros(e2.taken[0]) {
		v, ok := last[s]
		assert.True(t, ok && v == 0, "%s: %v, present %v", s, v, ok)
	}
}
