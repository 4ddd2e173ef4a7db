package standin

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrPortTaken says that what answered on a stand-in's port is another process: the port
// was free when picked, and taken before the stand-in could listen on it (tests that run
// at once pick ports of their own). The caller tries again on another port.
var ErrPortTaken = fmt.Errorf("another process listens on the port")

// listensOn reports whether process pid holds a listening TCP socket on endpoint's port,
// from /proc; ok is false where /proc cannot tell (another OS), and the caller trusts the
// answer it got.
func listensOn(pid int, endpoint string) (listens, ok bool) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false, false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return false, false
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, found := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); found && err == nil && int(p) == port {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		f.Close()
	}
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name())); err == nil && inodes[link] {
			return true, true
		}
	}
	return false, true
}
