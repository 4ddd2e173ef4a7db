package fleettest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
)

// Writer puts the simulator's agent events into a stream, the agent ARN as partition
// key, and remembers what it wrote, by agent in order.
type Writer struct {
	client *kinesis.Client
	stream string
	sim    *connectsim.Simulator

	mu      sync.Mutex
	written []string
	byAgent map[string][]string
	records map[string]record // by EventId, to write again
	// reordered are agents one of whose records was written again after a later one
	// of theirs went in (an entry PutRecords failed): their order proves nothing.
	reordered map[string]bool
}

// NewWriter simulates agents (their events an hour in the past, so that timestamps
// never run ahead of the wall clock) for stream.
func NewWriter(client *kinesis.Client, stream string, agents int) (*Writer, error) {
	cfg := connectsim.DefaultConfig()
	cfg.Agents = agents
	cfg.ShiftStagger = time.Minute
	sim, err := connectsim.New(cfg, time.Now().Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	return &Writer{client: client, stream: stream, sim: sim, byAgent: map[string][]string{}, records: map[string]record{}, reordered: map[string]bool{}}, nil
}

// Put writes the next n events, in PutRecords calls of up to 500, retrying the entries
// that failed.
func (w *Writer) Put(ctx context.Context, n int) error {
	recs := make([]record, 0, n)
	for len(recs) < n {
		r := w.sim.Next()
		var ev struct{ EventId string }
		if json.Unmarshal(r.Data, &ev) != nil || ev.EventId == "" {
			continue
		}
		recs = append(recs, record{ev.EventId, r.Key, r.Data})
	}
	return w.put(ctx, recs, true)
}

// Again writes the records of the EventIds ids once more, as a producer that lost
// PutRecords' answer and retried does; they count neither as written nor in the
// agents' order.
func (w *Writer) Again(ctx context.Context, ids []string) error {
	recs := make([]record, 0, len(ids))
	w.mu.Lock()
	for _, id := range ids {
		if r, ok := w.records[id]; ok {
			recs = append(recs, r)
		}
	}
	w.mu.Unlock()
	if len(recs) != len(ids) {
		return fmt.Errorf("%d of the %d events to write again were never written", len(ids)-len(recs), len(ids))
	}
	return w.put(ctx, recs, false)
}

type record struct {
	id, key string
	data    []byte
}

func (w *Writer) put(ctx context.Context, recs []record, remember bool) error {
	for start := 0; start < len(recs); start += 500 {
		pending := recs[start:min(start+500, len(recs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 30 {
				return fmt.Errorf("put records: %d entries still failing", len(pending))
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			entries := make([]types.PutRecordsRequestEntry, len(pending))
			for i, r := range pending {
				entries[i] = types.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.key)}
			}
			out, err := w.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &w.stream, Records: entries})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			var failed []record
			w.mu.Lock()
			for i, r := range out.Records {
				if r.ErrorCode != nil {
					failed = append(failed, pending[i])
					continue
				}
				if remember {
					w.written = append(w.written, pending[i].id)
					w.byAgent[pending[i].key] = append(w.byAgent[pending[i].key], pending[i].id)
					w.records[pending[i].id] = pending[i]
				}
			}
			for _, f := range failed {
				if len(w.byAgent[f.key]) > 0 {
					w.reordered[f.key] = true
				}
			}
			w.mu.Unlock()
			if len(failed) > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			pending = failed
		}
	}
	return nil
}

// Run writes perBatch events every pause until ctx ends; it returns nil then, or the
// first write error.
func (w *Writer) Run(ctx context.Context, perBatch int, pause time.Duration) error {
	for {
		if err := w.Put(ctx, perBatch); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}

// Written is the EventIds written so far, in order.
func (w *Writer) Written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.written)
}

// ByAgent is each agent's EventIds in the order written, leaving out agents whose order
// a retried entry changed.
func (w *Writer) ByAgent() map[string][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]string{}
	for agent, ids := range w.byAgent {
		if !w.reordered[agent] {
			out[agent] = slices.Clone(ids)
		}
	}
	return out
}
