package pdataslab

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// setter is the part of the API a tree is built with: a Slab, or pdata's own setters.
type setter interface {
	SetStr(v pcommon.Value, s string)
	SetInt(v pcommon.Value, i int64)
	SetDouble(v pcommon.Value, f float64)
	SetBool(v pcommon.Value, b bool)
	SetEmptyMap(v pcommon.Value, capacity int) pcommon.Map
	SetEmptySlice(v pcommon.Value, capacity int) pcommon.Slice
	EnsureCapacity(m pcommon.Map, capacity int)
	PutStr(m pcommon.Map, k, s string)
	PutNewEmpty(m pcommon.Map, k string) pcommon.Value
}

// pdataSetters is what every Slab method must be the same as.
type pdataSetters struct{}

func (pdataSetters) SetStr(v pcommon.Value, s string)     { v.SetStr(s) }
func (pdataSetters) SetInt(v pcommon.Value, i int64)      { v.SetInt(i) }
func (pdataSetters) SetDouble(v pcommon.Value, f float64) { v.SetDouble(f) }
func (pdataSetters) SetBool(v pcommon.Value, b bool)      { v.SetBool(b) }
func (pdataSetters) SetEmptyMap(v pcommon.Value, _ int) pcommon.Map {
	return v.SetEmptyMap()
}

func (pdataSetters) SetEmptySlice(v pcommon.Value, _ int) pcommon.Slice {
	return v.SetEmptySlice()
}
func (pdataSetters) EnsureCapacity(pcommon.Map, int)                   {}
func (pdataSetters) PutStr(m pcommon.Map, k, s string)                 { m.PutStr(k, s) }
func (pdataSetters) PutNewEmpty(m pcommon.Map, k string) pcommon.Value { return m.PutEmpty(k) }

// withFallback has the Slab use pdata's own setters until the test ends.
func withFallback(t *testing.T) {
	enabled = false
	t.Cleanup(func() { enabled = types.str != nil })
}

func mapOf(s setter, v pcommon.Value, capacity int) pcommon.Map { return s.SetEmptyMap(v, capacity) }
func sliceOf(s setter, v pcommon.Value, capacity int) pcommon.Slice {
	return s.SetEmptySlice(v, capacity)
}
func put(s setter, m pcommon.Map, k string) pcommon.Value { return s.PutNewEmpty(m, k) }

// build fills a log record with every kind of value, nested, the way an agent event's
// body and attributes are built; i varies the content.
func build(s setter, lr plog.LogRecord, i int) {
	attrs := lr.Attributes()
	s.EnsureCapacity(attrs, 4)
	s.PutStr(attrs, "event.id", fmt.Sprintf("id-%d", i))
	s.PutStr(attrs, "event.type", "STATE_CHANGE")
	root := mapOf(s, lr.Body(), 5)
	s.SetStr(put(s, root, "EventType"), "STATE_CHANGE")
	s.SetInt(put(s, root, "Count"), int64(i))
	s.SetDouble(put(s, root, "Level"), 1.5+float64(i))
	s.SetBool(put(s, root, "Flag"), i%2 == 0)
	put(s, root, "Null")
	snap := mapOf(s, put(s, root, "Snapshot"), 2) // more members than its capacity
	status := mapOf(s, put(s, snap, "AgentStatus"), 2)
	s.SetStr(put(s, status, "Name"), "Available")
	s.SetStr(put(s, status, "Type"), "ROUTABLE")
	contacts := sliceOf(s, put(s, snap, "Contacts"), 1) // more elements than its capacity
	for c := range 3 {
		contact := mapOf(s, contacts.AppendEmpty(), 2)
		s.SetStr(put(s, contact, "ContactId"), fmt.Sprintf("contact-%d-%d", i, c))
		channels := sliceOf(s, put(s, contact, "Channels"), 2)
		s.SetStr(channels.AppendEmpty(), "VOICE")
		s.SetInt(channels.AppendEmpty(), int64(c))
	}
	mapOf(s, put(s, snap, "Empty"), 0)
	sliceOf(s, put(s, snap, "EmptyList"), 0)
	mapOf(s, put(s, snap, "Roomy"), 8)
}

// requireSameLogs compares two sets of logs in every form a consumer meets them in.
func requireSameLogs(t *testing.T, want, got plog.Logs) {
	t.Helper()
	wantLR := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	gotLR := got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, wantLR.Len(), gotLR.Len())
	for i := range wantLR.Len() {
		assert.Equal(t, wantLR.At(i).Body().AsRaw(), gotLR.At(i).Body().AsRaw())
		assert.Equal(t, wantLR.At(i).Attributes().AsRaw(), gotLR.At(i).Attributes().AsRaw())
		assert.True(t, wantLR.At(i).Body().Equal(gotLR.At(i).Body()))
	}
	wantProto, err := (&plog.ProtoMarshaler{}).MarshalLogs(want)
	require.NoError(t, err)
	gotProto, err := (&plog.ProtoMarshaler{}).MarshalLogs(got)
	require.NoError(t, err)
	assert.Equal(t, wantProto, gotProto, "protobuf")
	wantJSON, err := (&plog.JSONMarshaler{}).MarshalLogs(want)
	require.NoError(t, err)
	gotJSON, err := (&plog.JSONMarshaler{}).MarshalLogs(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

// buildLogs builds n records in place, in one plog.Logs, with s.
func buildLogs(s setter, n int) plog.Logs {
	logs := plog.NewLogs()
	lrs := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		build(s, lrs.AppendEmpty(), i)
	}
	return logs
}

func TestPdataLayoutIsTheMirroredOne(t *testing.T) {
	require.True(t, Enabled(), "pdata's internal layout differs from the mirrors in layout.go: "+
		"values are built by pdata's setters, correctly but with ~100 more allocations an agent event; update the mirrors")
}

func TestSameLayoutTellsADifference(t *testing.T) {
	type kv struct {
		Key   string
		Value anyValue
	}
	type renamed struct{ Str string }
	type wider struct{ StringValue [2]string }
	assert.True(t, sameLayout(reflect.TypeFor[stringValue](), reflect.TypeFor[stringValue]()))
	assert.False(t, sameLayout(reflect.TypeFor[keyValue](), reflect.TypeFor[kv]()), "a field fewer")
	assert.False(t, sameLayout(reflect.TypeFor[stringValue](), reflect.TypeFor[renamed]()), "a field renamed")
	assert.False(t, sameLayout(reflect.TypeFor[stringValue](), reflect.TypeFor[wider]()), "a field of another type")
	assert.False(t, sameLayout(reflect.TypeFor[*keyValueList](), reflect.TypeFor[*arrayValueList]()), "elements of another type")
}

func TestValuesAreThoseOfPdata(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		t.Run(fmt.Sprintf("fallback=%v", fallback), func(t *testing.T) {
			if fallback {
				withFallback(t)
			}
			requireSameLogs(t, buildLogs(pdataSetters{}, 50), buildLogs(&Slab{}, 50))
		})
	}
}

// Values carved side by side must stay apart when pdata changes one of them: a map or
// slice grown past its capacity, a value set anew, members removed.
func TestPdataChangesACarvedValueAlone(t *testing.T) {
	change := func(logs plog.Logs) {
		lrs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := range lrs.Len() {
			if i%2 == 1 {
				continue
			}
			body := lrs.At(i).Body().Map()
			body.PutStr("EventType", "LOGOUT")
			body.PutStr("Added", "after")
			body.Remove("Count")
			snap, _ := body.Get("Snapshot")
			snap.Map().PutInt("More", 7)
			contacts, _ := snap.Map().Get("Contacts")
			contacts.Slice().AppendEmpty().SetStr("extra")
			roomy, _ := snap.Map().Get("Roomy")
			roomy.Map().PutStr("k", "v")
			lrs.At(i).Attributes().PutStr("added", "after")
		}
	}
	want, got := buildLogs(pdataSetters{}, 40), buildLogs(&Slab{}, 40)
	change(want)
	change(got)
	requireSameLogs(t, want, got)
}

func TestCopiesAndMovesOfCarvedValues(t *testing.T) {
	src := buildLogs(&Slab{}, 10)
	copied := plog.NewLogs()
	src.CopyTo(copied)
	requireSameLogs(t, buildLogs(pdataSetters{}, 10), copied)
	moved := plog.NewLogs()
	src.ResourceLogs().MoveAndAppendTo(moved.ResourceLogs())
	requireSameLogs(t, buildLogs(pdataSetters{}, 10), moved)
}

// The collector must keep what is reachable only through pdata's values: the slabs.
func TestCarvedValuesSurviveCollections(t *testing.T) {
	got := buildLogs(&Slab{}, 500)
	for range 3 {
		runtime.GC()
		garbage := make([][]byte, 0, 1000)
		for range 1000 {
			garbage = append(garbage, make([]byte, 64))
		}
		runtime.KeepAlive(garbage)
	}
	requireSameLogs(t, buildLogs(pdataSetters{}, 500), got)
}

// A carved slice grows into an array of its own, never into the slots after it.
func TestCarvedSlicesDoNotOverlap(t *testing.T) {
	var c chunk[int]
	setSlab(t, 16*8)
	a := c.many(2)
	b := c.many(2)
	b = append(b, 20, 21)
	a = append(a, 10, 11, 12) // past its capacity
	assert.Equal(t, []int{10, 11, 12}, a)
	assert.Equal(t, []int{20, 21}, b)
}

func setSlab(t *testing.T, bytes int) {
	old := slabBytes
	slabBytes = bytes
	t.Cleanup(func() { slabBytes = old })
}

// BenchmarkBuild builds the records of TestValuesAreThoseOfPdata with pdata's setters and
// with a Slab. One op is one record.
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name string
		s    setter
	}{{"pdata", pdataSetters{}}, {"slab", &Slab{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				build(bc.s, plog.NewLogRecord(), i)
				i++
			}
		})
	}
}

// wrapperOf is the oneof wrapper a value holds: shared or not, its address tells.
func wrapperOf(v pcommon.Value) unsafe.Pointer {
	oneof := origOf(v).Value
	return (*eface)(unsafe.Pointer(&oneof)).data
}

// setTwice sets two values to the same string, and two to the same small integer.
func setTwice(s *Slab) (a, b, c, d pcommon.Value) {
	a, b, c, d = pcommon.NewValueEmpty(), pcommon.NewValueEmpty(), pcommon.NewValueEmpty(), pcommon.NewValueEmpty()
	str := strings.Repeat("VOICE", 1) // one string, set twice
	s.SetStr(a, str)
	s.SetStr(b, str)
	s.SetInt(c, 1)
	s.SetInt(d, 1)
	return a, b, c, d
}

func TestTheSameStringSharesAWrapper(t *testing.T) {
	a, b, c, d := setTwice(&Slab{})
	assert.Equal(t, wrapperOf(a), wrapperOf(b))
	assert.Equal(t, wrapperOf(c), wrapperOf(d))
	// A shared wrapper is never written to: setting one value anew leaves the other.
	a.SetStr("CHAT")
	c.SetInt(5)
	assert.Equal(t, "VOICE", b.Str())
	assert.Equal(t, int64(1), d.Int())
}

// With pdata's pooling on, a value set anew has its wrapper cleared and recycled: none
// may be shared then.
func TestNoWrapperSharedWhenPdataPools(t *testing.T) {
	require.NoError(t, featuregate.GlobalRegistry().Set(PoolingGate, true))
	t.Cleanup(func() { require.NoError(t, featuregate.GlobalRegistry().Set(PoolingGate, false)) })
	a, b, c, d := setTwice(&Slab{})
	assert.NotEqual(t, wrapperOf(a), wrapperOf(b))
	assert.NotEqual(t, wrapperOf(c), wrapperOf(d))
	a.SetStr("CHAT")
	c.SetInt(5)
	assert.Equal(t, "VOICE", b.Str())
	assert.Equal(t, int64(1), d.Int())

	want, got := buildLogs(pdataSetters{}, 20), buildLogs(&Slab{}, 20)
	requireSameLogs(t, want, got)
}
