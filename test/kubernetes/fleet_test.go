// Package kubernetes runs the shipped fleet setup, config/kubernetes-fleet.yaml, as the
// Deployment in config/kubernetes/ runs it: several built collectors on one stream,
// sharing its shards through a DynamoDB lease table (dynalite), one of them killed.
package kubernetes

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const (
	stream = "connect-agent-events"
	table  = "otelcol-amazonconnect-leases"
	shards = 4
)

// TestFleetConfigLosesNothingWhenAPodIsKilled runs two collectors on
// config/kubernetes-fleet.yaml itself, only its environment variables pointing at
// kinesis-local, dynalite and an OTLP/HTTP backend, while agent events are written;
// one collector is SIGKILLed in the middle, as an evicted or OOM-killed pod is. Every
// event must reach the backend: the exporter's queue is in memory, and only its
// wait_for_result keeps the receiver's checkpoint in the lease table from moving past
// what the killed pod held there.
func TestFleetConfigLosesNothingWhenAPodIsKilled(t *testing.T) {
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, shards)
	dyn := dynamotest.Start(t)
	be := collectortest.NewBackend()
	url, err := be.ServeOTLPHTTP("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(be.Down)

	podA, podB := startPod(t, kin, dyn, "otelcol-amazonconnect-a", url), startPod(t, kin, dyn, "otelcol-amazonconnect-b", url)

	// Both pods hold shards before anything is written: the config starts new shards
	// at latest, so what is written from here on is what must arrive.
	var owners map[string]string
	require.Eventually(t, func() bool {
		owners = leaseOwners(t, dyn.Client)
		held := map[string]int{}
		for _, owner := range owners {
			held[owner]++
		}
		return len(owners) == shards && held["otelcol-amazonconnect-a"] > 0 && held["otelcol-amazonconnect-b"] > 0
	}, 45*time.Second, 200*time.Millisecond, "both pods should hold shards, named by their POD_NAME; the leases: %v", &owners)
	waitReadersStarted(t, dyn.Client)

	sim := simulator(t)
	var written []string
	const batches, perBatch, killAt = 40, 25, 20
	var killedAt time.Time
	for n := range batches {
		keys, data, ids := sim.next(perBatch)
		kin.Put(t, stream, keys, data)
		written = append(written, ids...)
		if n == killAt {
			podA.Kill()
			killedAt = time.Now()
			t.Logf("SIGKILLed pod a after %d events written, %d received", len(written), be.Events())
		}
		time.Sleep(200 * time.Millisecond)
	}

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && len(be.Missing(written)) > 0 {
		time.Sleep(250 * time.Millisecond)
	}
	missing := be.Missing(written)
	if len(missing) > 0 {
		t.Fatalf("%d of %d events never arrived after pod a was killed, e.g. %v",
			len(missing), len(written), missing[:min(5, len(missing))])
	}
	d := be.Duplicates()
	t.Logf("%d events written, all arrived within %s of the kill; %d log records received, %d redelivered",
		len(written), time.Since(killedAt).Round(100*time.Millisecond), be.Received(), d.Redelivered)

	owners = leaseOwners(t, dyn.Client)
	for shard, owner := range owners {
		assert.Equal(t, "otelcol-amazonconnect-b", owner, "shard %s: the surviving pod took over every lease", shard)
	}
	stopping := time.Now()
	require.NoError(t, podB.Terminate(terminationGrace))
	t.Logf("pod b stopped %s after SIGTERM", time.Since(stopping).Round(100*time.Millisecond))
}

// TestFleetConfigLosesNothingWhenAPodStopsWithItsBackendDown stops a pod (SIGTERM, as a
// rolling update or a drain does) while its backend refuses connections, with events it
// has read and not delivered: it stops within the Deployment's
// terminationGracePeriodSeconds, gives its leases back, and the pod that takes its
// shards, with the backend up, delivers every event. The exporter drops what it holds
// at shutdown; with wait_for_result no checkpoint counted that as delivered.
func TestFleetConfigLosesNothingWhenAPodStopsWithItsBackendDown(t *testing.T) {
	kin := kinesistest.Start(t)
	kin.CreateStream(t, stream, shards)
	dyn := dynamotest.Start(t)
	down := "http://127.0.0.1:" + strconv.Itoa(kinesistest.FreePort(t)) // nothing listens

	podA := startPod(t, kin, dyn, "otelcol-amazonconnect-a", down)
	require.Eventually(t, func() bool { return len(leaseOwners(t, dyn.Client)) == shards },
		45*time.Second, 200*time.Millisecond, "pod a should hold every shard")
	waitReadersStarted(t, dyn.Client)
	sim := simulator(t)
	var written []string
	for range 10 {
		keys, data, ids := sim.next(25)
		kin.Put(t, stream, keys, data)
		written = append(written, ids...)
		time.Sleep(200 * time.Millisecond)
	}
	// Pod a reads them and its exports of their logs fail, and are retried.
	require.Eventually(t, func() bool { return retryingLogs.MatchString(podA.Output()) },
		30*time.Second, 200*time.Millisecond, "pod a should be retrying the export of what it read")
	stopping := time.Now()
	require.NoError(t, podA.Terminate(terminationGrace), "pod a should stop within the Deployment's terminationGracePeriodSeconds")
	t.Logf("pod a stopped %s after SIGTERM, its backend down", time.Since(stopping).Round(100*time.Millisecond))
	assert.Empty(t, leaseOwners(t, dyn.Client), "pod a gave its leases back as it stopped")
	assert.Contains(t, podA.Output(), "Dropping data", "pod a held undelivered events at its stop: the test proves nothing otherwise")

	be := collectortest.NewBackend()
	url, err := be.ServeOTLPHTTP("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(be.Down)
	podB := startPod(t, kin, dyn, "otelcol-amazonconnect-b", url)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && len(be.Missing(written)) > 0 {
		time.Sleep(250 * time.Millisecond)
	}
	if missing := be.Missing(written); len(missing) > 0 {
		t.Fatalf("%d of %d events pod a read before it stopped never arrived, e.g. %v",
			len(missing), len(written), missing[:min(5, len(missing))])
	}
	t.Logf("%d events written, all delivered by pod b; %d log records received", len(written), be.Received())
	require.NoError(t, podB.Terminate(terminationGrace))
}

// retryingLogs is the exporter's log line of a failed logs export it retries.
var retryingLogs = regexp.MustCompile(`Will retry the request[^\n]*"otelcol.signal": "logs"`)

// terminationGrace is config/kubernetes/deployment.yaml's terminationGracePeriodSeconds:
// Kubernetes SIGKILLs a pod still running after it.
const terminationGrace = 60 * time.Second

// startPod runs the built collector on config/kubernetes-fleet.yaml itself, as a pod
// of the Deployment runs it, with the environment pointing at the stand-ins.
func startPod(t *testing.T, kin *kinesistest.Server, dyn *dynamotest.Server, pod, otlpEndpoint string) *collectortest.Process {
	t.Helper()
	cfgPath := filepath.Join(collectortest.RepoRoot(t), "config", "kubernetes-fleet.yaml")
	env := append(kinesistest.CollectorEnv(),
		"CONNECT_STREAM_NAME="+stream,
		"AWS_REGION="+kinesistest.Region,
		"LEASE_TABLE_NAME="+table,
		"POD_NAME="+pod,
		"OTLP_ENDPOINT="+otlpEndpoint,
		"HEALTH_CHECK_ENDPOINT=127.0.0.1:"+strconv.Itoa(kinesistest.FreePort(t)),
		"TELEMETRY_PORT="+strconv.Itoa(kinesistest.FreePort(t)),
		"AWS_ENDPOINT_URL_KINESIS="+kin.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB="+dyn.Endpoint,
	)
	return collectortest.StartWithFlags(t, cfgPath, []string{"--feature-gates=+extension.healthcheck.useComponentStatus"}, env...)
}

// leaseOwners reads the lease table: shard ID -> leaseOwner, for the owned leases.
func leaseOwners(t *testing.T, client *dynamodb.Client) map[string]string {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil // the table is not there yet
	}
	owners := map[string]string{}
	for _, item := range out.Items {
		key, _ := item["leaseKey"].(*types.AttributeValueMemberS)
		owner, _ := item["leaseOwner"].(*types.AttributeValueMemberS)
		if key != nil && owner != nil {
			owners[key.Value] = owner.Value
		}
	}
	return owners
}

// waitReadersStarted waits until every lease item records when its reader started at
// latest (startedAt): from then on nothing written is skipped, whoever reads the shard.
func waitReadersStarted(t *testing.T, client *dynamodb.Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil || len(out.Items) != shards {
			return false
		}
		for _, item := range out.Items {
			if _, ok := item["startedAt"]; !ok {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "every shard's reader should record its start in the lease table")
}

// events hands out the simulator's agent events with their EventIds.
type events struct{ sim *connectsim.Simulator }

func simulator(t *testing.T) *events {
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 30
	sim, err := connectsim.New(cfg, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	return &events{sim: sim}
}

func (e *events) next(n int) (keys []string, data [][]byte, ids []string) {
	for len(ids) < n {
		rec := e.sim.Next()
		var ev struct{ EventId string }
		if json.Unmarshal(rec.Data, &ev) != nil || ev.EventId == "" {
			continue
		}
		keys, data, ids = append(keys, rec.Key), append(data, rec.Data), append(ids, ev.EventId)
	}
	return keys, data, ids
}
