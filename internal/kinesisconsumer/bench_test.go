package kinesisconsumer

import (
	"encoding/json"
	"fmt"
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
