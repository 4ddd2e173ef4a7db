package getrecords

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// On kinesis-local's wire, a client with Use reads exactly what a stock client reads.
func TestKinesisLocalReadsAlike(t *testing.T) {
	srv := kinesistest.Start(t)
	srv.CreateStream(t, "alike", 1)
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 20
	sim, err := connectsim.New(cfg, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	var keys []string
	var data [][]byte
	for i := range 300 {
		rec := sim.Next()
		// Partition keys beyond the simulator's: non-ASCII, quotes, backslashes.
		keys = append(keys, fmt.Sprintf("%s-%d-é\"\\エ", rec.Key, i))
		data = append(data, rec.Data)
	}
	srv.Put(t, "alike", keys, data)

	stock := kinesistest.NewClient(srv.Endpoint)
	fast := kinesis.New(stock.Options(), Use)
	read := func(c *kinesis.Client) []string {
		ctx := context.Background()
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String("alike"), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		var pages []string
		iterator := it.ShardIterator
		for range 20 {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iterator, Limit: aws.Int32(70)})
			require.NoError(t, err)
			out.NextShardIterator = nil // differs from call to call
			pages = append(pages, dump(out))
			if len(out.Records) == 0 {
				break
			}
			iterator, err = nextIterator(ctx, c, out)
			require.NoError(t, err)
		}
		return pages
	}
	want, got := read(stock), read(fast)
	require.Greater(t, len(want), 4, "several pages, the last empty")
	require.Equal(t, want, got)
}

// nextIterator is an iterator after the page's last record (iterators themselves differ
// from call to call, so the two clients cannot share them).
func nextIterator(ctx context.Context, c *kinesis.Client, page *kinesis.GetRecordsOutput) (*string, error) {
	last := page.Records[len(page.Records)-1].SequenceNumber
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String("alike"), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: last,
	})
	if err != nil {
		return nil, err
	}
	return it.ShardIterator, nil
}
