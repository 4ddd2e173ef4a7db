package connectsim

import "time"

// The life of a contact as contact events and contact records tell it. The simulation
// calls these where a contact starts, enters its queue, reaches an agent, ends and
// completes; they record the times and, when Config asks for them, emit the contact
// events and schedule the contact record. Their own random draws come from crng, so
// that the agent events are the same whether or not contact events are on.

// Contact event types the simulator produces.
const (
	ContactInitiated         = "INITIATED"
	ContactConnectedToSystem = "CONNECTED_TO_SYSTEM"
	ContactQueued            = "QUEUED"
	ContactConnectedToAgent  = "CONNECTED_TO_AGENT"
	ContactDisconnected      = "DISCONNECTED"
	ContactCompleted         = "COMPLETED"

	// EventContactRecord is the EventType of contact records in Record and Stats.
	EventContactRecord = "CONTACT_RECORD"
)

// Disconnect reasons the simulator produces.
const (
	reasonCustomer    = "CUSTOMER_DISCONNECT"
	reasonAgent       = "AGENT_DISCONNECT"
	reasonFlow        = "CONTACT_FLOW_DISCONNECT"
	reasonCompleted   = "AGENT_COMPLETED"
	reasonUnanswered  = "TELECOM_UNANSWERED"
	reasonTelecomFail = "TELECOM_PROBLEM"
)

// initiate starts a contact.
func (s *Simulator) initiate(c *contact) {
	switch c.method {
	case MethodOutbound, MethodCallback:
		// Connected to the system when the customer answers.
	default:
		if c.channel != ChannelTask {
			c.systemAt = c.initiatedAt
		}
	}
	s.contactEvent(c, ContactInitiated)
}

// queued is called when a contact first enters its queue (c.queuedAt is set).
func (s *Simulator) queued(c *contact) { s.contactEvent(c, ContactQueued) }

// connectToAgent takes the contact out of its queue to agent a: an agent answered it,
// accepted a callback, or dials an outbound call.
func (s *Simulator) connectToAgent(c *contact, a *agent) {
	c.agentAt, c.handler = s.now, a
	s.contactEvent(c, ContactConnectedToAgent)
}

// contactMoved follows a contact an agent holds from one state to another.
func (s *Simulator) contactMoved(c *contact, a *agent, from, to string, firstConnected bool) {
	if from == StateOnHold {
		d := s.now - c.holdStart
		c.holdMs += d
		c.longestHold = max(c.longestHold, d)
	}
	switch {
	case from == StateIncoming && to == StateConnecting:
		s.connectToAgent(c, a) // the agent accepted a callback and dials the customer
	case firstConnected && (c.method == MethodOutbound || c.method == MethodCallback):
		c.systemAt = s.now // the customer answered
		s.contactEvent(c, ContactConnectedToSystem)
	case firstConnected:
		s.connectToAgent(c, a)
	case to == StateEnded:
		c.acwStart = s.now
		switch {
		case from == StateConnecting:
			s.disconnect(c, reasonUnanswered)
		case c.transferOut:
			s.disconnect(c, reasonAgent)
			s.transferOn(c, a)
		default:
			s.disconnect(c, s.endReason(c))
		}
	case to == StateError && c.agentAt != 0:
		// A callback or outbound call that failed to connect: no after contact work.
		s.disconnect(c, reasonTelecomFail)
		s.complete(c)
	}
}

// endReason draws who ended a conversation.
func (s *Simulator) endReason(c *contact) string {
	switch {
	case c.channel == ChannelTask:
		return reasonCompleted
	case s.crng.Float64() < 0.6:
		return reasonCustomer
	default:
		return reasonAgent
	}
}

func (s *Simulator) disconnect(c *contact, reason string) {
	c.disconnectAt, c.reason = s.now, reason
	s.contactEvent(c, ContactDisconnected)
}

// abandon ends a contact whose customer hung up while waiting in its queue.
func (s *Simulator) abandon(c *contact) { s.leaveWithoutAgent(c, reasonCustomer) }

// leaveWithoutAgent ends a queued contact that no agent took: it disconnects and, with
// no after contact work, completes at once.
func (s *Simulator) leaveWithoutAgent(c *contact, reason string) {
	s.disconnect(c, reason)
	s.complete(c)
}

// afterContactWorkDone completes a contact whose agent finished its after contact work.
func (s *Simulator) afterContactWorkDone(c *contact) {
	if c.completed {
		return
	}
	c.acwEnd = s.now
	s.complete(c)
}

// complete emits COMPLETED and schedules the contact record: Amazon Connect publishes
// it once the contact and its after contact work are over, a little later.
func (s *Simulator) complete(c *contact) {
	c.completed = true
	s.contactEvent(c, ContactCompleted)
	if !s.cfg.ContactRecords {
		return
	}
	s.at(s.now+s.cuniform(15*time.Second, 90*time.Second), nil, func() {
		data := s.contactRecord(c)
		s.emitContactRecord(c, data)
		if s.cchance(s.cfg.RecordDuplicateFraction) {
			s.at(s.now+s.cuniform(time.Second, time.Minute), nil, func() { s.emitContactRecord(c, data) })
		}
		if s.cchance(s.cfg.RecordUpdateFraction) {
			s.at(s.now+s.cuniform(2*time.Minute, 30*time.Minute), nil, func() {
				c.recordUpdates++
				s.emitContactRecord(c, s.contactRecord(c))
			})
		}
	})
}

func (s *Simulator) emitContactRecord(c *contact, data []byte) {
	s.out = append(s.out, Record{Kind: KindContactRecord, Key: c.id, Data: data, At: time.UnixMilli(s.now).UTC(), EventType: EventContactRecord})
}

func (s *Simulator) cuniform(lo, hi time.Duration) int64 {
	l, h := lo.Milliseconds(), hi.Milliseconds()
	return l + s.crng.Int64N(h-l+1)
}

func (s *Simulator) cchance(p float64) bool { return p > 0 && s.crng.Float64() < p }
