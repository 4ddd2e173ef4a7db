package configs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readyConfigs are the configurations a user copies; demo.yaml is the `make run` demo.
var readyConfigs = []string{
	"datadog-agent.yaml",
	"datadog-agentless.yaml",
	"grafana-cloud.yaml",
	"honeycomb.yaml",
	"kubernetes-fleet.yaml",
	"prometheus-remote-write.yaml",
}

// fleetConfigs run as several replicas on one stream: checkpoints in the lease table
// instead of file_storage, and an exporter queue in memory whose caller waits for the
// export, instead of one on disk.
var fleetConfigs = map[string]bool{"kubernetes-fleet.yaml": true}

// configFiles lists config/*.yaml, checking the known ones are there.
func configFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "*.yaml"))
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range files {
		names[filepath.Base(f)] = true
	}
	for _, want := range append([]string{"demo.yaml"}, readyConfigs...) {
		require.True(t, names[want], "config/%s is missing", want)
	}
	sort.Strings(files)
	return files
}

// TestConfigsValidate runs the built binary's validate command over every config/*.yaml,
// with each required ${env:NAME} set to a dummy value and each ${env:NAME:-default} left
// unset, so its default is what is validated.
func TestConfigsValidate(t *testing.T) {
	bin := binary(t)
	for _, file := range configFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			content, err := os.ReadFile(file)
			require.NoError(t, err)
			set := map[string]string{}
			var unset []string
			for name, hasDefault := range envVars(string(content)) {
				if hasDefault {
					unset = append(unset, name)
				} else {
					set[name] = dummyValue(t, name)
				}
			}
			sort.Strings(unset)
			out, err := validate(t, file, set, unset)
			if err != nil {
				var env []string
				for name, value := range set {
					env = append(env, name+"="+value)
				}
				sort.Strings(env)
				t.Fatalf("%s validate --config %s failed (%v)\nset: %s\nunset (defaults apply): %s\noutput:\n%s",
					bin, file, err, strings.Join(env, " "), strings.Join(unset, " "), out)
			}
		})
	}
}

// TestConfigsRequiredVariablesAreRequired checks the negative side of the above: a ready
// config with none of its variables set does not validate, so a user who forgets the
// stream name hears about it at start rather than reading nothing.
func TestConfigsRequiredVariablesAreRequired(t *testing.T) {
	for _, name := range readyConfigs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(repoRoot(t), "config", name)
			content, err := os.ReadFile(file)
			require.NoError(t, err)
			vars := envVars(string(content))
			require.Contains(t, vars, "CONNECT_STREAM_NAME")
			require.False(t, vars["CONNECT_STREAM_NAME"], "CONNECT_STREAM_NAME must have no default")
			var all []string
			for v := range vars {
				all = append(all, v)
			}
			out, err := validate(t, file, nil, all)
			require.Error(t, err, "validate passed with no variables set; output:\n%s", out)
			assert.Contains(t, out, "stream_name or stream_arn is required", "output:\n%s", out)
		})
	}
}

// TestValidateNamesTheMisspelledKey is the negative control of TestConfigsValidate: the
// same command rejects a misspelled aws_connect key and names it, and accepts the
// configuration once the key is spelled right.
func TestValidateNamesTheMisspelledKey(t *testing.T) {
	const template = `
receivers:
  aws_connect:
    %s: connect-agent-events
    region: %s
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [aws_connect]
      exporters: [debug]
`
	for _, tc := range []struct {
		name, key, region string
		wantOK            bool
		wantInOutput      []string
	}{
		{name: "correct", key: "stream_name", region: "us-east-1", wantOK: true},
		{name: "misspelled key", key: "stream_nmae", region: "us-east-1",
			wantInOutput: []string{"aws_connect", "stream_nmae"}},
		{name: "bad value", key: "stream_name", region: "narnia",
			wantInOutput: []string{"aws_connect", `region "narnia"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "config.yaml")
			require.NoError(t, os.WriteFile(file, []byte(fmt.Sprintf(template, tc.key, tc.region)), 0o600))
			out, err := validate(t, file, nil, nil)
			if tc.wantOK {
				require.NoError(t, err, "output:\n%s", out)
				return
			}
			require.Error(t, err, "validate accepted the configuration; output:\n%s", out)
			for _, want := range tc.wantInOutput {
				assert.Contains(t, out, want, "validate's output should name %q", want)
			}
		})
	}
}

// TestReadyConfigsShape checks what every ready config promises: the aws_connect receiver
// with its checkpoints in file_storage (directory from the environment), beside it
// aws_connect/contacts and aws_connect/ctr reading the contact events and contact records
// (stream names from the environment, with defaults), a logs and a
// metrics pipeline each starting with memory_limiter and without the batch processor
// (which acknowledges data still in memory, so a crash would lose what the receiver
// already checkpointed), logs exported through a queue kept on disk in queue_storage, and
// the health_check, file_storage and queue_storage extensions. A fleet config keeps its checkpoints in the
// lease table instead, and its exporter's queue in memory with the caller waiting for
// the export, so a killed replica loses nothing without a volume.
func TestReadyConfigsShape(t *testing.T) {
	for _, name := range readyConfigs {
		t.Run(name, func(t *testing.T) {
			cfg := readYAML(t, filepath.Join(repoRoot(t), "config", name))
			fleet := fleetConfigs[name]
			assert.Equal(t, "${env:CONNECT_STREAM_NAME}", dig(cfg, "receivers", "aws_connect", "stream_name"))
			assert.Equal(t, "${env:AWS_REGION}", dig(cfg, "receivers", "aws_connect", "region"))
			// The queue side: contact events and contact records, each from a stream of its own.
			for id, want := range map[string]struct{ records, stream string }{
				"aws_connect/contacts": {"contact_events", "${env:CONNECT_CONTACT_EVENTS_STREAM_NAME:-connect-contact-events}"},
				"aws_connect/ctr":      {"contact_records", "${env:CONNECT_CONTACT_RECORDS_STREAM_NAME:-connect-contact-records}"},
			} {
				assert.Equal(t, want.records, dig(cfg, "receivers", id, "records"), "receiver %s", id)
				assert.Equal(t, want.stream, dig(cfg, "receivers", id, "stream_name"), "receiver %s", id)
				assert.Equal(t, "${env:AWS_REGION}", dig(cfg, "receivers", id, "region"), "receiver %s", id)
				if fleet {
					assert.Nil(t, dig(cfg, "receivers", id, "storage"), "receiver %s: a fleet keeps its checkpoints in the lease table", id)
					table, _ := dig(cfg, "receivers", id, "leases", "table_name").(string)
					assert.Contains(t, table, "${env:", "receiver %s: leases::table_name should come from the environment", id)
					assert.NotEqual(t, dig(cfg, "receivers", "aws_connect", "leases", "table_name"), table, "receiver %s: one lease table per stream", id)
				} else {
					assert.Equal(t, "file_storage", dig(cfg, "receivers", id, "storage"), "receiver %s", id)
				}
			}
			if fleet {
				assert.Nil(t, dig(cfg, "receivers", "aws_connect", "storage"), "a fleet keeps its checkpoints in the lease table")
				table, _ := dig(cfg, "receivers", "aws_connect", "leases", "table_name").(string)
				assert.Contains(t, table, "${env:", "leases::table_name should come from the environment")
				assert.Equal(t, []string{"health_check"}, stringList(dig(cfg, "service", "extensions")))
			} else {
				assert.Equal(t, "file_storage", dig(cfg, "receivers", "aws_connect", "storage"))
				dir, _ := dig(cfg, "extensions", "file_storage", "directory").(string)
				assert.Contains(t, dir, "${env:", "file_storage::directory should come from the environment")
				queueDir, _ := dig(cfg, "extensions", "queue_storage", "directory").(string)
				assert.Contains(t, queueDir, "${env:", "queue_storage::directory should come from the environment")
				assert.NotEqual(t, dir, queueDir, "queue_storage has a directory of its own")
				assert.ElementsMatch(t, []string{"health_check", "file_storage", "queue_storage"}, stringList(dig(cfg, "service", "extensions")))
			}
			for _, pipeline := range []string{"logs", "metrics"} {
				p := dig(cfg, "service", "pipelines", pipeline)
				require.NotNil(t, p, "pipeline %s missing", pipeline)
				assert.Equal(t, []string{"aws_connect", "aws_connect/contacts", "aws_connect/ctr"}, stringList(dig(p, "receivers")), "pipeline %s receivers", pipeline)
				procs := stringList(dig(p, "processors"))
				require.NotEmpty(t, procs, "pipeline %s processors", pipeline)
				assert.Equal(t, "memory_limiter", procs[0], "pipeline %s: memory_limiter comes first", pipeline)
				for _, proc := range procs {
					assert.NotEqual(t, "batch", strings.SplitN(proc, "/", 2)[0], "pipeline %s: no batch processor; batch in the exporter's queue", pipeline)
				}
				exporters := stringList(dig(p, "exporters"))
				assert.NotEmpty(t, exporters, "pipeline %s exporters", pipeline)
				if pipeline != "logs" {
					continue
				}
				for _, exp := range exporters {
					if strings.HasPrefix(exp, "debug") {
						continue // a trial stand-in for a log backend, said so in the file
					}
					if fleet {
						assert.Equal(t, true, dig(cfg, "exporters", exp, "sending_queue", "wait_for_result"), "exporter %s: the receiver waits for the export", exp)
						assert.Nil(t, dig(cfg, "exporters", exp, "sending_queue", "storage"), "exporter %s: wait_for_result excludes storage", exp)
					} else {
						assert.Equal(t, "queue_storage", dig(cfg, "exporters", exp, "sending_queue", "storage"), "exporter %s queues on disk", exp)
					}
					assert.NotNil(t, dig(cfg, "exporters", exp, "sending_queue", "batch"), "exporter %s batches in its queue", exp)
					assert.EqualValues(t, 0, dig(cfg, "exporters", exp, "retry_on_failure", "max_elapsed_time"), "exporter %s never gives up on logs", exp)
				}
			}
		})
	}
}

// deprecatedTypes are component types of v0.161.0 kept only as aliases: the collector
// logs a deprecation warning at every start of a config that uses them.
var deprecatedTypes = map[string]string{"otlp": "otlp_grpc", "otlphttp": "otlp_http"}

// TestConfigsUseCurrentExporterNames: no config in config/ starts with a deprecation
// warning (validate does not print them, so the names are checked here).
func TestConfigsUseCurrentExporterNames(t *testing.T) {
	for _, file := range configFiles(t) {
		cfg := readYAML(t, file)
		exporters, _ := dig(cfg, "exporters").(map[string]any)
		require.NotEmpty(t, exporters, "%s has no exporters", file)
		for id := range exporters {
			typ, _, _ := strings.Cut(id, "/")
			if current, ok := deprecatedTypes[typ]; ok {
				t.Errorf("%s: exporter %s uses the deprecated type %s: name it %s", filepath.Base(file), id, typ, current)
			}
		}
	}
}

// TestConfigsPutInstanceLabelOnEverySeries pins what the dashboard's instance variable
// relies on: the configs that feed Prometheus-compatible stores put
// aws.connect.instance.id (label aws_connect_instance_id) on every series.
func TestConfigsPutInstanceLabelOnEverySeries(t *testing.T) {
	root := repoRoot(t)

	rw := readYAML(t, filepath.Join(root, "config", "prometheus-remote-write.yaml"))
	assert.Contains(t, stringList(dig(rw, "exporters", "prometheusremotewrite", "resource_constant_labels", "included")),
		"aws.connect.instance.id")

	gc := readYAML(t, filepath.Join(root, "config", "grafana-cloud.yaml"))
	procs := stringList(dig(gc, "service", "pipelines", "metrics", "processors"))
	assert.Contains(t, procs, "transform/instance_label")
	var statements []string
	groups, _ := dig(gc, "processors", "transform/instance_label", "metric_statements").([]any)
	for _, g := range groups {
		statements = append(statements, stringList(dig(g, "statements"))...)
	}
	assert.True(t, containsSubstring(statements,
		`set(attributes["aws.connect.instance.id"], resource.attributes["aws.connect.instance.id"])`),
		"grafana-cloud.yaml should copy aws.connect.instance.id onto the data points; statements: %q", statements)
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestEnvVars pins the discovery of variables the validate test relies on.
func TestEnvVars(t *testing.T) {
	got := envVars(`
a: ${env:REQUIRED}
b: "Basic ${env:AUTH}" # ${env:IN_COMMENT}
c: https://otlp.${env:SITE:-datadoghq.com}/v1/logs
# d: ${env:COMMENTED_OUT}
e: ${env:BOTH:-x}
f: ${env:BOTH}
g: "${env:EMPTY_DEFAULT:-}"
`)
	assert.Equal(t, map[string]bool{"REQUIRED": false, "AUTH": false, "SITE": true, "BOTH": false, "EMPTY_DEFAULT": true}, got)
}

// requestless exporter types send no requests to a backend: they print, write a file,
// or are scraped.
var requestless = map[string]bool{"debug": true, "file": true, "prometheus": true}

// maxRequestBytes is the most any exporter may put in one request: the 4 MiB a gRPC
// server (and so the collector's OTLP receiver, by default) takes in one message.
const maxRequestBytes = 4 << 20

// TestConfigsBoundRequestsInBytes: every exporter of a logs or metrics pipeline, in
// every config and in the README's shape, bounds its requests in bytes, under 4 MiB, so a
// backlog read in 10,000-record batches reaches the backend in requests it takes. Counted
// in items, a batch of 10,000 events of 3-5 KB is 30-50 MB, and a gateway with the OTLP
// receiver's defaults refuses it whole; the exporter then drops it.
func TestConfigsBoundRequestsInBytes(t *testing.T) {
	cfgs := map[string]map[string]any{"README.md": readmeShape(t)}
	for _, file := range configFiles(t) {
		cfgs[filepath.Base(file)] = readYAML(t, file)
	}
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			checked := 0
			for _, pipeline := range []string{"logs", "metrics"} {
				for _, exp := range stringList(dig(cfg, "service", "pipelines", pipeline, "exporters")) {
					typ, _, _ := strings.Cut(exp, "/")
					e := dig(cfg, "exporters", exp)
					switch {
					case requestless[typ]:
						continue
					case typ == "prometheusremotewrite":
						n, ok := number(dig(e, "max_batch_size_bytes"))
						assert.True(t, ok && n > 0 && n <= maxRequestBytes,
							"exporter %s: max_batch_size_bytes should be set, at most %d; it is %v", exp, maxRequestBytes, dig(e, "max_batch_size_bytes"))
					case typ == "otlp_grpc" || typ == "otlp_http":
						batch := dig(e, "sending_queue", "batch")
						require.NotNil(t, batch, "exporter %s batches in its sending_queue", exp)
						assert.Equal(t, "bytes", dig(batch, "sizer"), "exporter %s: sending_queue::batch::sizer should be bytes", exp)
						maxSize, ok := number(dig(batch, "max_size"))
						assert.True(t, ok && maxSize > 0 && maxSize <= maxRequestBytes,
							"exporter %s: sending_queue::batch::max_size should be 1 to %d bytes; it is %v", exp, maxRequestBytes, dig(batch, "max_size"))
						// A record bigger than max_size cannot be split and is dropped: a Kinesis
						// record holds up to 1 MiB, and its log record a little more.
						assert.GreaterOrEqual(t, maxSize, int64(2<<20), "exporter %s: max_size below 2 MiB would drop a large record", exp)
						minSize, _ := number(dig(batch, "min_size"))
						assert.LessOrEqual(t, minSize, maxSize, "exporter %s: min_size above max_size", exp)
					default:
						t.Errorf("exporter %s: this test does not know how %s bounds its requests; teach it", exp, typ)
					}
					checked++
				}
			}
			if name != "demo.yaml" { // the demo prints and serves a scrape page: no requests
				assert.Positive(t, checked, "no exporter that sends requests was checked")
			}
		})
	}
}

// number reads a YAML integer.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// readmeShape is the YAML block of the README's "Pointing it at your stream".
func readmeShape(t *testing.T) map[string]any {
	t.Helper()
	content, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(content), "\n## Pointing it at your stream")
	require.True(t, ok, "README.md has no section \"Pointing it at your stream\"")
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok, "no YAML block in the README's \"Pointing it at your stream\"")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok, "unterminated YAML block in the README")
	path := filepath.Join(t.TempDir(), "shape.yaml")
	require.NoError(t, os.WriteFile(path, []byte(block), 0o600))
	return readYAML(t, path)
}
