package agentevent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
)

// cacheRecords are records to decode with and without a cache: every fixture, valid or
// not, and a few hundred of the simulator's events (routing profiles of several queues,
// hierarchies, slots in use changing).
func cacheRecords(t testing.TB) [][]byte {
	t.Helper()
	var records [][]byte
	for _, pattern := range []string{"*.json", "malformed/*"} {
		files, err := filepath.Glob(filepath.Join(eventsDir, pattern))
		require.NoError(t, err)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			records = append(records, data)
		}
	}
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 30
	sim, err := connectsim.New(cfg, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	for range 600 {
		records = append(records, sim.Next().Data)
	}
	// Values the cache holds, in records that are wrong after them or inside them.
	for _, record := range []string{
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"a","Channels":["VOICE"]}],"Concurrency":[{"Channel":"VOICE","AvailableSlots":1,"MaximumSlots":1}]}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"a","Channels":["VOICE"]}],"Concurrency":[{"Channel":"VOICE","AvailableSlots":1,"MaximumSlots":1}]}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"a","Channels":["VOICE"]}],"Concurrency":[{"Channel":"VOICE","AvailableSlots":1,"MaximumSlots":1}]},"Username":7}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"a","Channels":"VOICE"}]}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"a","ARN":"b"}]}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"AgentHierarchyGroups":{"Level1":{"ARN":"g\"1","Name":"x"},"Level1":{"ARN":"g"}}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"AgentHierarchyGroups":{"Level1":{"ARN":"g\"1","Name":"x\\"}}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"DefaultOutboundQueue":{"ARN":"o","Channels":["VOICE","CHAT"]},"Concurrency":[]}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"DefaultOutboundQueue":{"ARN":"o","Channels":["VOICE","CHAT"]},"Concurrency":[{"Channel":"VOICE","AvailableSlots":1.5}]}}}}`,
		`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"DefaultOutboundQueue":{"ARN":"o","Channels":["VOICE","CHAT"]},"Concurrency":[{"Channel":"VOICE"}] }}}}`,
	} {
		records = append(records, []byte(record))
	}
	return records
}

// decodeResult is what a decoder made of a record, for comparison.
type decodeResult struct {
	Event Event
	Err   string
}

func decodeWith(d *Decoder, data []byte) decodeResult {
	var ev Event // fresh: nil and empty slices compare alike
	err := d.Decode(data, &ev, nil)
	if err != nil {
		return decodeResult{Err: fmt.Sprintf("%#v", err)}
	}
	return decodeResult{Event: ev}
}

// A decoder with a cache decodes every record as one without: the first time it sees a
// value, when it takes it from the cache, and when another decoder sharing the cache
// put it there.
func TestCacheDecodesAsWithout(t *testing.T) {
	records := cacheRecords(t)
	reference := NewDecoderSharing(nil)
	cache := NewCache()
	first, second, reusing := NewDecoderSharing(cache), NewDecoderSharing(cache), NewDecoderSharing(cache)
	var reused Event
	for round := range 2 {
		for i, data := range records {
			want := decodeWith(reference, data)
			require.Equal(t, want, decodeWith(first, data), "round %d, record %d: %s", round, i, data)
			require.Equal(t, want, decodeWith(second, data), "round %d, record %d, by a second decoder: %s", round, i, data)
			// Into an event that held the record before: nothing of it stays.
			if err := reusing.Decode(data, &reused, nil); err == nil {
				require.Equal(t, want.Event, withNilSlices(reused), "round %d, record %d, into a used event: %s", round, i, data)
			}
		}
	}
	cache.mu.RLock()
	defer cache.mu.RUnlock()
	assert.NotEmpty(t, cache.queues, "the records' queues were cached")
	assert.NotEmpty(t, cache.outbound)
	assert.NotEmpty(t, cache.groups)
	assert.NotEmpty(t, cache.slots)
	for text := range cache.queues {
		assert.NotContains(t, text, `"Channels":"VOICE"`, "a value that was wrong is not cached")
		assert.NotContains(t, text, `"ARN":"b"`, "a value that was wrong is not cached")
	}
}

// withNilSlices is ev with its empty slices nil, as a fresh event's are: a reused
// event keeps empty arrays.
func withNilSlices(ev Event) Event {
	for _, s := range []*Snapshot{&ev.Current, &ev.Previous} {
		s.Contacts = nilIfEmpty(slices.Clone(s.Contacts)) // not to change the event's own
		for i := range s.Contacts {
			s.Contacts[i].Queue.Channels = nilIfEmpty(s.Contacts[i].Queue.Channels)
		}
		c := &s.Configuration
		c.Proficiencies = nilIfEmpty(c.Proficiencies)
		rp := &c.RoutingProfile
		rp.Concurrency = nilIfEmpty(rp.Concurrency)
		rp.DefaultOutboundQueue.Channels = nilIfEmpty(rp.DefaultOutboundQueue.Channels)
		rp.InboundQueues = nilIfEmpty(slices.Clone(rp.InboundQueues))
		for i := range rp.InboundQueues {
			rp.InboundQueues[i].Channels = nilIfEmpty(rp.InboundQueues[i].Channels)
		}
	}
	return ev
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// A cached value is a copy: changing the event it was decoded into, or decoding more
// records into it, leaves the cache as it was.
func TestCachedValuesAreTheirOwn(t *testing.T) {
	data := readFixture(t, "heart_beat.json")
	d := NewDecoder()
	want := decodeWith(NewDecoderSharing(nil), data)
	var ev Event
	require.NoError(t, d.Decode(data, &ev, nil))
	rp := &ev.Current.Configuration.RoutingProfile
	require.NotEmpty(t, rp.InboundQueues[0].Channels)
	rp.InboundQueues[0].Channels[0] = "CHANGED"
	rp.DefaultOutboundQueue.Channels[0] = "CHANGED"
	rp.Concurrency[0].AvailableSlots = 99
	require.NoError(t, d.Decode(data, &ev, nil))
	assert.Equal(t, want, decodeWith(d, data))
}

// The cache holds at most maxCacheText bytes of text, however many distinct values
// come, and its count of them is right.
func TestCacheIsBounded(t *testing.T) {
	d := NewDecoder()
	var ev Event
	arn := strings.Repeat("q", 900)
	for i := range 3 * maxCacheText / 1000 {
		record := fmt.Sprintf(`{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"ARN":"%s%d"}]},"AgentHierarchyGroups":{"Level1":{"ARN":"%s%d"}}}}}`, arn, i, arn, i)
		require.NoError(t, d.Decode([]byte(record), &ev, nil))
		require.Equal(t, fmt.Sprint(arn, i), ev.Current.Configuration.RoutingProfile.InboundQueues[0].ARN)
	}
	c := d.cache
	c.mu.RLock()
	defer c.mu.RUnlock()
	total := 0
	for _, keys := range [][]string{keysOf(c.queues), keysOf(c.outbound), keysOf(c.groups), keysOf(c.slots)} {
		for _, k := range keys {
			total += len(k)
		}
	}
	assert.Equal(t, total, c.text)
	assert.LessOrEqual(t, c.text, maxCacheText)
	assert.Greater(t, c.text, maxCacheText/2, "a full cache keeps values")
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Decoders on several goroutines share a cache (run under -race).
func TestCacheSharedAcrossGoroutines(t *testing.T) {
	records := cacheRecords(t)
	reference := NewDecoderSharing(nil)
	want := make([]decodeResult, len(records))
	for i, data := range records {
		want[i] = decodeWith(reference, data)
	}
	cache := NewCache()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			d := NewDecoderSharing(cache)
			for n := range len(records) {
				i := (n + g*len(records)/4) % len(records)
				if got := decodeWith(d, records[i]); !assert.Equal(t, want[i], got, "record %d", i) {
					return
				}
			}
		})
	}
	wg.Wait()
}
