package contactstate

import (
	"slices"
	"time"
)

// list is an intrusive doubly linked list of contacts, oldest first. A contact is in one
// list at a time: the live list while it runs, the ended list once it ended.
type list struct{ head, tail *contact }

func (l *list) pushBack(c *contact) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *list) remove(c *contact) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

func (l *list) moveToBack(c *contact) {
	if l.tail != c {
		l.remove(c)
		l.pushBack(c)
	}
}

// sortBy reorders l by by(c), oldest first (after a load, which links in bucket order).
func (l *list) sortBy(by func(*contact) int64) {
	var cs []*contact
	for c := l.head; c != nil; c = c.next {
		cs = append(cs, c)
	}
	slices.SortStableFunc(cs, func(a, b *contact) int {
		switch x, y := by(a), by(b); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	*l = list{}
	for _, c := range cs {
		l.pushBack(c)
	}
}

// stamp is a key and a time in a fifo.
type stamp struct {
	key uint64
	at  int64
}

// fifo is a queue of stamps, oldest first. Items go stale when their entry changes or
// goes; whoever pops checks an item against its entry.
type fifo struct {
	items    []stamp
	head     int
	unsorted bool
}

func (f *fifo) push(key uint64, at int64) { f.items = append(f.items, stamp{key, at}) }

func (f *fifo) front() (stamp, bool) {
	if f.unsorted {
		f.sort()
	}
	if f.head == len(f.items) {
		return stamp{}, false
	}
	return f.items[f.head], true
}

func (f *fifo) pop() {
	f.head++
	switch {
	case f.head == len(f.items):
		f.items, f.head = f.items[:0], 0
	case f.head >= 1024 && f.head*2 >= len(f.items):
		n := copy(f.items, f.items[f.head:])
		f.items, f.head = f.items[:n], 0
	}
}

func (f *fifo) sort() {
	slices.SortStableFunc(f.items[f.head:], func(a, b stamp) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	f.unsorted = false
}

func (s *Store) sortLists() {
	if !s.listsUnsorted {
		return
	}
	s.live.sortBy(func(c *contact) int64 { return c.lastSeen })
	s.ended.sortBy(func(c *contact) int64 { return c.ended })
	s.listsUnsorted = false
}

// Tick settles the abandons whose grace ran out by now, appending their Dequeues to out,
// and forgets what the time bounds say to: contacts with no event for ContactTTL, ended
// contacts after Retention, records after RecordWindow.
func (s *Store) Tick(now time.Time, out []Dequeue) []Dequeue {
	at := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(at)

	for {
		st, ok := s.pending.front()
		if !ok || st.at > at {
			break
		}
		s.pending.pop()
		c := s.buckets[bucketOf(st.key)].contacts[st.key]
		if c == nil || c.flags&fPending == 0 || c.grace != st.at {
			continue
		}
		out = s.settle(c, out)
	}

	s.sortLists()
	for cutoff := at - int64(s.cfg.ContactTTL); s.live.head != nil && s.live.head.lastSeen < cutoff; {
		out = s.evict(s.live.head, out)
	}
	for cutoff := at - int64(s.cfg.Retention); s.ended.head != nil && s.ended.head.ended < cutoff; {
		out = s.evict(s.ended.head, out)
	}
	for cutoff := at - int64(s.cfg.RecordWindow); ; {
		st, ok := s.records.front()
		if !ok || st.at >= cutoff {
			break
		}
		s.records.pop()
		s.dropRecord(st)
	}
	// Bounds lowered since a load are enforced here.
	for s.nRecords > s.cfg.MaxRecords {
		s.evictOldestRecord()
	}
	return s.enforceBound(nil, out)
}

// settle reports c, whose grace ran out, as abandoned.
func (s *Store) settle(c *contact, out []Dequeue) []Dequeue {
	s.unpend(c)
	c.flags |= fDequeued
	s.buckets[bucketOf(c.key)].changed()
	return append(out, c.dequeue(OutcomeAbandoned, c.disconnected))
}

// evict forgets c; a pending abandon is settled first, there being no more time to wait.
func (s *Store) evict(c *contact, out []Dequeue) []Dequeue {
	if c.flags&fPending != 0 {
		out = s.settle(c, out)
	}
	s.drop(c)
	return out
}

// drop forgets c.
func (s *Store) drop(c *contact) {
	s.reindex(c, c.membership(), membership{})
	if c.flags&fEnded != 0 {
		s.ended.remove(c)
		s.nEnded--
	} else {
		s.live.remove(c)
		s.nLive--
	}
	s.unpend(c)
	b := &s.buckets[bucketOf(c.key)]
	delete(b.contacts, c.key)
	b.changed()
}

// enforceBound evicts past MaxContacts: the oldest ended contacts first, then the contacts
// with the oldest last event; never keep, the contact just applied.
func (s *Store) enforceBound(keep *contact, out []Dequeue) []Dequeue {
	if s.nLive+s.nEnded <= s.cfg.MaxContacts {
		return out
	}
	s.sortLists()
	for s.nLive+s.nEnded > s.cfg.MaxContacts {
		c := s.ended.head
		if c == keep {
			c = c.next
		}
		if c == nil {
			c = s.live.head
			if c == keep {
				c = c.next
			}
		}
		if c == nil {
			break
		}
		out = s.evict(c, out)
		s.evictedContacts++
	}
	return out
}
