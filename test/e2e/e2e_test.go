// Package e2e runs the collector binary built by ocb against kinesis-local and checks
// what its file exporter wrote.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// startCollector runs the binary reading stream, with checkpoints under dir, writing
// its logs to out.
func startCollector(t *testing.T, dir, stream, endpoint, out string) *collectortest.Process {
	return runCollector(t, dir, collectortest.Config{
		Stream: stream, Endpoint: endpoint, StorageDir: filepath.Join(dir, "state"),
		Exporters: map[string]any{"file": collectortest.FileExporter(out)},
		Logs:      &collectortest.Pipeline{Exporters: []string{"file"}},
	})
}

// runCollector runs the binary with the given configuration.
func runCollector(t *testing.T, dir string, cfg collectortest.Config) *collectortest.Process {
	cfgPath := cfg.Write(t, filepath.Join(dir, "config.yaml"))
	return collectortest.Start(t, cfgPath, kinesistest.CollectorEnv()...)
}

// readLogs parses what the file exporter wrote: one OTLP JSON document a line.
func readLogs(t *testing.T, path string) []plog.LogRecord {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []plog.LogRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var u plog.JSONUnmarshaler
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ld, err := u.UnmarshalLogs(line)
		if err != nil { // a line still being written
			continue
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					// Keep the resource with the record, for the checks.
					rl.Resource().Attributes().Range(func(key string, v pcommon.Value) bool {
						v.CopyTo(lr.Attributes().PutEmpty("resource." + key))
						return true
					})
					out = append(out, lr)
				}
			}
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func eventIDs(records []plog.LogRecord) map[string]int {
	ids := map[string]int{}
	for _, lr := range records {
		if v, ok := lr.Attributes().Get("aws.connect.event.id"); ok {
			ids[v.Str()]++
		}
	}
	return ids
}

func fixtures(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(collectortest.RepoRoot(t), "testdata", "events", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// events makes n agent events from the fixtures, in turn, each with its own EventId.
func events(t *testing.T, prefix string, n int) (keys []string, ids []string, data [][]byte) {
	files := fixtures(t)
	for i := range n {
		raw, err := os.ReadFile(files[i%len(files)])
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(raw, &ev))
		id := fmt.Sprintf("%s-%04d", prefix, i)
		ev["EventId"] = id
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		keys, ids, data = append(keys, ev["AgentARN"].(string)), append(ids, id), append(data, b)
	}
	return keys, ids, data
}

func TestCollectorBinaryDeliversEveryEventAcrossRestart(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "connect-agent-events"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()

	keys, firstIDs, data := events(t, "first", 60)
	keys = append(keys, "garbage-key")
	data = append(data, []byte(`{"EventType": "STATE_CHANGE", "CurrentAgentSnapshot": `))
	srv.Put(t, stream, keys, data)

	out1 := filepath.Join(dir, "out1.json")
	c := startCollector(t, dir, stream, srv.Endpoint, out1)
	var got []plog.LogRecord
	require.Eventually(t, func() bool {
		got = readLogs(t, out1)
		return len(got) >= len(data)
	}, 90*time.Second, 200*time.Millisecond, "the collector wrote %d of %d records", len(got), len(data))
	c.Stop(t)
	got = readLogs(t, out1)
	ids := eventIDs(got)
	for _, id := range firstIDs {
		assert.Equal(t, 1, ids[id], "event %s", id)
	}
	assert.Len(t, got, len(data), "one log record per Kinesis record")

	// One record in full: one made from the sample with two contacts, an ENDED chat among them.
	sampleIDs := map[string]bool{}
	for i, f := range fixtures(t) {
		if filepath.Base(f) == "state_change_two_contacts.json" {
			for j := i; j < len(firstIDs); j += len(fixtures(t)) {
				sampleIDs[firstIDs[j]] = true
			}
		}
	}
	require.NotEmpty(t, sampleIDs)
	var sample, garbage plog.LogRecord
	for _, lr := range got {
		if v, ok := lr.Attributes().Get("aws.connect.event.id"); ok && sampleIDs[v.Str()] {
			sample = lr
		}
		if _, ok := lr.Attributes().Get("error.type"); ok {
			garbage = lr
		}
	}
	require.NotEqual(t, plog.LogRecord{}, sample, "no record of state_change_two_contacts.json in the output")
	assert.Equal(t, "aws.connect.agent.state_change", sample.EventName())
	assert.Equal(t, plog.SeverityNumberInfo, sample.SeverityNumber())
	assert.NotZero(t, sample.Timestamp())
	assert.NotZero(t, sample.ObservedTimestamp())
	attrs := sample.Attributes().AsRaw()
	assert.Equal(t, "aws", attrs["resource.cloud.provider"])
	assert.Equal(t, "us-east-1", attrs["resource.cloud.region"])
	assert.Equal(t, "123456789012", attrs["resource.cloud.account.id"])
	assert.Equal(t, "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333", attrs["resource.cloud.resource_id"])
	assert.Equal(t, "a1b2c3d4-5678-90ab-cdef-111122223333", attrs["resource.aws.connect.instance.id"])
	assert.Equal(t, "mgarcia", attrs["aws.connect.agent.username"])
	assert.Equal(t, "Available", attrs["aws.connect.agent.status.name"])
	assert.Equal(t, "ROUTABLE", attrs["aws.connect.agent.status.type"])
	assert.Equal(t, "Basic Routing Profile", attrs["aws.connect.routing_profile.name"])
	assert.Equal(t, stream, attrs["aws.kinesis.stream_name"])
	assert.True(t, strings.HasPrefix(attrs["aws.kinesis.shard_id"].(string), "shardId-"))
	assert.NotEmpty(t, attrs["aws.kinesis.sequence_number"])
	body := sample.Body().Map().AsRaw()
	contacts := body["CurrentAgentSnapshot"].(map[string]any)["Contacts"].([]any)
	require.Len(t, contacts, 2)
	assert.Equal(t, "ENDED", contacts[1].(map[string]any)["State"])

	require.NotEqual(t, plog.LogRecord{}, garbage, "the truncated record is in the output")
	assert.Equal(t, plog.SeverityNumberError, garbage.SeverityNumber())
	assert.Contains(t, garbage.Body().Str(), `"CurrentAgentSnapshot": `)
	errType, _ := garbage.Attributes().Get("error.type")
	assert.Equal(t, "invalid_json", errType.Str())

	// A restart reads on from the checkpoint: only the new events are written.
	keys, secondIDs, data := events(t, "second", 25)
	srv.Put(t, stream, keys, data)
	out2 := filepath.Join(dir, "out2.json")
	c = startCollector(t, dir, stream, srv.Endpoint, out2)
	require.Eventually(t, func() bool { return len(readLogs(t, out2)) >= len(data) }, 90*time.Second, 200*time.Millisecond)
	time.Sleep(time.Second) // room for a redelivery, were there one
	c.Stop(t)
	ids = eventIDs(readLogs(t, out2))
	assert.Len(t, ids, len(secondIDs), "after the restart only the new events are written")
	for _, id := range secondIDs {
		assert.Equal(t, 1, ids[id], "event %s", id)
	}
}
