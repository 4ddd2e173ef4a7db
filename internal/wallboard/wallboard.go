// Package wallboard turns the receiver's agent gauges and queue metrics, as the
// Prometheus exporter serves them, into the few lines a contact-center supervisor
// watches.
package wallboard

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Board is the summed state of every instance and routing profile, and of every
// collector: series that differ only in the collector's `instance` label add up.
type Board struct {
	Online, Staffed, Available, OnContact, NonProductive, Error int64
	// ByStatus counts agents by status name.
	ByStatus map[string]int64
	// Slots by channel.
	SlotsAvailable, SlotsActive, SlotsMaximum map[string]int64
	// Contacts by state.
	Contacts map[string]int64
	// Queues by queue ARN, from contact events; agent queues add up under AgentQueues.
	Queues map[string]*Queue
}

// AgentQueues is the key of Board.Queues under which every agent's own queue adds up:
// a quick connect to one agent goes there, and a line per agent would crowd the board.
const AgentQueues = "(agent queues)"

// Queue is one queue's line: its gauges now, and its counters since the collector
// started (or over a window: see Board.Since).
type Queue struct {
	Name string
	// InQueue is how many contacts wait, OldestSeconds how long the oldest has waited.
	InQueue       int64
	OldestSeconds float64
	// Dequeued counts contacts that left the queue answered, abandoned or for a
	// callback; WithinThreshold those of them that waited ServiceLevelThreshold or
	// less. Contacts a flow transferred to another queue count in neither: they are
	// counted in the queue they reach.
	Dequeued, WithinThreshold float64
	// Abandoned counts contacts whose customer left the queue.
	Abandoned float64
	// NoThresholdBucket is set when the wait histogram has no bucket at the threshold.
	NoThresholdBucket bool
}

// ServiceLevelThreshold is the wait the board's service level counts within.
const ServiceLevelThreshold = 20.0

// ServiceLevel is the share of dequeued contacts that waited no longer than the
// threshold, and false when no contact left the queue (or the histogram cannot say).
func (q *Queue) ServiceLevel() (float64, bool) {
	if q.Dequeued <= 0 || q.NoThresholdBucket {
		return 0, false
	}
	return q.WithinThreshold / q.Dequeued, true
}

// Parse reads the Prometheus text exposition format.
func Parse(r io.Reader) (*Board, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	b := &Board{
		ByStatus:       map[string]int64{},
		SlotsAvailable: map[string]int64{},
		SlotsActive:    map[string]int64{},
		SlotsMaximum:   map[string]int64{},
		Contacts:       map[string]int64{},
		Queues:         map[string]*Queue{},
	}
	total := func(name string) int64 {
		var n int64
		each(families[name], func(_ func(string) string, v int64) { n += v })
		return n
	}
	b.Online = total("aws_connect_agent_online")
	b.Staffed = total("aws_connect_agent_staffed")
	b.Available = total("aws_connect_agent_available")
	b.OnContact = total("aws_connect_agent_on_contact")
	b.NonProductive = total("aws_connect_agent_non_productive")
	b.Error = total("aws_connect_agent_error")
	by := func(name, label string, into map[string]int64) {
		each(families[name], func(l func(string) string, v int64) { into[l(label)] += v })
	}
	by("aws_connect_agent_count", "aws_connect_agent_status_name", b.ByStatus)
	by("aws_connect_slot_available", "aws_connect_channel", b.SlotsAvailable)
	by("aws_connect_slot_active", "aws_connect_channel", b.SlotsActive)
	by("aws_connect_slot_maximum", "aws_connect_channel", b.SlotsMaximum)
	by("aws_connect_contact_count", "aws_connect_contact_state", b.Contacts)
	b.parseQueues(families)
	return b, nil
}

// Prometheus names and labels of the queue metrics.
const (
	queueContacts  = "aws_connect_queue_contacts"
	queueOldest    = "aws_connect_queue_oldest_contact_age_seconds"
	queueWait      = "aws_connect_queue_wait_duration_seconds"
	queueDequeued  = "aws_connect_queue_contacts_dequeued_total"
	labelQueueARN  = "aws_connect_queue_arn"
	labelQueueName = "aws_connect_queue_name"
	labelOutcome   = "aws_connect_queue_outcome"
	outcomeAbandon = "abandoned"
	outcomeMoved   = "transferred"
)

func (b *Board) parseQueues(families map[string]*dto.MetricFamily) {
	queue := func(label func(string) string) *Queue {
		arn, name := label(labelQueueARN), label(labelQueueName)
		key := arn
		if strings.Contains(arn, "/queue/agent/") {
			key, name = AgentQueues, AgentQueues
		}
		q := b.Queues[key]
		if q == nil {
			q = &Queue{Name: name}
			if q.Name == "" {
				q.Name = shortARN(arn)
			}
			b.Queues[key] = q
		}
		return q
	}
	eachValue(families[queueContacts], func(l func(string) string, m *dto.Metric) {
		queue(l).InQueue += int64(value(m))
	})
	eachValue(families[queueOldest], func(l func(string) string, m *dto.Metric) {
		q := queue(l)
		q.OldestSeconds = max(q.OldestSeconds, value(m))
	})
	dequeued := families[queueDequeued]
	if dequeued == nil {
		dequeued = families[strings.TrimSuffix(queueDequeued, "_total")]
	}
	eachValue(dequeued, func(l func(string) string, m *dto.Metric) {
		if l(labelOutcome) == outcomeAbandon {
			queue(l).Abandoned += value(m)
		}
	})
	eachValue(families[queueWait], func(l func(string) string, m *dto.Metric) {
		h := m.GetHistogram()
		if h == nil || l(labelOutcome) == outcomeMoved {
			return
		}
		q := queue(l)
		q.Dequeued += float64(h.GetSampleCount())
		found := false
		for _, bk := range h.GetBucket() {
			if bk.GetUpperBound() == ServiceLevelThreshold {
				q.WithinThreshold += float64(bk.GetCumulativeCount())
				found = true
			}
		}
		if !found && h.GetSampleCount() > 0 {
			q.NoThresholdBucket = true
		}
	})
}

// shortARN names a queue the collector has no name for: "queue 1a2b3c4d".
func shortARN(arn string) string {
	_, id, ok := strings.Cut(arn, "/queue/")
	if !ok {
		return arn
	}
	if len(id) > 8 {
		id = id[:8]
	}
	return "queue " + id
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func eachValue(f *dto.MetricFamily, fn func(label func(string) string, m *dto.Metric)) {
	if f == nil {
		return
	}
	for _, m := range f.GetMetric() {
		labels := m.GetLabel()
		fn(func(name string) string {
			for _, l := range labels {
				if l.GetName() == name {
					return l.GetValue()
				}
			}
			return ""
		}, m)
	}
}

// Add adds o's counts to b's. Collectors sharing a stream each export the agents of the
// shards they hold, so their boards add up to the contact center's.
func (b *Board) Add(o *Board) {
	b.Online += o.Online
	b.Staffed += o.Staffed
	b.Available += o.Available
	b.OnContact += o.OnContact
	b.NonProductive += o.NonProductive
	b.Error += o.Error
	for _, m := range []struct{ into, from map[string]int64 }{
		{b.ByStatus, o.ByStatus}, {b.SlotsAvailable, o.SlotsAvailable}, {b.SlotsActive, o.SlotsActive},
		{b.SlotsMaximum, o.SlotsMaximum}, {b.Contacts, o.Contacts},
	} {
		for k, v := range m.from {
			m.into[k] += v
		}
	}
	for k, oq := range o.Queues {
		q := b.Queues[k]
		if q == nil {
			c := *oq
			b.Queues[k] = &c
			continue
		}
		q.InQueue += oq.InQueue
		q.OldestSeconds = max(q.OldestSeconds, oq.OldestSeconds)
		q.Dequeued += oq.Dequeued
		q.WithinThreshold += oq.WithinThreshold
		q.Abandoned += oq.Abandoned
		q.NoThresholdBucket = q.NoThresholdBucket || oq.NoThresholdBucket
	}
}

func each(f *dto.MetricFamily, fn func(label func(string) string, v int64)) {
	eachValue(f, func(label func(string) string, m *dto.Metric) { fn(label, int64(value(m))) })
}

// Render writes the board as a handful of lines.
func (b *Board) Render(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "Amazon Connect, live  %s\n\n", now.Format("15:04:05"))
	fmt.Fprintf(w, "Agents    online %d   staffed %d   available %d   on contact %d   non-productive %d   error %d\n",
		b.Online, b.Staffed, b.Available, b.OnContact, b.NonProductive, b.Error)
	fmt.Fprintf(w, "Status    %s\n", join(b.ByStatus, func(k string, v int64) string { return fmt.Sprintf("%s %d", k, v) }))
	fmt.Fprintf(w, "Slots     %s\n", join(b.SlotsMaximum, func(ch string, max int64) string {
		return fmt.Sprintf("%s %d free, %d busy of %d", ch, b.SlotsAvailable[ch], b.SlotsActive[ch], max)
	}))
	fmt.Fprintf(w, "Contacts  %s\n", join(b.Contacts, func(k string, v int64) string {
		if k == "ENDED" {
			k = "ENDED (after contact work)"
		}
		return fmt.Sprintf("%s %d", k, v)
	}))
	b.renderQueues(w)
}

// renderQueues writes a line per queue: contacts in queue, the oldest's wait, the
// service level and the abandoned contacts.
func (b *Board) renderQueues(w io.Writer) {
	if len(b.Queues) == 0 {
		fmt.Fprintf(w, "Queues    - (no contact events)\n")
		return
	}
	keys := slices.SortedFunc(maps.Keys(b.Queues), func(x, y string) int {
		return strings.Compare(b.Queues[x].Name, b.Queues[y].Name)
	})
	width := 0
	for _, k := range keys {
		width = max(width, len(b.Queues[k].Name))
	}
	fmt.Fprintf(w, "Queues    %-*s  %8s  %6s  %14s  %9s\n", width, "", "in queue", "oldest", fmt.Sprintf("service %gs", ServiceLevelThreshold), "abandoned")
	for _, k := range keys {
		q := b.Queues[k]
		sl := "-"
		if v, ok := q.ServiceLevel(); ok {
			sl = fmt.Sprintf("%.0f%% of %.0f", 100*v, q.Dequeued)
		}
		fmt.Fprintf(w, "          %-*s  %8d  %6s  %14s  %9.0f\n", width, q.Name, q.InQueue, MinSec(q.OldestSeconds), sl, q.Abandoned)
	}
}

// MinSec formats seconds as m:ss.
func MinSec(seconds float64) string {
	s := int64(seconds)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func join(m map[string]int64, item func(string, int64) string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, item(k, m[k]))
	}
	return strings.Join(parts, "   ")
}

// Since returns the board with its queues' counters (dequeued, within the threshold,
// abandoned) counted from old on: the service level and abandons of a recent window
// rather than since the collector started. A counter lower than old's was reset (the
// collector restarted) and counts from zero. Gauges stay b's.
func (b *Board) Since(old *Board) *Board {
	nb := *b
	nb.Queues = make(map[string]*Queue, len(b.Queues))
	for k, q := range b.Queues {
		c := *q
		if o := old.Queues[k]; o != nil && q.Dequeued >= o.Dequeued && q.WithinThreshold >= o.WithinThreshold && q.Abandoned >= o.Abandoned {
			c.Dequeued -= o.Dequeued
			c.WithinThreshold -= o.WithinThreshold
			c.Abandoned -= o.Abandoned
		}
		nb.Queues[k] = &c
	}
	return &nb
}
