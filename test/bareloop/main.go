// Command bareloop is the floor a Kinesis consumer is measured against: the stock
// aws-sdk-go-v2 Kinesis client, one goroutine per shard, GetShardIterator(TRIM_HORIZON)
// then GetRecords until it has read --records records in all or every shard is at its
// tip, touching each record's Data (summing lengths) and nothing else. It runs as a
// process of its own so its CPU time and memory are measured as a collector's are; it
// prints what it read as one JSON line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Result is what bareloop prints.
type Result struct {
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	Shards  int   `json:"shards"`
	Calls   int64 `json:"calls"`
	// PeakRSS is this process's VmHWM in bytes, read at the end: its parent cannot take
	// it from wait4's ru_maxrss, which on Linux also counts the parent's memory the child
	// had between fork and exec.
	PeakRSS int64 `json:"peak_rss"`
}

func main() {
	endpoint := flag.String("endpoint", "", "Kinesis endpoint, e.g. http://127.0.0.1:4568 (default AWS's)")
	stream := flag.String("stream", "connect-agent-events", "stream name")
	region := flag.String("region", "us-east-1", "region")
	limit := flag.Int("limit", 1000, "GetRecords Limit (the collector's default max_records_per_call)")
	want := flag.Int64("records", 0, "stop after this many records in all (0: when every shard is at its tip)")
	flag.Parse()
	res, err := run(context.Background(), *endpoint, *stream, *region, int32(*limit), *want)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareloop:", err)
		os.Exit(1)
	}
	res.PeakRSS = peakRSS()
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(ctx context.Context, endpoint, stream, region string, limit int32, want int64) (Result, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return Result{}, err
	}
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return Result{}, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}

	var records, bytes, calls atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(shards))
	var wg sync.WaitGroup
	for _, shard := range shards {
		wg.Go(func() {
			n, b, c, err := readShard(ctx, client, stream, aws.ToString(shard.ShardId), limit, func(n int64) bool {
				return want > 0 && records.Add(n) >= want
			})
			if want == 0 {
				records.Add(n)
			}
			bytes.Add(b)
			calls.Add(c)
			if err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
			}
			if want > 0 && records.Load() >= want {
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	return Result{Records: records.Load(), Bytes: bytes.Load(), Shards: len(shards), Calls: calls.Load()}, nil
}

// readShard reads one shard from TRIM_HORIZON until enough says stop or the shard is at
// its tip (no records and nothing behind), or closed.
func readShard(ctx context.Context, client *kinesis.Client, stream, shardID string, limit int32, enough func(int64) bool) (records, bytes, calls int64, err error) {
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return 0, 0, 0, err
	}
	iter := it.ShardIterator
	for iter != nil {
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(limit)})
		calls++
		if err != nil {
			if _, throttled := errors.AsType[*types.ProvisionedThroughputExceededException](err); throttled {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			return records, bytes, calls, err
		}
		for _, r := range out.Records {
			bytes += int64(len(r.Data))
		}
		records += int64(len(out.Records))
		if enough(int64(len(out.Records))) {
			return records, bytes, calls, nil
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return records, bytes, calls, nil
		}
		iter = out.NextShardIterator
	}
	return records, bytes, calls, nil
}

// peakRSS is VmHWM from /proc/self/status in bytes, 0 where there is none.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
