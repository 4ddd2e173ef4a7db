// Package gaugesum adds up the gauges of several collectors the way a dashboard does
// across a fleet: by metric name, data point attributes and resource attributes, leaving
// out the attribute that tells the collectors apart (service.instance.id). Tests use it
// to check that a fleet's gauges, summed, are one collector's.
package gaugesum

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// InstanceAttribute is the resource attribute that keeps each collector's series apart,
// and that a sum across the fleet leaves out.
const InstanceAttribute = "service.instance.id"

// Sums maps a series (see Series) to the sum of its values.
type Sums map[Series]float64

// Series names a gauge series across collectors: the metric name and the sorted
// key=value pairs of its resource attributes (but service.instance.id) and data point
// attributes.
type Series struct {
	Metric     string
	Attributes string
}

func (s Series) String() string { return s.Metric + "{" + s.Attributes + "}" }

// Gauges sums every gauge data point of mds. Series that sum to zero are left out: to a
// sum, a series at zero and a series not sent are the same.
func Gauges(mds ...pmetric.Metrics) Sums {
	out := GaugesWithZeros(mds...)
	maps.DeleteFunc(out, func(_ Series, v float64) bool { return v == 0 })
	return out
}

// GaugesWithZeros is Gauges keeping the series that sum to zero, to tell a series sent at
// zero from one not sent.
func GaugesWithZeros(mds ...pmetric.Metrics) Sums {
	out := Sums{}
	each(mds, func(res []string, m pmetric.Metric) {
		if m.Type() != pmetric.MetricTypeGauge {
			return
		}
		dps := m.Gauge().DataPoints()
		for d := 0; d < dps.Len(); d++ {
			out[series(m, res, dps.At(d).Attributes())] += value(dps.At(d))
		}
	})
	return out
}

// HistogramCounts sums the counts of every histogram data point of mds, the number of
// values observed, by series; series that sum to zero are left out. Each collector's
// histograms count what it observed since it started, so across a fleet this equals one
// collector's only while no collector restarted or died.
func HistogramCounts(mds ...pmetric.Metrics) Sums {
	out := Sums{}
	each(mds, func(res []string, m pmetric.Metric) {
		if m.Type() != pmetric.MetricTypeHistogram {
			return
		}
		dps := m.Histogram().DataPoints()
		for d := 0; d < dps.Len(); d++ {
			out[series(m, res, dps.At(d).Attributes())] += float64(dps.At(d).Count())
		}
	})
	maps.DeleteFunc(out, func(_ Series, v float64) bool { return v == 0 })
	return out
}

// each calls fn with every metric of mds and its resource's attributes as pairs, but
// service.instance.id.
func each(mds []pmetric.Metrics, fn func(resource []string, m pmetric.Metric)) {
	for _, md := range mds {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			rm := md.ResourceMetrics().At(i)
			res := pairs(rm.Resource().Attributes(), InstanceAttribute)
			for j := 0; j < rm.ScopeMetrics().Len(); j++ {
				ms := rm.ScopeMetrics().At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					fn(res, ms.At(k))
				}
			}
		}
	}
}

func series(m pmetric.Metric, resource []string, attrs pcommon.Map) Series {
	all := append(slices.Clone(resource), pairs(attrs, "")...)
	slices.Sort(all)
	return Series{Metric: m.Name(), Attributes: strings.Join(all, ",")}
}

// Points counts the gauge data points of mds, to tell an empty comparison from a real one.
func Points(mds ...pmetric.Metrics) int {
	n := 0
	for _, md := range mds {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					if ms.At(k).Type() == pmetric.MetricTypeGauge {
						n += ms.At(k).Gauge().DataPoints().Len()
					}
				}
			}
		}
	}
	return n
}

// Diff lists, one line each and sorted, every series whose sum differs between want and
// got; none when they are equal.
func Diff(want, got Sums) []string {
	var out []string
	for s, w := range want {
		if g := got[s]; g != w {
			out = append(out, fmt.Sprintf("%s: want %v, got %v", s, w, g))
		}
	}
	for s, g := range got {
		if _, ok := want[s]; !ok {
			out = append(out, fmt.Sprintf("%s: want 0, got %v", s, g))
		}
	}
	slices.Sort(out)
	return out
}

func pairs(attrs pcommon.Map, skip string) []string {
	out := make([]string, 0, attrs.Len())
	for k, v := range attrs.All() {
		if k != skip {
			out = append(out, k+"="+v.AsString())
		}
	}
	return out
}

func value(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// Value returns the value of the last data point of metric name in md whose attributes
// include attrs (compared as strings): a gauge's or sum's value, or a histogram's count.
func Value(md pmetric.Metrics, name string, attrs map[string]string) (float64, bool) {
	var v float64
	var found bool
	matches := func(got pcommon.Map) bool {
		for k, want := range attrs {
			if g, ok := got.Get(k); !ok && want != "" || ok && g.AsString() != want {
				return false
			}
		}
		return true
	}
	each([]pmetric.Metrics{md}, func(_ []string, m pmetric.Metric) {
		if m.Name() != name {
			return
		}
		var dps pmetric.NumberDataPointSlice
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			dps = m.Gauge().DataPoints()
		case pmetric.MetricTypeSum:
			dps = m.Sum().DataPoints()
		case pmetric.MetricTypeHistogram:
			for _, dp := range m.Histogram().DataPoints().All() {
				if matches(dp.Attributes()) {
					v, found = float64(dp.Count()), true
				}
			}
			return
		}
		for _, dp := range dps.All() {
			if matches(dp.Attributes()) {
				v, found = value(dp), true
			}
		}
	})
	return v, found
}
