package awsconnectreceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// Events naming more statuses and queues than maxHistogramSeries make no more series:
// the rest land in one series marked otel.metric.overflow, and every value is counted.
func TestHistogramSeriesBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	set := receivertest.NewNopSettings(metadata.Type)
	m := newAgentMetrics(cfg, set, newMetricResources(cfg, set, eventlog.NewBuilder(metadata.DefaultResourceAttributesConfig())), agentstate.New(time.Hour), time.Now())
	const observations = 2*maxHistogramSeries + 7
	for i := range observations {
		m.observe("arn:aws:connect:us-east-1:123456789012:instance/i", []agentstate.Observation{
			{Kind: agentstate.StatusDuration, Seconds: 3, StatusType: "CUSTOM", StatusName: fmt.Sprintf("status-%d", i)},
			{Kind: agentstate.AfterContactWork, Seconds: 4, Channel: "VOICE", Queue: fmt.Sprintf("queue-%d", i)},
		})
	}
	md := m.collect(time.Now())
	for _, name := range []string{metricStatusDur, metricACWDur} {
		points, overflow, total := histogramPoints(t, md, name)
		assert.Equal(t, maxHistogramSeries, points, name)
		assert.Equal(t, uint64(observations-maxHistogramSeries+1), overflow, "%s: the values past the limit are in the overflow series", name)
		assert.Equal(t, uint64(observations), total, "%s: nothing is lost", name)
	}
}

func histogramPoints(t *testing.T, md pmetric.Metrics, name string) (points int, overflow, total uint64) {
	found := false
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if ms.At(k).Name() != name {
					continue
				}
				found = true
				dps := ms.At(k).Histogram().DataPoints()
				for p := 0; p < dps.Len(); p++ {
					points++
					total += dps.At(p).Count()
					if v, ok := dps.At(p).Attributes().Get(attrOverflow); ok && v.Bool() {
						overflow += dps.At(p).Count()
					}
				}
			}
		}
	}
	require.True(t, found, name)
	return points, overflow, total
}
