package contactstate

import (
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
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

// EndFromRecord ends a contact the store holds and has not seen end, from its contact
// record: a record is written only once its contact is over, so it cures a lost
// DISCONNECTED (Amazon Connect delivers contact events on a best-effort basis), which
// would otherwise leave the contact waiting until ContactTTL. The record's queue, agent
// and disconnect time stand in for the event's, and the contact leaves its queue as a
// DISCONNECTED would make it: answered if an agent took it, else an abandon held for the
// grace, for a callback or queue transfer to claim. A contact the store does not hold,
// or holds as ended, is left alone: its events said it all, or it was forgotten, and
// counting it now would count it twice.
func (s *Store) EndFromRecord(r *contactrecord.Record, now time.Time, out []Dequeue) []Dequeue {
	if r == nil || r.ContactID == "" {
		return out
	}
	key := contactKey(r.InstanceARN, r.ContactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.buckets[bucketOf(key)].contacts[key]; c == nil || c.flags&fEnded != 0 {
		return out
	}
	ev := contactevent.Event{
		EventType:           contactevent.TypeDisconnected,
		ContactID:           r.ContactID,
		PreviousContactID:   r.PreviousContactID,
		Channel:             r.Channel,
		InstanceARN:         r.InstanceARN,
		InitiationMethod:    r.InitiationMethod,
		DisconnectTimestamp: r.DisconnectTimestamp,
	}
	if r.Queue != nil && r.Queue.ARN != "" {
		ev.Queue = &contactevent.QueueInfo{ARN: r.Queue.ARN, EnqueueTimestamp: r.Queue.EnqueueTimestamp}
	}
	if r.Handled() {
		ev.Agent = &contactevent.AgentInfo{ARN: r.Agent.ARN, ConnectedToAgentTimestamp: r.Agent.ConnectedToAgentTimestamp}
	}
	if ev.DisconnectTimestamp.IsZero() {
		// Ended it has, whenever: its record was last updated then at the latest.
		ev.DisconnectTimestamp = r.LastUpdateTimestamp
	}
	return s.apply(&ev, key, now.UnixNano(), out)
}
