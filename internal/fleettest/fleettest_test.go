package fleettest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
)

func TestFair(t *testing.T) {
	workers := []string{"a", "b", "c"}
	assert.True(t, Fair(map[string]string{"s0": "a", "s1": "a", "s2": "b", "s3": "c"}, workers))
	assert.False(t, Fair(map[string]string{"s0": "a", "s1": "a", "s2": "a", "s3": "c"}, workers), "b holds none")
	assert.False(t, Fair(map[string]string{"s0": "a", "s1": "a", "s2": "b", "s3": ""}, workers), "a shard unheld")
	assert.False(t, Fair(map[string]string{"s0": "a", "s1": "x", "s2": "b", "s3": "c"}, workers), "held by a stranger")
	assert.False(t, Fair(nil, workers))
}

// The recorder tells members apart, counts a record exported twice as one repeat, sees
// an agent's events out of order, and sums gauges leaving service.instance.id aside.
func TestRecorder(t *testing.T) {
	r := NewRecorder()
	defer r.Close()
	logs := func(member string, recs ...[3]string) {
		addr, err := r.Serve(member)
		require.NoError(t, err)
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, rc := range recs {
			lr := lrs.AppendEmpty()
			lr.Attributes().PutStr(attrEventID, rc[0])
			lr.Attributes().PutStr(attrAgentARN, rc[1])
			lr.Attributes().PutStr(attrShardID, "shard-0")
			lr.Attributes().PutStr(attrSequence, rc[2])
		}
		_, err = plogotlp.NewGRPCClient(conn).Export(context.Background(), plogotlp.NewExportRequestFromLogs(ld))
		require.NoError(t, err)

		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr(AttrServiceID, member)
		g := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		g.SetName("aws.connect.agent.online")
		g.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(2)
		_, err = pmetricotlp.NewGRPCClient(conn).Export(context.Background(), pmetricotlp.NewExportRequestFromMetrics(md))
		require.NoError(t, err)
	}
	before := time.Now()
	logs("m1", [3]string{"e1", "ann", "1"}, [3]string{"e2", "ann", "2"})
	logs("m2", [3]string{"e2", "ann", "2"}, [3]string{"e3", "bob", "3"}, [3]string{"e1", "ann", "9"})

	assert.Equal(t, []string{"e4"}, r.Missing([]string{"e1", "e2", "e3", "e4"}))
	assert.Equal(t, []string{"e3", "e4"}, r.Missing([]string{"e1", "e2", "e3", "e4"}, "m1"))
	assert.Equal(t, 1, r.Repeats())
	assert.Equal(t, 0, r.Repeats("m1"))
	assert.Equal(t, 1, r.RepeatsSince(before))
	assert.Equal(t, 1, r.FromTwoRecords(), "e1 came from records 1 and 9")
	assert.Equal(t, 0, r.FromTwoRecords("m1"))
	assert.Equal(t, 1, r.ExportedAgain("m1", []string{"shard-0"}, before), "m2 exported record 2 again")
	assert.Equal(t, 0, r.ExportedAgain("m1", []string{"shard-1"}, before))
	assert.Equal(t, 0, r.ExportedAgain("m1", []string{"shard-0"}, time.Now()))
	assert.Empty(t, r.OutOfOrder(map[string][]string{"ann": {"e1", "e2"}, "bob": {"e3"}}))
	assert.Equal(t, []string{"ann"}, r.OutOfOrder(map[string][]string{"ann": {"e2", "e1"}}))
	first, ok := r.FirstFrom("shard-0", "m1", before)
	require.True(t, ok)
	assert.Equal(t, "m2", first.Member)

	assert.Equal(t, gaugesum.Sums{{Metric: "aws.connect.agent.online"}: 4}, r.Sum("m1", "m2"))
	latest, ok := r.Latest("m2")
	require.True(t, ok)
	assert.Equal(t, []string{"m2"}, latest.InstanceIDs)
}
