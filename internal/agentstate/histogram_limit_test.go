package agentstate_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
)

// Hostile or odd events can name endless statuses and queues: the series stop growing at
// the limit, and what would have made more goes to the overflow series, still counted.
func TestHistogramSeriesAreBounded(t *testing.T) {
	const limit = 50
	h := agentstate.NewHistogram[string]([]float64{1}).Limit(limit, "overflow")
	for i := range 3 * limit {
		h.Record(fmt.Sprintf("status-%d", i), 2)
	}
	h.Record("status-0", 0.5) // a key it has keeps its own series

	series := map[string]agentstate.Series{}
	h.Each(func(k string, s agentstate.Series) { series[k] = s })
	assert.Len(t, series, limit, "the overflow series counts in the limit")
	require.Contains(t, series, "overflow")
	assert.Equal(t, uint64(2*limit+1), series["overflow"].Count, "every value past the limit is in the overflow series")
	assert.Equal(t, uint64(2), series["status-0"].Count)
	var total uint64
	for _, s := range series {
		total += s.Count
	}
	assert.Equal(t, uint64(3*limit+1), total, "nothing is lost")
}

func TestHistogramDefaultLimit(t *testing.T) {
	h := agentstate.NewHistogram[int]([]float64{1})
	for i := range agentstate.DefaultMaxSeries + 100 {
		h.Record(i+1, 1)
	}
	n := 0
	h.Each(func(int, agentstate.Series) { n++ })
	assert.Equal(t, agentstate.DefaultMaxSeries, n)
}
