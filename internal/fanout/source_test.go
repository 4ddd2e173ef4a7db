package fanout

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// The plain case: a backlog and records written while reading, on two shards, each
// accepted once, in order, through subscriptions (never GetRecords).
func TestEverySubscribedRecordIsAcceptedOnceInOrder(t *testing.T) {
	e := newEnv(t, 2, efotest.Options{MaxRecordsPerEvent: 50})
	e.write(t, 500)
	r := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r, nil)
	e.waitAll(t, r)
	e.write(t, 300)
	e.waitAll(t, r)
	assertExactlyOnceInOrder(t, e, r)
	subs := e.s.Subscriptions()
	require.Len(t, subs, 2, "one subscription per shard")
	for _, s := range subs {
		assert.Equal(t, string(types.ShardIteratorTypeTrimHorizon), s.StartingPosition)
	}
	assert.Equal(t, 1, e.s.Registers(), "one registration")
}

// Kinesis ends each subscription (here after 400 ms, not 5 minutes), and the Source
// renews its own (here after 300 ms): every renewal starts after the last record
// accepted, and nothing is lost or repeated. Linger makes the shard's subscription stay
// in use for a moment after it ended, as on AWS; the Source waits it out quietly.
func TestRolloverResumesAfterTheLastAcceptedRecord(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{MaxRecordsPerEvent: 5, SubscriptionLifetime: 400 * time.Millisecond, Linger: 150 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	src := e.source(t, "otelcol")
	src.RenewAfter = 300 * time.Millisecond
	r := &recorder{}
	e.consume(t, src, r, nil)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		e.write(t, 20)
		time.Sleep(50 * time.Millisecond)
	}
	e.waitAll(t, r)
	assertExactlyOnceInOrder(t, e, r)
	subs := e.s.Subscriptions()
	assert.GreaterOrEqual(t, len(subs), 3, "subscriptions were not renewed")
	ends := map[efotest.End]int{}
	for _, s := range subs {
		ends[s.End]++
	}
	assert.Positive(t, ends[efotest.EndClient], "the Source never renewed a subscription itself: %v", ends)
	resumedAfterAccepted(t, subs, r.accepted())
}

// While the pipeline refuses, the Source stops reading its subscription: the server's
// writes stall under HTTP/2 flow control instead of the records piling up in memory.
// Once the pipeline takes data again, reading resumes from the last accepted record.
func TestRefusingPipelineStopsTheStream(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{MaxRecordsPerEvent: 4})
	// HTTP/2's stream window, 4 MiB by default, shrunk to 64 KiB so that a small backlog
	// (kinesis-local takes about 1 MB/s) fills it: 60 records of 20 KB, 1.2 MB.
	tr := e.s.Client().Transport.(*http.Transport).Clone()
	tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10}
	e.c = e.s.NewKinesisClient(func(o *kinesis.Options) {
		o.RetryMaxAttempts = 1
		o.HTTPClient = &http.Client{Transport: tr}
	})
	const n = 60
	e.write(t, 1)
	r := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r, nil)
	e.waitAll(t, r)
	r.setRefusing(true)
	keys := make([]string, n)
	data := make([][]byte, n)
	for i := range data {
		keys[i] = "agent"
		data[i] = make([]byte, 20_000)
		copy(data[i], fmt.Sprint(i))
	}
	e.k.Put(t, e.stream, keys, data)

	sent := func() int {
		n := 0
		for _, s := range e.s.Subscriptions() {
			n += s.Records
		}
		return n
	}
	// The server pushes until flow control stops it, then stays there.
	var plateau int
	require.Eventually(t, func() bool {
		before := sent()
		time.Sleep(300 * time.Millisecond)
		plateau = sent()
		return plateau == before && plateau > 1
	}, waitFor, tick)
	time.Sleep(time.Second)
	assert.Equal(t, plateau, sent(), "the server kept sending to a refusing pipeline")
	assert.Less(t, plateau, n+1, "everything was pushed while the pipeline refused: nothing bounds what waits")
	t.Logf("%d of %d records pushed while the pipeline refused", plateau, n+1)
	r.mu.Lock()
	refused := r.refused
	r.mu.Unlock()
	assert.Positive(t, refused)

	r.setRefusing(false)
	require.Eventually(t, func() bool { return r.count() == n+1 }, waitFor, tick, "reading did not resume once the pipeline took data")
	seen := map[string]bool{}
	for _, d := range r.deliveries() {
		assert.False(t, seen[d.seq], "%s accepted twice", d.seq)
		seen[d.seq] = true
	}
	resumedAfterAccepted(t, e.s.Subscriptions(), r.accepted())
}

// A connection dropped mid-stream, a malformed frame and an exception message each end
// a subscription; the Source backs off and resumes after the last accepted record.
func TestBrokenStreamsResumeWithoutLossOrDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*efotest.Server)
		end   efotest.End
	}{
		{"dropped connection", func(s *efotest.Server) { s.DropAfter(3) }, efotest.EndDropped},
		{"malformed frame", func(s *efotest.Server) { s.CorruptAfter(3) }, efotest.EndCorrupt},
		{"exception", func(s *efotest.Server) { s.ExceptionAfter(3, "InternalFailureException") }, efotest.EndException},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1, efotest.Options{MaxRecordsPerEvent: 7})
			e.write(t, 200)
			tc.fault(e.s)
			tc.fault(e.s) // twice in a row: the resumed subscription breaks too
			r := &recorder{}
			e.consume(t, e.source(t, "otelcol"), r, nil)
			e.waitAll(t, r)
			assertExactlyOnceInOrder(t, e, r)
			subs := e.s.Subscriptions()
			require.GreaterOrEqual(t, len(subs), 3)
			assert.Equal(t, tc.end, subs[0].End)
			assert.Equal(t, tc.end, subs[1].End)
			resumedAfterAccepted(t, subs, r.accepted())
		})
	}
}

// SubscribeToShard answered ResourceInUseException (another subscription still open),
// LimitExceededException (subscribing too often) or a 500 is retried with backoff.
func TestRefusedSubscriptionsAreRetried(t *testing.T) {
	for _, errType := range []string{"ResourceInUseException", "LimitExceededException", "InternalFailure"} {
		t.Run(errType, func(t *testing.T) {
			e := newEnv(t, 1, efotest.Options{})
			e.write(t, 50)
			e.s.FailSubscribe(errType, 4)
			r := &recorder{}
			e.consume(t, e.source(t, "otelcol"), r, nil)
			e.waitAll(t, r)
			assertExactlyOnceInOrder(t, e, r)
			require.Len(t, e.s.Subscriptions(), 1, "only the subscription accepted counts")
		})
	}
}

// A split while subscribed: the parent's last event names the children, which are read
// after the parent, each record once.
func TestReshardReadsParentsBeforeChildren(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{MaxRecordsPerEvent: 20})
	e.write(t, 200)
	r := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r, nil)
	e.waitAll(t, r)
	parent := shardIDs(t, e)[0]
	_, err := e.k.Client.SplitShard(t.Context(), &kinesis.SplitShardInput{
		StreamName: &e.stream, ShardToSplit: &parent,
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728"),
	})
	require.NoError(t, err)
	e.k.WaitActive(t, e.stream)
	e.write(t, 300)
	e.waitAll(t, r)
	assertExactlyOnceInOrder(t, e, r)

	lastParent, firstChild := -1, -1
	for i, d := range r.deliveries() {
		if d.shard == parent {
			lastParent = i
		} else if firstChild < 0 {
			firstChild = i
		}
	}
	require.GreaterOrEqual(t, firstChild, 0, "no child was read")
	assert.Less(t, lastParent, firstChild, "a child was read before its parent's end")
	var parentEnd bool
	children := map[string]bool{}
	for _, s := range e.s.Subscriptions() {
		if s.ShardID == parent && s.End == efotest.EndShardEnd {
			parentEnd = true
		}
		if s.ShardID != parent {
			children[s.ShardID] = true
		}
	}
	assert.True(t, parentEnd, "the parent's subscription did not end at the shard's end")
	assert.Len(t, children, 2, "both children are subscribed to")
}

// A LATEST start resumes, after a subscription that ended before any record came, from
// when the first one started, not from a new LATEST that would skip what came meanwhile.
func TestLatestStartDoesNotSkipAfterASubscriptionEnds(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{PollInterval: 20 * time.Millisecond})
	e.write(t, 5) // before the start: not read
	before := len(e.all())
	// A LATEST start is taken as starting a second before Kinesis's Date, which has whole
	// seconds: these are written earlier than that.
	time.Sleep(2100 * time.Millisecond)
	r := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r, func(o *kinesisconsumer.Options) {
		o.StartPosition = kinesisconsumer.Position{Type: types.ShardIteratorTypeLatest}
	})
	require.Eventually(t, func() bool { return len(e.s.Subscriptions()) == 1 }, waitFor, tick)
	// Subscriptions now end at once, again and again, while records are written.
	e.s.SetLifetime(time.Millisecond)
	require.Eventually(t, func() bool { return len(e.s.Subscriptions()) >= 3 }, waitFor, tick)
	e.write(t, 20)
	time.Sleep(200 * time.Millisecond)
	e.s.SetLifetime(5 * time.Minute)
	want := e.all()[before:]
	require.Eventually(t, func() bool { return r.count() >= len(want) }, waitFor, tick)
	var got []string
	for _, d := range r.deliveries() {
		got = append(got, d.data)
	}
	assert.Equal(t, want, got)
	subs := e.s.Subscriptions()
	assert.Equal(t, string(types.ShardIteratorTypeLatest), subs[0].StartingPosition)
	for _, s := range subs[1:] {
		assert.Contains(t, []string{string(types.ShardIteratorTypeAtTimestamp), string(types.ShardIteratorTypeAfterSequenceNumber)}, s.StartingPosition)
	}
}

// After a restart, the state replay reads the records before the checkpoint once, by
// polling (ReplaySource), and the shard is then read on through a subscription from
// after its checkpoint: nothing is handed on twice, and no subscription replays.
func TestReplayAfterRestartPollsThenSubscribes(t *testing.T) {
	e := newEnv(t, 1, efotest.Options{})
	e.write(t, 100)
	store := kinesisconsumer.NewMemoryStore()
	withStore := func(o *kinesisconsumer.Options) {
		o.Checkpoints = store
		o.Replay = 150 * time.Second
		o.ReplaySource = &kinesisconsumer.PollingSource{API: e.c, Stream: kinesisconsumer.StreamRef{Name: e.stream}, MaxRecords: 500}
	}
	r1 := &recorder{}
	c := e.consume(t, e.source(t, "otelcol"), r1, withStore)
	e.waitAll(t, r1)
	shutdown(t, c)
	subsBefore := len(e.s.Subscriptions())

	e.write(t, 50)
	r2 := &recorder{}
	e.consume(t, e.source(t, "otelcol"), r2, withStore)
	require.Eventually(t, func() bool { return r2.count() == 50 }, waitFor, tick)
	time.Sleep(200 * time.Millisecond)
	var replayed, read []string
	for _, d := range r2.deliveries() {
		if d.replay {
			replayed = append(replayed, d.data)
		} else {
			read = append(read, d.data)
		}
	}
	all := e.all()
	assert.Equal(t, all[:100], replayed, "the replay is the records before the checkpoint, once")
	assert.Equal(t, all[100:], read, "reading goes on from the checkpoint")
	subs := e.s.Subscriptions()[subsBefore:]
	require.NotEmpty(t, subs)
	for _, s := range subs {
		assert.Equal(t, string(types.ShardIteratorTypeAfterSequenceNumber), s.StartingPosition, "a subscription replayed")
	}
}

// A subscription's own client gets the options Source was given: kinesis.New does not
// carry over those its API was made with.
func TestSubscriptionClientsTakeTheStreamClientOptions(t *testing.T) {
	var applied int
	s := &Source{API: kinesis.New(kinesis.Options{Region: "eu-west-2"}),
		StreamClientOptions: []func(*kinesis.Options){func(*kinesis.Options) { applied++ }}}
	c, ok := s.streamClient().(*kinesis.Client)
	require.True(t, ok)
	assert.NotSame(t, s.API, c, "a client of its own")
	assert.Equal(t, 1, applied)
}
