package kinesisconsumer

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
)

const benchWindow = 10000 // the receiver's default deduplication::window_size

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08x-6a2b-4f7e-9d37-5c1a2b3c4d5e", i) // EventIds are UUIDs
	}
	return keys
}

// BenchmarkRecentKeysAdmit is the cost of duplicate removal per record: Admit, then the
// commit of its batch of 100, on a full window that forgets a key for each one it learns.
func BenchmarkRecentKeysAdmit(b *testing.B) {
	r := NewRecentKeys(benchWindow)
	keys := benchKeys(benchWindow * 4)
	for _, k := range keys[:benchWindow] {
		r.Admit(k)
	}
	r.commit()
	b.ReportAllocs()
	i := benchWindow
	for b.Loop() {
		for range 100 {
			if !r.Admit(keys[i%len(keys)]) {
				b.Fatal("a new key was not admitted")
			}
			i++
		}
		r.commit()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
}

// BenchmarkCheckpointWithWindow is the cost of what each checkpoint save marshals: a
// checkpoint carrying a full window of 10,000 keys, as the storage extension gets it.
func BenchmarkCheckpointWithWindow(b *testing.B) {
	r := NewRecentKeys(benchWindow)
	for _, k := range benchKeys(benchWindow) {
		r.Admit(k)
	}
	r.commit()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		data, err := json.Marshal(Checkpoint{SequenceNumber: "49650502941279841831465640889109774228552701502682000001", RecentKeys: r.encode()})
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes/save")
}

// BenchmarkRecentKeysMemory is the heap a shard's full duplicate window of 10,000 keys
// holds: with the agents' state, what a collector's memory grows by for each shard it
// reads (or holds the lease of).
func BenchmarkRecentKeysMemory(b *testing.B) {
	keys := benchKeys(benchWindow * 2)
	var perShard float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewRecentKeys(benchWindow)
		for i, k := range keys { // full, and turned over once, in batches of 100
			r.Admit(k)
			if i%100 == 99 {
				r.commit()
			}
		}
		r.commit()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if r.Len() != benchWindow {
			b.Fatalf("window holds %d keys, want %d", r.Len(), benchWindow)
		}
		runtime.KeepAlive(r)
		perShard = float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
	}
	b.ReportMetric(perShard/1024, "KiB/shard")
}
