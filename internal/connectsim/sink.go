package connectsim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"slices"
)

// Sink takes the simulator's records.
type Sink interface {
	// Write takes one record; a sink may buffer it.
	Write(ctx context.Context, r Record) error
	// Flush writes everything buffered.
	Flush(ctx context.Context) error
	// Close flushes and releases the sink.
	Close(ctx context.Context) error
}

// LinesSink writes records as JSON lines (one event a line) to a writer.
type LinesSink struct {
	w      *bufio.Writer
	closer io.Closer
}

// NewLinesSink writes JSON lines to w.
func NewLinesSink(w io.Writer) *LinesSink {
	return &LinesSink{w: bufio.NewWriterSize(w, 256<<10)}
}

// NewStdoutSink writes JSON lines to standard output.
func NewStdoutSink() *LinesSink { return NewLinesSink(os.Stdout) }

// NewFileSink creates (or truncates) a file and writes JSON lines to it.
func NewFileSink(path string) (*LinesSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	s := NewLinesSink(f)
	s.closer = f
	return s, nil
}

// Write implements Sink.
func (s *LinesSink) Write(_ context.Context, r Record) error {
	if _, err := s.w.Write(r.Data); err != nil {
		return err
	}
	return s.w.WriteByte('\n')
}

// Flush implements Sink.
func (s *LinesSink) Flush(context.Context) error { return s.w.Flush() }

// Close implements Sink.
func (s *LinesSink) Close(ctx context.Context) error {
	err := s.Flush(ctx)
	if s.closer != nil {
		err = errors.Join(err, s.closer.Close())
	}
	return err
}

// MemorySink keeps records in memory, for tests and tools.
type MemorySink struct{ Records []Record }

// Write implements Sink.
func (m *MemorySink) Write(_ context.Context, r Record) error {
	m.Records = append(m.Records, r)
	return nil
}

// Flush implements Sink.
func (m *MemorySink) Flush(context.Context) error { return nil }

// Close implements Sink.
func (m *MemorySink) Close(context.Context) error { return nil }

// KindSink sends each record to the sink of its kind (agent events, contact events,
// contact records: each has a stream of its own) and drops the kinds that have none.
type KindSink struct {
	sinks [3]Sink
}

// NewKindSink routes agent events, contact events and contact records; a nil sink
// drops its kind. One sink may take several kinds.
func NewKindSink(agentEvents, contactEvents, contactRecords Sink) *KindSink {
	return &KindSink{sinks: [3]Sink{agentEvents, contactEvents, contactRecords}}
}

// Write implements Sink.
func (k *KindSink) Write(ctx context.Context, r Record) error {
	if int(r.Kind) >= len(k.sinks) || k.sinks[r.Kind] == nil {
		return nil
	}
	return k.sinks[r.Kind].Write(ctx, r)
}

// distinct are the sinks, each once.
func (k *KindSink) distinct() []Sink {
	var out []Sink
	for _, s := range k.sinks {
		if s != nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Flush implements Sink.
func (k *KindSink) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range k.distinct() {
		errs = append(errs, s.Flush(ctx))
	}
	return errors.Join(errs...)
}

// Close implements Sink.
func (k *KindSink) Close(ctx context.Context) error {
	var errs []error
	for _, s := range k.distinct() {
		errs = append(errs, s.Close(ctx))
	}
	return errors.Join(errs...)
}
