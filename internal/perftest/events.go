// Package perftest holds what the measurements of whole processes share: the simulator's
// events, a backlog of them in kinesis-local, the collector and the bare SDK loop run as
// processes (optionally on one core), and their CPU time and peak memory.
package perftest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// Events are simulated agent events, in the order the simulator wrote them.
type Events struct {
	Keys  []string
	Data  [][]byte
	IDs   []string
	Types []string
}

// Simulate returns n events of the default simulated contact center with 100 agents
// (realistic snapshots), twelve hours ago.
func Simulate(t testing.TB, n int) Events {
	t.Helper()
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 100
	sim, err := connectsim.New(cfg, time.Now().Add(-12*time.Hour))
	require.NoError(t, err)
	ev := Events{Keys: make([]string, 0, n), Data: make([][]byte, 0, n), IDs: make([]string, 0, n), Types: make([]string, 0, n)}
	for range n {
		rec := sim.Next()
		var id struct{ EventId string }
		require.NoError(t, json.Unmarshal(rec.Data, &id))
		ev.Keys, ev.Data, ev.IDs, ev.Types = append(ev.Keys, rec.Key), append(ev.Data, rec.Data), append(ev.IDs, id.EventId), append(ev.Types, rec.EventType)
	}
	return ev
}

// MeanBytes is the events' mean size.
func (e Events) MeanBytes() int {
	total := 0
	for _, d := range e.Data {
		total += len(d)
	}
	return total / max(1, len(e.Data))
}

// Mix says which event types the events hold, the share of each and its mean size.
func (e Events) Mix() string {
	count, size := map[string]int{}, map[string]int{}
	for i, typ := range e.Types {
		count[typ]++
		size[typ] += len(e.Data[i])
	}
	types := make([]string, 0, len(count))
	for typ := range count {
		types = append(types, typ)
	}
	sort.Slice(types, func(i, j int) bool { return count[types[i]] > count[types[j]] })
	parts := make([]string, 0, len(types))
	for _, typ := range types {
		parts = append(parts, fmt.Sprintf("%s %.1f%% (%d B)", typ, 100*float64(count[typ])/float64(len(e.Types)), size[typ]/count[typ]))
	}
	return strings.Join(parts, ", ")
}

// Backlog is a stream in kinesis-local holding simulated events.
type Backlog struct {
	Server *kinesistest.Server
	Stream string
	Events
	// Wrote is how long writing them took.
	Wrote time.Duration
}

// WriteBacklog starts kinesis-local and writes n simulated events (Simulate) into a
// stream of the given shards, with the agent ARN as partition key.
func WriteBacklog(t testing.TB, stream string, shards int32, n int) *Backlog {
	t.Helper()
	srv := kinesistest.Start(t)
	srv.CreateStream(t, stream, shards)
	ev := Simulate(t, n)
	start := time.Now()
	// PutRecords calls of 500 from two writers: kinesis-local takes them faster in parallel.
	var wg sync.WaitGroup
	const writers = 2
	chunk := (n + writers - 1) / writers
	for w := range writers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Go(func() { srv.Put(t, stream, ev.Keys[lo:hi], ev.Data[lo:hi]) })
	}
	wg.Wait()
	b := &Backlog{Server: srv, Stream: stream, Events: ev, Wrote: time.Since(start)}
	t.Logf("backlog: %d events of %d bytes on average written in %s", n, b.MeanBytes(), b.Wrote.Round(time.Second))
	return b
}
