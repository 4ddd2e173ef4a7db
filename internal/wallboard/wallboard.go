// Package wallboard turns the receiver's agent gauges, as the Prometheus exporter serves
// them, into the few lines a contact-center supervisor watches.
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
	return b, nil
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
}

func each(f *dto.MetricFamily, fn func(label func(string) string, v int64)) {
	if f == nil {
		return
	}
	for _, m := range f.GetMetric() {
		labels := m.GetLabel()
		label := func(name string) string {
			for _, l := range labels {
				if l.GetName() == name {
					return l.GetValue()
				}
			}
			return ""
		}
		var v float64
		switch {
		case m.GetGauge() != nil:
			v = m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			v = m.GetUntyped().GetValue()
		}
		fn(label, int64(v))
	}
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
