package perftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/collectortest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// Usage is what a process has cost so far.
type Usage struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // bytes
	// Written is what it passed to write calls (wchar), in bytes; -1 when unknown.
	Written int64
}

// AnonPeak is the largest anonymous resident memory a process had while watched.
type AnonPeak struct {
	stop, done chan struct{}
	peak       atomic.Int64
}

// WatchAnon samples pid's anonymous resident memory every 20 ms until Stop.
func WatchAnon(pid int) *AnonPeak {
	a := &AnonPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if anon, ok := collectortest.AnonymousResidentMemory(pid); ok && anon > a.peak.Load() {
				a.peak.Store(anon)
			}
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return a
}

// Stop ends the watch and returns the largest sample, in bytes.
func (a *AnonPeak) Stop() int64 {
	close(a.stop)
	<-a.done
	return a.peak.Load()
}

// Sample reads a running process's CPU time and peak resident memory (VmHWM) from /proc.
func Sample(pid int) (Usage, bool) {
	cpu, ok1 := collectortest.CPUTime(pid)
	peak, ok2 := collectortest.PeakResidentMemory(pid)
	written, ok3 := collectortest.BytesWritten(pid)
	if !ok3 {
		written = -1
	}
	return Usage{CPU: cpu, PeakRSS: peak, Written: written}, ok1 && ok2
}

// exitedCPU is the CPU time of a process that has exited, from wait4's rusage. (Its
// ru_maxrss is no measure of the process: on Linux it also counts the parent's memory
// the child had between fork and exec.)
func exitedCPU(state *os.ProcessState) time.Duration {
	ru := state.SysUsage().(*syscall.Rusage)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// allowed is the CPUs this process may run on: a container's cpuset may leave CPU 0 out.
var allowed = func() (set unix.CPUSet) {
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		set.Zero()
		for c := range runtime.NumCPU() {
			set.Set(c)
		}
	}
	return set
}()

// ConsumerCore is the core a consumer measured on one core runs on, the lowest this
// process may use; PinOffConsumerCore keeps the measuring process (the fast Kinesis
// server, the OTLP sink) off it.
var ConsumerCore = func() int {
	for c := range 8 * int(unsafe.Sizeof(allowed)) {
		if allowed.IsSet(c) {
			return c
		}
	}
	return 0
}()

// command is bin with args, on ConsumerCore alone with GOMAXPROCS=1 when oneCore.
func command(bin string, args []string, oneCore bool) (string, []string, []string) {
	if !oneCore {
		return bin, args, nil
	}
	return "taskset", append([]string{"-c", strconv.Itoa(ConsumerCore), bin}, args...), []string{"GOMAXPROCS=1"}
}

// CanPin says whether this machine has a core for the consumer and another for the rest.
func CanPin() bool { return allowed.Count() >= 2 }

// PinOffConsumerCore moves every thread of this process (and so the threads it starts
// later) to the cores other than ConsumerCore, until the test ends.
func PinOffConsumerCore(t testing.TB) {
	t.Helper()
	rest, all := allowed, allowed
	rest.Clear(ConsumerCore)
	require.NoError(t, setAffinity(&rest))
	t.Cleanup(func() { _ = setAffinity(&all) })
}

// setAffinity sets the CPU set of every thread of this process: sched_setaffinity
// applies to one thread. A thread started during a pass by one not yet set inherits the
// old set, so passes repeat until one finds no thread it has not set.
func setAffinity(set *unix.CPUSet) error {
	done := map[int]bool{}
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh = true
			done[tid] = true
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d: %w", tid, err)
			}
		}
		if !fresh {
			return nil
		}
	}
}

// Collector is a running collector binary, its own metrics on TelemetryPort.
type Collector struct {
	Proc          *collectortest.Process
	TelemetryPort int
	Started       time.Time
}

// CollectorSpec is how to run the collector against a Kinesis endpoint.
type CollectorSpec struct {
	Binary string
	// Config is the config file; Overlay, YAML merged over it.
	Config, Overlay string
	// Endpoint and Stream are the Kinesis endpoint and stream the receiver reads from
	// trim_horizon.
	Endpoint, Stream string
	// CAFile, when set, is every receiver's tls::ca_file: the certificate of an https
	// Endpoint of its own (efotest's).
	CAFile string
	// EnhancedFanOut has every receiver read through enhanced fan-out
	// (enhanced_fan_out: {enabled: true}) instead of polling; Endpoint must then serve
	// SubscribeToShard (efotest's server in front of kinesis-local).
	EnhancedFanOut bool
	Env            []string
	// OneCore runs it on ConsumerCore alone, GOMAXPROCS=1.
	OneCore bool
}

// readerOverlay points the receivers at the endpoint (with the CA file and enhanced
// fan-out, when asked: %[3]s, under each receiver), the agent events' at its backlog
// from its start, and serves the collector's own metrics on a local port. The queue
// side's receivers of the shipped configs read streams the stand-in does not have (a
// config without them, leaves them out of its pipelines).
const readerOverlay = `
receivers:
  aws_connect:
    endpoint: %[1]s
    start_position: trim_horizon%[3]s
  aws_connect/contacts:
    stream_name: connect-contact-events
    records: contact_events
    endpoint: %[1]s%[3]s
  aws_connect/ctr:
    stream_name: connect-contact-records
    records: contact_records
    endpoint: %[1]s%[3]s
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[2]d
`

// readerSettings are the lines readerOverlay adds under each receiver for spec.
func readerSettings(spec CollectorSpec) string {
	var s strings.Builder
	if spec.CAFile != "" {
		fmt.Fprintf(&s, "\n    tls:\n      ca_file: %s", strconv.Quote(spec.CAFile))
	}
	if spec.EnhancedFanOut {
		s.WriteString("\n    enhanced_fan_out:\n      enabled: true")
	}
	return s.String()
}

// StartCollector runs the collector binary with spec's config, pointed at the stream
// from its start, with static credentials, its storage in a directory of its own
// (OTELCOL_STORAGE_DIR) and its health check on a free port (HEALTH_CHECK_ENDPOINT).
func StartCollector(t testing.TB, spec CollectorSpec) *Collector {
	t.Helper()
	dir := t.TempDir()
	port := kinesistest.FreePort(t)
	// Each overlay is a file of its own, merged in order: the same key may be in both.
	args := []string{"--config", spec.Config}
	for i, overlay := range []string{fmt.Sprintf(readerOverlay, spec.Endpoint, port, readerSettings(spec)), spec.Overlay} {
		if overlay == "" {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("overlay-%d.yaml", i))
		require.NoError(t, os.WriteFile(path, []byte(overlay), 0o600))
		args = append(args, "--config", path)
	}
	env := append(kinesistest.CollectorEnv(),
		"CONNECT_STREAM_NAME="+spec.Stream,
		"AWS_REGION="+kinesistest.Region,
		"OTELCOL_STORAGE_DIR="+filepath.Join(dir, "storage"),
		fmt.Sprintf("HEALTH_CHECK_ENDPOINT=127.0.0.1:%d", kinesistest.FreePort(t)),
	)
	env = append(env, spec.Env...)
	bin := spec.Binary
	if bin == "" {
		bin = collectortest.Binary(t)
	}
	path, args, pinEnv := command(bin, args, spec.OneCore)
	c := &Collector{TelemetryPort: port, Started: time.Now()}
	c.Proc = collectortest.StartBinary(t, path, args, append(env, pinEnv...)...)
	return c
}

// Telemetry reads one of the collector's own metrics, 0 if it has none yet.
func (c *Collector) Telemetry(name string) float64 {
	v, _ := collectortest.Telemetry(c.TelemetryPort, name)
	return v
}

var bareLoop struct {
	once sync.Once
	path string
	err  error
}

// BareLoop is test/bareloop built once per test binary.
func BareLoop(t testing.TB) string {
	t.Helper()
	bareLoop.once.Do(func() {
		root := collectortest.RepoRoot(t)
		dir := filepath.Join(root, ".tmp", "perftest")
		if bareLoop.err = os.MkdirAll(dir, 0o755); bareLoop.err != nil {
			return
		}
		bareLoop.path = filepath.Join(dir, "bareloop")
		cmd := exec.Command("go", "build", "-o", bareLoop.path, "./test/bareloop")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			bareLoop.err = fmt.Errorf("build test/bareloop: %w\n%s", err, out)
		}
	})
	require.NoError(t, bareLoop.err)
	return bareLoop.path
}

// BareResult is what the bare loop printed.
type BareResult struct {
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	Shards  int   `json:"shards"`
	Calls   int64 `json:"calls"`
	PeakRSS int64 `json:"peak_rss"`
}

// BareRun is a bare loop process.
type BareRun struct {
	cmd     *exec.Cmd
	out     bytes.Buffer
	Started time.Time
}

// StartBareLoop runs the bare loop over a stream until it has read records in all (0:
// every shard to its tip), with static credentials.
func StartBareLoop(t testing.TB, endpoint, stream string, records int, oneCore bool) *BareRun {
	t.Helper()
	path, args, pinEnv := command(BareLoop(t), []string{
		"--endpoint", endpoint, "--stream", stream, "--region", kinesistest.Region, "--records", strconv.Itoa(records),
	}, oneCore)
	r := &BareRun{cmd: exec.Command(path, args...)}
	r.cmd.Env = append(append(os.Environ(), kinesistest.CollectorEnv()...), pinEnv...)
	r.cmd.Stdout = &r.out
	r.cmd.Stderr = &r.out
	r.Started = time.Now()
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

// PID is the bare loop's process ID.
func (r *BareRun) PID() int { return r.cmd.Process.Pid }

// Wait waits for the bare loop to finish and returns what it read and what it cost: its
// CPU time from its rusage, its peak memory as it read it itself.
func (r *BareRun) Wait(t testing.TB) (BareResult, Usage, time.Duration) {
	t.Helper()
	err := r.cmd.Wait()
	took := time.Since(r.Started)
	require.NoError(t, err, "bare loop: %s", r.out.String())
	var res BareResult
	require.NoError(t, json.Unmarshal(r.out.Bytes(), &res), "bare loop printed %q", r.out.String())
	return res, Usage{CPU: exitedCPU(r.cmd.ProcessState), PeakRSS: res.PeakRSS, Written: -1}, took
}
