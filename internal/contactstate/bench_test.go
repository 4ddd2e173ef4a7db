package contactstate_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
)

// benchQueues are a contact centre's queues: 2 instances, 25 queues each, ARNs of real
// length.
var benchQueues = func() []string {
	out := make([]string, 50)
	for i := range out {
		inst := usInstance
		if i%2 == 1 {
			inst = euInstance
		}
		out[i] = fmt.Sprintf("%s/queue/%08x-1111-2222-3333-444444444444", inst, i)
	}
	return out
}()

// benchContact is the n-th contact of a realistic mix at the bound, where most contacts
// remembered have ended within the retention: 5% waiting, 15% with an agent, 70%
// answered and ended, 10% abandoned.
func benchContact(n int) contact {
	q := benchQueues[n%len(benchQueues)]
	c := inbound(uuid(n), q, t0.Add(time.Duration(n)*time.Millisecond))
	c.instance = q[:strings.Index(q, "/queue/")]
	if n%5 == 4 {
		c.channel = chat
	}
	switch k := n % 20; {
	case k == 0:
	case k < 4:
		c = c.answered(20 * time.Second)
		c.disconnected = time.Time{}
	case k < 18:
		c = c.answered(20 * time.Second)
	default:
		c = c.abandoned(time.Minute)
	}
	return c
}

// fill applies contacts first..first+n-1 of the mix, each event at its own wall clock.
func fill(tb testing.TB, s *contactstate.Store, first, n int) {
	tb.Helper()
	var out []contactstate.Dequeue
	for i := first; i < first+n; i++ {
		for _, ev := range benchContact(i).lifecycle() {
			out = s.ApplyEvent(ev, wall.Add(time.Duration(i)*time.Millisecond), out[:0])
		}
	}
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryAtBound states the memory bound: a store filled to MaxContacts contacts
// and MaxRecords records, at the defaults, in heap bytes per entry and in total.
func BenchmarkMemoryAtBound(b *testing.B) {
	cfg := contactstate.DefaultConfig()
	var perContact, perRecord, total float64
	for b.Loop() {
		before := heapAlloc()
		s := contactstate.New(cfg)
		fill(b, s, 0, cfg.MaxContacts)
		s.Tick(wall.Add(time.Duration(cfg.MaxContacts)*time.Millisecond+cfg.AbandonGrace), nil) // settle the abandons
		withContacts := heapAlloc()
		for i := range cfg.MaxRecords {
			s.ApplyRecord(record(usInstance, uuid(i), t0), wall.Add(time.Duration(i)*time.Millisecond))
		}
		withRecords := heapAlloc()
		st := s.Stats()
		if st.Live+st.Ended != cfg.MaxContacts || st.Records != cfg.MaxRecords || st.EvictedContacts != 0 {
			b.Fatalf("store at %+v, want %d contacts and %d records", st, cfg.MaxContacts, cfg.MaxRecords)
		}
		runtime.KeepAlive(s)
		perContact = float64(withContacts-before) / float64(cfg.MaxContacts)
		perRecord = float64(withRecords-withContacts) / float64(cfg.MaxRecords)
		total = float64(withRecords - before)
	}
	b.ReportMetric(perContact, "B/contact")
	b.ReportMetric(perRecord, "B/record")
	b.ReportMetric(total/(1<<20), "MiB-total")
}

// BenchmarkApplyEvent is the cost of one event at the bound: contacts keep arriving, each
// with its four events, and each new one evicts an ended one.
func BenchmarkApplyEvent(b *testing.B) {
	const bound, contacts = 20_000, 100_000
	s := contactstate.New(contactstate.Config{MaxContacts: bound})
	var evs []*contactevent.Event
	for i := range contacts {
		c := benchContact(i)
		if c.disconnected.IsZero() {
			c = c.answered(20 * time.Second) // every contact ends: the store stays at the bound
		}
		evs = append(evs, c.lifecycle()...)
	}
	fill(b, s, 0, bound)
	var out []contactstate.Dequeue
	now := wall
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		out = s.ApplyEvent(evs[i%len(evs)], now, out[:0])
		i++
		if i%1000 == 0 {
			out = s.Tick(now, out[:0])
		}
	}
	if st := s.Stats(); st.Live+st.Ended > bound {
		b.Fatalf("store past its bound: %+v", st)
	}
}

// BenchmarkMarshalBucket is the cost of storing the state at the bound: every bucket,
// as after a burst that touched them all.
func BenchmarkMarshalBucket(b *testing.B) {
	cfg := contactstate.DefaultConfig()
	s := contactstate.New(cfg)
	fill(b, s, 0, cfg.MaxContacts)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		size = 0
		for i := range contactstate.Buckets {
			size += len(s.MarshalBucket(i))
		}
	}
	b.ReportMetric(float64(size)/float64(cfg.MaxContacts), "B/contact-stored")
	b.ReportMetric(float64(size)/(1<<20), "MiB-stored")
}
