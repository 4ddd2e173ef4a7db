package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
)

// contractGenerator writes agent events, each with its own EventId, to the stream of the
// current scenario: a heartbeat for the logs, the login of an agent of its own routing
// profile for the metrics.
type contractGenerator struct {
	t       *testing.T
	srv     *kinesistest.Server
	metrics bool
	stream  atomic.Pointer[string]
	n       atomic.Int64
}

const contractInstance = "arn:aws:connect:us-east-1:123456789012:instance/i-1"

func (g *contractGenerator) event(id string) map[string]any {
	agent := contractInstance + "/agent/" + id
	now := time.Now().UTC().Format(time.RFC3339Nano)
	ev := map[string]any{
		"EventId": id, "EventType": "HEART_BEAT", "EventTimestamp": now,
		"AgentARN": agent, "InstanceARN": contractInstance,
	}
	if g.metrics {
		ev["EventType"] = "LOGIN"
		ev["CurrentAgentSnapshot"] = map[string]any{
			"AgentStatus": map[string]any{"Name": "Available", "Type": "ROUTABLE", "StartTimestamp": now},
			"Configuration": map[string]any{
				"Username":       id,
				"RoutingProfile": map[string]any{"ARN": contractInstance + "/routing-profile/" + id, "Name": id},
			},
			"Contacts": []any{},
		}
	}
	return ev
}

func (g *contractGenerator) Start() {}
func (g *contractGenerator) Stop()  {}

// Generate writes one event. For the logs its element is the event; for the metrics, the
// agent it logs in, once in each gauge of agentGauges.
func (g *contractGenerator) Generate() []receivertest.UniqueIDAttrVal {
	id := fmt.Sprintf("contract-%06d", g.n.Add(1))
	ev := g.event(id)
	agent := ev["AgentARN"].(string)
	data, err := json.Marshal(ev)
	require.NoError(g.t, err)
	elements := []receivertest.UniqueIDAttrVal{receivertest.UniqueIDAttrVal(id)}
	if g.metrics {
		elements = elements[:0]
		for _, gauge := range agentGauges {
			elements = append(elements, gaugeElement(gauge, id, 1))
		}
	}
	for attempt := 0; ; attempt++ {
		_, err = g.srv.Client.PutRecord(context.Background(), &kinesis.PutRecordInput{
			StreamName: g.stream.Load(), PartitionKey: aws.String(agent), Data: data,
		})
		if err == nil {
			return elements
		}
		require.Less(g.t, attempt, 20, "put record: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// contractFactory creates the real receiver on a fresh stream for each scenario, and hands
// the checker's consumer each log record with its EventId as the checker's test_id. The
// checker's errors reach the receiver unchanged.
type contractFactory struct {
	receiver.Factory
	t         *testing.T
	srv       *kinesistest.Server
	gen       *contractGenerator
	scenarios atomic.Int64
}

// scenarioConfig gives each scenario a fresh stream.
func (f *contractFactory) scenarioConfig(cfg component.Config) *Config {
	stream := fmt.Sprintf("contract-%d", f.scenarios.Add(1))
	f.srv.CreateStream(f.t, stream, 2)
	f.gen.stream.Store(&stream)
	c := *cfg.(*Config)
	c.StreamName = stream
	return &c
}

func (f *contractFactory) CreateLogs(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	c := f.scenarioConfig(cfg)
	tagged, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if id, ok := lrs.At(k).Attributes().Get(eventlog.AttrEventID); ok {
						lrs.At(k).Attributes().PutStr(receivertest.UniqueIDAttrName, id.Str())
					}
				}
			}
		}
		return next.ConsumeLogs(ctx, ld)
	}, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
	if err != nil {
		return nil, err
	}
	return f.Factory.CreateLogs(ctx, set, c, tagged)
}

// agentGauges are the gauges in which each generated agent (Available, alone in a routing
// profile named after it, with no contact) counts exactly once.
var agentGauges = []string{"aws.connect.agent.count", "aws.connect.agent.online", "aws.connect.agent.staffed", "aws.connect.agent.available"}

// gaugeElement names the n-th count of an agent in a gauge: "gauge/agent" for the first,
// "gauge/agent#2" for a second, which no generator ever produces.
func gaugeElement(gauge, agent string, n int64) receivertest.UniqueIDAttrVal {
	if n == 1 {
		return receivertest.UniqueIDAttrVal(gauge + "/" + agent)
	}
	return receivertest.UniqueIDAttrVal(fmt.Sprintf("%s/%s#%d", gauge, agent, n))
}

// CreateMetrics hands the checker, as the elements of the metrics signal, every count of
// an agent in the gauges of agentGauges: an export whose gauges add up to n for an agent
// (over all its resources and data points) hands on n elements, so an agent counted twice
// anywhere in one export becomes an element "#2" the generator never made, and the
// checker fails. Gauges are a snapshot sent again every interval, so an element the
// checker has settled (accepted, or dropped on a permanent error) is not handed on again;
// one it refused with a retryable error must come in a later export.
func (f *contractFactory) CreateMetrics(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := f.scenarioConfig(cfg)
	counted := map[string]bool{}
	for _, g := range agentGauges {
		counted[g] = true
	}
	var mu sync.Mutex
	settled := map[receivertest.UniqueIDAttrVal]bool{}
	agents, err := consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		mu.Lock()
		defer mu.Unlock()
		type gaugeAgent struct{ gauge, agent string }
		counts := map[gaugeAgent]int64{}
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					if !counted[ms.At(k).Name()] {
						continue
					}
					points := ms.At(k).Gauge().DataPoints()
					for l := 0; l < points.Len(); l++ {
						profile, _ := points.At(l).Attributes().Get("aws.connect.routing_profile.name")
						counts[gaugeAgent{ms.At(k).Name(), profile.Str()}] += points.At(l).IntValue()
					}
				}
			}
		}
		out := pmetric.NewMetrics()
		dps := out.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints()
		var elements []receivertest.UniqueIDAttrVal
		for ga, total := range counts {
			for n := int64(1); n <= total; n++ {
				if el := gaugeElement(ga.gauge, ga.agent, n); !settled[el] {
					elements = append(elements, el)
					dps.AppendEmpty().Attributes().PutStr(receivertest.UniqueIDAttrName, string(el))
				}
			}
		}
		if len(elements) == 0 {
			return nil
		}
		err := next.ConsumeMetrics(ctx, out)
		if err == nil || consumererror.IsPermanent(err) {
			for _, el := range elements {
				settled[el] = true
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return f.Factory.CreateMetrics(ctx, set, c, agents)
}

// TestConsumeContractLogs: whatever the next consumer answers (success, permanent and
// retryable errors, at random), every generated event is either delivered or dropped on
// a permanent error, once, never lost or duplicated.
func TestConsumeContractLogs(t *testing.T) {
	checkContract(t, pipeline.SignalLogs)
}

// TestConsumeContractMetrics: whatever the metrics pipeline answers, every agent that
// logged in reaches it, counted exactly once in each of its gauges: a refused export is
// collected again and offered after a backoff, a permanent refusal does not stop the
// exports, and an agent counted twice fails the checker.
func TestConsumeContractMetrics(t *testing.T) {
	checkContract(t, pipeline.SignalMetrics)
}

func checkContract(t *testing.T, signal pipeline.Signal) {
	srv := kinesistest.Start(t)
	gen := &contractGenerator{t: t, srv: srv, metrics: signal == pipeline.SignalMetrics}
	cfg := createDefaultConfig().(*Config)
	cfg.Region = kinesistest.Region
	cfg.Endpoint = srv.Endpoint
	cfg.StartPosition = StartTrimHorizon
	cfg.PollInterval = 200 * time.Millisecond
	// Below the 1s Validate asks of users, so each scenario sees tens of exports, not two.
	cfg.CollectionInterval = 200 * time.Millisecond
	cfg.ErrorBackoff.InitialInterval = 10 * time.Millisecond
	cfg.ErrorBackoff.MaxInterval = 100 * time.Millisecond

	receivertest.CheckConsumeContract(receivertest.CheckConsumeContractParams{
		T:             t,
		Factory:       &contractFactory{Factory: NewFactory(), t: t, srv: srv, gen: gen},
		Signal:        signal,
		Config:        cfg,
		Generator:     gen,
		GenerateCount: 60,
	})
}
