package fanout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/efotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/getrecords"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const (
	waitFor = 30 * time.Second
	tick    = 20 * time.Millisecond
)

// env is kinesis-local holding a stream, the enhanced fan-out server in front of it, and
// a client of that server.
type env struct {
	k         *kinesistest.Server
	s         *efotest.Server
	c         *kinesis.Client
	stream    string
	streamARN string
	// put holds every record written, by shard, in the order Kinesis took them.
	// expected are violations a test provokes on purpose, by a part of their text.
	expected []string
	mu       sync.Mutex
	put      map[string][]string // shard -> data
	n        int
}

// local is the package's one kinesis-local: each test has a stream of its own on it.
var local *kinesistest.Server

func TestMain(m *testing.M) {
	os.Exit(kinesistest.RunShared(m, "../..", &local))
}

func newEnv(t *testing.T, shards int32, opts efotest.Options) *env {
	t.Helper()
	e := &env{k: local, stream: kinesistest.StreamName(t), put: map[string][]string{}}
	e.k.CreateStream(t, e.stream, shards)
	e.streamARN = "arn:aws:kinesis:us-east-1:" + kinesistest.Account + ":stream/" + e.stream
	opts.Backend = e.k.Endpoint
	e.s = efotest.Start(t, opts)
	// One attempt per call, as the receiver makes them: the consumer retries itself.
	e.c = e.s.NewKinesisClient(func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	t.Cleanup(func() {
		v := slices.DeleteFunc(e.s.Violations(), func(v string) bool {
			return slices.ContainsFunc(e.expected, func(s string) bool { return strings.Contains(v, s) })
		})
		if len(v) > 0 {
			t.Errorf("the calls broke the wire protocol:\n%s", strings.Join(v, "\n"))
		}
	})
	return e
}

// write puts n records with keys spread over the shards, each carrying a unique payload.
func (e *env) write(t *testing.T, n int) {
	t.Helper()
	keys := make([]string, n)
	data := make([][]byte, n)
	for i := range n {
		e.n++
		keys[i] = fmt.Sprintf("agent-%d", e.n%97)
		data[i] = fmt.Appendf(nil, "record-%06d", e.n)
	}
	e.k.Put(t, e.stream, keys, data)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range n {
		e.put["any"] = append(e.put["any"], string(data[i]))
	}
}

func (e *env) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.put["any"])
}

func (e *env) registrar(name string) *Registrar {
	return &Registrar{API: e.c, StreamARN: e.streamARN, ConsumerName: name, Register: true, PollInterval: 20 * time.Millisecond}
}

func (e *env) source(t *testing.T, name string) *Source {
	return &Source{
		API: e.c, Stream: kinesisconsumer.StreamRef{Name: e.stream}, Registrar: e.registrar(name),
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
		// As the receiver: events decoded by getrecords, over efotest's real event stream.
		StreamClientOptions: []func(*kinesis.Options){getrecords.Use},
	}
}

// delivery is one record the recorder accepted.
type delivery struct {
	shard, seq, data string
	replay           bool
}

// recorder is a Processor that accepts batches unless told to refuse, and keeps what it
// accepted.
type recorder struct {
	mu       sync.Mutex
	got      []delivery
	refusing bool
	refused  int
}

func (r *recorder) Process(_ context.Context, b kinesisconsumer.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refusing {
		r.refused++
		return errors.New("the pipeline is full")
	}
	for _, rec := range b.Records {
		r.got = append(r.got, delivery{shard: b.ShardID, seq: rec.SequenceNumber, data: string(rec.Data), replay: b.Replay})
	}
	return nil
}

func (r *recorder) setRefusing(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refusing = on
}

func (r *recorder) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// count is how many records were accepted, replays aside.
func (r *recorder) count() int {
	n := 0
	for _, d := range r.deliveries() {
		if !d.replay {
			n++
		}
	}
	return n
}

// accepted is the set of sequence numbers accepted, replays aside.
func (r *recorder) accepted() map[string]bool {
	set := map[string]bool{}
	for _, d := range r.deliveries() {
		if !d.replay {
			set[d.seq] = true
		}
	}
	return set
}

// consume starts a consumer of the stream through src; it is shut down when the test ends.
func (e *env) consume(t *testing.T, src kinesisconsumer.Source, proc kinesisconsumer.Processor, mod func(*kinesisconsumer.Options)) *kinesisconsumer.Consumer {
	t.Helper()
	opts := kinesisconsumer.Options{
		API:               e.c,
		Stream:            kinesisconsumer.StreamRef{Name: e.stream},
		Processor:         proc,
		Source:            src,
		StartPosition:     kinesisconsumer.Position{Type: types.ShardIteratorTypeTrimHorizon},
		DiscoveryInterval: 200 * time.Millisecond,
		ProcessBackoff:    kinesisconsumer.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
		ReadBackoff:       kinesisconsumer.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		ShutdownGrace:     time.Second,
		Logger:            zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := kinesisconsumer.New(opts)
	require.NoError(t, err)
	c.Start()
	t.Cleanup(func() { shutdown(t, c) })
	return c
}

func shutdown(t *testing.T, c *kinesisconsumer.Consumer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NoError(t, c.Shutdown(ctx))
}

// waitAll waits until every record written was accepted.
func (e *env) waitAll(t *testing.T, r *recorder) {
	t.Helper()
	want := len(e.all())
	require.Eventually(t, func() bool { return r.count() >= want }, waitFor, tick, "not every record was accepted")
}

// assertExactlyOnceInOrder checks that every record written was accepted once, replays
// aside, and each shard's records in sequence order.
func assertExactlyOnceInOrder(t *testing.T, e *env, r *recorder) {
	t.Helper()
	seen := map[string]int{}
	last := map[string]string{}
	for _, d := range r.deliveries() {
		if d.replay {
			continue
		}
		seen[d.data]++
		if prev, ok := last[d.shard]; ok {
			assert.Positive(t, kinesisconsumer.CompareSequence(d.seq, prev), "shard %s: %s came after %s", d.shard, d.seq, prev)
		}
		last[d.shard] = d.seq
	}
	var missing, twice []string
	for _, data := range e.all() {
		switch seen[data] {
		case 0:
			missing = append(missing, data)
		case 1:
		default:
			twice = append(twice, data)
		}
	}
	assert.Empty(t, missing, "records never accepted")
	assert.Empty(t, twice, "records accepted more than once")
	assert.Len(t, seen, len(e.all()), "records accepted that were never written")
}

// resumedAfterAccepted checks that every subscription after a shard's first started
// after a record the pipeline had accepted, never before it or at a record only received.
func resumedAfterAccepted(t *testing.T, subs []efotest.Subscription, accepted map[string]bool) {
	t.Helper()
	for _, s := range subs {
		if s.StartingPosition != string(types.ShardIteratorTypeAfterSequenceNumber) {
			continue
		}
		assert.True(t, accepted[s.SequenceNumber], "a subscription of %s resumed after %s, which was never accepted", s.ShardID, s.SequenceNumber)
	}
}

func shardIDs(t *testing.T, e *env) []string {
	t.Helper()
	out, err := e.k.Client.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: &e.stream})
	require.NoError(t, err)
	var ids []string
	for _, s := range out.Shards {
		ids = append(ids, *s.ShardId)
	}
	return ids
}
