package contactstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Buckets is the number of buckets the state is stored in, by hash of the contact key.
// It is part of the stored format.
const Buckets = 256

// formatVersion is the version of MarshalBucket's encoding, its first byte.
//
// Version 1:
//
//	version        byte
//	saved at       varint unix nanoseconds: the store's clock, the frame of its wall clock times
//	strings        uvarint count, then each: uvarint length, bytes
//	contacts       uvarint count, then each, by key:
//	  key          8 bytes, little endian
//	  flags        uvarint
//	  instance, queue, channel   uvarint: 0 for "", else 1 + index into strings
//	  enqueued, connected, disconnected, lastSeen, ended   varint unix nanoseconds, 0: unknown
//	  grace        varint unix nanoseconds: the end of the grace, if the flags say pending
//	records        uvarint count, then each, by key: key 8 bytes, varint unix nanoseconds
const formatVersion = 1

// storedFlags are the flags the encoding carries.
const storedFlags = flagsKnown

// minContactBytes is the fewest bytes a stored contact takes: key, flags, three string
// indexes and five times.
const minContactBytes = 8 + 1 + 3 + 5

type bucket struct {
	contacts map[uint64]*contact
	records  map[uint64]int64 // first sighting, wall clock
	// gen counts changes; marshaled and clean are the gens last marshaled and last
	// marked clean, so a change between MarshalBucket and MarkClean keeps it dirty.
	gen, marshaled, clean uint64
	// unanchored: loaded, its times not yet shifted by the downtime (see advance).
	unanchored bool
}

func (b *bucket) changed() { b.gen++ }

// DirtyBuckets returns the buckets changed since they were last marked clean, in order.
func (s *Store) DirtyBuckets() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int
	for i := range s.buckets {
		if s.buckets[i].gen != s.buckets[i].clean {
			ids = append(ids, i)
		}
	}
	return ids
}

// MarkClean marks the buckets ids as stored, as of their last MarshalBucket: one changed
// since stays dirty.
func (s *Store) MarkClean(ids []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range ids {
		if i >= 0 && i < Buckets {
			s.buckets[i].clean = s.buckets[i].marshaled
		}
	}
}

// MarshalBucket encodes bucket i. An empty bucket encodes to nil: delete its key.
func (s *Store) MarshalBucket(i int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.buckets[i]
	b.marshaled = b.gen
	if len(b.contacts) == 0 && len(b.records) == 0 {
		return nil
	}

	keys := make([]uint64, 0, len(b.contacts))
	for k := range b.contacts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	index := map[string]uint64{}
	var strs []string
	ref := func(v string) uint64 {
		if v == "" {
			return 0
		}
		n, ok := index[v]
		if !ok {
			strs = append(strs, v)
			n = uint64(len(strs))
			index[v] = n
		}
		return n
	}
	for _, k := range keys {
		c := b.contacts[k]
		ref(c.instance)
		ref(c.queue)
		ref(c.channel)
	}

	buf := make([]byte, 0, 64+len(keys)*40+len(b.records)*14)
	buf = append(buf, formatVersion)
	savedAt := s.clock
	if b.unanchored {
		savedAt = s.loadedClock
	}
	buf = binary.AppendVarint(buf, savedAt)
	buf = binary.AppendUvarint(buf, uint64(len(strs)))
	for _, v := range strs {
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		c := b.contacts[k]
		buf = binary.LittleEndian.AppendUint64(buf, k)
		buf = binary.AppendUvarint(buf, uint64(c.flags&storedFlags))
		buf = binary.AppendUvarint(buf, ref(c.instance))
		buf = binary.AppendUvarint(buf, ref(c.queue))
		buf = binary.AppendUvarint(buf, ref(c.channel))
		times := [...]int64{c.enqueued, c.connected, c.disconnected, c.lastSeen, c.ended}
		if c.flags&fEnded != 0 && c.flags&(fDequeued|fOutbound) != 0 {
			// Settled: no query reads its event times again; a byte each instead of nine.
			times[0], times[1], times[2] = 0, 0, 0
		}
		for _, t := range times {
			buf = binary.AppendVarint(buf, t)
		}
		if c.flags&fPending != 0 {
			buf = binary.AppendVarint(buf, c.grace)
		}
	}

	rkeys := make([]uint64, 0, len(b.records))
	for k := range b.records {
		rkeys = append(rkeys, k)
	}
	slices.Sort(rkeys)
	buf = binary.AppendUvarint(buf, uint64(len(rkeys)))
	for _, k := range rkeys {
		buf = binary.LittleEndian.AppendUint64(buf, k)
		buf = binary.AppendVarint(buf, b.records[k])
	}
	return buf
}

// LoadBucket replaces bucket i with data, which MarshalBucket wrote (nil: empty). It is
// meant for the start, before events are applied. An unreadable bucket is an error that
// names it and what is wrong, and leaves the store as it was.
func (s *Store) LoadBucket(i int, data []byte) error {
	if i < 0 || i >= Buckets {
		return fmt.Errorf("bucket %d: no such bucket (0 to %d)", i, Buckets-1)
	}
	savedAt, contacts, records, err := decodeBucket(i, data)
	if err != nil {
		return fmt.Errorf("bucket %d: %w", i, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.buckets[i]
	for _, c := range b.contacts {
		s.drop(c)
	}
	for k := range b.records {
		delete(b.records, k)
		s.nRecords--
	}
	for _, c := range contacts {
		c.instance, c.queue, c.channel = s.share(c.instance), s.share(c.queue), s.share(c.channel)
		b.contacts[c.key] = c
		if c.flags&fEnded != 0 {
			s.ended.pushBack(c)
			s.nEnded++
		} else {
			s.live.pushBack(c)
			s.nLive++
		}
		if c.flags&fPending != 0 {
			s.nPending++
		}
		s.reindex(c, membership{}, c.membership())
	}
	for _, r := range records {
		b.records[r.key] = r.at
		s.nRecords++
	}
	// Fifos and lists are filled and sorted when the times are shifted, at the next call.
	s.loadedClock = max(s.loadedClock, savedAt)
	if !b.unanchored {
		b.unanchored = true
		s.unanchored = append(s.unanchored, i)
	}
	b.changed()
	b.marshaled, b.clean = b.gen, b.gen
	return nil
}

// reader decodes a bucket, keeping the first error.
type reader struct {
	data []byte
	err  error
}

var errTruncated = errors.New("truncated")

func (r *reader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *reader) varint() int64 { return readVarint(r, binary.Varint) }

// readVarint reads a varint with read (binary.Uvarint or binary.Varint).
func readVarint[T uint64 | int64](r *reader, read func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := read(r.data)
	if n <= 0 {
		r.err = errTruncated
		if n < 0 {
			r.err = errors.New("varint overflows 64 bits")
		}
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.data) < 8 {
		r.err = errTruncated
		return 0
	}
	v := binary.LittleEndian.Uint64(r.data)
	r.data = r.data[8:]
	return v
}

func decodeBucket(i int, data []byte) (savedAt int64, _ []*contact, _ []stamp, _ error) {
	if len(data) == 0 {
		return 0, nil, nil, nil
	}
	switch v := data[0]; {
	case v > formatVersion:
		return 0, nil, nil, fmt.Errorf("format version %d is newer than %d, the newest this build reads", v, formatVersion)
	case v == 0:
		return 0, nil, nil, errors.New("format version 0 does not exist")
	}
	r := &reader{data: data[1:]}
	savedAt = r.varint()
	if r.err != nil {
		return 0, nil, nil, fmt.Errorf("saved at: %w", r.err)
	}

	nStrs := r.uvarint()
	if r.err == nil && nStrs > uint64(len(r.data)) {
		return 0, nil, nil, fmt.Errorf("%d strings cannot fit in %d bytes", nStrs, len(r.data))
	}
	strs := make([]string, 0, nStrs)
	for n := uint64(0); n < nStrs && r.err == nil; n++ {
		l := r.uvarint()
		if r.err == nil && l > uint64(len(r.data)) {
			return 0, nil, nil, fmt.Errorf("string %d: length %d past the end", n, l)
		}
		if r.err == nil {
			strs = append(strs, string(r.data[:l]))
			r.data = r.data[l:]
		}
	}
	if r.err != nil {
		return 0, nil, nil, fmt.Errorf("strings: %w", r.err)
	}
	str := func(what string) string {
		n := r.uvarint()
		switch {
		case r.err != nil || n == 0:
			return ""
		case n > uint64(len(strs)):
			r.err = fmt.Errorf("%s string %d of %d", what, n, len(strs))
			return ""
		}
		return strs[n-1]
	}

	nContacts := r.uvarint()
	if r.err == nil && nContacts > uint64(len(r.data)/minContactBytes) {
		return 0, nil, nil, fmt.Errorf("%d contacts cannot fit in %d bytes", nContacts, len(r.data))
	}
	contacts := make([]*contact, 0, nContacts)
	seen := make(map[uint64]struct{}, nContacts)
	for n := uint64(0); n < nContacts && r.err == nil; n++ {
		c := &contact{key: r.u64()}
		flags := r.uvarint()
		c.instance, c.queue, c.channel = str("instance"), str("queue"), str("channel")
		c.enqueued, c.connected, c.disconnected, c.lastSeen, c.ended = r.varint(), r.varint(), r.varint(), r.varint(), r.varint()
		if r.err == nil && flags&^uint64(storedFlags) != 0 {
			r.err = fmt.Errorf("unknown flags %#x", flags&^uint64(storedFlags))
		}
		c.flags = uint16(flags)
		if r.err == nil && c.flags&fPending != 0 && c.flags&(fEnded|fQueued|fDequeued) != fEnded|fQueued {
			r.err = fmt.Errorf("flags %#x: a pending abandon must be ended, queued and not dequeued", flags)
		}
		if c.flags&fPending != 0 {
			c.grace = r.varint()
		}
		if r.err == nil && bucketOf(c.key) != i {
			r.err = fmt.Errorf("key %016x belongs to bucket %d", c.key, bucketOf(c.key))
		}
		if _, dup := seen[c.key]; r.err == nil && dup {
			r.err = fmt.Errorf("key %016x twice", c.key)
		}
		if r.err != nil {
			return 0, nil, nil, fmt.Errorf("contact %d of %d: %w", n, nContacts, r.err)
		}
		seen[c.key] = struct{}{}
		contacts = append(contacts, c)
	}
	if r.err != nil {
		return 0, nil, nil, fmt.Errorf("contacts: %w", r.err)
	}

	nRecords := r.uvarint()
	if r.err == nil && nRecords > uint64(len(r.data)/9) {
		return 0, nil, nil, fmt.Errorf("%d records cannot fit in %d bytes", nRecords, len(r.data))
	}
	records := make([]stamp, 0, nRecords)
	clear(seen)
	for n := uint64(0); n < nRecords && r.err == nil; n++ {
		st := stamp{key: r.u64(), at: r.varint()}
		if r.err == nil && bucketOf(st.key) != i {
			r.err = fmt.Errorf("key %016x belongs to bucket %d", st.key, bucketOf(st.key))
		}
		if _, dup := seen[st.key]; r.err == nil && dup {
			r.err = fmt.Errorf("key %016x twice", st.key)
		}
		if r.err != nil {
			return 0, nil, nil, fmt.Errorf("record %d of %d: %w", n, nRecords, r.err)
		}
		seen[st.key] = struct{}{}
		records = append(records, st)
	}
	if r.err != nil {
		return 0, nil, nil, fmt.Errorf("records: %w", r.err)
	}
	if len(r.data) != 0 {
		return 0, nil, nil, fmt.Errorf("%d bytes after the records", len(r.data))
	}
	return savedAt, contacts, records, nil
}
