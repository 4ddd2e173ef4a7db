package standin

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAProcessThatExitsIsNotReady(t *testing.T) {
	start := time.Now()
	_, err := Start("quitter", exec.Command("sh", "-c", "echo bad flag; exit 3"), filepath.Join(t.TempDir(), "log"), "http://127.0.0.1:9")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "quitter did not come up: process exited")
	assert.Contains(t, err.Error(), "bad flag", "the error quotes the log")
	assert.Less(t, time.Since(start), 30*time.Second, "it waited for the deadline instead of the exit")
}

// What answers on the port is another process's: the stand-in did not get the port, and
// its caller is told so, to try another.
func TestAnotherProcessOnThePortIsNotTheStandIn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, err := Start("late", exec.Command("sh", "-c", "sleep 30"), filepath.Join(t.TempDir(), "log"), srv.URL)
	require.ErrorIs(t, err, ErrPortTaken)
}

func TestStopEndsAProcessThatIgnoresSIGTERM(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	server := fmt.Sprintf(`process.on("SIGTERM", () => {}); require("http").createServer((q, r) => r.end()).listen(%d, "127.0.0.1")`, port)
	p, err := Start("stubborn", exec.Command("node", "-e", server), filepath.Join(t.TempDir(), "log"), fmt.Sprintf("http://127.0.0.1:%d", port))
	require.NoError(t, err)
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned while the process still ran")
	}
}
