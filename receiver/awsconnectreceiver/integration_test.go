package awsconnectreceiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// sampleEvents returns n agent events made from the fixtures, each with its own EventId,
// keyed by agent ARN like Amazon Connect writes them.
func sampleEvents(t *testing.T, prefix string, n int) (keys, ids []string, data [][]byte) {
	t.Helper()
	files, err := filepath.Glob("../../testdata/events/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for i := range n {
		raw, err := os.ReadFile(files[i%len(files)])
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(raw, &ev))
		id := fmt.Sprintf("%s-%04d", prefix, i)
		ev["EventId"] = id
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		keys = append(keys, ev["AgentARN"].(string))
		ids = append(ids, id)
		data = append(data, b)
	}
	return keys, ids, data
}

// eventSink collects log records by EventId; it can refuse batches on demand.
type eventSink struct {
	mu        sync.Mutex
	ids       map[string]int
	malformed []plog.LogRecord
	// refuse, when set, decides the error returned for a batch instead of accepting it.
	refuse func(calls int) error
	calls  int
}

func newEventSink() *eventSink { return &eventSink{ids: map[string]int{}} }

func (s *eventSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.refuse != nil {
		if err := s.refuse(s.calls); err != nil {
			return err
		}
	}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if id, ok := lr.Attributes().Get(eventlog.AttrEventID); ok {
					s.ids[id.Str()]++
				} else {
					s.malformed = append(s.malformed, lr)
				}
			}
		}
	}
	return nil
}

func (s *eventSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.malformed)
	for _, c := range s.ids {
		n += c
	}
	return n
}

// storageHost is a host that offers one storage extension.
type storageHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h storageHost) GetExtensions() map[component.ID]component.Component { return h.exts }

var fileStorageID = component.MustNewID("file_storage")

// startFileStorage starts the real file_storage extension on dir.
func startFileStorage(t *testing.T, dir string) extension.Extension {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext
}

func testConfig(endpoint, stream string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.StreamName = stream
	cfg.Region = kinesistest.Region
	cfg.Endpoint = endpoint
	cfg.StartPosition = StartTrimHorizon
	cfg.PollInterval = 200 * time.Millisecond
	cfg.ErrorBackoff.InitialInterval = 50 * time.Millisecond
	cfg.ErrorBackoff.MaxInterval = 500 * time.Millisecond
	return cfg
}

func startReceiver(t *testing.T, cfg *Config, sink *eventSink, host component.Host) *awsConnectReceiver {
	t.Helper()
	return startReceiverWith(t, cfg, sink.ConsumeLogs, host)
}

// startReceiverWith starts a receiver whose logs go to consume.
func startReceiverWith(t *testing.T, cfg *Config, consume consumer.ConsumeLogsFunc, host component.Host) *awsConnectReceiver {
	t.Helper()
	return startReceiverLogging(t, cfg, consume, host, zaptest.NewLogger(t))
}

// startReceiverLogging is startReceiverWith with the receiver's log going to logger.
func startReceiverLogging(t *testing.T, cfg *Config, consume consumer.ConsumeLogsFunc, host component.Host, logger *zap.Logger) *awsConnectReceiver {
	t.Helper()
	next, err := consumer.NewLogs(consume)
	require.NoError(t, err)
	return startReceiverIn(t, cfg, component.NewID(metadata.Type), next, nil, host, logger)
}

// startReceiverIn starts a receiver with ID id (fixed, as in a real collector: the
// storage extension keys its data by it) in the pipelines given, either may be nil.
func startReceiverIn(t *testing.T, cfg *Config, id component.ID, logs consumer.Logs, metrics consumer.Metrics, host component.Host, logger *zap.Logger) *awsConnectReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = id
	set.Logger = logger
	r, err := newReceiver(cfg, set)
	require.NoError(t, err)
	r.nextLogs, r.nextMetrics = logs, metrics
	require.NoError(t, r.Start(context.Background(), host))
	return r
}

// TestKinesisLocalRestartResumesAfterCheckpoint reads a stream with checkpoints in the real
// file_storage extension, stops, and starts again on the same directory: the second run
// delivers only what was written after the first one stopped.
func TestKinesisLocalRestartResumesAfterCheckpoint(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "restart"
	srv.CreateStream(t, stream, 2)
	dir := t.TempDir()

	keys, firstIDs, data := sampleEvents(t, "first", 40)
	srv.Put(t, stream, keys, data)

	cfg := testConfig(srv.Endpoint, stream)
	id := fileStorageID
	cfg.Storage = &id

	run := func(want int) *eventSink {
		ext := startFileStorage(t, dir)
		sink := newEventSink()
		r := startReceiver(t, cfg, sink, storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{fileStorageID: ext}})
		require.Eventually(t, func() bool { return sink.count() >= want }, 60*time.Second, 50*time.Millisecond, "got %d of %d", sink.count(), want)
		// Give a redelivery, were there one, the time to show up.
		time.Sleep(3 * cfg.PollInterval)
		require.NoError(t, r.Shutdown(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()))
		return sink
	}

	first := run(len(firstIDs))
	for _, id := range firstIDs {
		assert.Equal(t, 1, first.ids[id], "first run, event %s", id)
	}
	assert.Len(t, first.ids, len(firstIDs))

	keys, secondIDs, data := sampleEvents(t, "second", 30)
	srv.Put(t, stream, keys, data)
	second := run(len(secondIDs))
	assert.Len(t, second.ids, len(secondIDs), "the second run delivers only the new events")
	for _, id := range secondIDs {
		assert.Equal(t, 1, second.ids[id], "second run, event %s", id)
	}
	for _, id := range firstIDs {
		assert.Zero(t, second.ids[id], "event %s of the first run was delivered again", id)
	}
}

// TestKinesisLocalRefusalsAndGarbage checks the pipeline contract against a real stream:
// a retryable refusal delivers the same records later, a permanent one moves past them,
// and a record that is not an agent event becomes an ERROR log record without stalling
// its shard.
func TestKinesisLocalRefusalsAndGarbage(t *testing.T) {
	srv := kinesistest.Start(t)
	const stream = "refusals"
	srv.CreateStream(t, stream, 1)

	keys, ids, data := sampleEvents(t, "ev", 10)
	garbage := [][]byte{[]byte("not json at all"), []byte(`{"EventType":`), {0xff, 0xfe, '{'}}
	for _, g := range garbage {
		keys = append(keys, "garbage")
		data = append(data, g)
	}
	srv.Put(t, stream, keys, data)

	sink := newEventSink()
	sink.refuse = func(calls int) error {
		if calls <= 3 {
			return errors.New("exporter queue is full")
		}
		return nil
	}
	r := startReceiver(t, testConfig(srv.Endpoint, stream), sink, componenttest.NewNopHost())
	require.Eventually(t, func() bool { return sink.count() >= len(data) }, 60*time.Second, 50*time.Millisecond)

	// A permanent refusal: those records are given up on, and what follows still comes.
	sink.mu.Lock()
	refusedFrom := sink.calls + 1
	sink.refuse = func(calls int) error {
		if calls == refusedFrom {
			return consumererror.NewPermanent(errors.New("data rejected by the backend"))
		}
		return nil
	}
	sink.mu.Unlock()
	dropKeys, _, dropData := sampleEvents(t, "dropped", 1)
	srv.Put(t, stream, dropKeys, dropData)
	require.Eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.calls >= refusedFrom
	}, 30*time.Second, 50*time.Millisecond)
	afterKeys, afterIDs, afterData := sampleEvents(t, "after", 3)
	srv.Put(t, stream, afterKeys, afterData)
	require.Eventually(t, func() bool { return sink.count() >= len(data)+len(afterData) }, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))

	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, id := range append(ids, afterIDs...) {
		assert.Equal(t, 1, sink.ids[id], "event %s", id)
	}
	assert.Zero(t, sink.ids["dropped-0000"], "the permanently refused record is not retried")
	require.Len(t, sink.malformed, len(garbage))
	for i, lr := range sink.malformed {
		assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
		errType, ok := lr.Attributes().Get(eventlog.AttrErrorType)
		require.True(t, ok)
		assert.NotEmpty(t, errType.Str())
		shard, _ := lr.Attributes().Get(eventlog.AttrShardID)
		assert.Equal(t, "shardId-000000000000", shard.Str())
		if i < 2 {
			assert.Equal(t, string(garbage[i]), lr.Body().Str())
		} else {
			assert.True(t, bytes.Equal(garbage[i], lr.Body().Bytes().AsRaw()))
		}
	}
}
