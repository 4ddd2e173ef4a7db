package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const instanceARN = "arn:aws:connect:eu-west-2:210987654321:instance/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"

type contactSpec struct {
	id, state, channel, method, queue string
	stateStart                        time.Time
}

type agentSpec struct {
	name, statusName, statusType, profile string
	// slots per channel: available, maximum
	slots    map[string][2]int
	contacts []contactSpec
	logout   bool
}

// agentEvent writes an agent event the way Amazon Connect does.
func agentEvent(a agentSpec, id string, at time.Time) (key string, data []byte) {
	agentARN := instanceARN + "/agent/" + a.name
	var conc []any
	channels := make([]string, 0, len(a.slots))
	for ch := range a.slots {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		conc = append(conc, map[string]any{"Channel": ch, "AvailableSlots": a.slots[ch][0], "MaximumSlots": a.slots[ch][1]})
	}
	contacts := []any{}
	for _, c := range a.contacts {
		contacts = append(contacts, map[string]any{
			"ContactId": c.id, "InitialContactId": nil, "Channel": c.channel, "InitiationMethod": c.method,
			"State": c.state, "StateStartTimestamp": c.stateStart.UTC().Format("2006-01-02T15:04:05.000Z"),
			"Queue": map[string]any{"ARN": instanceARN + "/queue/" + c.queue, "Name": c.queue},
		})
	}
	eventType := "STATE_CHANGE"
	if a.logout {
		eventType = "LOGOUT"
	}
	ev := map[string]any{
		"AWSAccountId": "210987654321", "AgentARN": agentARN, "EventId": id, "EventType": eventType,
		"EventTimestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"), "InstanceARN": instanceARN, "Version": "2019-05-25",
		"CurrentAgentSnapshot": map[string]any{
			"AgentStatus": map[string]any{"ARN": instanceARN + "/agent-state/" + a.statusName, "Name": a.statusName, "Type": a.statusType,
				"StartTimestamp": at.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")},
			"Configuration": map[string]any{"Username": a.name, "FirstName": a.name, "LastName": "Agent",
				"RoutingProfile": map[string]any{"ARN": instanceARN + "/routing-profile/" + a.profile, "Name": a.profile, "Concurrency": conc}},
			"Contacts": contacts, "NextAgentStatus": nil,
		},
	}
	data, _ = json.Marshal(ev)
	return agentARN, data
}

// readExports parses what the file exporter wrote: one OTLP JSON export a line, in
// order; a line still being written is left out.
func readExports(t *testing.T, path string) []pmetric.Metrics {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []pmetric.Metrics
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var u pmetric.JSONUnmarshaler
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if md, err := u.UnmarshalMetrics(sc.Bytes()); err == nil {
			out = append(out, md)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// gaugeValues reads the last export of each gauge in the metrics file: name and
// attributes (sorted, k=v) to value.
func gaugeValues(t *testing.T, path string) map[string]int64 {
	exports := readExports(t, path)
	if len(exports) == 0 {
		return nil
	}
	last := exports[len(exports)-1]
	values := map[string]int64{}
	for i := 0; i < last.ResourceMetrics().Len(); i++ {
		rm := last.ResourceMetrics().At(i)
		if id, _ := rm.Resource().Attributes().Get("cloud.resource_id"); id.Str() != instanceARN {
			continue
		}
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Type() != pmetric.MetricTypeGauge {
				continue
			}
			dps := m.Gauge().DataPoints()
			for k := 0; k < dps.Len(); k++ {
				var attrs []string
				for key, v := range dps.At(k).Attributes().All() {
					attrs = append(attrs, key+"="+v.AsString())
				}
				sort.Strings(attrs)
				values[m.Name()+"{"+strings.Join(attrs, ",")+"}"] = dps.At(k).IntValue()
			}
		}
	}
	return values
}

// instanceIDs reads every export in the metrics file and returns the service.instance.id
// values of their resources; "" stands for a resource without one.
func instanceIDs(t *testing.T, path string) map[string]bool {
	ids := map[string]bool{}
	for _, md := range readExports(t, path) {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			id, _ := md.ResourceMetrics().At(i).Resource().Attributes().Get("service.instance.id")
			ids[id.AsString()] = true
		}
	}
	return ids
}

func TestCollectorBinaryAgentGaugesAcrossRestart(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "connect-agent-gauges"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()
	now := time.Now().Add(-30 * time.Second)

	agents := []agentSpec{
		{name: "ana", statusName: "Available", statusType: "ROUTABLE", profile: "Sales",
			slots: map[string][2]int{"VOICE": {1, 1}, "CHAT": {3, 3}}},
		{name: "ben", statusName: "Available", statusType: "ROUTABLE", profile: "Sales",
			slots: map[string][2]int{"VOICE": {0, 1}, "CHAT": {2, 3}},
			contacts: []contactSpec{
				{id: "c-voice", state: "CONNECTED", channel: "VOICE", method: "INBOUND", queue: "SalesQueue", stateStart: now.Add(-40 * time.Second)},
				{id: "c-chat", state: "ENDED", channel: "CHAT", method: "INBOUND", queue: "SalesQueue", stateStart: now.Add(-5 * time.Second)},
			}},
		{name: "cleo", statusName: "Break", statusType: "CUSTOM", profile: "Support",
			slots: map[string][2]int{"VOICE": {1, 1}}},
		{name: "dan", statusName: "Available", statusType: "ROUTABLE", profile: "Support",
			slots:    map[string][2]int{"VOICE": {0, 1}},
			contacts: []contactSpec{{id: "c-missed", state: "MISSED", channel: "VOICE", method: "INBOUND", queue: "SupportQueue", stateStart: now.Add(-3 * time.Second)}}},
		{name: "eve", statusName: "Offline", statusType: "OFFLINE", profile: "Support", logout: true,
			slots: map[string][2]int{"VOICE": {0, 1}}},
	}
	var keys []string
	var data [][]byte
	for i, a := range agents {
		// An older event first, with another status: the newer one must win.
		older := a
		older.statusName, older.statusType, older.contacts = "Lunch", "CUSTOM", nil
		k, d := agentEvent(older, fmt.Sprintf("old-%d", i), now.Add(-20*time.Second))
		keys, data = append(keys, k), append(data, d)
		k, d = agentEvent(a, fmt.Sprintf("new-%d", i), now)
		keys, data = append(keys, k), append(data, d)
	}
	srv.Put(t, stream, keys, data)

	want := map[string]int64{
		"aws.connect.agent.online{aws.connect.routing_profile.name=Sales}":                                                                                                         2,
		"aws.connect.agent.online{aws.connect.routing_profile.name=Support}":                                                                                                       2,
		"aws.connect.agent.staffed{aws.connect.routing_profile.name=Sales}":                                                                                                        2,
		"aws.connect.agent.staffed{aws.connect.routing_profile.name=Support}":                                                                                                      1,
		"aws.connect.agent.available{aws.connect.routing_profile.name=Sales}":                                                                                                      1,
		"aws.connect.agent.available{aws.connect.routing_profile.name=Support}":                                                                                                    0,
		"aws.connect.agent.on_contact{aws.connect.routing_profile.name=Sales}":                                                                                                     1,
		"aws.connect.agent.non_productive{aws.connect.routing_profile.name=Support}":                                                                                               1,
		"aws.connect.agent.error{aws.connect.routing_profile.name=Support}":                                                                                                        1,
		"aws.connect.agent.count{aws.connect.agent.status.name=Offline,aws.connect.agent.status.type=OFFLINE,aws.connect.routing_profile.name=Support}":                            1,
		"aws.connect.agent.count{aws.connect.agent.status.name=Available,aws.connect.agent.status.type=ROUTABLE,aws.connect.routing_profile.name=Sales}":                           2,
		"aws.connect.slot.available{aws.connect.channel=VOICE,aws.connect.routing_profile.name=Sales}":                                                                             1,
		"aws.connect.slot.available{aws.connect.channel=CHAT,aws.connect.routing_profile.name=Sales}":                                                                              5,
		"aws.connect.slot.available{aws.connect.channel=VOICE,aws.connect.routing_profile.name=Support}":                                                                           0,
		"aws.connect.slot.maximum{aws.connect.channel=VOICE,aws.connect.routing_profile.name=Support}":                                                                             2,
		"aws.connect.slot.maximum{aws.connect.channel=CHAT,aws.connect.routing_profile.name=Sales}":                                                                                6,
		"aws.connect.slot.active{aws.connect.channel=VOICE,aws.connect.routing_profile.name=Sales}":                                                                                1,
		"aws.connect.slot.active{aws.connect.channel=CHAT,aws.connect.routing_profile.name=Sales}":                                                                                 1,
		"aws.connect.contact.count{aws.connect.channel=VOICE,aws.connect.contact.initiation_method=INBOUND,aws.connect.contact.state=CONNECTED,aws.connect.queue.name=SalesQueue}": 1,
		"aws.connect.contact.count{aws.connect.channel=CHAT,aws.connect.contact.initiation_method=INBOUND,aws.connect.contact.state=ENDED,aws.connect.queue.name=SalesQueue}":      1,
		"aws.connect.contact.count{aws.connect.channel=VOICE,aws.connect.contact.initiation_method=INBOUND,aws.connect.contact.state=MISSED,aws.connect.queue.name=SupportQueue}":  1,
	}
	check := func(c *collectortest.Process, metricsPath string) {
		var got map[string]int64
		ok := assert.Eventually(t, func() bool {
			select {
			case <-c.Exited:
				t.Fatalf("the collector exited:\n%s", c.Output())
			default:
			}
			got = gaugeValues(t, metricsPath)
			for k, v := range want {
				if g, ok := got[k]; !ok || g != v {
					return false
				}
			}
			return true
		}, 60*time.Second, 250*time.Millisecond)
		if !ok {
			for k, v := range want {
				g, present := got[k]
				assert.True(t, present && g == v, "%s = %d (present %v), want %d", k, g, present, v)
			}
		}
		// No Lunch: the older events lost to the newer ones.
		for k := range got {
			assert.NotContains(t, k, "Lunch", "an older event overrode a newer one")
		}
	}

	logs1, metrics1 := filepath.Join(dir, "logs1.json"), filepath.Join(dir, "metrics1.json")
	c := runCollector(t, dir, metricsConfig(dir, stream, srv.Endpoint, logs1, metrics1))
	check(c, metrics1)
	require.Eventually(t, func() bool { return len(readLogs(t, logs1)) == len(data) }, 30*time.Second, 200*time.Millisecond)
	c.Stop(t)
	// Stopping, it ended its gauge series at zero, so that a backend does not show them
	// on while another collector counts the same agents.
	final := gaugeValues(t, metrics1)
	for k := range want {
		v, ok := final[k]
		assert.True(t, ok && v == 0, "%s = %d (present %v) in the last export, want 0", k, v, ok)
	}

	// Restart with nothing new on the stream: the gauges are right again at once, rebuilt
	// from a replay of the shards, and no log record is written twice.
	logs2, metrics2 := filepath.Join(dir, "logs2.json"), filepath.Join(dir, "metrics2.json")
	c = runCollector(t, dir, metricsConfig(dir, stream, srv.Endpoint, logs2, metrics2))
	check(c, metrics2)
	c.Stop(t)
	assert.Empty(t, readLogs(t, logs2), "the replay after a restart emits no log records")

	// Each run's metrics carry the collector's own service.instance.id, the one the
	// collector made at start: collectors sharing a stream keep their series apart.
	first, second := instanceIDs(t, metrics1), instanceIDs(t, metrics2)
	require.Len(t, first, 1, "one service.instance.id per collector: %v", first)
	require.Len(t, second, 1, "one service.instance.id per collector: %v", second)
	assert.NotContains(t, first, "", "metrics without service.instance.id")
	assert.NotEqual(t, first, second, "a restarted collector has a new service.instance.id")
}

// metricsConfig has the collector export its logs and gauges (every second) to two files.
func metricsConfig(dir, stream, endpoint, logs, metrics string) collectortest.Config {
	return collectortest.Config{
		Stream: stream, Endpoint: endpoint, StorageDir: filepath.Join(dir, "state"),
		Receiver: map[string]any{"collection_interval": "1s"},
		Exporters: map[string]any{
			"file/logs":    collectortest.FileExporter(logs),
			"file/metrics": collectortest.FileExporter(metrics),
		},
		Logs:    &collectortest.Pipeline{Exporters: []string{"file/logs"}},
		Metrics: &collectortest.Pipeline{Exporters: []string{"file/metrics"}},
	}
}
