package perftest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fastkinesis"
)

// threadsOnConsumerCore counts this process's threads allowed on ConsumerCore.
func threadsOnConsumerCore(t *testing.T) (on, all int) {
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		var set unix.CPUSet
		if unix.SchedGetaffinity(tid, &set) != nil {
			continue // the thread is gone
		}
		all++
		if set.IsSet(ConsumerCore) {
			on++
		}
	}
	return on, all
}

// TestPinningKeepsEveryThreadOffTheConsumersCore: every thread of the process leaves the
// consumer's core, not only the calling one, and comes back when the test ends.
func TestPinningKeepsEveryThreadOffTheConsumersCore(t *testing.T) {
	if !CanPin() {
		assert.Equal(t, 1, runtime.NumCPU(), "CanPin is false only on a single core")
		return
	}
	t.Run("pinned", func(t *testing.T) {
		PinOffConsumerCore(t)
		on, all := threadsOnConsumerCore(t)
		assert.Zero(t, on, "of %d threads", all)
		// A thread started later inherits the mask.
		done := make(chan int)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var set unix.CPUSet
			_ = unix.SchedGetaffinity(0, &set)
			if set.IsSet(ConsumerCore) {
				done <- 1
			} else {
				done <- 0
			}
		}()
		assert.Zero(t, <-done)
	})
	on, all := threadsOnConsumerCore(t)
	assert.Equal(t, all, on, "every thread may run on every core again")
}

// TestTheBareLoopsMemoryIsItsOwn: the bare loop's peak memory is its own, however much
// the process that starts it holds (wait4's ru_maxrss counts the parent's too).
func TestTheBareLoopsMemoryIsItsOwn(t *testing.T) {
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	recs := []fastkinesis.Record{{PartitionKey: "k", Data: []byte(`{"EventId":"1"}`)}, {PartitionKey: "k", Data: []byte(`{"EventId":"2"}`)}}
	srv, err := fastkinesis.Start(fastkinesis.Options{Stream: "s", Shards: 2, Records: recs})
	require.NoError(t, err)
	defer srv.Close()
	res, use, _ := StartBareLoop(t, srv.Endpoint, "s", 0, false).Wait(t)
	assert.Equal(t, int64(4), res.Records)
	assert.Positive(t, use.PeakRSS)
	assert.Less(t, use.PeakRSS, int64(128<<20), "the bare loop's peak RSS")
	assert.Positive(t, use.CPU)
	runtime.KeepAlive(ballast)
}

// TestFiguresPerEventAndPerCore: the rates follow from events, CPU and wall time.
func TestFiguresPerEventAndPerCore(t *testing.T) {
	f := Figures{Events: 20_000, CPU: 2_000_000_000, Wall: 4_000_000_000, PeakRSS: 64 << 20}
	assert.InDelta(t, 100.0, f.CPUPerEvent(), 1e-9)
	assert.InDelta(t, 5_000.0, f.EventsPerSecond(), 1e-9)
	assert.InDelta(t, 10_000.0, f.EventsPerCPUSecond(), 1e-9)
	assert.InDelta(t, 64.0, f.PeakRSSMiB(), 1e-9)
	f.Written = 50_000_000
	assert.InDelta(t, 2.5, f.WrittenKBPerEvent(), 1e-9)
	f.Written = -1
	assert.Equal(t, -1.0, f.WrittenKBPerEvent(), "not measured")
}

// TestSampleCountsBytesWritten: what a process writes to a file shows in its sample.
func TestSampleCountsBytesWritten(t *testing.T) {
	before, ok := Sample(os.Getpid())
	require.True(t, ok)
	require.GreaterOrEqual(t, before.Written, int64(0))
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "f"), make([]byte, 1<<20), 0o600))
	after, ok := Sample(os.Getpid())
	require.True(t, ok)
	assert.GreaterOrEqual(t, after.Written-before.Written, int64(1<<20))
}

// TestReaderOverlayPointsEveryReceiverThroughEnhancedFanOut: with a CA file and enhanced
// fan-out, each of the shipped configs' receivers gets both; without, none does.
func TestReaderOverlayPointsEveryReceiverThroughEnhancedFanOut(t *testing.T) {
	type receiver struct {
		Endpoint string `yaml:"endpoint"`
		TLS      struct {
			CAFile string `yaml:"ca_file"`
		} `yaml:"tls"`
		EnhancedFanOut struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"enhanced_fan_out"`
	}
	parse := func(spec CollectorSpec) map[string]receiver {
		var doc struct {
			Receivers map[string]receiver `yaml:"receivers"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(fmt.Sprintf(readerOverlay, spec.Endpoint, 8888, readerSettings(spec))), &doc))
		require.Len(t, doc.Receivers, 3)
		return doc.Receivers
	}
	for id, r := range parse(CollectorSpec{Endpoint: "https://127.0.0.1:4443", CAFile: "/tmp/a dir/efotest-ca.pem", EnhancedFanOut: true}) {
		assert.Equal(t, "https://127.0.0.1:4443", r.Endpoint, id)
		assert.Equal(t, "/tmp/a dir/efotest-ca.pem", r.TLS.CAFile, id)
		assert.True(t, r.EnhancedFanOut.Enabled, id)
	}
	for id, r := range parse(CollectorSpec{Endpoint: "http://127.0.0.1:4567"}) {
		assert.Equal(t, "http://127.0.0.1:4567", r.Endpoint, id)
		assert.Empty(t, r.TLS.CAFile, id)
		assert.False(t, r.EnhancedFanOut.Enabled, id)
	}
}

// TestPinningReachesThreadsStartedMeanwhile: threads the runtime starts while the
// threads are being set (a thread inherits its creator's set) are set too.
func TestPinningReachesThreadsStartedMeanwhile(t *testing.T) {
	if !CanPin() {
		assert.Equal(t, 1, runtime.NumCPU(), "CanPin is false only on a single core")
		return
	}
	rest, all := allowed, allowed
	rest.Clear(ConsumerCore)
	t.Cleanup(func() { _ = setAffinity(&all) })
	// Goroutines that lock their thread and wait keep it, so the runtime starts a new
	// thread for each, from whichever thread runs the scheduler at that moment.
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	go func() {
		defer close(started)
		for range 1000 {
			held := make(chan struct{})
			go func() { runtime.LockOSThread(); close(held); <-release }()
			<-held
		}
	}()
	for round := 0; ; round++ {
		require.NoError(t, setAffinity(&rest))
		require.NoError(t, setAffinity(&all))
		on, threads := threadsOnConsumerCore(t)
		require.Equal(t, threads, on, "round %d", round)
		select {
		case <-started:
			return
		default:
		}
	}
}
