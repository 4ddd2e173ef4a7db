package leases

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// received keeps what a consumer handed on, by record, and each shard's last sequence
// number.
type received struct {
	mu    sync.Mutex
	count map[string]int
	last  map[string]string
}

func newReceived() *received {
	return &received{count: map[string]int{}, last: map[string]string{}}
}

func (r *received) Process(_ context.Context, b kinesisconsumer.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range b.Records {
		r.count[string(rec.Data)]++
		r.last[b.ShardID] = rec.SequenceNumber
	}
	return nil
}

func (r *received) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.count {
		n += c
	}
	return n
}

// TestUnderAKinesisConsumer runs the coordinator as a real consumer's Assigner and
// CheckpointStore on kinesis-local: the records are read, and each shard's checkpoint
// lands in its lease item. Released, the leases go to a second worker, whose consumer
// goes on from those checkpoints: nothing is read twice.
func TestUnderAKinesisConsumer(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "leased"
	srv.CreateStream(t, stream, 2)
	desc, err := srv.Client.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	arn := aws.ToString(desc.StreamDescriptionSummary.StreamARN)
	api := start(t)
	ctx := context.Background()

	put := func(from, n int) {
		var keys []string
		var data [][]byte
		for i := from; i < from+n; i++ {
			keys = append(keys, fmt.Sprintf("agent-%02d", i%16))
			data = append(data, fmt.Appendf(nil, "record-%03d", i))
		}
		srv.Put(t, stream, keys, data)
	}
	run := func(c *Coordinator, got *received) *kinesisconsumer.Consumer {
		cons, err := kinesisconsumer.New(kinesisconsumer.Options{
			API:               srv.Client,
			Stream:            kinesisconsumer.StreamRef{Name: stream},
			Processor:         got,
			Assigner:          c,
			Checkpoints:       c,
			StartPosition:     kinesisconsumer.Position{Type: ktypes.ShardIteratorTypeTrimHorizon},
			PollInterval:      100 * time.Millisecond,
			DiscoveryInterval: 500 * time.Millisecond,
			ReadBackoff:       kinesisconsumer.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5},
		})
		require.NoError(t, err)
		cons.Start()
		return cons
	}
	withStream := func(c *Config) { c.StreamARN = arn }

	a := worker(t, api, "a", withStream)
	gotA := newReceived()
	consA := run(a, gotA)
	put(0, 60)
	require.Eventually(t, func() bool { return gotA.total() >= 60 }, 60*time.Second, 50*time.Millisecond, "a read %d of 60", gotA.total())
	shards := []string{"shardId-000000000000", "shardId-000000000001"}
	assert.Equal(t, shards, a.Held())
	for _, id := range shards {
		gotA.mu.Lock()
		want := gotA.last[id]
		gotA.mu.Unlock()
		require.NotEmpty(t, want, "records on %s", id)
		require.Eventually(t, func() bool { return rawLease(t, api, id).checkpoint == want }, 10*time.Second, 50*time.Millisecond,
			"%s: the lease item's checkpoint reaches the last record handed on", id)
		l := rawLease(t, api, id)
		assert.Equal(t, "a", l.owner)
		assert.Equal(t, arn, l.stream)
	}

	// A graceful stop: the consumer stops, then the leases are released.
	require.NoError(t, consA.Shutdown(ctx))
	require.NoError(t, a.Release(ctx))

	b := worker(t, api, "b", withStream)
	gotB := newReceived()
	consB := run(b, gotB)
	t.Cleanup(func() { _ = consB.Shutdown(context.Background()) })
	put(60, 40)
	require.Eventually(t, func() bool {
		gotB.mu.Lock()
		defer gotB.mu.Unlock()
		for i := 60; i < 100; i++ {
			if gotB.count[fmt.Sprintf("record-%03d", i)] == 0 {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond, "b read %d records", gotB.total())
	assert.Equal(t, shards, b.Held())
	gotB.mu.Lock()
	defer gotB.mu.Unlock()
	for rec, n := range gotB.count {
		assert.Equal(t, 1, n, rec)
		gotA.mu.Lock()
		assert.Zero(t, gotA.count[rec], "%s read by a and by b", rec)
		gotA.mu.Unlock()
	}
	assert.Len(t, gotB.count, 40)
}
