package standin

import (
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

func TestStopEndsAProcessThatIgnoresSIGTERM(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	p, err := Start("stubborn", exec.Command("sh", "-c", `trap "" TERM; while :; do sleep 1; done`), filepath.Join(t.TempDir(), "log"), srv.URL)
	require.NoError(t, err)
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned while the process still ran")
	}
}
