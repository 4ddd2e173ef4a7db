package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// Personal data the events below carry, each spelled so it cannot occur by chance.
var personalData = []string{"Zelindra", "Quorvathy", "zquorvathy", "Vexmoor"}

// withNames gives the events' agents the names of personalData, and their hierarchy
// groups too, and returns the agents' IDs (the end of their ARNs).
func withNames(t *testing.T, data [][]byte) (agentIDs []string) {
	seen := map[string]bool{}
	for i := range data {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(data[i], &ev))
		for _, snap := range []string{"CurrentAgentSnapshot", "PreviousAgentSnapshot"} {
			s, _ := ev[snap].(map[string]any)
			c, _ := s["Configuration"].(map[string]any)
			if c == nil {
				continue
			}
			c["FirstName"], c["LastName"], c["Username"] = fmt.Sprintf("Zelindra%d", i), fmt.Sprintf("Quorvathy%d", i), fmt.Sprintf("zquorvathy%d", i)
			c["AgentHierarchyGroups"] = map[string]any{"Level1": map[string]any{"ARN": "arn:aws:connect:us-east-1:123456789012:instance/x/agent-group/g", "Name": "Vexmoor Team"}}
		}
		arn := ev["AgentARN"].(string)
		if id := arn[strings.LastIndex(arn, "/")+1:]; !seen[id] {
			seen[id] = true
			agentIDs = append(agentIDs, id)
		}
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		data[i] = b
	}
	return agentIDs
}

// TestRedactNeverLeaks runs the built collector with redact (hash, agent ARNs too), the
// most talkative settings (debug logs, the detailed debug exporter), the file exporter
// and an OTLP exporter whose backend is down, so that everything waits in its queue in
// queue_storage. Events carry known names, and malformed records hold names too; no name
// and no agent ID may show in the collector's output, the exported file, or any file of
// the storage directory.
func TestRedactNeverLeaks(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "redact"
	srv.CreateStream(t, stream, 1)
	keys, ids, data := events(t, "redact", 20)
	agentIDs := withNames(t, data)
	malformed := [][]byte{
		[]byte(`{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"FirstName":"Zelindra","LastName":"Quorvathy"`), // truncated
		[]byte(`{"EventType":"LOGIN","EventTimestamp":"zquorvathy at noon"}`),                                                 // the name in a bad timestamp
		[]byte(`{"EventType":"LOGIN","Vexmoor":1,"Vexmoor":2}`),                                                               // a name as a repeated key
		[]byte("{\"EventType\":\"LOGIN\",\"Username\":\"Zelindra\xff\"}"),                                                     // invalid UTF-8
	}
	for _, m := range malformed {
		keys, data = append(keys, "arn:aws:connect:us-east-1:123456789012:instance/x/agent/"+agentIDs[0]), append(data, m)
	}
	srv.Put(t, stream, keys, data)

	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	c := runCollector(t, dir, collectortest.Config{
		Stream: stream, Endpoint: srv.Endpoint, StorageDir: filepath.Join(dir, "storage"),
		Receiver: map[string]any{"redact": map[string]any{"mode": "hash", "salt": "e2e-pepper", "agent_arn": true}},
		Exporters: map[string]any{
			"file":  collectortest.FileExporter(out),
			"debug": map[string]any{"verbosity": "detailed"},
			// Nothing listens there: the queue on disk fills with what it could not send.
			"otlp_grpc": collectortest.OTLPExporter(fmt.Sprintf("127.0.0.1:%d", kinesistest.FreePort(t)), nil, nil),
		},
		Logs:      &collectortest.Pipeline{Exporters: []string{"file", "debug", "otlp_grpc"}},
		Telemetry: map[string]any{"logs": map[string]any{"level": "debug"}, "metrics": map[string]any{"level": "none"}},
	})
	require.Eventually(t, func() bool { return len(readLogs(t, out)) == len(ids)+len(malformed) }, 60*time.Second, 200*time.Millisecond,
		"every event and malformed record is exported")
	time.Sleep(time.Second) // the OTLP exporter's queue has them too, on disk
	c.Stop(t)

	exported, err := os.ReadFile(out)
	require.NoError(t, err)
	printed := c.Output()
	require.Contains(t, printed, "aws.connect.event.id", "the debug exporter printed the events, so the check looks at real output")
	require.Contains(t, printed, "duplicate_key", "and the malformed records")
	stored := storageFiles(t, filepath.Join(dir, "storage"))
	require.Contains(t, stored, ids[0], "the exporter queue in queue_storage holds the events")

	for _, secret := range append(append([]string{}, personalData...), agentIDs...) {
		assert.NotContains(t, printed, secret, "the collector's output")
		assert.NotContains(t, string(exported), secret, "the exported file")
		assert.NotContains(t, stored, secret, "the storage directory")
	}
	assert.Contains(t, string(exported), "sha256:", "the pseudonyms are there instead")
}

// storageFiles returns the contents of every file under dir, joined.
func storageFiles(t *testing.T, dir string) string {
	var all strings.Builder
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		all.Write(b)
		return nil
	}))
	require.Positive(t, n, "the storage extensions wrote files")
	return all.String()
}
