package crashsafety

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// writer puts the simulator's events into a stream, perBatch at a time, a pause between
// batches, until it has written limit events (0: until finish).
type writer struct {
	// retryEvery, when above 0, has every retryEvery-th batch also carry again the first
	// 10 events of the batch before, as a producer that lost PutRecords' answer and
	// retried would; the retried records follow their agents' later events.
	retryEvery int
	limit      int

	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	written []string
	retried []string
}

func newWriter(limit, retryEvery int) *writer {
	return &writer{limit: limit, retryEvery: retryEvery, stop: make(chan struct{}), done: make(chan struct{})}
}

// startWriter writes until finish.
func startWriter(t *testing.T, srv *kinesistest.Server, stream string, perBatch int, pause time.Duration) *writer {
	w := newWriter(0, 0)
	w.start(t, srv, stream, perBatch, pause)
	return w
}

func (w *writer) start(t *testing.T, srv *kinesistest.Server, stream string, perBatch int, pause time.Duration) {
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 30
	sim, err := connectsim.New(cfg, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	go func() {
		defer close(w.done)
		var lastKeys, lastIDs []string
		var lastData [][]byte
		for n := 1; w.limit == 0 || w.count() < w.limit; n++ {
			var keys, ids []string
			var data [][]byte
			for range perBatch {
				rec := sim.Next()
				var ev struct{ EventId string }
				if json.Unmarshal(rec.Data, &ev) != nil {
					continue
				}
				keys, data, ids = append(keys, rec.Key), append(data, rec.Data), append(ids, ev.EventId)
			}
			var retried []string
			if w.retryEvery > 0 && n%w.retryEvery == 0 && len(lastIDs) >= 10 {
				keys, data = append(keys, lastKeys[:10]...), append(data, lastData[:10]...)
				retried = lastIDs[:10]
			}
			srv.Put(t, stream, keys, data)
			w.mu.Lock()
			w.written = append(w.written, ids...)
			w.retried = append(w.retried, retried...)
			w.mu.Unlock()
			lastKeys, lastData, lastIDs = keys, data, ids
			select {
			case <-w.stop:
				return
			case <-time.After(pause):
			}
		}
	}()
}

// count is how many events have been written.
func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.written)
}

// finish stops the writer, and returns the EventIds it wrote and those it wrote twice.
func (w *writer) finish() (written, retried []string) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.written...), append([]string(nil), w.retried...)
}
