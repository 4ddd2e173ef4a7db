package gaugesum

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// point adds a gauge point to md under a resource with the given service.instance.id
// (none when empty) and instance ID.
func point(md pmetric.Metrics, worker, connect, metric, profile string, v int64) {
	rm := md.ResourceMetrics().AppendEmpty()
	if worker != "" {
		rm.Resource().Attributes().PutStr(InstanceAttribute, worker)
	}
	rm.Resource().Attributes().PutStr("aws.connect.instance.id", connect)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(metric)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("aws.connect.routing_profile.name", profile)
	dp.SetIntValue(v)
}

func TestGaugesSumAcrossInstancesOnly(t *testing.T) {
	a, b := pmetric.NewMetrics(), pmetric.NewMetrics()
	point(a, "w1", "i1", "aws.connect.agent.online", "Sales", 3)
	point(b, "w2", "i1", "aws.connect.agent.online", "Sales", 4)
	point(b, "w2", "i1", "aws.connect.agent.online", "Support", 2)
	point(b, "w2", "i2", "aws.connect.agent.online", "Sales", 5) // another Connect instance stays apart
	point(a, "w1", "i1", "aws.connect.agent.error", "Sales", 0)  // zero: the same as not sent
	hist := a.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	hist.SetName("aws.connect.agent.status.duration")
	hist.SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(7)

	one := pmetric.NewMetrics()
	point(one, "solo", "i1", "aws.connect.agent.online", "Sales", 7)
	point(one, "solo", "i1", "aws.connect.agent.online", "Support", 2)
	point(one, "", "i2", "aws.connect.agent.online", "Sales", 5)

	got := Gauges(a, b)
	assert.Equal(t, Sums{
		{Metric: "aws.connect.agent.online", Attributes: "aws.connect.instance.id=i1,aws.connect.routing_profile.name=Sales"}:   7,
		{Metric: "aws.connect.agent.online", Attributes: "aws.connect.instance.id=i1,aws.connect.routing_profile.name=Support"}: 2,
		{Metric: "aws.connect.agent.online", Attributes: "aws.connect.instance.id=i2,aws.connect.routing_profile.name=Sales"}:   5,
	}, got)
	assert.Empty(t, Diff(Gauges(one), got))
	assert.Len(t, GaugesWithZeros(a, b), 4, "the series sent at zero too")
	assert.Equal(t, 5, Points(a, b), "gauge points only")
	assert.Equal(t, Sums{{Metric: "aws.connect.agent.status.duration"}: 7}, HistogramCounts(a, b))

	point(one, "solo", "i1", "aws.connect.agent.available", "Sales", 1)
	assert.Equal(t, []string{
		"aws.connect.agent.available{aws.connect.instance.id=i1,aws.connect.routing_profile.name=Sales}: want 1, got 0",
		"aws.connect.agent.online{aws.connect.instance.id=i2,aws.connect.routing_profile.name=Billing}: want 0, got 5",
	}, Diff(Gauges(one), Gauges(a, b, func() pmetric.Metrics {
		m := pmetric.NewMetrics()
		point(m, "w3", "i2", "aws.connect.agent.online", "Billing", 5)
		return m
	}())))
}
