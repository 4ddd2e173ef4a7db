package getrecords

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/connectsim"
)

// simulatedResponse is a GetRecords response of n simulated agent events, as Kinesis
// writes it.
func simulatedResponse(tb testing.TB, n int) (body []byte, dataBytes int) {
	cfg := connectsim.DefaultConfig()
	cfg.Agents = 100
	sim, err := connectsim.New(cfg, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(tb, err)
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		rec := sim.Next()
		dataBytes += len(rec.Data)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"SequenceNumber":"4959033827149025660855969253836157109592157598913658%04d","ApproximateArrivalTimestamp":%s,"Data":"%s","PartitionKey":"%s"}`,
			i, strconv.FormatFloat(1.7645e9+float64(i)/1000, 'E', -1, 64), base64.StdEncoding.EncodeToString(rec.Data), rec.Key)
	}
	b.WriteString(`],"NextShardIterator":"AAAAAAAAAAGmPr4HkIUyuKrSeqT2yVqpfodRTI+XeZ8dHeOZ2bDGqRbGjVtvV0ZD5PsLR2KyIGt1ZA6Ge+KbOkxdDgHs0+wLpGUHqpnUTjeXoBI6Y8cJRLnVHr5xlGvn9HGWgQdqoIG1mexsY7zyFvvN+GnDU+bJYkC7bgYE69UgAcUHY8ML/A==","MillisBehindLatest":3600000}`)
	return b.Bytes(), dataBytes
}

// BenchmarkDecode decodes a 1,000-record GetRecords response of simulated agent events
// here and the SDK's way, per record.
func BenchmarkDecode(b *testing.B) {
	body, dataBytes := simulatedResponse(b, 1000)
	benchPerRecord(b, dataBytes, map[string]func() error{
		"fast": func() error { _, err := fastDecode(body); return err },
		"sdk":  func() error { _, err := sdkDecode(body); return err },
	})
}

// benchPerRecord runs each of decoders, which decode 1,000 records of dataBytes in all,
// as a sub-benchmark, reporting bytes, allocations and time per record.
func benchPerRecord(b *testing.B, dataBytes int, decoders map[string]func() error) {
	for _, name := range slices.Sorted(maps.Keys(decoders)) {
		decode := decoders[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(dataBytes))
			b.ReportAllocs()
			for b.Loop() {
				if err := decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
		})
	}
}

func TestSimulatedResponseDecodesAlike(t *testing.T) {
	body, _ := simulatedResponse(t, 200)
	want, err := sdkDecode(body)
	require.NoError(t, err)
	got, err := fastDecode(body)
	require.NoError(t, err)
	require.Len(t, got.Records, 200)
	require.Equal(t, dump(want), dump(got))
}
