package queuestorage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// A store keeps one client's keys in append-only segment files. Every Batch is one
// record with a checksum, so a crash keeps all of a batch or none of it: a record cut
// short at the end fails its checksum and is cut off at the next open. Which value
// each key has, and where it is, lives in memory; values larger than smallValue are read
// back from their segment when asked for.
//
// A segment is removed once no key's value is in it and every older segment is gone: a
// delete's record must not go before the value it deletes, or that value would come back.
// When the oldest segment holds little that is still live, that little is written again
// at the end so the segment can go (see compactHead).

const (
	// recordHeaderSize: the payload's length and its CRC-32C, four bytes each.
	recordHeaderSize = 8
	opSet            = byte(1)
	opDelete         = byte(2)
	// smallValue: values up to this size are also kept in memory (the queue's
	// metadata, checkpoints); larger ones (queued requests) are read from disk.
	smallValue    = 1024
	segmentSuffix = ".seg"
	lockFileName  = "LOCK"
	// maxRecordSize bounds what a damaged header can make the opening allocate.
	maxRecordSize = 1 << 30
)

var (
	crcTable    = crc32.MakeTable(crc32.Castagnoli)
	errClosed   = errors.New("queue_storage: the client is closed")
	errTooLarge = errors.New("queue_storage: a batch of more than 1 GiB")
	errInUse    = errors.New("queue_storage: the directory is in use by another client or process")
)

type segment struct {
	id   uint64
	file *os.File
	// size is where the next record goes.
	size int64
	// live counts the keys whose value is in this segment; liveBytes their values' bytes.
	live      int
	liveBytes int64
}

func segmentName(id uint64) string { return fmt.Sprintf("%016x%s", id, segmentSuffix) }

type location struct {
	seg *segment
	// off is where the value starts in the segment's file; n its length.
	off int64
	n   int
	// value is the value itself when it is small.
	value []byte
}

type store struct {
	mu          sync.Mutex
	dir         string
	segmentSize int64
	fsync       bool
	logger      *zap.Logger
	lock        *os.File
	// segments, oldest first; the last is the one written to.
	segments []*segment
	index    map[string]location
	// record is the buffer a batch is encoded into, kept between batches.
	record []byte
	// writeAt writes to segment files; tests put failures in its place.
	writeAt func(f *os.File, b []byte, off int64) (int, error)
	// rotateFailing is set while new segments cannot be started, so that it is logged
	// once.
	rotateFailing bool
	// onClose is called once, when the client is closed.
	onClose func()
	closed  bool
}

var _ storage.Client = (*store)(nil)

// openStore opens the store in dir, creating dir if needed, and replays its segments.
func openStore(dir string, segmentSize int64, fsync bool, logger *zap.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	lock, err := lockDir(filepath.Join(dir, lockFileName))
	if err != nil {
		return nil, err
	}
	s := &store{dir: dir, segmentSize: segmentSize, fsync: fsync, logger: logger, lock: lock, index: map[string]location{},
		writeAt: (*os.File).WriteAt}
	if err := s.replay(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// replay reads every segment in order and rebuilds the index. A record that fails its
// checksum is skipped and logged as an error: the data were damaged on disk. A record
// cut short ends its segment, and is cut off: at the end of the newest segment that is a
// write the process did not finish, anywhere else damage again.
func (s *store) replay() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var ids []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		ids = []uint64{1}
	}
	var payload []byte
	for i, id := range ids {
		f, err := os.OpenFile(filepath.Join(s.dir, segmentName(id)), os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			return err
		}
		seg := &segment{id: id, file: f}
		s.segments = append(s.segments, seg)
		end, cut, damaged, err := s.replaySegment(seg, &payload)
		if err != nil {
			return fmt.Errorf("queue_storage: reading %s: %w", f.Name(), err)
		}
		if len(damaged) > 0 {
			s.logger.Error("Records of the queue storage failed their checksum, damaged on disk, and were skipped: what they wrote or deleted is lost",
				zap.String("file", f.Name()), zap.Int("records", len(damaged)), zap.Int64("first_offset", damaged[0]))
		}
		seg.size = end
		if cut > 0 {
			if i == len(ids)-1 {
				s.logger.Warn("Cut off an unfinished write at the end of the queue storage", zap.String("file", f.Name()), zap.Int64("offset", end), zap.Int64("bytes", cut))
			} else {
				s.logger.Error("The queue storage was damaged on disk: the rest of this segment is unreadable and lost", zap.String("file", f.Name()), zap.Int64("offset", end), zap.Int64("bytes", cut))
			}
			if err := f.Truncate(end); err != nil {
				return fmt.Errorf("queue_storage: cutting %s at %d: %w", f.Name(), end, err)
			}
		}
	}
	s.removeDeadHead()
	return nil
}

// replaySegment applies seg's records to the index. It returns where its last readable
// record ends, how many bytes follow (a record cut short, or no record at all), and
// where the records that failed their checksum start.
func (s *store) replaySegment(seg *segment, payload *[]byte) (end, cut int64, damaged []int64, err error) {
	info, err := seg.file.Stat()
	if err != nil {
		return 0, 0, nil, err
	}
	size := info.Size()
	var header [recordHeaderSize]byte
	for size-end >= recordHeaderSize {
		if _, err := seg.file.ReadAt(header[:], end); err != nil {
			return 0, 0, nil, err
		}
		n := int64(binary.LittleEndian.Uint32(header[0:4]))
		sum := binary.LittleEndian.Uint32(header[4:8])
		// No record is empty: zeros where a record should be end what can be read.
		if n == 0 || n > maxRecordSize || end+recordHeaderSize+n > size {
			break
		}
		if int64(cap(*payload)) < n {
			*payload = make([]byte, n)
		}
		p := (*payload)[:n]
		if _, err := seg.file.ReadAt(p, end+recordHeaderSize); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, nil, err
		}
		var ops []recordOp
		ok := crc32.Checksum(p, crcTable) == sum
		if ok {
			ops, ok = decodeRecord(p)
		}
		if !ok {
			damaged = append(damaged, end)
		}
		for _, op := range ops {
			s.apply(op, seg, end+recordHeaderSize)
		}
		end += recordHeaderSize + n
	}
	return end, size - end, damaged, nil
}

// recordOp is one write of a record: for a set, where its value starts in the payload.
type recordOp struct {
	kind   byte
	key    string
	value  []byte
	valOff int
}

func decodeRecord(p []byte) ([]recordOp, bool) {
	var ops []recordOp
	for i := 0; i < len(p); {
		kind := p[i]
		i++
		klen, n := binary.Uvarint(p[i:])
		if n <= 0 || uint64(len(p)-i-n) < klen {
			return nil, false
		}
		i += n
		op := recordOp{kind: kind, key: string(p[i : i+int(klen)])}
		i += int(klen)
		switch kind {
		case opDelete:
		case opSet:
			vlen, n := binary.Uvarint(p[i:])
			if n <= 0 || uint64(len(p)-i-n) < vlen {
				return nil, false
			}
			i += n
			op.valOff = i
			op.value = p[i : i+int(vlen)]
			i += int(vlen)
		default:
			return nil, false
		}
		ops = append(ops, op)
	}
	return ops, true
}

// apply puts one write of a record at payloadOff in seg into the index.
func (s *store) apply(op recordOp, seg *segment, payloadOff int64) {
	if old, ok := s.index[op.key]; ok {
		old.seg.live--
		old.seg.liveBytes -= int64(old.n)
		delete(s.index, op.key)
	}
	if op.kind != opSet {
		return
	}
	loc := location{seg: seg, off: payloadOff + int64(op.valOff), n: len(op.value)}
	if len(op.value) <= smallValue {
		loc.value = present(op.value)
	}
	seg.live++
	seg.liveBytes += int64(loc.n)
	s.index[op.key] = loc
}

// present returns a copy of a value that is set: never nil, even when empty, since nil
// is what a missing key reads as.
func present(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return slices.Clone(v)
}

// read returns a copy of the value at loc.
func (s *store) read(loc location) ([]byte, error) {
	if loc.value != nil {
		return slices.Clone(loc.value), nil
	}
	v := make([]byte, loc.n)
	if _, err := loc.seg.file.ReadAt(v, loc.off); err != nil {
		return nil, fmt.Errorf("queue_storage: reading %s at %d: %w", loc.seg.file.Name(), loc.off, err)
	}
	return v, nil
}

func (s *store) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := s.Batch(ctx, op)
	return op.Value, err
}

func (s *store) Set(ctx context.Context, key string, value []byte) error {
	return s.Batch(ctx, storage.SetOperation(key, value))
}

func (s *store) Delete(ctx context.Context, key string) error {
	return s.Batch(ctx, storage.DeleteOperation(key))
}

// Batch carries out ops in order, as one write: a Get sees the writes before it in the
// same batch.
func (s *store) Batch(_ context.Context, ops ...*storage.Operation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	for i, op := range ops {
		if op.Type != storage.Get {
			continue
		}
		v, err := s.getAt(ops[:i], op.Key)
		if err != nil {
			return err
		}
		op.Value = v
	}
	return s.write(ops)
}

// getAt returns key's value as the writes in earlier, the ops before it in its batch,
// leave it.
func (s *store) getAt(earlier []*storage.Operation, key string) ([]byte, error) {
	for i := len(earlier) - 1; i >= 0; i-- {
		op := earlier[i]
		if op.Key != key {
			continue
		}
		switch op.Type {
		case storage.Set:
			return present(op.Value), nil
		case storage.Delete:
			return nil, nil
		}
	}
	loc, ok := s.index[key]
	if !ok {
		return nil, nil
	}
	return s.read(loc)
}

// write appends the sets and deletes among ops as one record, applies them, and starts
// a new segment when the active one is full. Once the record is written the batch is
// done: a segment that cannot be started or compacted now is tried again at the next
// write, and the active one grows meanwhile.
func (s *store) write(ops []*storage.Operation) error {
	if err := s.writeRecord(ops); err != nil {
		return err
	}
	if s.active().size < s.segmentSize {
		s.removeDeadHead()
		return nil
	}
	err := s.rotate()
	switch {
	case err != nil && !s.rotateFailing:
		s.logger.Warn("Could not start or compact a queue storage segment; trying again at the next write", zap.Error(err))
	case err == nil && s.rotateFailing:
		s.logger.Info("Started a queue storage segment again")
	}
	s.rotateFailing = err != nil
	return nil
}

// piece is a part of a record: bytes of s.record, or a large value written from where
// the caller has it, without a copy.
type piece struct {
	start, end int
	value      []byte
}

// writeRecord appends the sets and deletes among ops as one record and applies them.
func (s *store) writeRecord(ops []*storage.Operation) error {
	rec := append(s.record[:0], make([]byte, recordHeaderSize)...)
	var pieces []piece
	var writes []recordOp
	payloadLen := 0
	mark := 0 // where the bytes of rec not yet in a piece start
	cut := func() {
		if mark < len(rec) {
			pieces = append(pieces, piece{start: mark, end: len(rec)})
			mark = len(rec)
		}
	}
	for _, op := range ops {
		if op.Type != storage.Set && op.Type != storage.Delete {
			continue
		}
		before := len(rec)
		kind := opDelete
		if op.Type == storage.Set {
			kind = opSet
		}
		rec = append(rec, kind)
		rec = binary.AppendUvarint(rec, uint64(len(op.Key)))
		rec = append(rec, op.Key...)
		w := recordOp{kind: kind, key: op.Key}
		if kind == opSet {
			rec = binary.AppendUvarint(rec, uint64(len(op.Value)))
			w.value = op.Value
			w.valOff = payloadLen + len(rec) - before
		}
		payloadLen += len(rec) - before
		if kind == opSet && len(op.Value) > smallValue {
			cut()
			pieces = append(pieces, piece{value: op.Value})
		} else {
			rec = append(rec, w.value...)
		}
		payloadLen += len(w.value)
		writes = append(writes, w)
	}
	cut()
	s.record = rec[:0]
	if len(writes) == 0 {
		return nil
	}
	if payloadLen > maxRecordSize {
		return errTooLarge
	}
	sum := uint32(0)
	for _, p := range pieces {
		b := p.value
		if b == nil {
			b = rec[max(p.start, recordHeaderSize):p.end]
		}
		sum = crc32.Update(sum, crcTable, b)
	}
	binary.LittleEndian.PutUint32(rec[0:4], uint32(payloadLen))
	binary.LittleEndian.PutUint32(rec[4:8], sum)
	seg := s.active()
	if err := s.append(seg, rec, pieces); err != nil {
		return err
	}
	at := seg.size + recordHeaderSize
	seg.size += int64(recordHeaderSize + payloadLen)
	for _, w := range writes {
		s.apply(w, seg, at)
	}
	return nil
}

func (s *store) active() *segment { return s.segments[len(s.segments)-1] }

// append writes a record's pieces at the end of seg. A failed write is cut off, so the
// segment ends with whole records.
func (s *store) append(seg *segment, rec []byte, pieces []piece) error {
	off := seg.size
	for _, p := range pieces {
		b := p.value
		if b == nil {
			b = rec[p.start:p.end]
		}
		if _, err := s.writeAt(seg.file, b, off); err != nil {
			if terr := seg.file.Truncate(seg.size); terr != nil {
				s.logger.Error("Could not cut off a failed write to the queue storage", zap.String("file", seg.file.Name()), zap.Error(terr))
			}
			if errors.Is(err, syscall.ENOSPC) {
				return fmt.Errorf("%w: %w", storage.ErrStorageFull, err)
			}
			return fmt.Errorf("queue_storage: writing %s: %w", seg.file.Name(), err)
		}
		off += int64(len(b))
	}
	if s.fsync {
		if err := seg.file.Sync(); err != nil {
			return fmt.Errorf("queue_storage: syncing %s: %w", seg.file.Name(), err)
		}
	}
	return nil
}

// rotate starts a new segment, then frees what the oldest ones hold no more.
func (s *store) rotate() error {
	id := s.active().id + 1
	f, err := os.OpenFile(filepath.Join(s.dir, segmentName(id)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("queue_storage: starting a segment: %w", err)
	}
	s.segments = append(s.segments, &segment{id: id, file: f})
	if s.fsync {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	s.removeDeadHead()
	return s.compactHead()
}

// removeDeadHead removes the oldest segments while they hold no live value. Only the
// oldest: a newer segment may hold the delete of a value in an older one.
func (s *store) removeDeadHead() {
	for len(s.segments) > 1 && s.segments[0].live == 0 {
		seg := s.segments[0]
		_ = seg.file.Close()
		if err := os.Remove(seg.file.Name()); err != nil {
			s.logger.Warn("Could not remove a used queue storage segment", zap.String("file", seg.file.Name()), zap.Error(err))
		}
		s.segments = s.segments[1:]
	}
}

// compactHead writes the values still live in the oldest segment again at the end, and
// removes it, when they are under a quarter of it: a request whose export takes long, or
// a key set once and never again, would otherwise keep every newer segment on disk.
func (s *store) compactHead() error {
	if len(s.segments) < 3 {
		return nil
	}
	head := s.segments[0]
	if head.liveBytes*4 >= head.size {
		return nil
	}
	var ops []*storage.Operation
	for key, loc := range s.index {
		if loc.seg != head {
			continue
		}
		v, err := s.read(loc)
		if err != nil {
			return err
		}
		ops = append(ops, storage.SetOperation(key, v))
	}
	if err := s.writeRecord(ops); err != nil {
		return err
	}
	s.removeDeadHead()
	return nil
}

// Close closes the client; its data stay on disk for the next open.
func (s *store) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.fsync {
		err = s.active().file.Sync()
	}
	s.closeFiles()
	if s.onClose != nil {
		s.onClose()
	}
	return err
}

func (s *store) closeFiles() {
	for _, seg := range s.segments {
		_ = seg.file.Close()
	}
	s.segments = nil
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
