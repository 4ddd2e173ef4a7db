package contactevent

import (
	"bytes"
	"encoding/json"
	"testing"
)

// BenchmarkDecode decodes the reference's sample, compacted as Connect writes it.
func BenchmarkDecode(b *testing.B) {
	var data bytes.Buffer
	if err := json.Compact(&data, readFixture(b, "connected_to_agent.json")); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(data.Len()))
	b.ReportAllocs()
	for b.Loop() {
		var v Event
		if err := Decode(data.Bytes(), &v); err != nil {
			b.Fatal(err)
		}
	}
}
