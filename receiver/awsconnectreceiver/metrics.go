package awsconnectreceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// Histogram attributes, the same as the gauges'.
const (
	attrStatusType  = "aws.connect.agent.status.type"
	attrStatusName  = "aws.connect.agent.status.name"
	attrChannel     = "aws.connect.channel"
	attrQueueName   = "aws.connect.queue.name"
	metricStatusDur = "aws.connect.agent.status.duration"
	metricACWDur    = "aws.connect.contact.after_contact_work.duration"
	// attrOverflow marks the series that takes the values past maxHistogramSeries, as the
	// OpenTelemetry SDKs mark theirs past a cardinality limit.
	attrOverflow = "otel.metric.overflow"
	// attrServiceInstanceID is the collector's own ID, from its telemetry resource.
	attrServiceInstanceID = "service.instance.id"
)

// maxHistogramSeries bounds the series of each histogram (per status, per channel and
// queue, across instances), so events naming endless statuses or queues cannot grow
// memory without end: about 200 bytes a series, 1 MB in all.
const maxHistogramSeries = 5000

// Bucket bounds, in seconds: statuses last from seconds to a shift; after contact work
// from seconds to tens of minutes.
var (
	statusDurationBounds = []float64{1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800}
	acwDurationBounds    = []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200}
)

type statusDurationKey struct {
	instance, statusType, statusName string
	overflow                         bool
}

type acwDurationKey struct {
	instance, channel, queue string
	overflow                 bool
}

// metricSet is what a receiver exports every collection_interval: the agents' metrics,
// or the queue side's.
type metricSet interface {
	// collect returns the metrics as of now; not safe for concurrent use.
	collect(now time.Time) pmetric.Metrics
	// taken says the pipeline took the last collection.
	taken()
	// final returns the last export of a collector that stops.
	final(now time.Time) pmetric.Metrics
}

// agentMetrics turns the agents' state into metrics.
type agentMetrics struct {
	cfg       *Config
	logger    *zap.Logger
	mb        *metadata.MetricsBuilder
	resources metricResources
	state     *agentstate.Store
	start     pcommon.Timestamp

	statusDurations *agentstate.Histogram[statusDurationKey]
	acwDurations    *agentstate.Histogram[acwDurationKey]

	// sent is the gauge series of the last export the pipeline took, per instance;
	// collected those of the last collection. A series sent that is gone now goes out
	// once more, at zero: a backend keeps showing a series that stops without an end
	// (Prometheus for its lookback of 5 minutes, the prometheus exporter until
	// metric_expiration), and a status nobody holds any more, or the agents of a shard
	// another collector reads now, would be counted on.
	sent, collected map[string]*gaugeSeries
}

// gaugeSeries is the gauge series of one instance: the keys of its Counts.
type gaugeSeries struct {
	agents   map[agentstate.StatusKey]struct{}
	profiles map[string]struct{}
	slots    map[agentstate.SlotKey]struct{}
	contacts map[agentstate.ContactKey]struct{}
}

func seriesOf(c *agentstate.Counts) *gaugeSeries {
	return &gaugeSeries{agents: keys(c.Agents), profiles: keys(c.Profiles), slots: keys(c.Slots), contacts: keys(c.Contacts)}
}

func keys[K comparable, V any](m map[K]V) map[K]struct{} {
	out := make(map[K]struct{}, len(m))
	for k := range m {
		out[k] = struct{}{}
	}
	return out
}

// gone calls fn with every key of prev not in cur.
func gone[K comparable](prev, cur map[K]struct{}, fn func(K)) {
	for k := range prev {
		if _, ok := cur[k]; !ok {
			fn(k)
		}
	}
}

// recordGone records a zero for every series of prev that cur lacks, through
// recordGauges, so that zeros go out for each gauge that has values.
func (m *agentMetrics) recordGone(ts pcommon.Timestamp, prev, cur *gaugeSeries) {
	if prev == nil {
		return
	}
	zero := agentstate.Counts{
		Agents:   map[agentstate.StatusKey]int64{},
		Profiles: map[string]*agentstate.Profile{},
		Slots:    map[agentstate.SlotKey]*agentstate.Slots{},
		Contacts: map[agentstate.ContactKey]int64{},
	}
	gone(prev.agents, cur.agents, func(k agentstate.StatusKey) { zero.Agents[k] = 0 })
	gone(prev.profiles, cur.profiles, func(profile string) { zero.Profiles[profile] = &agentstate.Profile{} })
	gone(prev.slots, cur.slots, func(k agentstate.SlotKey) { zero.Slots[k] = &agentstate.Slots{} })
	gone(prev.contacts, cur.contacts, func(k agentstate.ContactKey) { zero.Contacts[k] = 0 })
	m.recordGauges(ts, &zero)
}

// taken says the pipeline took the last collection: its series are the ones sent.
func (m *agentMetrics) taken() { m.sent = m.collected }

// final returns every gauge series sent, at zero: the last export of a collector that
// stops, so that its series end there. The collector that takes its shards over counts
// their agents from its next export; a series left to linger in a backend's lookback
// would count them twice meanwhile. Histograms are cumulative and left out.
func (m *agentMetrics) final(now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	out := pmetric.NewMetrics()
	for instance, prev := range m.sent {
		m.recordGone(ts, prev, &gaugeSeries{})
		m.mb.Emit(metadata.WithResource(m.resources.resource(instance))).ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
	}
	return out
}

func newAgentMetrics(cfg *Config, set receiver.Settings, resources metricResources, state *agentstate.Store, start time.Time) *agentMetrics {
	ts := pcommon.NewTimestampFromTime(start)
	mbc := metadata.MetricsBuilderConfig{Metrics: cfg.Metrics.MetricsConfig, ResourceAttributes: cfg.ResourceAttributes}
	return &agentMetrics{
		cfg:             cfg,
		logger:          set.Logger,
		mb:              metadata.NewMetricsBuilder(mbc, set, metadata.WithStartTime(ts)),
		resources:       resources,
		state:           state,
		start:           ts,
		statusDurations: agentstate.NewHistogram[statusDurationKey](statusDurationBounds).Limit(maxHistogramSeries, statusDurationKey{overflow: true}),
		acwDurations:    agentstate.NewHistogram[acwDurationKey](acwDurationBounds).Limit(maxHistogramSeries, acwDurationKey{overflow: true}),
	}
}

// observe records the durations an event measured.
func (m *agentMetrics) observe(instance string, obs []agentstate.Observation) {
	for _, o := range obs {
		switch o.Kind {
		case agentstate.StatusDuration:
			if m.cfg.Metrics.AwsConnectAgentStatusDuration.Enabled {
				m.statusDurations.Record(statusDurationKey{instance: instance, statusType: o.StatusType, statusName: o.StatusName}, o.Seconds)
			}
		case agentstate.AfterContactWork:
			if m.cfg.Metrics.AwsConnectContactAfterContactWorkDuration.Enabled {
				m.acwDurations.Record(acwDurationKey{instance: instance, channel: o.Channel, queue: o.Queue}, o.Seconds)
			}
		}
	}
}

// collect returns the metrics of every instance as of now. It is not safe for
// concurrent use (the metrics builder is not).
func (m *agentMetrics) collect(now time.Time) pmetric.Metrics {
	if n := m.state.Expire(now); n > 0 {
		m.logger.Debug("Forgot agents with no event within agent_ttl", zap.Int("agents", n))
	}
	out := newExport(m.resources, m.start, now)
	current := map[string]*gaugeSeries{}
	m.state.Count(func(c *agentstate.Counts) {
		cur := seriesOf(c)
		current[c.InstanceARN] = cur
		m.recordGauges(out.ts, c)
		m.recordGone(out.ts, m.sent[c.InstanceARN], cur)
		out.emit(m.mb, c.InstanceARN)
	})
	for instance, prev := range m.sent {
		if _, ok := current[instance]; !ok {
			m.recordGone(out.ts, prev, &gaugeSeries{})
			out.emit(m.mb, instance)
		}
	}
	m.collected = current
	if m.cfg.Metrics.AwsConnectAgentStatusDuration.Enabled {
		emitHistogram(out, m.statusDurations, metricStatusDur,
			"Time agents spent in a status, recorded when they leave it.",
			func(k statusDurationKey) string { return k.instance },
			func(k statusDurationKey, attrs pcommon.Map) {
				if k.overflow {
					attrs.PutBool(attrOverflow, true)
					return
				}
				attrs.PutStr(attrStatusType, k.statusType)
				attrs.PutStr(attrStatusName, k.statusName)
			})
	}
	if m.cfg.Metrics.AwsConnectContactAfterContactWorkDuration.Enabled {
		emitHistogram(out, m.acwDurations, metricACWDur,
			"Time contacts spent in after contact work: from the contact's ENDED state start to the event that no longer lists it.",
			func(k acwDurationKey) string { return k.instance },
			func(k acwDurationKey, attrs pcommon.Map) {
				if k.overflow {
					attrs.PutBool(attrOverflow, true)
					return
				}
				attrs.PutStr(attrChannel, k.channel)
				attrs.PutStr(attrQueueName, k.queue)
			})
	}
	return out.metrics
}

// metricResources gives each instance's metrics their resource: the instance's, as for
// the logs, and this collector's service.instance.id.
type metricResources struct {
	instances *eventlog.Builder
	// worker holds the resource attributes that tell this collector's series apart from
	// the other collectors' sharing the stream: service.instance.id.
	worker pcommon.Resource
}

func newMetricResources(cfg *Config, set receiver.Settings, instances *eventlog.Builder) metricResources {
	rb := metadata.NewResourceBuilder(cfg.ResourceAttributes)
	if id, ok := set.Resource.Attributes().Get(attrServiceInstanceID); ok && id.AsString() != "" {
		rb.SetServiceInstanceID(id.AsString())
	}
	return metricResources{instances: instances, worker: rb.Emit()}
}

func (m metricResources) resource(instance string) pcommon.Resource {
	r := pcommon.NewResource()
	m.instances.Resource(instance).CopyTo(r)
	for k, v := range m.worker.Attributes().All() {
		v.CopyTo(r.Attributes().PutEmpty(k))
	}
	return r
}

// export is one collection's metrics: a resource, and one scope, per instance.
type export struct {
	metrics   pmetric.Metrics
	resources metricResources
	scopes    map[string]pmetric.MetricSlice
	start, ts pcommon.Timestamp
}

func newExport(resources metricResources, start pcommon.Timestamp, now time.Time) *export {
	return &export{metrics: pmetric.NewMetrics(), resources: resources, scopes: map[string]pmetric.MetricSlice{}, start: start, ts: pcommon.NewTimestampFromTime(now)}
}

// scope returns an instance's metrics, made on first use.
func (e *export) scope(instance string) pmetric.MetricSlice {
	if ms, ok := e.scopes[instance]; ok {
		return ms
	}
	rm := e.metrics.ResourceMetrics().AppendEmpty()
	e.resources.resource(instance).MoveTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	e.scopes[instance] = sm.Metrics()
	return sm.Metrics()
}

// emit moves what mb recorded into the instance's metrics.
func (e *export) emit(mb *metadata.MetricsBuilder, instance string) {
	gauges := mb.Emit()
	if gauges.ResourceMetrics().Len() == 0 {
		return
	}
	gauges.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().MoveAndAppendTo(e.scope(instance))
}

// emitHistogram adds one histogram metric per instance, a data point per key.
func emitHistogram[K comparable](e *export, h *agentstate.Histogram[K], name, description string, instance func(K) string, attributes func(K, pcommon.Map)) {
	perInstance := map[string]pmetric.HistogramDataPointSlice{}
	h.Each(func(k K, s agentstate.Series) {
		dps, ok := perInstance[instance(k)]
		if !ok {
			dps = newHistogram(e.scope(instance(k)), name, description)
			perInstance[instance(k)] = dps
		}
		dp := histogramPoint(dps, e.start, e.ts, h.Bounds, s)
		attributes(k, dp.Attributes())
	})
}

func (m *agentMetrics) recordGauges(ts pcommon.Timestamp, c *agentstate.Counts) {
	for k, n := range c.Agents {
		m.mb.RecordAwsConnectAgentCountDataPoint(ts, n, k.StatusType, k.StatusName, k.RoutingProfile)
	}
	for profile, p := range c.Profiles {
		m.mb.RecordAwsConnectAgentOnlineDataPoint(ts, p.Online, profile)
		m.mb.RecordAwsConnectAgentStaffedDataPoint(ts, p.Staffed, profile)
		m.mb.RecordAwsConnectAgentAvailableDataPoint(ts, p.Available, profile)
		m.mb.RecordAwsConnectAgentOnContactDataPoint(ts, p.OnContact, profile)
		m.mb.RecordAwsConnectAgentNonProductiveDataPoint(ts, p.NonProductive, profile)
		m.mb.RecordAwsConnectAgentErrorDataPoint(ts, p.Error, profile)
	}
	for k, s := range c.Slots {
		m.mb.RecordAwsConnectSlotAvailableDataPoint(ts, s.Available, k.Channel, k.RoutingProfile)
		m.mb.RecordAwsConnectSlotMaximumDataPoint(ts, s.Maximum, k.Channel, k.RoutingProfile)
		m.mb.RecordAwsConnectSlotActiveDataPoint(ts, s.Active, k.Channel, k.RoutingProfile)
	}
	for k, n := range c.Contacts {
		m.mb.RecordAwsConnectContactCountDataPoint(ts, n, k.State, k.Channel, k.Queue, k.InitiationMethod)
	}
}

func newHistogram(ms pmetric.MetricSlice, name, description string) pmetric.HistogramDataPointSlice {
	metric := ms.AppendEmpty()
	metric.SetName(name)
	metric.SetDescription(description)
	metric.SetUnit("s")
	h := metric.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return h.DataPoints()
}

func histogramPoint(dps pmetric.HistogramDataPointSlice, start, ts pcommon.Timestamp, bounds []float64, s agentstate.Series) pmetric.HistogramDataPoint {
	dp := dps.AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.ExplicitBounds().FromRaw(bounds)
	dp.BucketCounts().FromRaw(s.Counts)
	dp.SetCount(s.Count)
	dp.SetSum(s.Sum)
	dp.SetMin(s.Min)
	dp.SetMax(s.Max)
	return dp
}
