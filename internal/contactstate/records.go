package contactstate

import (
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
)

// ApplyRecord reports whether r is the first record seen of its contact (instance ARN and
// contact ID) within RecordWindow: true once, false for the same record again and for
// the contact's later updates, so that metrics count the contact once. A record without a
// contact ID is never first.
func (s *Store) ApplyRecord(r *contactrecord.Record, now time.Time) bool {
	if r == nil || r.ContactID == "" {
		return false
	}
	at := now.UnixNano()
	key := contactKey(r.InstanceARN, r.ContactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(at)
	b := &s.buckets[bucketOf(key)]
	if _, ok := b.records[key]; ok {
		return false
	}
	for s.nRecords >= s.cfg.MaxRecords && s.evictOldestRecord() {
	}
	b.records[key] = at
	s.records.push(key, at)
	s.nRecords++
	b.changed()
	return true
}

// evictOldestRecord forgets the record first seen longest ago; false when there is none.
func (s *Store) evictOldestRecord() bool {
	for {
		st, ok := s.records.front()
		if !ok {
			return false
		}
		s.records.pop()
		if s.dropRecord(st) {
			s.evictedRecords++
			return true
		}
	}
}

// dropRecord forgets the record of st unless st is stale.
func (s *Store) dropRecord(st stamp) bool {
	b := &s.buckets[bucketOf(st.key)]
	if at, ok := b.records[st.key]; !ok || at != st.at {
		return false
	}
	delete(b.records, st.key)
	s.nRecords--
	b.changed()
	return true
}
