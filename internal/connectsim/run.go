package connectsim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// RunOptions paces a run and says when it ends.
type RunOptions struct {
	// Speed is how much faster than real time virtual time runs: 1 is real time (each
	// record is written at its EventTimestamp, shifted to now), 60 a virtual hour a
	// minute, 0 as fast as the sink takes records.
	Speed float64
	// Duration ends the run at this much virtual time after the start; 0 = no limit.
	Duration time.Duration
	// MaxEvents ends the run after this many records; 0 = no limit.
	MaxEvents int64
	// FlushInterval: the sink is flushed when the pacer is about to wait at least this
	// long, or this long after the last flush. Default 200ms.
	FlushInterval time.Duration
	// FinalFlushTimeout bounds the last flush, which runs even when ctx is cancelled.
	// Default 30s.
	FinalFlushTimeout time.Duration
	// Stats, if set, counts the records written.
	Stats *Stats
	// Now and Sleep are the wall clock, for tests. Default the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Stats counts records written, by event type. It is safe for concurrent use.
type Stats struct {
	mu      sync.Mutex
	total   int64
	byType  map[string]int64
	virtual time.Time
}

// Add counts a record.
func (s *Stats) Add(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byType == nil {
		s.byType = map[string]int64{}
	}
	s.total++
	s.byType[r.EventType]++
	s.virtual = r.At
}

// Total is the number of records counted.
func (s *Stats) Total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ByType returns the counts per event type.
func (s *Stats) ByType() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.byType))
	for k, v := range s.byType {
		m[k] = v
	}
	return m
}

// Summary is a one-line account: "1234 events (HEART_BEAT 56, LOGIN 50, ...), virtual time ...".
func (s *Stats) Summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	types := make([]string, 0, len(s.byType))
	for t := range s.byType {
		types = append(types, t)
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", t, s.byType[t])
	}
	v := "-"
	if !s.virtual.IsZero() {
		v = s.virtual.Format(time.RFC3339)
	}
	return fmt.Sprintf("%d events written (%s), virtual time %s", s.total, strings.Join(parts, ", "), v)
}

// Run takes records from the simulator and writes them to the sink, paced by
// opts.Speed, until the duration or event count is reached or ctx is cancelled; then it
// flushes the sink (with a fresh deadline, so Ctrl-C still delivers what was taken). A
// cancelled ctx is a clean stop: Run returns nil unless the flush fails.
func Run(ctx context.Context, sim *Simulator, sink Sink, opts RunOptions) error {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	if opts.FinalFlushTimeout <= 0 {
		opts.FinalFlushTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Speed < 0 {
		return errors.New("speed must not be negative")
	}
	virtStart := sim.Start()
	end := virtStart.Add(opts.Duration)
	wallStart := opts.Now()
	lastFlush := wallStart
	var n int64
	err := func() error {
		for opts.MaxEvents <= 0 || n < opts.MaxEvents {
			if ctx.Err() != nil {
				return nil
			}
			rec := sim.Next()
			if opts.Duration > 0 && !rec.At.Before(end) {
				return nil
			}
			if opts.Speed > 0 {
				due := wallStart.Add(time.Duration(float64(rec.At.Sub(virtStart)) / opts.Speed))
				now := opts.Now()
				wait := due.Sub(now)
				if wait >= opts.FlushInterval || (wait > 0 && now.Sub(lastFlush) >= opts.FlushInterval) {
					if err := sink.Flush(ctx); err != nil {
						return ignoreCancel(ctx, err)
					}
					lastFlush = opts.Now()
					wait = due.Sub(lastFlush)
				}
				if wait > 0 {
					if err := opts.Sleep(ctx, wait); err != nil {
						return ignoreCancel(ctx, err)
					}
				}
			}
			if err := sink.Write(ctx, rec); err != nil {
				return ignoreCancel(ctx, err)
			}
			n++
			if opts.Stats != nil {
				opts.Stats.Add(rec)
			}
		}
		return nil
	}()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.FinalFlushTimeout)
	defer cancel()
	if ferr := sink.Flush(fctx); ferr != nil {
		err = errors.Join(err, fmt.Errorf("final flush: %w", ferr))
	}
	return err
}

func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}
