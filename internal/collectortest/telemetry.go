package collectortest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Telemetry reads a counter or gauge from the collector's own metrics, served by a
// Prometheus pull reader on port, summed over its labels; ok is false if the collector
// does not answer or has no such metric yet.
func Telemetry(port int, name string) (value float64, ok bool) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, found := strings.CutPrefix(line, name)
		if !found || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			value, ok = value+v, true
		}
	}
	return value, ok
}

// ResidentMemory is a process's resident memory in bytes, from /proc.
func ResidentMemory(pid int) (int64, bool) {
	return statusBytes(pid, "VmRSS:")
}

// PeakResidentMemory is the most resident memory a process has had so far (VmHWM), in
// bytes, from /proc.
func PeakResidentMemory(pid int) (int64, bool) {
	return statusBytes(pid, "VmHWM:")
}

// AnonymousResidentMemory is a running process's anonymous resident memory (RssAnon):
// its heap and stacks, without the binary's pages or the files it maps, which VmHWM
// counts too.
func AnonymousResidentMemory(pid int) (int64, bool) {
	return statusBytes(pid, "RssAnon:")
}

// BytesWritten is what a process has passed to write calls so far (wchar of
// /proc/PID/io): files, sockets and pipes alike, whether or not it reached a disk.
func BytesWritten(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func statusBytes(pid int, field string) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// CPUTime is the CPU time a process has used so far, user and system (utime + stime of
// /proc/PID/stat).
func CPUTime(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, field 2, may hold spaces: count fields after its closing ")".
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}
