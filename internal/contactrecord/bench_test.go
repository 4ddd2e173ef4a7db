package contactrecord

import (
	"bytes"
	"encoding/json"
	"testing"
)

// BenchmarkDecode decodes the reference's sample, compacted as Connect writes it.
func BenchmarkDecode(b *testing.B) {
	var data bytes.Buffer
	if err := json.Compact(&data, readFixture(b, "sample_ctr.json")); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(data.Len()))
	b.ReportAllocs()
	for b.Loop() {
		var v Record
		if err := Decode(data.Bytes(), &v); err != nil {
			b.Fatal(err)
		}
	}
}
