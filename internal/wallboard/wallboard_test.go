package wallboard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const scrape = `# HELP aws_connect_agent_online Agents online
# TYPE aws_connect_agent_online gauge
aws_connect_agent_online{aws_connect_routing_profile_name="Sales",otel_scope_name="x"} 3
aws_connect_agent_online{aws_connect_routing_profile_name="Support",otel_scope_name="x"} 2
# TYPE aws_connect_agent_available gauge
aws_connect_agent_available{aws_connect_routing_profile_name="Sales"} 1
# TYPE aws_connect_agent_count gauge
aws_connect_agent_count{aws_connect_agent_status_name="Available",aws_connect_agent_status_type="ROUTABLE",aws_connect_routing_profile_name="Sales"} 3
aws_connect_agent_count{aws_connect_agent_status_name="Available",aws_connect_agent_status_type="ROUTABLE",aws_connect_routing_profile_name="Support"} 1
aws_connect_agent_count{aws_connect_agent_status_name="Break",aws_connect_agent_status_type="CUSTOM",aws_connect_routing_profile_name="Support"} 1
# TYPE aws_connect_slot_available gauge
aws_connect_slot_available{aws_connect_channel="VOICE",aws_connect_routing_profile_name="Sales"} 1
aws_connect_slot_available{aws_connect_channel="VOICE",aws_connect_routing_profile_name="Support"} 0
# TYPE aws_connect_slot_active gauge
aws_connect_slot_active{aws_connect_channel="VOICE",aws_connect_routing_profile_name="Sales"} 2
# TYPE aws_connect_slot_maximum gauge
aws_connect_slot_maximum{aws_connect_channel="VOICE",aws_connect_routing_profile_name="Sales"} 3
aws_connect_slot_maximum{aws_connect_channel="VOICE",aws_connect_routing_profile_name="Support"} 2
# TYPE aws_connect_contact_count gauge
aws_connect_contact_count{aws_connect_channel="VOICE",aws_connect_contact_initiation_method="INBOUND",aws_connect_contact_state="CONNECTED",aws_connect_queue_name="Q"} 2
aws_connect_contact_count{aws_connect_channel="CHAT",aws_connect_contact_initiation_method="INBOUND",aws_connect_contact_state="ENDED",aws_connect_queue_name="Q"} 1
# TYPE otelcol_unrelated counter
otelcol_unrelated 7
`

func TestParseSumsAcrossProfiles(t *testing.T) {
	b, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)
	assert.Equal(t, int64(5), b.Online)
	assert.Equal(t, int64(1), b.Available)
	assert.Equal(t, map[string]int64{"Available": 4, "Break": 1}, b.ByStatus)
	assert.Equal(t, map[string]int64{"VOICE": 1}, b.SlotsAvailable)
	assert.Equal(t, map[string]int64{"VOICE": 2}, b.SlotsActive)
	assert.Equal(t, map[string]int64{"VOICE": 5}, b.SlotsMaximum)
	assert.Equal(t, map[string]int64{"CONNECTED": 2, "ENDED": 1}, b.Contacts)

	var out bytes.Buffer
	b.Render(&out, time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC))
	text := out.String()
	assert.Contains(t, text, "online 5")
	assert.Contains(t, text, "Available 4   Break 1")
	assert.Contains(t, text, "VOICE 1 free, 2 busy of 5")
	assert.Contains(t, text, "ENDED (after contact work) 1")
	assert.Contains(t, text, "09:30:00")
}

func TestParseEmptyAndBad(t *testing.T) {
	b, err := Parse(strings.NewReader(""))
	require.NoError(t, err)
	var out bytes.Buffer
	b.Render(&out, time.Now())
	assert.Contains(t, out.String(), "online 0")
	_, err = Parse(strings.NewReader("aws_connect_agent_online{ 3\n"))
	assert.Error(t, err)
}

// TestBoardsOfAFleetAddUp: three collectors sharing a stream each export their shards'
// agents, with their own instance label (the Prometheus exporter's, from
// service.instance.id); their boards added, or one exposition holding all three (as a
// federating Prometheus serves), show the same contact center as one collector.
func TestBoardsOfAFleetAddUp(t *testing.T) {
	whole, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)

	// Deal each sample line to one of three collectors, with its instance label.
	parts := make([]strings.Builder, 3)
	var federated strings.Builder
	n := 0
	for line := range strings.SplitSeq(scrape, "\n") {
		if line == "" || strings.HasPrefix(line, "#") || !strings.Contains(line, "{") {
			for i := range parts {
				parts[i].WriteString(line + "\n")
			}
			federated.WriteString(line + "\n")
			continue
		}
		labelled := strings.Replace(line, "{", fmt.Sprintf("{instance=\"collector-%d\",", n%3), 1)
		parts[n%3].WriteString(labelled + "\n")
		federated.WriteString(labelled + "\n")
		n++
	}
	require.Greater(t, n, 3)

	sum, err := Parse(strings.NewReader(""))
	require.NoError(t, err)
	for i := range parts {
		b, err := Parse(strings.NewReader(parts[i].String()))
		require.NoError(t, err)
		require.NotEqual(t, whole, b, "collector %d holds only a part", i)
		sum.Add(b)
	}
	assert.Equal(t, whole, sum)

	all, err := Parse(strings.NewReader(federated.String()))
	require.NoError(t, err)
	assert.Equal(t, whole, all)
}
