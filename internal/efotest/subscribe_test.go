package efotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Every record put, before the subscription and while it is open, comes exactly once
// and in order through the SDK, which consumed the initial-response; once caught up, an
// empty event continues from the last record.
func TestSubscribeDeliversEveryRecordOnce(t *testing.T) {
	f := setup(t, 1, Options{MaxRecordsPerEvent: 7})
	want := f.put(t, "before", 20)
	es := f.mustSubscribe(t, shard0, trimHorizon)
	var got []types.Record
	deadline := time.Now().Add(20 * time.Second) // heartbeats would keep a short count waiting
	for len(got) < 20 && time.Now().Before(deadline) {
		ev, ok := next(t, es, 10*time.Second)
		if !ok {
			t.Fatalf("stream ended after %d records: %v", len(got), es.Err())
		}
		if len(ev.Records) > 7 {
			t.Errorf("an event held %d records, over MaxRecordsPerEvent 7", len(ev.Records))
		}
		got = append(got, ev.Records...)
	}
	want = append(want, f.put(t, "during", 20)...)
	var heartbeat *types.SubscribeToShardEvent
	for heartbeat == nil && time.Now().Before(deadline) {
		ev, ok := next(t, es, 10*time.Second)
		if !ok {
			t.Fatalf("stream ended after %d records: %v", len(got), es.Err())
		}
		if len(ev.Records) == 0 && len(got) >= len(want) {
			heartbeat = &ev
		}
		got = append(got, ev.Records...)
	}
	if len(got) != len(want) || heartbeat == nil {
		t.Fatalf("got %d records, want %d, and then an empty event", len(got), len(want))
	}
	for i, r := range got {
		if aws.ToString(r.SequenceNumber) != want[i] {
			t.Fatalf("record %d is %s, want %s", i, aws.ToString(r.SequenceNumber), want[i])
		}
		prefix, n := "before", i
		if i >= 20 {
			prefix, n = "during", i-20
		}
		if string(r.Data) != fmt.Sprintf("%s-%d", prefix, n) || aws.ToString(r.PartitionKey) != fmt.Sprintf("agent-%d", n%7) {
			t.Fatalf("record %d is %q keyed %q", i, r.Data, aws.ToString(r.PartitionKey))
		}
		if r.ApproximateArrivalTimestamp == nil || time.Since(*r.ApproximateArrivalTimestamp) > time.Minute {
			t.Fatalf("record %d arrived at %v", i, r.ApproximateArrivalTimestamp)
		}
	}
	if c := aws.ToString(heartbeat.ContinuationSequenceNumber); c != want[len(want)-1] {
		t.Errorf("the empty event continues from %q, want the last record %s", c, want[len(want)-1])
	}
	if s := f.sub(t); s.Records != 40 || s.StartingPosition != "TRIM_HORIZON" {
		t.Errorf("the server counts %d records written from %s, want 40 from TRIM_HORIZON", s.Records, s.StartingPosition)
	}
}

// Without the initial-response, as kinesis-local sends, the SDK's SubscribeToShard
// fails: the message the tests above rely on is the one the SDK needs.
func TestOmitInitialResponseFailsSDK(t *testing.T) {
	f := setup(t, 1, Options{OmitInitialResponse: true})
	f.put(t, "r", 1)
	if _, err := f.subscribe(t, f.c, shard0, trimHorizon); err == nil {
		t.Fatal("the SDK subscribed without an initial-response")
	} else {
		t.Logf("as expected: %v", err)
	}
}

// At its lifetime the server ends a subscription cleanly: the events channel closes
// and the stream has no error.
func TestLifetimeEndsStreamCleanly(t *testing.T) {
	f := setup(t, 1, Options{SubscriptionLifetime: 2 * time.Second})
	start := time.Now()
	es := f.mustSubscribe(t, shard0, trimHorizon)
	evs := drain(t, es, 5*time.Second)
	took := time.Since(start)
	if err := es.Err(); err != nil {
		t.Fatalf("the stream ended with %v", err)
	}
	if took < 1900*time.Millisecond || took > 4*time.Second {
		t.Errorf("the stream lasted %v, want about 2s", took)
	}
	if len(evs) == 0 {
		t.Error("no heartbeat came in 2s")
	}
	if s := f.waitClosed(t, time.Second); s.End != EndLifetime {
		t.Errorf("it ended by %q, want %q", s.End, EndLifetime)
	}

	// SetLifetime shortens an open subscription too.
	f.s.SetLifetime(time.Minute)
	start = time.Now()
	es = f.mustSubscribe(t, shard0, trimHorizon)
	time.Sleep(300 * time.Millisecond)
	f.s.SetLifetime(800 * time.Millisecond) // the 2s it had would be past 1.6s
	drain(t, es, 3*time.Second)
	if err := es.Err(); err != nil || time.Since(start) > 1600*time.Millisecond {
		t.Errorf("after SetLifetime(800ms) the stream lasted %v and ended with %v", time.Since(start), err)
	}
}
