package connectsim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// Two actions for one agent in the same millisecond give events a millisecond apart.
func TestSameMillisecondEvents(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Agents = 1
	cfg.ShiftStagger = 0
	s, err := New(cfg, testStart)
	require.NoError(t, err)
	login := s.Next()
	require.Equal(t, EventLogin, login.EventType)
	a := s.agents[0]
	at := s.now + 10
	s.at(at, a, func() { s.stateChange(a) })
	s.at(at, a, func() { s.stateChange(a) })
	first, second := s.Next(), s.Next()
	assert.Equal(t, time.UnixMilli(at).UTC(), first.At)
	assert.Equal(t, time.UnixMilli(at+1).UTC(), second.At)
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

func TestRunPaced(t *testing.T) {
	s, err := New(DefaultConfig(), testStart)
	require.NoError(t, err)
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	wallStart := clock.now
	sink := &MemorySink{}
	var stats Stats
	err = Run(context.Background(), s, sink, RunOptions{Speed: 60, Duration: 20 * time.Minute, Stats: &stats, Now: clock.Now, Sleep: clock.Sleep})
	require.NoError(t, err)
	require.NotEmpty(t, sink.Records)
	last := sink.Records[len(sink.Records)-1]
	assert.True(t, last.At.Before(testStart.Add(20*time.Minute)))
	// Each record is written when its virtual time, sped up 60 times, comes: the last
	// one 1/60 of its offset after the start.
	assert.Equal(t, last.At.Sub(testStart)/60, clock.now.Sub(wallStart))
	assert.Equal(t, int64(len(sink.Records)), stats.Total())
	assert.Equal(t, int64(50), stats.ByType()[EventLogin])
	assert.Contains(t, stats.Summary(), "LOGIN 50")
}

func TestRunEventsAndFile(t *testing.T) {
	s, err := New(DefaultConfig(), testStart)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	sink, err := NewFileSink(path)
	require.NoError(t, err)
	require.NoError(t, Run(context.Background(), s, sink, RunOptions{MaxEvents: 1234}))
	require.NoError(t, sink.Close(context.Background()))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 1234)
	dec := agentevent.NewDecoder()
	var ev agentevent.Event
	for i, l := range lines {
		require.NoError(t, dec.Decode([]byte(l), &ev, nil), "line %d", i)
	}
}

// countingSink counts flushes; a flush fails once the context is cancelled.
type countingSink struct {
	MemorySink
	flushes int
}

func (c *countingSink) Flush(ctx context.Context) error {
	c.flushes++
	return ctx.Err()
}

func TestRunCancelFlushes(t *testing.T) {
	s, err := New(DefaultConfig(), testStart)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &countingSink{}
	var stats Stats
	clock := &fakeClock{now: time.Now()}
	sleeps := 0
	err = Run(ctx, s, sink, RunOptions{Speed: 1, Stats: &stats, Now: clock.Now, Sleep: func(ctx context.Context, d time.Duration) error {
		if sleeps++; sleeps == 20 {
			cancel()
			return ctx.Err()
		}
		return clock.Sleep(ctx, d)
	}})
	require.NoError(t, err, "Ctrl-C is a clean stop")
	assert.Positive(t, sink.flushes)
	assert.Equal(t, int64(len(sink.Records)), stats.Total())

	// A sink that cannot write fails the run.
	s, err = New(DefaultConfig(), testStart)
	require.NoError(t, err)
	err = Run(context.Background(), s, &errSink{}, RunOptions{})
	require.ErrorContains(t, err, "disk full")
}

type errSink struct{ MemorySink }

func (*errSink) Write(context.Context, Record) error { return errors.New("disk full") }
