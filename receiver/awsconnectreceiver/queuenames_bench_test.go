package awsconnectreceiver

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// What learning queue names adds to an agent event, once its names are known: the case
// of every event but a queue's first.
func BenchmarkLearnQueueNames(b *testing.B) {
	data, err := os.ReadFile("../../testdata/events/extras.json")
	require.NoError(b, err)
	var ev agentevent.Event
	require.NoError(b, agentevent.NewDecoder().Decode(data, &ev, nil))
	learnQueueNames(&ev)
	b.ReportAllocs()
	for b.Loop() {
		learnQueueNames(&ev)
	}
}
