package queuestorage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const testSegmentSize = 1 << 20

var errDied = errors.New("the process died here")

func open(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir, testSegmentSize, false, zap.NewNop())
	require.NoError(t, err)
	return s
}

func value(n int, seed byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = seed + byte(i*7)
	}
	return v
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	require.NoError(t, err)
	slices.Sort(names)
	return names
}

func TestSetGetDelete(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close(ctx)

	v, err := s.Get(ctx, "missing")
	require.NoError(t, err)
	assert.Nil(t, v, "a missing key reads as nil")

	require.NoError(t, s.Set(ctx, "small", []byte("meta")))
	large := value(3*smallValue, 1)
	require.NoError(t, s.Set(ctx, "large", large))
	require.NoError(t, s.Set(ctx, "empty", nil))

	v, err = s.Get(ctx, "small")
	require.NoError(t, err)
	assert.Equal(t, []byte("meta"), v)
	v, err = s.Get(ctx, "large")
	require.NoError(t, err)
	assert.Equal(t, large, v)
	v, err = s.Get(ctx, "empty")
	require.NoError(t, err)
	assert.NotNil(t, v, "an empty value is there, unlike a missing one")
	assert.Empty(t, v)

	v, err = s.Get(ctx, "large")
	require.NoError(t, err)
	v[0]++ // what Get returns is the caller's
	v, err = s.Get(ctx, "large")
	require.NoError(t, err)
	assert.Equal(t, large, v)
	require.NoError(t, s.Delete(ctx, "large"))
	v, err = s.Get(ctx, "large")
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestBatchReadsItsOwnWrites(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close(ctx)
	require.NoError(t, s.Set(ctx, "k", []byte("old")))

	before := storage.GetOperation("k")
	after := storage.GetOperation("k")
	deleted := storage.GetOperation("k")
	require.NoError(t, s.Batch(ctx, before, storage.SetOperation("k", []byte("new")), after,
		storage.DeleteOperation("k"), deleted, storage.SetOperation("k", []byte("last"))))
	assert.Equal(t, "old", string(before.Value))
	assert.Equal(t, "new", string(after.Value))
	assert.Nil(t, deleted.Value)
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "last", string(v))
}

func TestValuesSurviveReopening(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	want := map[string][]byte{}
	for i := range 50 {
		k := fmt.Sprint(i)
		want[k] = value(100+i*97, byte(i))
		require.NoError(t, s.Set(ctx, k, want[k]))
	}
	for i := 0; i < 50; i += 3 {
		k := fmt.Sprint(i)
		delete(want, k)
		require.NoError(t, s.Delete(ctx, k))
	}
	require.NoError(t, s.Close(ctx))
	assert.ErrorIs(t, s.Set(ctx, "after", nil), errClosed)

	s = open(t, dir)
	defer s.Close(ctx)
	assert.Equal(t, want, contents(t, s))
}

// queue sets keys "0" to n-1 to values of size bytes in the store in dir, and closes it.
func queue(t *testing.T, dir string, n, size int) {
	t.Helper()
	s := open(t, dir)
	for i := range n {
		require.NoError(t, s.Set(context.Background(), fmt.Sprint(i), value(size, byte(i))))
	}
	require.NoError(t, s.Close(context.Background()))
}

func contents(t *testing.T, s *store) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	for k := range s.index {
		v, err := s.Get(context.Background(), k)
		require.NoError(t, err)
		got[k] = v
	}
	return got
}

// A crash in the middle of a batch's write leaves all of it or none of it.
func TestUnfinishedWriteIsCutOff(t *testing.T) {
	ctx := context.Background()
	for _, cut := range []int64{1, recordHeaderSize, 20, 4000, -1} {
		dir := t.TempDir()
		s := open(t, dir)
		require.NoError(t, s.Set(ctx, "kept", []byte("before")))
		end := s.active().size
		require.NoError(t, s.Batch(ctx, storage.SetOperation("kept", []byte("after")), storage.SetOperation("item", value(5000, 3))))
		full := s.active().size
		require.NoError(t, s.Close(ctx))
		at := end + cut
		if cut < 0 {
			at = full + cut
		}
		require.NoError(t, os.Truncate(segmentFiles(t, dir)[0], at))

		core, logs := observer.New(zapcore.WarnLevel)
		s, err := openStore(dir, testSegmentSize, false, zap.New(core))
		require.NoError(t, err)
		assert.Equal(t, map[string][]byte{"kept": []byte("before")}, contents(t, s), "cut at %d", at)
		assert.Equal(t, 1, logs.FilterMessageSnippet("unfinished write").Len())
		// The next write follows the last whole record.
		require.NoError(t, s.Set(ctx, "next", []byte("v")))
		require.NoError(t, s.Close(ctx))
		s = open(t, dir)
		assert.Equal(t, map[string][]byte{"kept": []byte("before"), "next": []byte("v")}, contents(t, s))
		require.NoError(t, s.Close(ctx))
	}
}

// A record damaged on disk is skipped, and said so at error level; the records after it,
// in its segment and the newer ones, are kept.
func TestDamagedRecordIsSkipped(t *testing.T) {
	for _, segment := range []string{"older", "newest"} {
		t.Run(segment, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			queue(t, dir, 40, 100_000)
			segs := segmentFiles(t, dir)
			require.GreaterOrEqual(t, len(segs), 3)
			damage := segs[0]
			if segment == "newest" {
				damage = segs[len(segs)-1]
			}
			data, err := os.ReadFile(damage)
			require.NoError(t, err)
			require.Greater(t, len(data), 250_000, "at least two records")
			data[recordHeaderSize+50_000] ^= 0xff // inside the segment's first value
			require.NoError(t, os.WriteFile(damage, data, 0o640))

			core, logs := observer.New(zapcore.WarnLevel)
			s, err := openStore(dir, testSegmentSize, false, zap.New(core))
			require.NoError(t, err)
			defer s.Close(ctx)
			require.Equal(t, 1, logs.Len(), "one line: %v", logs.All())
			assert.Equal(t, zapcore.ErrorLevel, logs.All()[0].Level)
			assert.Contains(t, logs.All()[0].Message, "failed their checksum")
			got := contents(t, s)
			assert.Len(t, got, 39, "only the damaged record's key is lost")
			for i := range 40 {
				if v, ok := got[fmt.Sprint(i)]; ok {
					assert.Equal(t, value(100_000, byte(i)), v)
				}
			}
		})
	}
}

// A queue's traffic (set, read, delete) leaves no more than a few segments behind, and
// a key set once at the start (a checkpoint, a stuck request) is carried forward.
func TestUsedSegmentsAreRemoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	require.NoError(t, s.Set(ctx, "pinned", value(3000, 9)))
	for i := range 400 {
		k := fmt.Sprint(i)
		require.NoError(t, s.Batch(ctx, storage.SetOperation("meta", []byte(k)), storage.SetOperation(k, value(50_000, byte(i)))))
		if i >= 4 {
			get := storage.GetOperation(fmt.Sprint(i - 4))
			require.NoError(t, s.Batch(ctx, storage.SetOperation("meta", []byte(k)), get))
			require.Equal(t, value(50_000, byte(i-4)), get.Value)
			require.NoError(t, s.Batch(ctx, storage.SetOperation("meta", []byte(k)), storage.DeleteOperation(get.Key)))
		}
	}
	// 20 MB went through 1 MiB segments.
	assert.LessOrEqual(t, len(segmentFiles(t, dir)), 3)
	require.NoError(t, s.Close(ctx))

	s = open(t, dir)
	defer s.Close(ctx)
	got := contents(t, s)
	assert.Len(t, got, 6)
	assert.Equal(t, value(3000, 9), got["pinned"])
	assert.Equal(t, "399", string(got["meta"]))
	for i := 396; i < 400; i++ {
		assert.Equal(t, value(50_000, byte(i)), got[fmt.Sprint(i)])
	}
}

// While a backlog is queued, its segments stay.
func TestQueuedValuesKeepTheirSegments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	queue(t, dir, 100, 50_000)
	s := open(t, dir)
	defer s.Close(ctx)
	got := contents(t, s)
	require.Len(t, got, 100)
	for i := range 100 {
		require.Equal(t, value(50_000, byte(i)), got[fmt.Sprint(i)])
	}
	assert.GreaterOrEqual(t, len(segmentFiles(t, dir)), 5)
}

func TestOneClientADirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	_, err := openStore(dir, testSegmentSize, false, zap.NewNop())
	require.ErrorIs(t, err, errInUse)
	require.NoError(t, s.Close(ctx))
	s = open(t, dir)
	require.NoError(t, s.Close(ctx))
}

// The store against a map, under random batches, reopenings and deaths of the process
// in the middle of a write, with small segments so that rotation and compaction happen
// often.
func TestStoreAgainstAModel(t *testing.T) {
	ctx := context.Background()
	seed := uint64(rand.Int64())
	if v := os.Getenv("QUEUESTORAGE_SEED"); v != "" {
		_, _ = fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (QUEUESTORAGE_SEED=%d runs it again)", seed, seed)
	rnd := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	const segSize = minSegmentSize
	s, err := openStore(dir, segSize, false, zap.NewNop())
	require.NoError(t, err)
	model := map[string][]byte{}
	key := func() string { return fmt.Sprint(rnd.IntN(60)) }
	val := func(step int) []byte { return value(rnd.IntN(4)*rnd.IntN(40_000), byte(step)) }
	deaths := 0
	for step := range 3000 {
		var ops, gets []*storage.Operation
		var wantGets [][]byte
		for range 1 + rnd.IntN(4) {
			k := key()
			switch rnd.IntN(3) {
			case 0:
				v := val(step)
				ops = append(ops, storage.SetOperation(k, v))
				model[k] = v
			case 1:
				ops = append(ops, storage.DeleteOperation(k))
				delete(model, k)
			case 2:
				g := storage.GetOperation(k)
				ops = append(ops, g)
				gets = append(gets, g)
				wantGets = append(wantGets, model[k])
			}
		}
		require.NoError(t, s.Batch(ctx, ops...))
		for i, g := range gets {
			require.True(t, bytes.Equal(wantGets[i], g.Value) && (wantGets[i] == nil) == (g.Value == nil), "step %d: get %s", step, g.Key)
		}
		switch rnd.IntN(50) {
		case 0:
			require.NoError(t, s.Close(ctx))
			s, err = openStore(dir, segSize, false, zap.NewNop())
			require.NoError(t, err)
		case 1:
			// The next batch, with the process dying at one of its writes: a part of
			// that write reaches the file, and nothing after it happens.
			type write struct {
				file string
				off  int64
				b    []byte
			}
			var writes []write
			died := false
			s.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
				if rnd.IntN(4) == 0 && len(b) > 0 {
					// Short of the whole: dying once it is whole is dying at the next.
					writes = append(writes, write{f.Name(), off, slices.Clone(b[:rnd.IntN(len(b))])})
					died = true
					return 0, errDied
				}
				writes = append(writes, write{f.Name(), off, slices.Clone(b)})
				return f.WriteAt(b, off)
			}
			sets := map[string][]byte{}
			ops = ops[:0]
			for range 1 + rnd.IntN(3) {
				k, v := key(), val(step)
				ops = append(ops, storage.SetOperation(k, v))
				sets[k] = v
			}
			err := s.Batch(ctx, ops...)
			batchWhole := true
			if died {
				deaths++
				// Died in a later record (a compaction's, in the next segment): the
				// batch's own record is whole, and the store, had it lived, would
				// have said it was done.
				batchWhole = writes[0].file != writes[len(writes)-1].file
				if batchWhole {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, errDied)
				}
				s.closeFiles()
				// The store's cleanup after a failed write never ran.
				for _, w := range writes {
					f, err := os.OpenFile(w.file, os.O_WRONLY, 0)
					require.NoError(t, err)
					_, err = f.WriteAt(w.b, w.off)
					require.NoError(t, err)
					require.NoError(t, f.Close())
				}
			} else {
				require.NoError(t, err)
				require.NoError(t, s.Close(ctx))
			}
			if batchWhole {
				for k, v := range sets {
					model[k] = v
				}
			}
			s, err = openStore(dir, segSize, false, zap.NewNop())
			require.NoError(t, err)
		}
		if got := contents(t, s); !reflect.DeepEqual(model, got) {
			for k, v := range model {
				if !bytes.Equal(got[k], v) {
					t.Errorf("key %s: want %d bytes, got %d (present %t)", k, len(v), len(got[k]), got[k] != nil)
				}
			}
			for k := range got {
				if _, ok := model[k]; !ok {
					t.Errorf("key %s should not be there", k)
				}
			}
			t.Fatalf("step %d, segments %d", step, len(s.segments))
		}
	}
	require.NoError(t, s.Close(ctx))
	assert.Positive(t, deaths)
	assert.LessOrEqual(t, len(segmentFiles(t, dir)), 8, "used segments are removed")
}

// A segment holding only a delete stays while the value it deletes is on disk in an
// older one; otherwise the value would come back at the next open.
func TestDeletesOutliveTheirValues(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	require.NoError(t, s.Set(ctx, "pinned", value(400_000, 1)))
	require.NoError(t, s.Set(ctx, "deleted", value(700_000, 2))) // fills segment 1
	require.NoError(t, s.Delete(ctx, "deleted"))
	require.NoError(t, s.Set(ctx, "b", value(1_100_000, 3))) // fills segment 2
	require.NoError(t, s.Delete(ctx, "b"))                   // nothing live in segment 2
	require.Len(t, s.segments, 3, "the first segment is pinned; the second holds the delete")
	require.NoError(t, s.Close(ctx))

	s = open(t, dir)
	defer s.Close(ctx)
	assert.Equal(t, map[string][]byte{"pinned": value(400_000, 1)}, contents(t, s))
}

// FuzzOpen: whatever a segment file holds, opening it neither fails nor panics, keeps
// the records before the first damage, and leaves a store that takes writes.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	s, err := openStore(dir, testSegmentSize, false, zap.NewNop())
	require.NoError(f, err)
	ctx := context.Background()
	require.NoError(f, s.Batch(ctx, storage.SetOperation("qmv0", []byte{1, 2, 3}), storage.SetOperation("0", value(3000, 1))))
	require.NoError(f, s.Batch(ctx, storage.SetOperation("qmv0", []byte{4}), storage.DeleteOperation("0")))
	require.NoError(f, s.Close(ctx))
	whole, err := os.ReadFile(segmentFiles(f, dir)[0])
	require.NoError(f, err)
	f.Add(whole)
	f.Add(whole[:len(whole)-3])
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o640))
		s, err := openStore(dir, testSegmentSize, false, zap.NewNop())
		require.NoError(t, err)
		kept := contents(t, s)
		require.NoError(t, s.Set(ctx, "after", []byte("v")))
		require.NoError(t, s.Close(ctx))
		s, err = openStore(dir, testSegmentSize, false, zap.NewNop())
		require.NoError(t, err)
		defer s.Close(ctx)
		kept["after"] = []byte("v")
		require.Equal(t, kept, contents(t, s))
	})
}

// A full disk refuses the write as storage.ErrStorageFull, which the exporter passes
// back to the receiver (that then retries, with no checkpoint), and leaves the store as
// it was: the next write goes where the failed one would have.
func TestFullDiskRefusesTheWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	require.NoError(t, s.Set(ctx, "kept", []byte("v")))
	end := s.active().size
	s.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		n, _ := f.WriteAt(b[:len(b)/2], off)
		return n, syscall.ENOSPC
	}
	err := s.Batch(ctx, storage.SetOperation("qmv0", []byte{1}), storage.SetOperation("0", value(5000, 1)))
	require.ErrorIs(t, err, storage.ErrStorageFull)
	info, err := os.Stat(segmentFiles(t, dir)[0])
	require.NoError(t, err)
	assert.Equal(t, end, info.Size(), "the half-written record is cut off")

	s.writeAt = (*os.File).WriteAt
	require.NoError(t, s.Set(ctx, "next", []byte("w")))
	require.NoError(t, s.Close(ctx))
	s = open(t, dir)
	defer s.Close(ctx)
	assert.Equal(t, map[string][]byte{"kept": []byte("v"), "next": []byte("w")}, contents(t, s))
}

// With fsync, every write and every new segment is flushed; what is kept is the same.
func TestFsync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := openStore(dir, testSegmentSize, true, zap.NewNop())
	require.NoError(t, err)
	want := map[string][]byte{}
	for i := range 30 {
		k := fmt.Sprint(i)
		want[k] = value(100_000, byte(i))
		require.NoError(t, s.Set(ctx, k, want[k]))
	}
	require.Greater(t, len(s.segments), 2)
	require.NoError(t, s.Close(ctx))
	s, err = openStore(dir, testSegmentSize, true, zap.NewNop())
	require.NoError(t, err)
	defer s.Close(ctx)
	assert.Equal(t, want, contents(t, s))
}

// A batch whose record is written is done, even when the segment after it cannot be
// compacted into: that is said once, tried again at the next rotation, and loses nothing.
func TestBatchIsDoneWhenCompactionFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	core, logs := observer.New(zapcore.InfoLevel)
	s, err := openStore(dir, testSegmentSize, false, zap.New(core))
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "pinned", value(3000, 9)))
	failed := 0
	s.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		if off == 0 && failed == 0 && len(s.segments) >= 3 {
			failed++ // the first compaction's write
			return 0, errors.New("disk trouble")
		}
		return f.WriteAt(b, off)
	}
	want := map[string][]byte{"pinned": value(3000, 9)}
	for i := range 100 {
		k := fmt.Sprint(i)
		require.NoError(t, s.Set(ctx, k, value(100_000, byte(i))), "batch %d", i)
		want[k] = value(100_000, byte(i))
		if i >= 2 {
			old := fmt.Sprint(i - 2)
			require.NoError(t, s.Delete(ctx, old))
			delete(want, old)
		}
	}
	require.Equal(t, 1, failed, "a compaction failed")
	assert.Equal(t, 1, logs.FilterMessageSnippet("Could not start or compact").Len())
	assert.Equal(t, 1, logs.FilterMessageSnippet("again").FilterLevelExact(zapcore.InfoLevel).Len())
	assert.LessOrEqual(t, len(segmentFiles(t, dir)), 4, "later compactions freed the segments")
	require.NoError(t, s.Close(ctx))
	s = open(t, dir)
	defer s.Close(ctx)
	assert.Equal(t, want, contents(t, s))
}
