package getrecords

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// slabTestClient is a client with Use whose GetRecords calls all answer sdkCases'
// "records" (two records), so that each call decodes into a slab of the same size.
func slabTestClient(t *testing.T) (*kinesis.Client, func() *kinesis.GetRecordsOutput) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(sdkCases["records"]))
	}))
	t.Cleanup(srv.Close)
	c := kinesis.New(kinesistest.NewClient(srv.URL).Options(), Use)
	read := func() *kinesis.GetRecordsOutput {
		out, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: aws.String("it")})
		require.NoError(t, err)
		require.Len(t, out.Records, 2)
		require.Equal(t, `{"EventType":"HEART_BEAT"}`, string(out.Records[0].Data))
		require.Equal(t, "second", string(out.Records[1].Data))
		return out
	}
	drainIdle()
	return c, read
}

// drainIdle empties the idle slabs: whatever other tests left there is not this test's.
func drainIdle() {
	idle.Lock()
	defer idle.Unlock()
	idle.slabs = nil
}

func idleCount() int {
	idle.Lock()
	defer idle.Unlock()
	return len(idle.slabs)
}

func slabOf(out *kinesis.GetRecordsOutput) *byte { return unsafe.SliceData(out.Records[0].Data) }

// TestRecycledSlabsTakeTheNextResponse: a response's data decode into the slab of one
// recycled before, and only after it was recycled.
func TestRecycledSlabsTakeTheNextResponse(t *testing.T) {
	_, read := slabTestClient(t)
	first := read()
	second := read()
	assert.NotSame(t, slabOf(first), slabOf(second), "a slab not recycled was reused")
	Recycle(first.ResultMetadata)
	third := read()
	assert.Same(t, slabOf(first), slabOf(third), "the recycled slab was not reused")
	assert.Equal(t, "second", string(second.Records[1].Data), "a slab still in use was written to")
}

// TestASlabIsRecycledOnce: recycling the same response twice gives its slab back once,
// so two later responses never share it.
func TestASlabIsRecycledOnce(t *testing.T) {
	_, read := slabTestClient(t)
	first := read()
	Recycle(first.ResultMetadata)
	Recycle(first.ResultMetadata)
	second, third := read(), read()
	assert.NotSame(t, slabOf(second), slabOf(third), "two responses share a slab")
	assert.Equal(t, `{"EventType":"HEART_BEAT"}`, string(second.Records[0].Data))
}

// TestPoisonOverwritesRecycledData: with Poison, data read after being recycled are
// garbage, as tests of the callers want them.
func TestPoisonOverwritesRecycledData(t *testing.T) {
	_, read := slabTestClient(t)
	Poison(true)
	defer Poison(false)
	first := read()
	data := first.Records[0].Data
	Recycle(first.ResultMetadata)
	for i, c := range data {
		require.Equal(t, byte(0xA5), c, "byte %d", i)
	}
}

// TestOutputsOfOtherDecodersAreNotRecycled: metadata without a slab of this package's
// (an error, the SDK's own decoder) is ignored.
func TestOutputsOfOtherDecodersAreNotRecycled(t *testing.T) {
	drainIdle()
	out := &kinesis.GetRecordsOutput{}
	Recycle(out.ResultMetadata)
	stock := &kinesis.GetRecordsOutput{}
	stock.ResultMetadata.Set("other", 1)
	Recycle(stock.ResultMetadata)
	assert.Zero(t, idleCount())
}

// recycled hands slab back as Recycle would a response's.
func recycled(slab []byte) {
	var md middleware.Metadata
	md.Set(slabKey{}, &slabRef{slab: slab})
	Recycle(md)
}

// TestSlabsFitTheNextResponses: a slab made for one response fits the next ones a little
// larger, and the smallest that fits is taken.
func TestSlabsFitTheNextResponses(t *testing.T) {
	drainIdle()
	const size = 2_500_000
	first := takeSlab(size)
	assert.GreaterOrEqual(t, cap(first), size*9/8, "no room for a response an eighth larger")
	assert.LessOrEqual(t, cap(first), size*13/10)
	small := takeSlab(1000)
	assert.Equal(t, minSlab, cap(small))
	recycled(first)
	recycled(small)
	assert.Same(t, unsafe.SliceData(small[:1]), unsafe.SliceData(takeSlab(900)[:1]), "the small slab fits a small response")
	assert.Same(t, unsafe.SliceData(first[:1]), unsafe.SliceData(takeSlab(size * 9 / 8)[:1]), "the large slab fits a response an eighth larger")
}

// TestLargerSlabsReplaceSmallerIdleOnes: with the idle slabs all small (a quiet spell),
// a large one recycled still takes a place, so that a backlog's responses reuse it.
func TestLargerSlabsReplaceSmallerIdleOnes(t *testing.T) {
	drainIdle()
	var small [idleSlabs][]byte
	for i := range small {
		small[i] = takeSlab(1000)
	}
	for _, s := range small {
		recycled(s)
	}
	require.Equal(t, idleSlabs, idleCount())
	large := takeSlab(3_000_000)
	recycled(large)
	assert.Equal(t, idleSlabs, idleCount())
	assert.Same(t, unsafe.SliceData(large[:1]), unsafe.SliceData(takeSlab(3_000_000)[:1]))
}

// TestDecodesThatCannotRecycleLeaveTheIdleSlabs: Decode and DecodeEvent, whose callers
// cannot hand a slab back, neither take an idle slab nor make one with room to spare.
func TestDecodesThatCannotRecycleLeaveTheIdleSlabs(t *testing.T) {
	drainIdle()
	recycled(takeSlab(1 << 20))
	var out kinesis.GetRecordsOutput
	require.NoError(t, Decode([]byte(sdkCases["records"]), &out))
	var ev types.SubscribeToShardEvent
	require.NoError(t, DecodeEvent([]byte(sdkCases["records"]), &ev))
	assert.Equal(t, 1, idleCount(), "a decode took the idle slab")
}
