package connectsim

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// KinesisAPI is the part of the Kinesis client the sink uses; *kinesis.Client has it.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

// KinesisOptions tunes the Kinesis sink. Zero values take the defaults.
type KinesisOptions struct {
	// Stream is the stream name. Required.
	Stream string
	// MaxBatchRecords and MaxBatchBytes bound one PutRecords call: 500 records and
	// 5 MiB (data and partition keys), the service limits.
	MaxBatchRecords int
	MaxBatchBytes   int
	// MaxBuffered is how many records Write holds before it sends. Default 500.
	MaxBuffered int
	// ShardRecordsPerSecond and ShardBytesPerSecond are the write limits per shard the
	// sink paces itself to: 1,000 records and 1 MiB a second.
	ShardRecordsPerSecond float64
	ShardBytesPerSecond   float64
	// BackoffBase and BackoffMax bound the jittered exponential backoff after failed
	// entries or calls. Defaults 100ms and 5s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxCallErrors is how many calls in a row may fail with an error other than a
	// throttling or service error (a network or credentials problem) before Write or
	// Flush gives up and returns it; the records stay buffered. Default 20.
	MaxCallErrors int
	// Now and Sleep are the clock, for tests. Default the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Seed seeds the backoff jitter. Default 1.
	Seed uint64
}

// KinesisStats counts what the sink did.
type KinesisStats struct {
	Calls          int64 // PutRecords calls made
	Written        int64 // records written
	FailedEntries  int64 // entries the service failed, all retried
	FailedCalls    int64 // calls that failed as a whole, all retried
	Shards         int   // open shards found at start
	PacingWaitTime time.Duration
}

// KinesisSink writes records to a Kinesis data stream with PutRecords, the record's Key
// as partition key: the agent ARN of agent events, as Amazon Connect does, and the
// contact id of contact events and records (what users set EventBridge's
// PartitionKeyPath to).
//
// Every record is written exactly once, and each key's records in the order written:
// a call carries at most one record per partition key (the oldest not yet written), so
// that a failed entry is never overtaken by a later record of its key. Only failed
// entries are sent again, after a jittered backoff; nothing is dropped. The sink lists
// the stream's shards once, maps each key to its shard by the MD5 hash of the key, and
// paces each shard to its write limits.
type KinesisSink struct {
	client  KinesisAPI
	opts    KinesisOptions
	starts  []*big.Int // open shards' starting hash keys, ascending
	shardOf map[string]int
	buckets []bucket
	pending []pendingRecord
	bytes   int
	rng     *rand.Rand
	backoff int // consecutive failed calls or calls with failed entries
	errs    int // consecutive calls that failed with a non-service error
	stats   KinesisStats

	seen       map[string]struct{}
	sel        []int
	shardRecs  []float64
	shardBytes []float64
}

type pendingRecord struct {
	key  string
	data []byte
	done bool
}

type bucket struct {
	recs, bytes float64
	at          time.Time
}

// NewKinesisSink lists the stream's open shards and returns a sink writing to it.
func NewKinesisSink(ctx context.Context, client KinesisAPI, opts KinesisOptions) (*KinesisSink, error) {
	if opts.Stream == "" {
		return nil, errors.New("kinesis sink: no stream name")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.MaxBatchRecords, 500)
	def(&opts.MaxBatchBytes, 5<<20)
	def(&opts.MaxBuffered, opts.MaxBatchRecords)
	def(&opts.MaxCallErrors, 20)
	if opts.ShardRecordsPerSecond <= 0 {
		opts.ShardRecordsPerSecond = 1000
	}
	if opts.ShardBytesPerSecond <= 0 {
		opts.ShardBytesPerSecond = 1 << 20
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 100 * time.Millisecond
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	k := &KinesisSink{client: client, opts: opts, shardOf: map[string]int{}, seen: map[string]struct{}{},
		rng: rand.New(rand.NewPCG(opts.Seed, 0x6b696e65))}
	if err := k.listShards(ctx); err != nil {
		return nil, err
	}
	now := opts.Now()
	k.buckets = make([]bucket, len(k.starts))
	for i := range k.buckets {
		k.buckets[i] = bucket{recs: opts.ShardRecordsPerSecond, bytes: opts.ShardBytesPerSecond, at: now}
	}
	k.shardRecs = make([]float64, len(k.starts))
	k.shardBytes = make([]float64, len(k.starts))
	k.stats.Shards = len(k.starts)
	return k, nil
}

func (k *KinesisSink) listShards(ctx context.Context) error {
	in := &kinesis.ListShardsInput{StreamName: aws.String(k.opts.Stream)}
	for {
		out, err := k.client.ListShards(ctx, in)
		if err != nil {
			return fmt.Errorf("kinesis sink: list shards of %s: %w", k.opts.Stream, err)
		}
		for _, sh := range out.Shards {
			if sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil {
				continue // closed by resharding
			}
			if sh.HashKeyRange == nil {
				return fmt.Errorf("kinesis sink: shard %s has no hash key range", aws.ToString(sh.ShardId))
			}
			start, ok := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
			if !ok {
				return fmt.Errorf("kinesis sink: shard %s has no hash key range", aws.ToString(sh.ShardId))
			}
			k.starts = append(k.starts, start)
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	if len(k.starts) == 0 {
		return fmt.Errorf("kinesis sink: stream %s has no open shards", k.opts.Stream)
	}
	sort.Slice(k.starts, func(i, j int) bool { return k.starts[i].Cmp(k.starts[j]) < 0 })
	return nil
}

// shard maps a partition key to the index of its shard, as Kinesis does: the MD5 hash
// of the key, as a 128-bit number, falls in one shard's hash key range.
func (k *KinesisSink) shard(key string) int {
	if i, ok := k.shardOf[key]; ok {
		return i
	}
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	i := sort.Search(len(k.starts), func(i int) bool { return k.starts[i].Cmp(h) > 0 }) - 1
	i = max(i, 0)
	k.shardOf[key] = i
	return i
}

// Stats returns what the sink did so far.
func (k *KinesisSink) Stats() KinesisStats { return k.stats }

// Stream is the stream the sink writes to.
func (k *KinesisSink) Stream() string { return k.opts.Stream }

// Buffered is the number of records not written yet.
func (k *KinesisSink) Buffered() int { return len(k.pending) }

// Write implements Sink: it buffers the record and sends while MaxBuffered records
// (or a batch's worth of bytes) are waiting.
func (k *KinesisSink) Write(ctx context.Context, r Record) error {
	if len(r.Data)+len(r.Key) > 1<<20 {
		return fmt.Errorf("kinesis sink: record of %d bytes is over the 1 MiB limit", len(r.Data))
	}
	k.pending = append(k.pending, pendingRecord{key: r.Key, data: r.Data})
	k.bytes += len(r.Data) + len(r.Key)
	for len(k.pending) >= k.opts.MaxBuffered || k.bytes >= k.opts.MaxBatchBytes {
		if err := k.send(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements Sink: it returns once every buffered record is written, or with the
// error that stopped it (the records stay buffered).
func (k *KinesisSink) Flush(ctx context.Context) error {
	for len(k.pending) > 0 {
		if err := k.send(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Sink.
func (k *KinesisSink) Close(ctx context.Context) error { return k.Flush(ctx) }

// send makes one PutRecords call of the oldest unwritten record of each key.
func (k *KinesisSink) send(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sel := k.selectBatch()
	if len(sel) == 0 {
		return nil
	}
	if err := k.pace(ctx); err != nil {
		return err
	}
	entries := make([]types.PutRecordsRequestEntry, len(sel))
	for j, i := range sel {
		p := &k.pending[i]
		entries[j] = types.PutRecordsRequestEntry{Data: p.data, PartitionKey: aws.String(p.key)}
	}
	k.stats.Calls++
	out, err := k.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.opts.Stream), Records: entries})
	if err == nil && len(out.Records) != len(entries) {
		err = fmt.Errorf("kinesis sink: PutRecords answered %d entries for %d", len(out.Records), len(entries))
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		k.stats.FailedCalls++
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			if !retryableCode(apiErr.ErrorCode()) {
				return fmt.Errorf("kinesis sink: put records to %s: %w", k.opts.Stream, err)
			}
		} else if k.errs++; k.errs >= k.opts.MaxCallErrors {
			return fmt.Errorf("kinesis sink: put records to %s failed %d times in a row: %w", k.opts.Stream, k.errs, err)
		}
		return k.wait(ctx)
	}
	k.errs = 0
	failed := 0
	for j, res := range out.Records {
		p := &k.pending[sel[j]]
		if res.ErrorCode != nil {
			failed++
			continue
		}
		p.done = true
		k.bytes -= len(p.data) + len(p.key)
	}
	k.stats.Written += int64(len(sel) - failed)
	k.stats.FailedEntries += int64(failed)
	kept := k.pending[:0]
	for _, p := range k.pending {
		if !p.done {
			kept = append(kept, p)
		}
	}
	clear(k.pending[len(kept):])
	k.pending = kept
	if failed > 0 {
		return k.wait(ctx)
	}
	k.backoff = 0
	return nil
}

// selectBatch picks the oldest unwritten record of each key, within the call's limits
// and each shard's budget for a second, and counts them per shard.
func (k *KinesisSink) selectBatch() []int {
	clear(k.seen)
	clear(k.shardRecs)
	clear(k.shardBytes)
	sel := k.sel[:0]
	total := 0
	for i := range k.pending {
		if len(sel) == k.opts.MaxBatchRecords {
			break
		}
		p := &k.pending[i]
		if _, dup := k.seen[p.key]; dup {
			continue
		}
		k.seen[p.key] = struct{}{}
		size := len(p.data) + len(p.key)
		sh := k.shard(p.key)
		if total+size > k.opts.MaxBatchBytes || k.shardRecs[sh]+1 > k.opts.ShardRecordsPerSecond ||
			(k.shardBytes[sh] > 0 && k.shardBytes[sh]+float64(size) > k.opts.ShardBytesPerSecond) {
			continue // this key waits for the next call
		}
		sel = append(sel, i)
		total += size
		k.shardRecs[sh]++
		k.shardBytes[sh] += float64(size)
	}
	k.sel = sel
	return sel
}

// pace charges the selected records to their shards' token buckets and waits until
// every bucket is out of debt.
func (k *KinesisSink) pace(ctx context.Context) error {
	now := k.opts.Now()
	var wait time.Duration
	for i := range k.buckets {
		if k.shardRecs[i] == 0 {
			continue
		}
		b := &k.buckets[i]
		elapsed := now.Sub(b.at).Seconds()
		b.recs = min(b.recs+elapsed*k.opts.ShardRecordsPerSecond, k.opts.ShardRecordsPerSecond) - k.shardRecs[i]
		b.bytes = min(b.bytes+elapsed*k.opts.ShardBytesPerSecond, k.opts.ShardBytesPerSecond) - k.shardBytes[i]
		b.at = now
		if b.recs < 0 {
			wait = max(wait, time.Duration(-b.recs/k.opts.ShardRecordsPerSecond*float64(time.Second)))
		}
		if b.bytes < 0 {
			wait = max(wait, time.Duration(-b.bytes/k.opts.ShardBytesPerSecond*float64(time.Second)))
		}
	}
	if wait <= 0 {
		return nil
	}
	k.stats.PacingWaitTime += wait
	return k.opts.Sleep(ctx, wait)
}

// wait sleeps a jittered exponential backoff: a random time between half and all of
// min(BackoffMax, BackoffBase * 2^n).
func (k *KinesisSink) wait(ctx context.Context) error {
	d := k.opts.BackoffBase << min(k.backoff, 20)
	if d > k.opts.BackoffMax || d <= 0 {
		d = k.opts.BackoffMax
	}
	k.backoff++
	d = d/2 + time.Duration(k.rng.Int64N(int64(d/2)+1))
	return k.opts.Sleep(ctx, d)
}

// retryableCode reports whether an error code of a whole PutRecords call is worth
// retrying: throttling and service trouble are; a missing stream, bad request or
// denied access are not.
func retryableCode(code string) bool {
	switch code {
	case "ResourceNotFoundException", "ResourceInUseException", "InvalidArgumentException", "ValidationException",
		"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
		"MissingAuthenticationToken", "ExpiredTokenException", "KMSAccessDeniedException", "KMSDisabledException",
		"KMSInvalidStateException", "KMSNotFoundException", "KMSOptInRequired", "SerializationException":
		return false
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
