package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// simulatedContactEvents are the contact events of 8 virtual hours of the simulator's 50
// agents, busy enough that queues form: about 3,000 contacts.
func simulatedContactEvents(t *testing.T) []connectsim.Record {
	t.Helper()
	cfg := connectsim.DefaultConfig()
	cfg.ContactsPerAgentHour = 9
	cfg.ContactEvents = true
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	sim, err := connectsim.New(cfg, start)
	require.NoError(t, err)
	var out []connectsim.Record
	for {
		r := sim.Next()
		if !r.At.Before(start.Add(8 * time.Hour)) {
			return out
		}
		if r.Kind == connectsim.KindContactEvent {
			out = append(out, r)
		}
	}
}

// simAbandonGrace is the abandon grace of TestQueueSideAtSimulatorScale.
const simAbandonGrace = 10 * time.Minute

// queueSideOf runs records through a contact_events receiver, shard by shard as order
// says, and returns its metrics once the abandons held for their grace are settled.
func queueSideOf(t *testing.T, shards [][][]byte, order []int) pmetric.Metrics {
	t.Helper()
	metrics := &metricsSink{}
	r := startTestReceiver(t, nil, metricsTo(t, metrics.ConsumeMetrics), func(c *Config) { c.Records = RecordsContactEvents })
	// The grace an abandon is held for runs on the wall clock: long enough here that no
	// order of reading, however slow the machine, sees it run out before the collection.
	sc := contactstate.DefaultConfig()
	sc.AbandonGrace = simAbandonGrace
	r.contacts.store = contactstate.New(sc)
	r.queueMetrics.contacts = r.contacts.store
	next := make([]int, len(shards))
	recent := make([]*kinesisconsumer.RecentKeys, len(shards))
	for i := range recent {
		recent[i] = kinesisconsumer.NewRecentKeys(10000)
	}
	for _, shard := range order {
		data := shards[shard][next[shard]]
		next[shard]++
		b := contactBatch(data)
		b.Recent = recent[shard]
		require.NoError(t, r.Process(context.Background(), b))
	}
	// Past the grace: the abandons held are settled, and the contacts that ended are
	// still remembered (for an hour).
	return r.queueMetrics.collect(time.Now().Add(simAbandonGrace + time.Minute))
}

// The queue side's numbers do not depend on the order events arrive in: 8 virtual hours
// of the simulator's contact events, read in order from one shard, and read from four
// shards keyed by EventBridge's event id (its default, which spreads a contact's events
// over every shard), interleaved at random and with some events delivered twice on
// another shard, give the same gauges, counts and waits. And every contact queued is
// counted once: waiting, or dequeued with the outcome its events show.
func TestQueueSideAtSimulatorScale(t *testing.T) {
	recs := simulatedContactEvents(t)
	inOrder := make([][]byte, len(recs))
	for i, r := range recs {
		inOrder[i] = r.Data
	}
	order := make([]int, len(inOrder))
	want := queueSideOf(t, [][][]byte{inOrder}, order)

	// Four shards by a random event id; 2% delivered again on another shard.
	rng := rand.New(rand.NewPCG(1, 2))
	shards := make([][][]byte, 4)
	for _, data := range inOrder {
		h := fnv.New32a()
		fmt.Fprint(h, rng.Int64())
		s := int(h.Sum32() % 4)
		shards[s] = append(shards[s], data)
		if rng.Float64() < 0.02 {
			shards[(s+1)%4] = append(shards[(s+1)%4], data)
		}
	}
	order = order[:0]
	for s, recs := range shards {
		for range recs {
			order = append(order, s)
		}
	}
	// Each shard keeps its own order; the shards interleave at random, as readers do.
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	got := queueSideOf(t, shards, order)

	// The oldest contact's age is measured at each run's own export time.
	assert.Equal(t, waitingGauges(want), waitingGauges(got), "contacts in queue")
	for s, v := range gaugesum.GaugesWithZeros(want) {
		if s.Metric == "aws.connect.queue.oldest_contact.age" {
			assert.InDelta(t, v, gaugesum.GaugesWithZeros(got)[s], 60, "%s", s)
		}
	}
	assert.Equal(t, sums(want), sums(got), "contacts dequeued")
	assert.Equal(t, gaugesum.HistogramCounts(want), gaugesum.HistogramCounts(got), "waits")

	// The events' own story, per queue: contacts queued, answered, and the successors
	// that show a callback or a queue transfer.
	type tally struct{ queued, answered, callback, transferred int }
	truth := map[string]*tally{}
	queueOf := map[string]string{}
	seen := map[string]bool{}
	for _, r := range recs {
		var ev struct {
			Detail struct {
				EventType, ContactID, PreviousContactID, InitiationMethod string
				QueueInfo                                                 *struct{ QueueARN string }
			}
		}
		require.NoError(t, json.Unmarshal(r.Data, &ev))
		d := ev.Detail
		if d.QueueInfo != nil && queueOf[d.ContactID] == "" {
			queueOf[d.ContactID] = d.QueueInfo.QueueARN
			if truth[d.QueueInfo.QueueARN] == nil {
				truth[d.QueueInfo.QueueARN] = &tally{}
			}
			truth[d.QueueInfo.QueueARN].queued++
		}
		if seen[d.ContactID+d.EventType] {
			continue
		}
		seen[d.ContactID+d.EventType] = true
		switch {
		case d.EventType == "CONNECTED_TO_AGENT" && queueOf[d.ContactID] != "":
			truth[queueOf[d.ContactID]].answered++
		case d.EventType == "INITIATED" && d.InitiationMethod == "CALLBACK":
			truth[queueOf[d.PreviousContactID]].callback++
		case d.EventType == "INITIATED" && d.InitiationMethod == "QUEUE_TRANSFER":
			truth[queueOf[d.PreviousContactID]].transferred++
		}
	}
	dequeued := sums(want)
	var total tally
	for queue, tl := range truth {
		count := func(outcome string) int {
			n := 0.0
			for s, v := range dequeued {
				if hasPair(s, "aws.connect.queue.arn="+queue) && hasPair(s, "aws.connect.queue.outcome="+outcome) {
					n += v
				}
			}
			return int(n)
		}
		waiting := 0.0
		for s, v := range waitingGauges(want) {
			if hasPair(","+s.Attributes, "aws.connect.queue.arn="+queue) {
				waiting += v
			}
		}
		assert.Equal(t, tl.answered, count("answered"), "%s answered", queue)
		assert.Equal(t, tl.callback, count("callback"), "%s callback", queue)
		assert.Equal(t, tl.transferred, count("transferred"), "%s transferred", queue)
		assert.Equal(t, tl.queued, count("answered")+count("abandoned")+count("callback")+count("transferred")+int(waiting),
			"%s: every contact queued is waiting or left once", queue)
		total.queued += tl.queued
		total.answered += tl.answered
		total.callback += tl.callback
		total.transferred += tl.transferred
	}
	t.Logf("%d contact events; %d contacts queued, %d answered, %d callbacks, %d transferred", len(recs), total.queued, total.answered, total.callback, total.transferred)
	require.Greater(t, total.queued, 1000, "a day's worth of contacts")
	require.Positive(t, total.callback)
	require.Positive(t, total.transferred)
}

// waitingGauges are the contacts in queue, per series.
func waitingGauges(md pmetric.Metrics) gaugesum.Sums {
	out := gaugesum.Sums{}
	for s, v := range gaugesum.GaugesWithZeros(md) {
		if s.Metric == "aws.connect.queue.contacts" {
			out[s] = v
		}
	}
	return out
}

// sums maps each data point of the contacts dequeued to its value.
func sums(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					key := m.Name()
					for k, v := range dp.Attributes().All() {
						key += "," + k + "=" + v.AsString()
					}
					out[key] += float64(dp.IntValue())
				}
			}
		}
	}
	return out
}

// hasPair reports whether a key of sums holds the attribute pair k=v.
func hasPair(key, pair string) bool { return strings.Contains(key+",", ","+pair+",") }
