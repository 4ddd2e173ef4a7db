package agentevent

import (
	"strings"
	"sync"
)

// Cache keeps the decoded form of the parts of agent events that repeat from event to
// event, by their exact text: a routing profile's inbound queues, default outbound
// queue and concurrency (which changes only with the slots in use), and an agent's
// hierarchy groups. Every agent on a routing profile sends the same queues in every
// event, twice in a state change (current and previous snapshot), and decoding them was
// most of decoding an event. Identical text decodes identically, so a value found here is
// taken as it is, with no second check: its text was read and found valid when it was put
// here.
//
// Only a decoder without a sink uses it: a sink is handed every value. It is safe for
// concurrent use, so one can serve a pool of decoders; its memory is bounded by
// maxCacheText.
type Cache struct {
	mu       sync.RWMutex
	queues   map[string][]Queue
	outbound map[string]Queue
	groups   map[string]HierarchyGroups
	slots    map[string][]Concurrency
	// text is the bytes of the keys of all the maps.
	text int
}

const (
	// maxCacheText bounds the text a Cache holds, all maps together; the decoded values
	// are smaller than their text. It holds the queues of hundreds of routing profiles.
	maxCacheText = 1 << 20
	// maxCachedValue is the longest text cached: a value that long is rare enough not to
	// be worth the room.
	maxCachedValue = 64 << 10
)

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{queues: map[string][]Queue{}, outbound: map[string]Queue{}, groups: map[string]HierarchyGroups{}, slots: map[string][]Concurrency{}}
}

func get[V any](c *Cache, m map[string]V, text []byte) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := m[string(text)]
	return v, ok
}

// put adds a value under its text, making room by dropping entries of m (any: a map is
// iterated from a random place) when the cache is full.
func put[V any](c *Cache, m map[string]V, text []byte, v V) {
	if len(text) > maxCachedValue {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := m[string(text)]; ok {
		return
	}
	for k := range m {
		if c.text+len(text) <= maxCacheText {
			break
		}
		delete(m, k)
		c.text -= len(k)
	}
	if c.text+len(text) > maxCacheText {
		return // the other maps hold the room; this value is decoded each time
	}
	m[string(text)] = v
	c.text += len(text)
}

// owned is a copy of q that shares nothing with the decoder: strings are cloned (a
// decoder's short strings keep its buffers alive), and so are the channels.
func (q Queue) owned() Queue {
	channels := make([]string, len(q.Channels))
	for i, ch := range q.Channels {
		channels[i] = strings.Clone(ch)
	}
	return Queue{ARN: strings.Clone(q.ARN), Name: strings.Clone(q.Name), Channels: channels}
}

// copyQueues sets dst to a copy of the cached src, reusing dst's arrays.
func copyQueues(dst, src []Queue) []Queue {
	dst = dst[:0]
	for _, q := range src {
		dst = extend(dst, func(d *Queue) { *d = d.reuse() })
		dst[len(dst)-1].setFrom(q)
	}
	return dst
}

// setFrom makes q a copy of the cached c, keeping the array of q's channels.
func (q *Queue) setFrom(c Queue) {
	*q = Queue{ARN: c.ARN, Name: c.Name, Channels: append(q.Channels[:0], c.Channels...)}
}

// cachedText returns the text of the value at the decoder's position when it may be
// taken from the cache or put there: the value is a want (an object or an array), and
// the decoder has no sink and no error so far.
func (d *Decoder) cachedText(want kind) ([]byte, bool) {
	if d.cache == nil {
		return nil, false
	}
	if _, nop := d.sink.(nopSink); !nop || d.err != nil || d.sc.next() != want {
		return nil, false
	}
	end, ok := d.sc.span()
	if !ok {
		return nil, false
	}
	return d.sc.data[d.sc.pos:end], true
}

// span finds where the object or array at the scanner's position ends, without reading
// it as JSON: only text that was read in full before is taken from the cache, and this
// is only to find how long it is. ok is false if it does not end.
func (s *scanner) span() (end int, ok bool) {
	d := s.data
	depth := 0
	for i := s.pos; i < len(d); i++ {
		switch d[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case '"':
			i = stringEnd(d, i+1)
			if i < 0 {
				return 0, false
			}
		}
	}
	return 0, false
}

// stringEnd returns the index of the quote that ends the string whose text starts at i,
// or -1 if none does.
func stringEnd(d []byte, i int) int {
	for i = skipPlain(d, i); i < len(d); i = skipPlain(d, i) {
		switch d[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return -1
}

// cached reads the value at the decoder's position, a want, from the map of the cache
// that in selects when its text is there (take copies it into the event). Otherwise it
// decodes it with decode and, if it is valid, puts kept() there.
func cached[V any](d *Decoder, want kind, in func(*Cache) map[string]V, take func(V), decode func(), kept func() V) {
	text, cacheable := d.cachedText(want)
	if cacheable {
		if v, ok := get(d.cache, in(d.cache), text); ok {
			take(v)
			d.sc.pos += len(text)
			return
		}
	}
	start := d.sc.pos
	decode()
	// The text put is what the decoder read, and found valid.
	if cacheable && d.err == nil && d.sc.pos == start+len(text) {
		put(d.cache, in(d.cache), text, kept())
	}
}

func (c *Cache) inboundQueues() map[string][]Queue           { return c.queues }
func (c *Cache) outboundQueue() map[string]Queue             { return c.outbound }
func (c *Cache) hierarchyGroups() map[string]HierarchyGroups { return c.groups }
func (c *Cache) concurrency() map[string][]Concurrency       { return c.slots }

// inboundQueues reads a routing profile's InboundQueues.
func (d *Decoder) inboundQueues(rp *RoutingProfile) {
	cached(d, kindArray, (*Cache).inboundQueues,
		func(qs []Queue) { rp.InboundQueues = copyQueues(rp.InboundQueues, qs) },
		func() {
			d.each("InboundQueues", 2, func() {
				rp.InboundQueues = extend(rp.InboundQueues, func(q *Queue) { *q = q.reuse() })
				d.queue("", &rp.InboundQueues[len(rp.InboundQueues)-1])
			})
		},
		func() []Queue {
			own := make([]Queue, len(rp.InboundQueues))
			for i, q := range rp.InboundQueues {
				own[i] = q.owned()
			}
			return own
		})
}

// outboundQueue reads a routing profile's DefaultOutboundQueue.
func (d *Decoder) outboundQueue(rp *RoutingProfile) {
	q := &rp.DefaultOutboundQueue
	cached(d, kindObject, (*Cache).outboundQueue,
		q.setFrom,
		func() { d.queue("DefaultOutboundQueue", q) },
		func() Queue { return q.owned() })
}

// concurrencies reads a routing profile's Concurrency.
func (d *Decoder) concurrencies(rp *RoutingProfile) {
	cached(d, kindArray, (*Cache).concurrency,
		func(cs []Concurrency) { rp.Concurrency = append(rp.Concurrency[:0], cs...) },
		func() {
			d.each("Concurrency", 3, func() {
				rp.Concurrency = append(rp.Concurrency, Concurrency{})
				d.concurrency(&rp.Concurrency[len(rp.Concurrency)-1])
			})
		},
		func() []Concurrency {
			own := make([]Concurrency, len(rp.Concurrency))
			for i, c := range rp.Concurrency {
				own[i] = Concurrency{Channel: strings.Clone(c.Channel), AvailableSlots: c.AvailableSlots, MaximumSlots: c.MaximumSlots}
			}
			return own
		})
}

// hierarchyGroupsOf reads a configuration's AgentHierarchyGroups.
func (d *Decoder) hierarchyGroupsOf(c *Configuration) {
	cached(d, kindObject, (*Cache).hierarchyGroups,
		func(h HierarchyGroups) { c.HierarchyGroups = h },
		func() { d.hierarchyGroups("AgentHierarchyGroups", &c.HierarchyGroups) },
		func() HierarchyGroups {
			h := c.HierarchyGroups
			for i, g := range h.Levels {
				h.Levels[i] = HierarchyGroup{ARN: strings.Clone(g.ARN), Name: strings.Clone(g.Name)}
			}
			return h
		})
}
