package efotest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A client that stops reading stops the server: HTTP/2 flow control blocks its writes,
// so the events it has written plateau well short of all, and go on when reading does.
func TestBackpressure(t *testing.T) {
	f := setup(t, 1, Options{MaxRecordsPerEvent: 10})
	const records = 3000
	keys, data := make([]string, records), make([][]byte, records)
	for i := range records {
		keys[i], data[i] = "agent", bytes.Repeat([]byte{'a' + byte(i%26)}, 2048)
	}
	start := time.Now()
	f.k.Put(t, f.stream, keys, data)
	t.Logf("put %d records of 2 KB in %v", records, time.Since(start))
	es := f.mustSubscribe(t, shard0, trimHorizon)
	got := 0
	ev, _ := next(t, es, 30*time.Second)
	got += len(ev.Records)

	// The server writes until the flow-control windows are full, then sits in Write.
	stalled := f.waitStalled(t, 30*time.Second)
	time.Sleep(time.Second)
	still := f.sub(t).Events
	t.Logf("not reading: %d events written, then %d a second later, of %d", stalled, still, records/10)
	if still != stalled {
		t.Errorf("the server wrote on while the client did not read: %d events, then %d", stalled, still)
	}
	if still > records/10*3/4 {
		t.Errorf("the server wrote %d of %d events to a client that read one", still, records/10)
	}
	for got < records {
		ev, ok := next(t, es, 30*time.Second)
		if !ok {
			t.Fatalf("stream ended after %d records: %v", got, es.Err())
		}
		got += len(ev.Records)
	}
	if s := f.sub(t); s.Records != records || s.Events != records/10 {
		t.Errorf("the server wrote %d records in %d events, want %d in %d", s.Records, s.Events, records, records/10)
	}
}

// waitStalled waits until the latest subscription's handler has sat in Write for a
// second without writing an event, and returns the events it wrote.
func (f *fixture) waitStalled(t *testing.T, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		f.s.mu.Lock()
		sub := f.s.subs[len(f.s.subs)-1]
		events, writing := sub.Events, sub.writing
		f.s.mu.Unlock()
		if events != last || !writing {
			last, since = events, time.Now()
		} else if time.Since(since) >= time.Second {
			return events
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not stall within %v: %d events written", within, last)
	return 0
}

// A split shard's last event has no continuation and names both children.
func TestSplitShardChildren(t *testing.T) {
	f := setup(t, 1, Options{})
	seqs := f.put(t, "r", 10)
	_, err := f.k.Client.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName: aws.String(f.stream), ShardToSplit: aws.String(shard0), NewStartingHashKey: aws.String("170141183460469231731687303715884105728"),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.k.WaitActive(t, f.stream)
	es := f.mustSubscribe(t, shard0, trimHorizon)
	evs := drain(t, es, 10*time.Second)
	if err := es.Err(); err != nil || len(evs) == 0 {
		t.Fatalf("%d events, then %v", len(evs), err)
	}
	var got []string
	for i, ev := range evs {
		for _, r := range ev.Records {
			got = append(got, *r.SequenceNumber)
		}
		if i < len(evs)-1 && (ev.ContinuationSequenceNumber == nil || len(ev.ChildShards) > 0) {
			t.Errorf("event %d of %d: continuation %v, %d children", i, len(evs), ev.ContinuationSequenceNumber, len(ev.ChildShards))
		}
	}
	if !slices.Equal(got, seqs) {
		t.Errorf("got records %v, want %v", got, seqs)
	}
	last := evs[len(evs)-1]
	if last.ContinuationSequenceNumber != nil {
		t.Errorf("the last event continues from %s", *last.ContinuationSequenceNumber)
	}
	want := map[string][2]string{
		"shardId-000000000001": {"0", "170141183460469231731687303715884105727"},
		"shardId-000000000002": {"170141183460469231731687303715884105728", "340282366920938463463374607431768211455"},
	}
	if len(last.ChildShards) != 2 {
		t.Fatalf("the last event names %d children, want 2", len(last.ChildShards))
	}
	for _, c := range last.ChildShards {
		r, ok := want[*c.ShardId]
		if !ok || !slices.Equal(c.ParentShards, []string{shard0}) || *c.HashKeyRange.StartingHashKey != r[0] || *c.HashKeyRange.EndingHashKey != r[1] {
			t.Errorf("child %s: parents %v, hash keys %s..%s", *c.ShardId, c.ParentShards, *c.HashKeyRange.StartingHashKey, *c.HashKeyRange.EndingHashKey)
		}
	}
	if s := f.waitClosed(t, time.Second); s.End != EndShardEnd {
		t.Errorf("it ended by %q, want %q", s.End, EndShardEnd)
	}
}

// A subscription at LATEST that has read nothing still gives its heartbeats a
// continuation: resuming after it reads what came since, and nothing from before.
func TestHeartbeatContinuesFromLatest(t *testing.T) {
	f := setup(t, 1, Options{HeartbeatInterval: 300 * time.Millisecond})
	f.put(t, "old", 5)
	es := f.mustSubscribe(t, shard0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	ev, ok := next(t, es, 5*time.Second)
	if !ok || len(ev.Records) != 0 || ev.ContinuationSequenceNumber == nil {
		t.Fatalf("first event: %d records, continuation %v (stream open %v, err %v)", len(ev.Records), ev.ContinuationSequenceNumber, ok, es.Err())
	}
	es.Close()
	f.waitClosed(t, time.Second)
	fresh := f.put(t, "new", 3)
	es = f.mustSubscribe(t, shard0, types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: ev.ContinuationSequenceNumber})
	var got []string
	for len(got) < 3 {
		ev, ok := next(t, es, 5*time.Second)
		if !ok {
			t.Fatalf("stream ended: %v", es.Err())
		}
		for _, r := range ev.Records {
			got = append(got, *r.SequenceNumber)
		}
	}
	if !slices.Equal(got, fresh) {
		t.Errorf("resumed with %v, want only the new %v", got, fresh)
	}
}

// A SubscribeToShard over HTTP/1.1 and unsigned breaks what AWS requires: the server
// refuses it and records why.
func TestViolationsRecorded(t *testing.T) {
	f := setup(t, 1, Options{})
	f.violationsExpected = true
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.s.CertPEM())
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}} // no HTTP/2
	req, err := http.NewRequest(http.MethodPost, f.s.URL, strings.NewReader(`{"ConsumerARN":"`+f.consumerARN+`","ShardId":"`+shard0+`","StartingPosition":{"Type":"TRIM_HORIZON"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	req.Header.Set("Content-Type", "application/json")
	resp, err := h1.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("answered %s", resp.Status)
	}
	v := strings.Join(f.s.Violations(), "\n")
	for _, want := range []string{"HTTP/1.1", "content-type", "X-Amz-Date", "Authorization"} {
		if !strings.Contains(v, want) {
			t.Errorf("no violation mentions %s:\n%s", want, v)
		}
	}
	if len(f.s.Subscriptions()) != 0 {
		t.Error("the server opened a subscription for it")
	}
}

// A client trusting only the CA file reaches the server over HTTP/2, and the calls the
// server does not answer itself reach kinesis-local.
func TestPassThroughWithCAFile(t *testing.T) {
	f := setup(t, 2, Options{})
	ca, err := f.s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the CA file holds no certificate")
	}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	c := f.s.NewKinesisClient(func(o *kinesis.Options) { o.HTTPClient = h2 })
	put, err := c.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String(f.stream), PartitionKey: aws.String("agent"), Data: []byte("through")})
	if err != nil {
		t.Fatal(err)
	}
	shards, err := c.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(f.stream)})
	if err != nil || len(shards.Shards) != 2 {
		t.Fatalf("listed %v, %v", shards, err)
	}
	it, err := f.k.Client.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{
		StreamName: aws.String(f.stream), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.k.Client.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(got.Records) != 1 || string(got.Records[0].Data) != "through" {
		t.Fatalf("kinesis-local holds %v, %v", got, err)
	}
	es, err := f.subscribe(t, c, *put.ShardId, trimHorizon)
	if err != nil {
		t.Fatal(err)
	}
	if ev, ok := next(t, es, 5*time.Second); !ok || len(ev.Records) != 1 {
		t.Fatalf("subscribed: %d records, open %v, %v", len(ev.Records), ok, es.Err())
	}
}
