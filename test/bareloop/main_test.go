package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fastkinesis"
)

func serve(t *testing.T, shards, perShard int) (*fastkinesis.Server, int64) {
	t.Helper()
	for _, kv := range [][2]string{{"AWS_ACCESS_KEY_ID", "k"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}} {
		t.Setenv(kv[0], kv[1])
	}
	recs := make([]fastkinesis.Record, perShard)
	var size int64
	for i := range recs {
		recs[i] = fastkinesis.Record{PartitionKey: "k", Data: make([]byte, 100+i)}
		size += int64(100 + i)
	}
	srv, err := fastkinesis.Start(fastkinesis.Options{Stream: "s", Shards: shards, Records: recs})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, size * int64(shards)
}

// TestReadsEveryShardToItsTip: without a count it reads every record of every shard, in
// calls of Limit, and sums their sizes.
func TestReadsEveryShardToItsTip(t *testing.T) {
	srv, size := serve(t, 3, 25)
	res, err := run(context.Background(), srv.Endpoint, "s", "us-east-1", 10, 0)
	require.NoError(t, err)
	assert.Equal(t, Result{Records: 75, Bytes: size, Shards: 3, Calls: 3 * 4}, res)
	assert.Positive(t, peakRSS(), "VmHWM of this process")
}

// TestStopsAtTheCountAsked: with --records it stops once that many are read, before the
// shards' tips.
func TestStopsAtTheCountAsked(t *testing.T) {
	srv, _ := serve(t, 2, 500)
	res, err := run(context.Background(), srv.Endpoint, "s", "us-east-1", 10, 100)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, res.Records, int64(100))
	assert.Less(t, res.Records, int64(1000))
	assert.Less(t, srv.Served(), int64(1000))
}
