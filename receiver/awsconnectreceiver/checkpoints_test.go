package awsconnectreceiver

import (
	"context"
	"crypto/md5"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const testStreamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events"

// fileStorageClient opens the receiver's client of the real file_storage extension on dir.
func fileStorageClient(t *testing.T, dir string) storage.Client {
	t.Helper()
	ext := startFileStorage(t, dir)
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}
	client, err := storageClient(context.Background(), host, fileStorageID, component.NewID(component.MustNewType("aws_connect")))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close(context.Background())) })
	return client
}

func TestCheckpointsWrittenUnderTheStreamNameAreFoundByARN(t *testing.T) {
	client := fileStorageClient(t, t.TempDir())
	ctx := context.Background()
	byName := newStorageCheckpoints(client, "connect-agent-events")
	cp := kinesisconsumer.Checkpoint{SequenceNumber: "4959", ArrivalTime: time.Unix(1700000000, 0).UTC()}
	require.NoError(t, byName.Save(ctx, "shardId-000000000001", cp))

	byARN := newStorageCheckpoints(client, testStreamARN)
	got, ok, err := byARN.Load(ctx, "shardId-000000000001")
	require.NoError(t, err)
	require.True(t, ok, "a checkpoint written under the stream's name was not found by its ARN")
	assert.Equal(t, cp, got)

	// Saving moves it under the ARN, where the ARN finds it first.
	moved := kinesisconsumer.Checkpoint{SequenceNumber: "4960"}
	require.NoError(t, byARN.Save(ctx, "shardId-000000000001", moved))
	got, _, err = byARN.Load(ctx, "shardId-000000000001")
	require.NoError(t, err)
	assert.Equal(t, "4960", got.SequenceNumber)
	raw, err := client.Get(ctx, "kinesis_checkpoint/"+testStreamARN+"/shardId-000000000001")
	require.NoError(t, err)
	assert.JSONEq(t, `{"format":1,"sequence_number":"4960"}`, string(raw))

	// Another stream of the same name elsewhere finds nothing of this one's.
	other := newStorageCheckpoints(client, "arn:aws:kinesis:eu-west-1:123456789012:stream/other")
	_, ok, err = other.Load(ctx, "shardId-000000000001")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestCheckpointFormats(t *testing.T) {
	client := fileStorageClient(t, t.TempDir())
	ctx := context.Background()
	store := newStorageCheckpoints(client, testStreamARN)
	key := func(shard string) string { return "kinesis_checkpoint/" + testStreamARN + "/" + shard }

	// Written before formats were recorded.
	require.NoError(t, client.Set(ctx, key("old"), []byte(`{"sequence_number":"12","shard_end":true}`)))
	cp, ok, err := store.Load(ctx, "old")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, kinesisconsumer.Checkpoint{SequenceNumber: "12", ShardEnd: true}, cp)

	require.NoError(t, client.Set(ctx, key("newer"), []byte(`{"format":2,"sequence_number":"12"}`)))
	_, _, err = store.Load(ctx, "newer")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "format 2, written by a newer version")
	assert.Contains(t, err.Error(), "shard newer")

	require.NoError(t, client.Set(ctx, key("garbage"), []byte("\x00\x01not json")))
	_, _, err = store.Load(ctx, "garbage")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unreadable")
}

// TestKinesisLocalUnreadableCheckpointHoldsOnlyItsShard damages one shard's checkpoint in
// the real file_storage extension: the other shard is still read, the damaged one is not,
// and the log says so at error level.
func TestKinesisLocalUnreadableCheckpointHoldsOnlyItsShard(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "damaged"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()

	// The receiver keys checkpoints by the stream as configured, until it learns the ARN.
	client := fileStorageClient(t, dir)
	require.NoError(t, client.Set(context.Background(), "kinesis_checkpoint/"+stream+"/shardId-000000000001", []byte("{damaged")))
	require.NoError(t, client.Close(context.Background()))

	keys, ids, data := sampleEvents(t, "ev", 40)
	srv.Put(t, stream, keys, data)
	var readable, held []string
	for i, k := range keys {
		if shardForKey(t, srv, stream, k) == "shardId-000000000001" {
			held = append(held, ids[i])
		} else {
			readable = append(readable, ids[i])
		}
	}
	require.NotEmpty(t, readable)
	require.NotEmpty(t, held)

	cfg := testConfig(srv.Endpoint, stream)
	id := fileStorageID
	cfg.Storage = &id
	ext := startFileStorage(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	core, logs := observer.New(zap.ErrorLevel)
	sink := newEventSink()
	r := startReceiverLogging(t, cfg, sink.ConsumeLogs, storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}}, zap.New(core))
	require.Eventually(t, func() bool { return sink.count() >= len(readable) }, 60*time.Second, 50*time.Millisecond,
		"the readable shard was not read: %d of %d", sink.count(), len(readable))
	require.Eventually(t, func() bool { return logs.FilterField(zap.String("shard_id", "shardId-000000000001")).Len() > 0 }, 10*time.Second, 50*time.Millisecond,
		"no error-level log names the held shard")
	time.Sleep(3 * cfg.PollInterval)
	require.NoError(t, r.Shutdown(context.Background()))

	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, id := range readable {
		assert.Equal(t, 1, sink.ids[id], "event %s", id)
	}
	for _, id := range held {
		assert.Zero(t, sink.ids[id], "event %s of the shard with a damaged checkpoint was read", id)
	}
	entry := logs.FilterField(zap.String("shard_id", "shardId-000000000001")).All()[0]
	assert.Contains(t, entry.ContextMap()["error"], "unreadable")
}

// shardForKey is the open shard whose hash key range holds the MD5 of a partition key,
// as Kinesis routes records.
func shardForKey(t *testing.T, srv *kinesistest.Server, stream, key string) string {
	t.Helper()
	out, err := srv.Client.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: &stream})
	require.NoError(t, err)
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	for _, s := range out.Shards {
		lo, _ := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
		if s.SequenceNumberRange.EndingSequenceNumber == nil && h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0 {
			return *s.ShardId
		}
	}
	t.Fatalf("no open shard holds key %s", key)
	return ""
}
