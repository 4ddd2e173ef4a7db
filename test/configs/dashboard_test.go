package configs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// histograms are the receiver's histograms, which mdatagen cannot generate: they are
// declared in config.go's MetricsConfig and documented in README.md, not in
// metadata.yaml's metrics section. All are in seconds.
var histograms = map[string]string{
	"aws.connect.agent.status.duration":               "s",
	"aws.connect.contact.after_contact_work.duration": "s",
	"aws.connect.queue.wait.duration":                 "s",
	"aws.connect.contact.handle.duration":             "s",
	"aws.connect.contact.hold.duration":               "s",
}

// maxima are the series whose value across the collectors of a fleet is their maximum,
// not their sum: each collector knows the oldest contact of its own shards, and each
// says 1 for a queue whose name it knows.
var maxima = map[string]bool{"aws_connect_queue_oldest_contact_age_seconds": true, "aws_connect_queue_info": true}

// promName is the Prometheus name the collector's Prometheus exporters (and Grafana
// Cloud's OTLP ingestion) give a metric by default: dots become underscores, and a unit
// suffix is added; annotations in braces such as {agent} add none.
func promName(t *testing.T, name, unit string) string {
	base := strings.ReplaceAll(name, ".", "_")
	switch {
	case unit == "" || strings.HasPrefix(unit, "{"):
		return base
	case unit == "s":
		return base + "_seconds"
	case unit == "ms":
		return base + "_milliseconds"
	default:
		t.Fatalf("metric %s has unit %q, which this test does not translate yet: add its Prometheus suffix to promName", name, unit)
		return ""
	}
}

// receiverMetrics maps every Prometheus series name the receiver's metrics produce to the
// OTLP metric name, and returns the label names its attributes become and which series
// belong to (cumulative) histograms.
func receiverMetrics(t *testing.T) (series map[string]string, labels, histogramSeries map[string]bool) {
	t.Helper()
	root := repoRoot(t)
	md := readYAML(t, filepath.Join(root, "receiver", "awsconnectreceiver", "metadata.yaml"))
	series = map[string]string{}
	labels = map[string]bool{}
	histogramSeries = map[string]bool{}

	metrics, ok := dig(md, "metrics").(map[string]any)
	require.True(t, ok && len(metrics) > 0, "metadata.yaml has no metrics section")
	for name, def := range metrics {
		unit, _ := dig(def, "unit").(string)
		if dig(def, "histogram") != nil {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				series[promName(t, name, unit)+suffix] = name
				histogramSeries[promName(t, name, unit)+suffix] = true
			}
			continue
		}
		if dig(def, "sum") != nil {
			// A monotonic cumulative sum is a Prometheus counter, named with _total.
			require.Equal(t, true, dig(def, "sum", "monotonic"), "metadata.yaml metric %s is a sum that is not monotonic: teach this test its Prometheus name", name)
			series[promName(t, name, unit)+"_total"] = name
			continue
		}
		series[promName(t, name, unit)] = name
	}

	// The histograms: assert they still exist where the brief says they are declared.
	configGo, err := os.ReadFile(filepath.Join(root, "receiver", "awsconnectreceiver", "config.go"))
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	for name, unit := range histograms {
		require.Contains(t, string(configGo), fmt.Sprintf("mapstructure:%q", name), "histogram %s is no longer in config.go's MetricsConfig", name)
		require.Contains(t, string(readme), "`"+name+"`", "histogram %s is no longer documented in README.md", name)
		require.NotContains(t, series, promName(t, name, unit)+"_bucket", "histogram %s now in metadata.yaml too: drop it from this test's list", name)
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			series[promName(t, name, unit)+suffix] = name
			histogramSeries[promName(t, name, unit)+suffix] = true
		}
	}

	for _, section := range []string{"attributes", "resource_attributes"} {
		attrs, _ := dig(md, section).(map[string]any)
		require.NotEmpty(t, attrs, "metadata.yaml has no %s", section)
		for name := range attrs {
			labels[strings.ReplaceAll(name, ".", "_")] = true
		}
	}
	return series, labels, histogramSeries
}

// dashboard is the parts of a Grafana dashboard the tests look at.
type dashboard struct {
	Title       string  `json:"title"`
	UID         string  `json:"uid"`
	Description string  `json:"description"`
	Panels      []panel `json:"panels"`
	Templating  struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *datasource `json:"datasource"`
	GridPos     *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Format     string      `json:"format"`
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *datasource     `json:"datasource"`
}

// queryText is a query variable's query, which Grafana stores as a string or as an
// object with a "query" field.
func (v variable) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var obj struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &obj) == nil {
		return obj.Query
	}
	return ""
}

func loadDashboard(t *testing.T) (dashboard, []byte) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "config", "grafana", "amazon-connect.json")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d), "%s is not valid JSON", path)
	return d, raw
}

// allPanels flattens rows, including the panels kept inside collapsed rows.
func allPanels(panels []panel) []panel {
	var out []panel
	for _, p := range panels {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// targetType is the data source type a target queries: its own, else its panel's.
func targetType(p panel, tg target) string {
	if tg.Datasource != nil && tg.Datasource.Type != "" {
		return tg.Datasource.Type
	}
	if p.Datasource != nil {
		return p.Datasource.Type
	}
	return ""
}

// identifier is a PromQL identifier starting aws_connect_: a metric or a label name.
var identifier = regexp.MustCompile(`(?:^|[^A-Za-z0-9_:])(aws_connect_[A-Za-z0-9_]+)`)

func identifiers(expr string) []string {
	var out []string
	for _, m := range identifier.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDashboardQueriesOnlyReceiverMetrics checks every aws_connect_* name in the
// dashboard's Prometheus queries (panels and variables) is a series the receiver
// produces or a label its attributes become, and that every metric of the receiver
// appears in at least one panel.
func TestDashboardQueriesOnlyReceiverMetrics(t *testing.T) {
	series, labels, _ := receiverMetrics(t)
	d, _ := loadDashboard(t)

	used := map[string][]string{} // OTLP metric name -> panels using it
	check := func(where, expr string, countUse bool) {
		for _, id := range identifiers(expr) {
			if labels[id] {
				continue
			}
			metric, ok := series[id]
			if !assert.True(t, ok, "%s queries %q, which is neither a series of the receiver's metrics nor a label of their attributes\nexpr: %s", where, id, expr) {
				continue
			}
			if countUse {
				used[metric] = append(used[metric], where)
			}
		}
	}
	promTargets := 0
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			if targetType(p, tg) != "prometheus" {
				continue
			}
			promTargets++
			check(fmt.Sprintf("panel %q (%s)", p.Title, tg.RefID), tg.Expr, true)
		}
	}
	require.NotZero(t, promTargets, "the dashboard has no Prometheus queries")
	for _, v := range d.Templating.List {
		if v.Type == "query" && v.Datasource != nil && v.Datasource.Type == "prometheus" {
			check(fmt.Sprintf("variable %q", v.Name), v.queryText(), false)
			check(fmt.Sprintf("variable %q definition", v.Name), v.Definition, false)
		}
	}

	var all []string
	for _, metric := range series {
		all = append(all, metric)
	}
	sort.Strings(all)
	for i, metric := range all {
		if i > 0 && all[i-1] == metric {
			continue
		}
		assert.NotEmpty(t, used[metric], "metric %s (from metadata.yaml or the receiver's histograms) is in no dashboard panel", metric)
	}
}

// TestDashboardIsWellFormed checks the JSON is a dashboard Grafana can import: every
// panel has a title and a data source that is one of the dashboard's data-source
// variables, every query has a refId and an expression, cumulative histograms are read
// through rate or increase, every $variable is declared, and panels fit the 24-column grid.
func TestDashboardIsWellFormed(t *testing.T) {
	_, _, histogramSeries := receiverMetrics(t)
	d, raw := loadDashboard(t)
	assert.NotEmpty(t, d.Title)
	assert.NotEmpty(t, d.UID)
	assert.Contains(t, d.Description, "aws_connect_instance_id", "the description should explain where the instance label comes from")
	require.NotEmpty(t, d.Panels)

	// Data-source variables: name -> plugin type.
	dsVars := map[string]string{}
	declared := map[string]bool{}
	for _, v := range d.Templating.List {
		require.NotEmpty(t, v.Name)
		declared[v.Name] = true
		if v.Type == "datasource" {
			var pluginType string
			require.NoError(t, json.Unmarshal(v.Query, &pluginType), "datasource variable %s", v.Name)
			dsVars[v.Name] = pluginType
		}
		if v.Type == "query" {
			require.NotNil(t, v.Datasource, "variable %s has no data source", v.Name)
			assert.Equal(t, "${datasource}", v.Datasource.UID, "variable %s", v.Name)
		}
	}
	assert.Equal(t, "prometheus", dsVars["datasource"], "a `datasource` variable over Prometheus data sources")
	assert.Equal(t, "loki", dsVars["loki"], "a `loki` variable over Loki data sources")
	for _, name := range []string{"instance", "routing_profile", "queue"} {
		assert.True(t, declared[name], "variable %s", name)
	}

	checkDS := func(where string, ds *datasource) {
		if !assert.NotNil(t, ds, "%s has no datasource", where) {
			return
		}
		name := strings.TrimSuffix(strings.TrimPrefix(ds.UID, "${"), "}")
		pluginType, ok := dsVars[name]
		if assert.True(t, ok, "%s: datasource uid %q is not one of the dashboard's data-source variables", where, ds.UID) {
			assert.Equal(t, pluginType, ds.Type, "%s: datasource type", where)
		}
	}

	varRef := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	ids := map[int]string{}
	panels := allPanels(d.Panels)
	var logPanels int
	for _, p := range panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		assert.NotEmpty(t, strings.TrimSpace(p.Title), "panel %d (%s) has no title", p.ID, p.Type)
		checkDS(where, p.Datasource)
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if assert.NotNil(t, p.GridPos, "%s has no gridPos", where) {
			assert.True(t, p.GridPos.W > 0 && p.GridPos.H > 0 && p.GridPos.X >= 0 && p.GridPos.X+p.GridPos.W <= 24,
				"%s: gridPos %+v outside the 24-column grid", where, *p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Type == "logs" {
			logPanels++
		}
		require.NotEmpty(t, p.Targets, "%s has no queries", where)
		refIDs := map[string]bool{}
		for _, tg := range p.Targets {
			assert.NotEmpty(t, tg.RefID, "%s: a query without refId", where)
			assert.False(t, refIDs[tg.RefID], "%s: refId %s twice", where, tg.RefID)
			refIDs[tg.RefID] = true
			assert.NotEmpty(t, strings.TrimSpace(tg.Expr), "%s (%s): empty expression", where, tg.RefID)
			if tg.Datasource != nil {
				checkDS(where+" query "+tg.RefID, tg.Datasource)
			}
			for _, m := range varRef.FindAllStringSubmatch(tg.Expr, -1) {
				if !strings.HasPrefix(m[1], "__") {
					assert.True(t, declared[m[1]], "%s (%s) uses $%s, which is not a dashboard variable", where, tg.RefID, m[1])
				}
			}
			// Histogram series are cumulative: only their rate or increase means anything.
			for _, id := range identifiers(tg.Expr) {
				if histogramSeries[id] {
					assert.Regexp(t, `\b(rate|increase)\(\s*`+id+`\b`, tg.Expr,
						"%s (%s): %s is a cumulative histogram series, read it through rate() or increase()", where, tg.RefID, id)
				}
			}
			if p.Type == "heatmap" {
				assert.Equal(t, "heatmap", tg.Format, "%s: a heatmap query needs format heatmap", where)
				assert.Contains(t, tg.Expr, "_bucket", "%s: a heatmap reads histogram buckets", where)
			}
		}
	}
	assert.Positive(t, logPanels, "an event-log panel (Loki)")

	var heatmaps []string
	for _, p := range panels {
		if p.Type == "heatmap" {
			heatmaps = append(heatmaps, p.Targets[0].Expr)
		}
	}
	assert.True(t, containsSubstring(heatmaps, "aws_connect_agent_status_duration_seconds_bucket"), "a heatmap of the status durations")
	assert.True(t, containsSubstring(heatmaps, "aws_connect_contact_after_contact_work_duration_seconds_bucket"), "a heatmap of the after contact work durations")

	// The real-time stat row: one stat per Amazon Connect real-time agent metric.
	stats := map[string]bool{}
	for _, p := range panels {
		if p.Type == "stat" {
			for _, tg := range p.Targets {
				for _, id := range identifiers(tg.Expr) {
					stats[id] = true
				}
			}
		}
	}
	for _, m := range []string{"online", "staffed", "available", "on_contact", "non_productive", "error"} {
		assert.True(t, stats["aws_connect_agent_"+m], "a stat panel for aws_connect_agent_%s", m)
	}

	// And nothing outside the fields above hides a broken reference: it re-encodes.
	var generic map[string]any
	require.NoError(t, json.Unmarshal(raw, &generic))
	_, err := json.Marshal(generic)
	require.NoError(t, err)
}

// TestIdentifiers pins the name extraction the metric check relies on.
func TestIdentifiers(t *testing.T) {
	assert.Equal(t,
		[]string{"aws_connect_channel", "aws_connect_slot_active", "aws_connect_instance_id"},
		identifiers(`sum by (aws_connect_channel) (aws_connect_slot_active{aws_connect_instance_id=~"$instance"})`))
	assert.Equal(t,
		[]string{"aws_connect_agent_status_duration_seconds_bucket"},
		identifiers(`sum by (le) (increase(aws_connect_agent_status_duration_seconds_bucket[5m]))`))
	assert.Empty(t, identifiers(`sum(not_aws_connect_agent_online)`))
}

// collectorLabels are the labels that tell apart the collectors of a fleet sharing a
// stream: the Prometheus exporters turn the resource's service.instance.id into
// `instance` (a scrape keeps it as `exported_instance`), and a backend that keeps it as a
// label of its own names it service_instance_id.
var collectorLabels = []string{"instance", "exported_instance", "service_instance_id"}

var (
	aggregation = regexp.MustCompile(`\b(sum|avg|min|max|count|group|stddev|stdvar|topk|bottomk|quantile|count_values|limitk|limit_ratio)\s*(?:(by|without)\s*\(([^)]*)\)\s*)?$`)
	postfixBy   = regexp.MustCompile(`^\s*(by|without)\s*\(([^)]*)\)`)
)

// fleetSumProblems says how expr fails to add up the receiver's series (those in metrics)
// across the collectors of a fleet: each series must be inside a sum (a max for the
// maxima), whose by-list, if any, leaves out every collector label, and must not select on
// a collector label. Each collector exports only the agents and contacts of the shards it
// holds, so anything else shows one collector's share, or a share per collector.
func fleetSumProblems(expr string, metrics map[string]bool) []string {
	var problems []string
	for _, loc := range identifier.FindAllStringSubmatchIndex(expr, -1) {
		name := expr[loc[2]:loc[3]]
		if !metrics[name] {
			continue
		}
		if sel := strings.TrimSpace(expr[loc[3]:]); strings.HasPrefix(sel, "{") {
			matchers := sel[:strings.Index(sel, "}")+1]
			for _, l := range collectorLabels {
				if regexp.MustCompile(`\b` + l + `\s*(=|!=|=~|!~)`).MatchString(matchers) {
					problems = append(problems, fmt.Sprintf("%s selects on the collector label %s", name, l))
				}
			}
		}
		op, modifier, grouping, found := enclosingAggregation(expr, loc[2])
		want := "sum"
		if maxima[name] {
			want = "max"
		}
		switch {
		case !found:
			problems = append(problems, fmt.Sprintf("%s is not aggregated: wrap it in %s(...) or %s by (...)(...)", name, want, want))
		case op != want:
			problems = append(problems, fmt.Sprintf("%s is aggregated with %s, not %s: collectors hold parts of the contact center", name, op, want))
		case modifier == "without":
			problems = append(problems, fmt.Sprintf("%s is summed without (...): use sum by (...) with the labels to keep", name))
		default:
			for _, g := range strings.Split(grouping, ",") {
				if slices.Contains(collectorLabels, strings.TrimSpace(g)) {
					problems = append(problems, fmt.Sprintf("%s is summed by %s, one series per collector", name, strings.TrimSpace(g)))
				}
			}
		}
	}
	return problems
}

// enclosingAggregation finds the innermost aggregation whose parentheses enclose
// position at of expr: its operator, by or without, and the grouping labels.
func enclosingAggregation(expr string, at int) (op, modifier, grouping string, found bool) {
	for open := at - 1; open >= 0; open-- {
		depth := 0
		for ; open >= 0; open-- {
			if expr[open] == ')' {
				depth++
			} else if expr[open] == '(' {
				if depth == 0 {
					break
				}
				depth--
			}
		}
		if open < 0 {
			return "", "", "", false
		}
		m := aggregation.FindStringSubmatch(expr[:open])
		if m == nil {
			continue // a function such as rate(, or plain parentheses
		}
		op, modifier, grouping = m[1], m[2], m[3]
		if modifier == "" {
			// The grouping may follow the arguments: sum(x) by (label).
			close, depth := open, 0
			for ; close < len(expr); close++ {
				if expr[close] == '(' {
					depth++
				} else if expr[close] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if close < len(expr) {
				if p := postfixBy.FindStringSubmatch(expr[close+1:]); p != nil {
					modifier, grouping = p[1], p[2]
				}
			}
		}
		return op, modifier, grouping, true
	}
	return "", "", "", false
}

// TestDashboardSumsAcrossCollectors: every Prometheus query of the dashboard adds up the
// receiver's series across the collectors of a fleet, so three collectors sharing a
// stream show one contact center.
func TestDashboardSumsAcrossCollectors(t *testing.T) {
	series, _, _ := receiverMetrics(t)
	metrics := map[string]bool{}
	for s := range series {
		metrics[s] = true
	}
	d, _ := loadDashboard(t)
	checked := 0
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			if targetType(p, tg) != "prometheus" {
				continue
			}
			checked++
			for _, problem := range fleetSumProblems(tg.Expr, metrics) {
				t.Errorf("panel %q (%s): %s\nexpr: %s", p.Title, tg.RefID, problem, tg.Expr)
			}
		}
	}
	require.NotZero(t, checked)
}

// TestFleetSumProblems pins what the check above accepts and refuses.
func TestFleetSumProblems(t *testing.T) {
	metrics := map[string]bool{"aws_connect_agent_online": true, "aws_connect_agent_status_duration_seconds_bucket": true, "aws_connect_slot_active": true, "aws_connect_slot_maximum": true,
		"aws_connect_queue_oldest_contact_age_seconds": true}
	for _, ok := range []string{
		`sum(aws_connect_agent_online{aws_connect_instance_id=~"$instance"})`,
		`sum by (aws_connect_routing_profile_name) (aws_connect_agent_online)`,
		`sum(aws_connect_agent_online) by (aws_connect_routing_profile_name)`,
		`histogram_quantile(0.9, sum by (le, aws_connect_agent_status_type) (rate(aws_connect_agent_status_duration_seconds_bucket[15m])))`,
		`sum by (aws_connect_channel) (aws_connect_slot_active) / sum by (aws_connect_channel) (aws_connect_slot_maximum)`,
		`sum by (aws_connect_instance_id) (aws_connect_agent_online)`, // the Connect instance, not the collector
		`max by (aws_connect_queue_arn) (aws_connect_queue_oldest_contact_age_seconds)`,
	} {
		assert.Empty(t, fleetSumProblems(ok, metrics), ok)
	}
	for _, bad := range []string{
		`aws_connect_agent_online`,
		`aws_connect_agent_online{aws_connect_instance_id=~"$instance"}`,
		`max(aws_connect_agent_online)`,
		`avg by (aws_connect_routing_profile_name) (aws_connect_agent_online)`,
		`sum by (instance) (aws_connect_agent_online)`,
		`sum by (aws_connect_routing_profile_name, service_instance_id) (aws_connect_agent_online)`,
		`sum(aws_connect_agent_online) by (exported_instance)`,
		`sum without (aws_connect_routing_profile_name) (aws_connect_agent_online)`,
		`sum(aws_connect_agent_online{instance="collector-1"})`,
		`histogram_quantile(0.9, rate(aws_connect_agent_status_duration_seconds_bucket[15m]))`,
		`sum by (aws_connect_channel) (aws_connect_slot_active) / aws_connect_slot_maximum`,
		`sum(aws_connect_queue_oldest_contact_age_seconds)`,
		`max(aws_connect_agent_online)`,
	} {
		assert.NotEmpty(t, fleetSumProblems(bad, metrics), bad)
	}
}
