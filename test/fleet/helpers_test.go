// Package fleet proves, with the built collector, kinesis-local and dynalite, what
// several collectors sharing one stream through a DynamoDB lease table promise: a fair
// split that stays put, failover after a SIGKILL within a lease duration, a graceful
// hand-over with nothing read twice, resharding in order, and gauges that sum across
// the fleet to one collector's.
package fleet

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fleettest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// One kinesis-local and one dynalite serve every test, each test with its own stream
// and table: starting them costs seconds this package has few of.
var (
	kin *kinesistest.Server
	dyn *dynamotest.Server
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fleet-stand-ins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root := filepath.Join("..", "..")
	if kin, err = kinesistest.Launch(root, filepath.Join(dir)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer kin.Stop()
	if dyn, err = dynamotest.Launch(root, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer dyn.Stop()
	return m.Run()
}

// fleet is the collectors of one test on one stream and lease table, exporting to one
// recorder.
type fleet struct {
	t        *testing.T
	stream   string
	table    string
	settings fleettest.Settings
	rec      *fleettest.Recorder
	writer   *fleettest.Writer
	dir      string
	members  map[string]*member
	// receiver holds more aws_connect settings for the collectors started next.
	receiver map[string]any
}

type member struct {
	id     string
	config string
	proc   *collectortest.Process
	// stopped: the test ended it, and its exit is no failure.
	stopped bool
}

// kill SIGKILLs a member and returns when the signal went; it waits for the exit.
func (f *fleet) kill(id string) time.Time {
	m := f.members[id]
	m.stopped = true
	at := time.Now()
	m.proc.Kill()
	return at
}

// terminate sends a member SIGTERM and returns at once, with when; done gets the
// result of its shutdown (an error unless it exits with 0 within 30 s).
func (f *fleet) terminate(id string) (at time.Time, done <-chan error) {
	m := f.members[id]
	m.stopped = true
	ch := make(chan error, 1)
	at = time.Now()
	go func() { ch <- m.proc.Terminate(30 * time.Second) }()
	return at, ch
}

// newFleet makes a stream of shards and a recorder; no collector runs yet.
func newFleet(t *testing.T, name string, shards int32) *fleet {
	t.Helper()
	kin.CreateStream(t, name, shards)
	rec := fleettest.NewRecorder()
	t.Cleanup(rec.Close)
	w, err := fleettest.NewWriter(kin.Client, name, 30)
	require.NoError(t, err)
	return &fleet{t: t, stream: name, table: name + "-leases", settings: fleettest.TestSettings(),
		rec: rec, writer: w, dir: t.TempDir(), members: map[string]*member{}}
}

// start runs a collector: a member of the fleet with leases, or with leases false one
// reading the whole stream alone, with its own checkpoints.
func (f *fleet) start(id string, leases bool) *member {
	f.t.Helper()
	addr, err := f.rec.Serve(id)
	require.NoError(f.t, err)
	m := fleettest.Member{
		ID: id, Stream: f.stream, KinesisEndpoint: kin.Endpoint,
		StorageDir: filepath.Join(f.dir, id, "state"), Backend: addr, Settings: f.settings,
		Receiver: f.receiver,
	}
	if leases {
		m.Table, m.DynamoEndpoint = f.table, dyn.Endpoint
	}
	require.NoError(f.t, os.MkdirAll(filepath.Join(f.dir, id), 0o755))
	path := m.Config().Write(f.t, filepath.Join(f.dir, id, "config.yaml"))
	mem := &member{id: id, config: path, proc: collectortest.Start(f.t, path, kinesistest.CollectorEnv()...)}
	f.members[id] = mem
	return mem
}

// startFleet starts workers w1..wn with leases and returns their IDs.
func (f *fleet) startFleet(n int) []string {
	f.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-w%d", f.stream, i+1)
		f.start(ids[i], true)
	}
	return ids
}

// owners reads who holds each open shard, straight from the table; nil before the
// table exists.
func (f *fleet) owners() map[string]string {
	f.t.Helper()
	leases, err := fleettest.ReadLeases(context.Background(), dyn.Client, f.table)
	if err != nil {
		return nil
	}
	return fleettest.Owners(leases)
}

func (f *fleet) leases() []fleettest.Lease {
	f.t.Helper()
	leases, err := fleettest.ReadLeases(context.Background(), dyn.Client, f.table)
	require.NoError(f.t, err)
	return leases
}

// waitFair polls the table until workers hold the open shards fairly, and returns the
// split; the test fails after deadline.
func (f *fleet) waitFair(workers []string, deadline time.Duration) map[string]string {
	f.t.Helper()
	end := time.Now().Add(deadline)
	var owners map[string]string
	for time.Now().Before(end) {
		f.checkRunning()
		owners = f.owners()
		if fleettest.Fair(owners, workers) {
			return owners
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("no fair split of the shards among %v within %s: %s", workers, deadline, describe(owners))
	return nil
}

// waitArrived polls until every event written arrived from one of members (any, when
// none are named).
func (f *fleet) waitArrived(deadline time.Duration, members ...string) {
	f.t.Helper()
	written := f.writer.Written()
	end := time.Now().Add(deadline)
	var missing []string
	for time.Now().Before(end) {
		if missing = f.rec.Missing(written, members...); len(missing) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.t.Fatalf("%d of %d events never arrived (from %v), e.g. %v", len(missing), len(written), members, missing[:min(5, len(missing))])
}

// checkRunning fails the test if a collector it did not stop has exited.
func (f *fleet) checkRunning() {
	f.t.Helper()
	for _, m := range f.members {
		select {
		case <-m.proc.Exited:
			if !m.stopped {
				f.t.Fatalf("collector %s exited:\n%s", m.id, m.proc.Output())
			}
		default:
		}
	}
}

// startFlowing starts n collectors behind a backend that answers after 300 ms, so that a
// collector stopped or killed is likely holding a batch exported and not checkpointed;
// waits for a fair split; then starts writing events (once the split is settled, so that
// every repeat after is the stop's or the kill's) and waits until they arrive. stop ends
// the writing.
func (f *fleet) startFlowing(n int) (ids []string, stop func()) {
	f.t.Helper()
	f.rec.SetDelay(300 * time.Millisecond)
	ids = f.startFleet(n)
	f.waitFair(ids, 3*f.settings.LeaseDuration)
	flowFrom := time.Now()
	stop = f.write(40, 500*time.Millisecond)
	f.waitFlowing(ids, flowFrom, 30*time.Second)
	return ids, stop
}

// write runs the writer in the background, perBatch events every pause, until the
// returned stop is called; stop returns the writer's error.
func (f *fleet) write(perBatch int, pause time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.writer.Run(ctx, perBatch, pause) }()
	stopped := false
	stop = func() {
		f.t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(f.t, <-done, "writing events")
	}
	f.t.Cleanup(func() { cancel() })
	return stop
}

// describe prints a split: shard -> owner, sorted.
func describe(owners map[string]string) string {
	keys := slices.Sorted(maps.Keys(owners))
	parts := make([]string, len(keys))
	for i, k := range keys {
		o := owners[k]
		if o == "" {
			o = "(none)"
		}
		parts[i] = k + "=" + o
	}
	return strings.Join(parts, " ")
}

// shardsOf lists the shards owners gives to worker, sorted.
func shardsOf(owners map[string]string, worker string) []string {
	var out []string
	for s, o := range owners {
		if o == worker {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// busiest is the worker holding the most shards (the first by name among equals).
func busiest(owners map[string]string, workers []string) string {
	held := fleettest.Held(owners)
	best := workers[0]
	for _, w := range workers[1:] {
		if held[w] > held[best] {
			best = w
		}
	}
	return best
}

// without returns ids less one.
func without(ids []string, one string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == one })
}

// waitFlowing polls until each of members exported a record after since.
func (f *fleet) waitFlowing(members []string, since time.Time, deadline time.Duration) {
	f.t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		f.checkRunning()
		got := map[string]bool{}
		for _, a := range f.rec.Arrivals() {
			if a.At.After(since) {
				got[a.Member] = true
			}
		}
		if len(got) >= len(members) && allIn(members, got) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("events did not reach the backend from each of %v within %s", members, deadline)
}

func allIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return true
}

// waitWritten polls until the writer has written n more events than it had.
func (f *fleet) waitWritten(n int, deadline time.Duration) {
	f.t.Helper()
	want := len(f.writer.Written()) + n
	end := time.Now().Add(deadline)
	for len(f.writer.Written()) < want {
		if time.Now().After(end) {
			f.t.Fatalf("the writer did not write %d more events within %s", n, deadline)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeze stops a member's process (SIGSTOP), as a long pause would; thaw lets it go on.
// A frozen member is thawed when the test ends.
func (f *fleet) freeze(id string) (thaw func()) {
	f.t.Helper()
	m := f.members[id]
	require.NotNil(f.t, m, "no collector %q to freeze", id)
	require.NoError(f.t, syscall.Kill(m.proc.PID(), syscall.SIGSTOP))
	once := sync.OnceFunc(func() { _ = syscall.Kill(m.proc.PID(), syscall.SIGCONT) })
	f.t.Cleanup(once)
	return once
}

// waitMoved polls until shard's lease is held by another worker than now, or ended.
func (f *fleet) waitMoved(shard string, deadline time.Duration) {
	f.t.Helper()
	leases := f.leases()
	var from string
	for _, l := range leases {
		if l.Shard == shard {
			from = l.Owner
		}
	}
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		for _, l := range f.leases() {
			if l.Shard == shard && ((l.Owner != "" && l.Owner != from) || l.Checkpoint == "SHARD_END") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("the lease of %s stayed with %q for %s", shard, from, deadline)
}
