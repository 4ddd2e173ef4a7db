package awsconnectreceiver

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// exportLog keeps every export of the gauges, in order.
type exportLog struct {
	mu  sync.Mutex
	all []pmetric.Metrics
}

func (e *exportLog) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	cp := pmetric.NewMetrics()
	md.CopyTo(cp)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, cp)
	return nil
}

func (e *exportLog) since(i int) []pmetric.Metrics {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]pmetric.Metrics(nil), e.all[min(i, len(e.all)):]...)
}

// TestKinesisLocalSplitKeepsEveryAgentCounted: with the real consumer on kinesis-local,
// a shard that is split stops here with StopShardEnd, and the receiver forgets its
// agents; its children's readers replay its tail, so the agents that sent nothing since
// the split are counted again, and the gauges end equal to those of every event applied
// once.
func TestKinesisLocalSplitKeepsEveryAgentCounted(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "connect-split-gauges"
	srv.CreateStream(t, stream, 1)

	events := simulate(t, 20, 4*time.Minute, 1)
	keys := make([]string, len(events))
	data := make([][]byte, len(events))
	for i, e := range events {
		keys[i], data[i] = e.key, e.rec.Data
	}
	// What one collector shows with every event applied once.
	ref := startTestReceiver(t, nil, consumertest.NewNop(), collectByHand)
	feed(t, events, map[int]*awsConnectReceiver{0: ref}, nil)
	want := gaugesum.Gauges(ref.metrics.collect(time.Now()))
	require.NotEmpty(t, want)

	core, logs := observer.New(zapcore.DebugLevel)
	cfg := testConfig(srv.Endpoint, stream)
	cfg.CollectionInterval = time.Second
	exports := &exportLog{}
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.Logger = zap.New(core)
	r, err := newReceiver(cfg, set)
	require.NoError(t, err)
	next, err := consumer.NewMetrics(exports.ConsumeMetrics)
	require.NoError(t, err)
	r.nextMetrics = next
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })

	srv.Put(t, stream, keys, data)
	require.Eventually(t, func() bool {
		got := exports.since(0)
		return len(got) > 0 && len(gaugesum.Diff(want, gaugesum.Gauges(got[len(got)-1]))) == 0
	}, 60*time.Second, 100*time.Millisecond, "the gauges before the split")

	// Split the one shard; nothing more is written, so the children's agents come only
	// from the replay of their parent's tail.
	beforeSplit := len(exports.since(0))
	out, err := srv.Client.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	require.Len(t, out.Shards, 1)
	parent := out.Shards[0]
	hi, _ := new(big.Int).SetString(*parent.HashKeyRange.EndingHashKey, 10)
	_, err = srv.Client.SplitShard(context.Background(), &kinesis.SplitShardInput{
		StreamName: aws.String(stream), ShardToSplit: parent.ShardId, NewStartingHashKey: aws.String(new(big.Int).Rsh(hi, 1).String()),
	})
	require.NoError(t, err)
	srv.WaitActive(t, stream)

	forgotten := func() (int, bool) {
		for _, e := range logs.FilterMessageSnippet("its agents are counted wherever it is read now").All() {
			f := e.ContextMap()
			if f["shard_id"] == *parent.ShardId && f["reason"] == kinesisconsumer.StopShardEnd.String() {
				return int(f["agents_forgotten"].(int64)), true
			}
		}
		return 0, false
	}
	require.Eventually(t, func() bool { _, ok := forgotten(); return ok }, 60*time.Second, 100*time.Millisecond, "the parent's reader stops at its end")
	n, _ := forgotten()
	assert.Equal(t, ref.state.Agents(), n, "every agent was the parent's")
	mark := len(exports.since(0))

	require.Eventually(t, func() bool {
		got := exports.since(mark)
		return len(got) > 0 && len(gaugesum.Diff(want, gaugesum.Gauges(got[len(got)-1]))) == 0
	}, 60*time.Second, 100*time.Millisecond, "the children's replay counts the parent's agents again")
	short := 0
	for _, md := range exports.since(beforeSplit) {
		if len(gaugesum.Diff(want, gaugesum.Gauges(md))) > 0 {
			short++
		}
	}
	t.Logf("exports short of some agents from the split until the children's replay: %d of %d (collection_interval %s)",
		short, len(exports.since(beforeSplit)), cfg.CollectionInterval)
	assert.Equal(t, ref.state.Agents(), r.state.Agents())
}
