package agentstate

import "github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"

// StatusKey is an agent status within a routing profile.
type StatusKey struct {
	StatusType, StatusName, RoutingProfile string
}

// SlotKey is a channel within a routing profile.
type SlotKey struct {
	Channel, RoutingProfile string
}

// ContactKey groups contacts.
type ContactKey struct {
	State, Channel, Queue, InitiationMethod string
}

// Profile counts the agents of one routing profile, as Amazon Connect's real-time
// metrics define them.
type Profile struct {
	Online, Staffed, Available, OnContact, NonProductive, Error int64
}

// Slots counts one channel's slots within a routing profile.
type Slots struct {
	Available, Maximum, Active int64
}

// Counts is what the gauges of one Connect instance show.
type Counts struct {
	InstanceARN string
	Agents      map[StatusKey]int64
	Profiles    map[string]*Profile
	Slots       map[SlotKey]*Slots
	Contacts    map[ContactKey]int64
}

// Count counts each instance's agents and calls fn with the result; fn must not keep it.
func (s *Store) Count(fn func(*Counts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for arn, inst := range s.instances {
		c := &Counts{
			InstanceARN: arn,
			Agents:      map[StatusKey]int64{},
			Profiles:    map[string]*Profile{},
			Slots:       map[SlotKey]*Slots{},
			Contacts:    map[ContactKey]int64{},
		}
		for _, a := range inst.agents {
			a.count(c)
		}
		fn(c)
	}
}

// active says whether a contact takes a slot and makes its agent "on contact": connected,
// on hold, in after contact work (ENDED), paused, or ringing outbound. AWS lists the same
// five states for both metrics in "Metric definitions in Amazon Connect"
// (https://docs.aws.amazon.com/connect/latest/adminguide/metrics-definitions.html):
// Active slots, "A slot is considered active when it contains a contact that is:
// Connected, On Hold, In After Contact Work, Paused, In Outbound ring state"; Agents on
// contact, "An agent is considered "on contact" when they are handling a contact that is
// either: Connected, On hold, In After Contact Work (ACW), Paused, In outbound ring state".
func (c *contact) active() bool {
	switch c.state {
	case agentevent.ContactConnected, agentevent.ContactConnectedOnHold, agentevent.ContactEnded, agentevent.ContactPaused:
		return true
	case agentevent.ContactConnecting:
		return c.initiation == "OUTBOUND"
	}
	return false
}

func (a *agent) count(c *Counts) {
	c.Agents[StatusKey{StatusType: a.statusType, StatusName: a.statusName, RoutingProfile: a.profile}]++
	// Contacts count whoever holds them; Amazon Connect normally holds an Offline status
	// back until they end, so an offline agent rarely has any.
	for i := range a.contacts {
		ct := &a.contacts[i]
		c.Contacts[ContactKey{State: ct.state, Channel: ct.channel, Queue: ct.queue, InitiationMethod: ct.initiation}]++
	}
	online := a.statusType != agentevent.StatusOffline
	if !online {
		return
	}
	p := c.Profiles[a.profile]
	if p == nil {
		p = &Profile{}
		c.Profiles[a.profile] = p
	}
	p.Online++
	routable := a.statusType == agentevent.StatusRoutable
	if routable {
		p.Staffed++
		if len(a.contacts) == 0 {
			p.Available++
		}
	}
	if a.statusType == agentevent.StatusCustom {
		p.NonProductive++
	}
	onContact, inError := false, false
	for i := range a.contacts {
		ct := &a.contacts[i]
		if ct.active() {
			onContact = true
			c.slots(ct.channel, a.profile).Active++
		}
		switch ct.state {
		case agentevent.ContactMissed, agentevent.ContactRejected, agentevent.ContactError:
			inError = true
		}
	}
	if onContact {
		p.OnContact++
	}
	if inError {
		p.Error++
	}
	for _, sl := range a.slots {
		s := c.slots(sl.channel, a.profile)
		s.Maximum += int64(sl.maximum)
		// Agents in a custom status count no available slots, as Amazon Connect counts them.
		if routable {
			s.Available += int64(sl.available)
		}
	}
}

func (c *Counts) slots(channel, profile string) *Slots {
	k := SlotKey{Channel: channel, RoutingProfile: profile}
	s := c.Slots[k]
	if s == nil {
		s = &Slots{}
		c.Slots[k] = s
	}
	return s
}
