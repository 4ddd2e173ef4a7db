package awsconnectreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
)

// contractGenerator writes agent events, each with its own EventId, to the stream of the
// current scenario.
type contractGenerator struct {
	t      *testing.T
	srv    *kinesistest.Server
	stream atomic.Pointer[string]
	n      atomic.Int64
}

func (g *contractGenerator) Start() {}
func (g *contractGenerator) Stop()  {}

func (g *contractGenerator) Generate() []receivertest.UniqueIDAttrVal {
	id := fmt.Sprintf("contract-%06d", g.n.Add(1))
	agent := "arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/" + id[len(id)-2:]
	data, err := json.Marshal(map[string]any{
		"EventId": id, "EventType": "HEART_BEAT", "EventTimestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"AgentARN": agent, "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/i-1",
	})
	require.NoError(g.t, err)
	for attempt := 0; ; attempt++ {
		_, err = g.srv.Client.PutRecord(context.Background(), &kinesis.PutRecordInput{
			StreamName: g.stream.Load(), PartitionKey: aws.String(agent), Data: data,
		})
		if err == nil {
			return []receivertest.UniqueIDAttrVal{receivertest.UniqueIDAttrVal(id)}
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

func (f *contractFactory) CreateLogs(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	stream := fmt.Sprintf("contract-%d", f.scenarios.Add(1))
	f.srv.CreateStream(f.t, stream, 2)
	f.gen.stream.Store(&stream)
	c := *cfg.(*Config)
	c.StreamName = stream
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
	return f.Factory.CreateLogs(ctx, set, &c, tagged)
}

// TestConsumeContractLogs: whatever the next consumer answers (success, permanent and
// retryable errors, at random), every generated event is either delivered or dropped on
// a permanent error, once, never lost or duplicated.
func TestConsumeContractLogs(t *testing.T) {
	srv := kinesistest.Start(t)
	gen := &contractGenerator{t: t, srv: srv}
	cfg := createDefaultConfig().(*Config)
	cfg.Region = kinesistest.Region
	cfg.Endpoint = srv.Endpoint
	cfg.StartPosition = StartTrimHorizon
	cfg.PollInterval = 200 * time.Millisecond
	cfg.ErrorBackoff.InitialInterval = 10 * time.Millisecond
	cfg.ErrorBackoff.MaxInterval = 100 * time.Millisecond

	receivertest.CheckConsumeContract(receivertest.CheckConsumeContractParams{
		T:             t,
		Factory:       &contractFactory{Factory: NewFactory(), t: t, srv: srv, gen: gen},
		Signal:        pipeline.SignalLogs,
		Config:        cfg,
		Generator:     gen,
		GenerateCount: 60,
	})
}
