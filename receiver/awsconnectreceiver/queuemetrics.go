package awsconnectreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// The queue side's histograms and their attributes (mdatagen v0.161.0 cannot generate
// histograms; see MetricsConfig).
const (
	metricQueueWait  = "aws.connect.queue.wait.duration"
	metricHandle     = "aws.connect.contact.handle.duration"
	metricHold       = "aws.connect.contact.hold.duration"
	attrQueueARN     = "aws.connect.queue.arn"
	attrQueueOutcome = "aws.connect.queue.outcome"
)

// Bucket bounds, in seconds. Waits: every service level threshold Amazon Connect's
// real-time report offers up to 10 minutes is a bound, so "answered within X" is a bucket
// count, then up to a day for chats and tasks. Handle and hold times: seconds to hours.
var (
	queueWaitBounds = []float64{5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400}
	handleBounds    = []float64{10, 30, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 7200, 14400}
	holdBounds      = []float64{5, 10, 15, 30, 60, 90, 120, 180, 300, 600, 900, 1800, 3600}
)

// waitKey is a series of the wait histogram and of contacts dequeued.
type waitKey struct {
	instance, queueARN, channel, outcome string
	overflow                             bool
}

// contactKey is a series of the handle and hold histograms.
type contactKey struct {
	instance, queueARN, queueName, channel string
	overflow                               bool
}

// recordKey is a series of contact records counted.
type recordKey struct {
	instance, queueARN, queueName, channel, disconnectReason string
	handled, overflow                                        bool
}

// queueMetrics turns contact events and contact records into the queue side's metrics:
// the gauges of contactstate's live contacts, and what each contact measured when it
// left its queue or was recorded.
type queueMetrics struct {
	cfg       *Config
	mb        *metadata.MetricsBuilder
	resources metricResources
	start     pcommon.Timestamp
	contacts  *contactstate.Store

	waits   *agentstate.Histogram[waitKey]
	handles *agentstate.Histogram[contactKey]
	holds   *agentstate.Histogram[contactKey]
	// records counts contact records per series: a histogram of no buckets.
	records *agentstate.Histogram[recordKey]
	// afterTick saves the state after a collection changed it (contacts.go).
	afterTick func()
	// evicted reports what the state's bounds evicted since the last collection.
	evicted func(contacts, records int64)
	// lastStats are the state's counts at the last collection.
	lastStats contactstate.Stats
	// sent is the queue gauge series of the last export the pipeline took; collected
	// those of the last collection. A series sent that is gone now (its contacts all
	// forgotten, or read by another collector) goes out once more, at zero, as the
	// agents' do (see agentMetrics).
	sent, collected map[contactstate.QueueKey]struct{}
}

func newQueueMetrics(cfg *Config, set receiver.Settings, resources metricResources, contacts *contactstate.Store, start time.Time) *queueMetrics {
	ts := pcommon.NewTimestampFromTime(start)
	mbc := metadata.MetricsBuilderConfig{Metrics: cfg.Metrics.MetricsConfig, ResourceAttributes: cfg.ResourceAttributes}
	return &queueMetrics{
		cfg:       cfg,
		mb:        metadata.NewMetricsBuilder(mbc, set, metadata.WithStartTime(ts)),
		resources: resources,
		start:     ts,
		contacts:  contacts,
		waits:     agentstate.NewHistogram[waitKey](queueWaitBounds).Limit(maxHistogramSeries, waitKey{overflow: true}),
		handles:   agentstate.NewHistogram[contactKey](handleBounds).Limit(maxHistogramSeries, contactKey{overflow: true}),
		holds:     agentstate.NewHistogram[contactKey](holdBounds).Limit(maxHistogramSeries, contactKey{overflow: true}),
		records:   agentstate.NewHistogram[recordKey](nil).Limit(maxHistogramSeries, recordKey{overflow: true}),
	}
}

// dequeued records the contacts that left their queue.
func (m *queueMetrics) dequeued(ds []contactstate.Dequeue) {
	for _, d := range ds {
		m.waits.Record(waitKey{instance: d.Instance, queueARN: d.QueueARN, channel: d.Channel, outcome: string(d.Outcome)}, max(d.Wait.Seconds(), 0))
	}
}

// recorded records a contact record seen for the first time.
func (m *queueMetrics) recorded(r *contactrecord.Record) {
	var queueARN, queueName string
	if r.Queue != nil {
		queueARN, queueName = r.Queue.ARN, r.Queue.Name
	}
	m.records.Record(recordKey{instance: r.InstanceARN, queueARN: queueARN, queueName: queueName, channel: r.Channel,
		disconnectReason: r.DisconnectReason, handled: r.Handled()}, 0)
	if !r.Handled() {
		return
	}
	k := contactKey{instance: r.InstanceARN, queueARN: queueARN, queueName: queueName, channel: r.Channel}
	m.handles.Record(k, float64(r.HandleSeconds()))
	m.holds.Record(k, float64(r.Agent.CustomerHoldDuration))
}

func (m *queueMetrics) queueName(arn string) string { return m.cfg.QueueNames[arn] }

// collect returns the queue side's metrics as of now: it first settles the abandons
// whose grace has passed and forgets what outlived its time.
func (m *queueMetrics) collect(now time.Time) pmetric.Metrics {
	out := newExport(m.resources, m.start, now)
	// The builder emits what was recorded as one resource: record per instance.
	record := map[string][]func(){}
	m.dequeued(m.contacts.Tick(now, nil))
	if m.afterTick != nil {
		m.afterTick()
	}
	if st := m.contacts.Stats(); m.evicted != nil {
		m.evicted(st.EvictedContacts-m.lastStats.EvictedContacts, st.EvictedRecords-m.lastStats.EvictedRecords)
		m.lastStats = st
	}
	// The names known of the queues named by ARN: the info series to join them by.
	named := map[[2]string]string{}
	nameOf := func(instance, arn string) {
		if arn == "" {
			return
		}
		if name := m.queueName(arn); name != "" {
			named[[2]string{instance, arn}] = name
		} else if name := learnedQueueNames.name(arn); name != "" {
			named[[2]string{instance, arn}] = name
		}
	}
	current := map[contactstate.QueueKey]struct{}{}
	m.contacts.Queues(now, func(k contactstate.QueueKey, q contactstate.QueueStats) {
		current[k] = struct{}{}
		nameOf(k.Instance, k.QueueARN)
		age := 0.0
		if q.Waiting > 0 && !q.Oldest.IsZero() {
			age = max(now.Sub(q.Oldest).Seconds(), 0)
		}
		record[k.Instance] = append(record[k.Instance], func() {
			name := m.queueName(k.QueueARN)
			m.mb.RecordAwsConnectQueueContactsDataPoint(out.ts, q.Waiting, k.QueueARN, name, k.Channel)
			m.mb.RecordAwsConnectQueueOldestContactAgeDataPoint(out.ts, age, k.QueueARN, name, k.Channel)
		})
	})
	gone(m.sent, current, func(k contactstate.QueueKey) {
		record[k.Instance] = append(record[k.Instance], func() { m.recordZero(out.ts, k) })
	})
	m.collected = current
	// Contacts dequeued are the wait histogram's counts.
	m.waits.Each(func(k waitKey, s agentstate.Series) {
		record[k.instance] = append(record[k.instance], func() {
			m.mb.RecordAwsConnectQueueContactsDequeuedDataPoint(out.ts, int64(s.Count), k.queueARN, m.queueName(k.queueARN), k.channel, outcomeOf(k.outcome))
		})
	})
	m.records.Each(func(k recordKey, s agentstate.Series) {
		record[k.instance] = append(record[k.instance], func() {
			m.mb.RecordAwsConnectContactRecordsDataPoint(out.ts, int64(s.Count), k.queueARN, k.queueName, k.channel, k.disconnectReason, k.handled)
		})
	})
	m.waits.Each(func(k waitKey, _ agentstate.Series) { nameOf(k.instance, k.queueARN) })
	for k, name := range named {
		record[k[0]] = append(record[k[0]], func() { m.mb.RecordAwsConnectQueueInfoDataPoint(out.ts, 1, k[1], name) })
	}
	for instance, fns := range record {
		for _, fn := range fns {
			fn()
		}
		out.emit(m.mb, instance)
	}
	if m.cfg.Metrics.AwsConnectQueueWaitDuration.Enabled {
		emitHistogram(out, m.waits, metricQueueWait,
			"Time contacts waited in the queue, recorded when they leave it, by outcome: Amazon Connect's service level X is the share of contacts dequeued within X seconds, its average queue answer time the answered contacts' mean.",
			func(k waitKey) string { return k.instance },
			func(k waitKey, attrs pcommon.Map) {
				if k.overflow {
					attrs.PutBool(attrOverflow, true)
					return
				}
				attrs.PutStr(attrQueueARN, k.queueARN)
				attrs.PutStr(attrQueueName, m.queueName(k.queueARN))
				attrs.PutStr(attrChannel, k.channel)
				attrs.PutStr(attrQueueOutcome, k.outcome)
			})
	}
	contactAttrs := func(k contactKey, attrs pcommon.Map) {
		if k.overflow {
			attrs.PutBool(attrOverflow, true)
			return
		}
		attrs.PutStr(attrQueueARN, k.queueARN)
		attrs.PutStr(attrQueueName, k.queueName)
		attrs.PutStr(attrChannel, k.channel)
	}
	if m.cfg.Metrics.AwsConnectContactHandleDuration.Enabled {
		emitHistogram(out, m.handles, metricHandle,
			"Handle time of each contact an agent handled, from its contact record: agent interaction, customer hold and after contact work (Amazon Connect's AHT components).",
			func(k contactKey) string { return k.instance }, contactAttrs)
	}
	if m.cfg.Metrics.AwsConnectContactHoldDuration.Enabled {
		emitHistogram(out, m.holds, metricHold,
			"Time the customer spent on hold, per contact an agent handled, from its contact record.",
			func(k contactKey) string { return k.instance }, contactAttrs)
	}
	return out.metrics
}

// outcomeOf maps an outcome to the generated enum; an outcome this receiver does not
// know (none today) becomes answered's zero value, never a panic.
func outcomeOf(outcome string) metadata.AttributeAwsConnectQueueOutcome {
	if v, ok := metadata.MapAttributeAwsConnectQueueOutcome[outcome]; ok {
		return v
	}
	return 0
}

// recordZero records queue k's gauges at zero.
func (m *queueMetrics) recordZero(ts pcommon.Timestamp, k contactstate.QueueKey) {
	name := m.queueName(k.QueueARN)
	m.mb.RecordAwsConnectQueueContactsDataPoint(ts, 0, k.QueueARN, name, k.Channel)
	m.mb.RecordAwsConnectQueueOldestContactAgeDataPoint(ts, 0, k.QueueARN, name, k.Channel)
}

// taken says the pipeline took the last collection: its series are the ones sent.
func (m *queueMetrics) taken() { m.sent = m.collected }

// final returns every queue gauge series sent, at zero: the last export of a collector
// that stops, so that its series end there. Whoever reads its shards next counts their
// contacts (a collector of the fleet, or this one after a restart, under a new
// service.instance.id maybe); a series left to linger in a backend's lookback would count
// them twice meanwhile. Sums and histograms are cumulative and left out.
func (m *queueMetrics) final(now time.Time) pmetric.Metrics {
	out := newExport(m.resources, m.start, now)
	byInstance := map[string][]contactstate.QueueKey{}
	for k := range m.sent {
		byInstance[k.Instance] = append(byInstance[k.Instance], k)
	}
	for instance, keys := range byInstance {
		for _, k := range keys {
			m.recordZero(out.ts, k)
		}
		out.emit(m.mb, instance)
	}
	return out.metrics
}
