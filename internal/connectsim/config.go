// Package connectsim simulates an Amazon Connect contact center and writes the agent
// events it would publish to an agent event stream: LOGIN, LOGOUT, STATE_CHANGE and
// HEART_BEAT records, one JSON document each, keyed by agent ARN. On request it also
// writes, for the same contacts, the contact events (EventBridge envelopes) and the
// contact records (CTRs) Amazon Connect publishes, keyed by contact id.
//
// The simulation is a discrete-event simulation on a virtual clock (a heap of scheduled
// actions), so it runs as fast as its writer lets it; a pacer (see Run) slows it to real
// time or any multiple of it. All randomness comes from one seed: the same Config and
// start time give byte-identical output.
package connectsim

import (
	"errors"
	"fmt"
	"time"
)

// Channels as the Amazon Connect APIs and real events spell them (the published data
// model says TASKS; events say TASK).
const (
	ChannelVoice = "VOICE"
	ChannelChat  = "CHAT"
	ChannelTask  = "TASK"
)

// Initiation methods the simulator produces.
const (
	MethodInbound  = "INBOUND"
	MethodOutbound = "OUTBOUND"
	MethodTransfer = "TRANSFER"
	MethodCallback = "CALLBACK"
	MethodAPI      = "API"
	// MethodQueueTransfer is a contact a flow moved from one queue to another.
	MethodQueueTransfer = "QUEUE_TRANSFER"
)

// Versions of the agent event stream.
const (
	VersionCurrent = "2019-05-25"
	VersionOld     = "2017-10-01"
)

// Config describes the contact center. Start from DefaultConfig and change what you need:
// zero values mean zero (no transfers, no misses), not "the default".
type Config struct {
	// Agents is the number of agents on the roster. Default 50.
	Agents int
	// Seed seeds every random choice: the same Seed, Config and start time give
	// byte-identical output. Default 1.
	Seed uint64

	// Region and AccountID go into every ARN; InstanceID is the instance's UUID.
	// Defaults: us-east-1, 123456789012, a1b2c3d4-5678-90ab-cdef-111122223333.
	Region     string
	AccountID  string
	InstanceID string

	// Queues of the instance (standard queues; every agent also has an agent queue,
	// which has no name). Default: BasicQueue (VOICE, CHAT, TASK), Sales (VOICE),
	// Support (VOICE, CHAT), Billing (VOICE, CHAT), Escalations (TASK).
	Queues []QueueConfig
	// RoutingProfiles, and which share of the agents each gets. Default:
	// "Sales" (30%): VOICE 1; queues Sales, BasicQueue; outbound Sales.
	// "Support" (40%): VOICE 1, CHAT 3; queues Support, Billing, BasicQueue; outbound Support.
	// "Omnichannel" (30%): VOICE 1, CHAT 3, TASK 5; queues Support, Escalations, BasicQueue;
	// outbound BasicQueue.
	RoutingProfiles []RoutingProfileConfig

	// ContactsPerAgentHour is the arrival rate of contacts (all channels and initiation
	// methods, outbound calls included) per logged-in agent per hour. Contacts wait in
	// their queue for an available agent and abandon when the customer's patience runs
	// out. Default 6.
	ContactsPerAgentHour float64
	// ChannelMix weighs the channels of new contacts; a profile uses the weights of the
	// channels it has. Default VOICE 0.6, CHAT 0.3, TASK 0.1.
	ChannelMix ChannelWeights
	// VoiceMix, ChatMix and TaskMix weigh the initiation methods per channel. OUTBOUND
	// contacts are placed by an idle available agent (dropped when there is none).
	// TRANSFER weighs contacts that an agent transfers: the customer's first contact
	// (INBOUND, or API for chats and tasks) is queued and answered as usual, and when
	// it ends the agent transfers it to a queue, or a quarter of the time to a
	// colleague's agent queue: a new TRANSFER contact, whose PreviousContactId and
	// InitialContactId name the first. CALLBACK weighs inbound callers who ask for a
	// callback 15 s to 90 s into their wait, if still waiting: their contact ends and a
	// CALLBACK contact is queued CallbackDelay later; it rings an agent (INCOMING), who
	// dials the customer (CONNECTING). Defaults: voice INBOUND 0.75, OUTBOUND 0.10,
	// TRANSFER 0.08, CALLBACK 0.07; chat API 0.9, TRANSFER 0.1; task API 0.85,
	// TRANSFER 0.15.
	VoiceMix InitiationMix
	ChatMix  InitiationMix
	TaskMix  InitiationMix

	// HandleTime is the mean time a contact is connected (talk or working time),
	// lognormal. Default VOICE 5m, CHAT 8m, TASK 6m.
	HandleTime ChannelDurations
	// AfterContactWork is the mean time a contact stays ENDED (after contact work)
	// before it leaves the snapshot, lognormal. Default VOICE 45s, CHAT 20s, TASK 15s.
	AfterContactWork ChannelDurations
	// Patience is the mean time a customer waits in queue before abandoning,
	// exponential; queued contacts are in no agent's snapshot. Default VOICE 3m,
	// CHAT 5m, TASK 2h.
	Patience ChannelDurations
	// HoldProbability is the chance a connected voice contact is put on hold once
	// (CONNECTED_ONHOLD and back). Default 0.2.
	HoldProbability float64
	// HoldTime is the mean time on hold, lognormal. Default 45s.
	HoldTime time.Duration
	// MissedProbability is the chance an agent does not answer a ringing voice contact:
	// it goes MISSED, stays listed until the agent's next state change, and goes back
	// to its queue. Default 0.03.
	MissedProbability float64
	// RejectedProbability is the same for chats and tasks, which go REJECTED.
	// Default 0.02.
	RejectedProbability float64
	// ErrorProbability is the chance a contact fails to connect (ERROR) when offered
	// or dialled. Default 0.01.
	ErrorProbability float64
	// NoAnswerProbability is the chance the customer does not answer an outbound call:
	// CONNECTING goes straight to ENDED. Default 0.2.
	NoAnswerProbability float64

	// CustomStatuses are the agent statuses of type CUSTOM an agent takes during a
	// shift. Requested while on contacts, a status waits as NextAgentStatus until the
	// contacts are done. Default Break (0.25/h, 15m), Lunch (0.125/h, 30m),
	// Training (0.05/h, 45m).
	CustomStatuses []CustomStatus

	// ShiftLength is how long an agent stays logged in per shift (±5%). At its end the
	// agent finishes their contacts, goes Offline, and logs out. Default 8h.
	ShiftLength time.Duration
	// ShiftGap is the time logged out between shifts (±10%). Default 16h.
	ShiftGap time.Duration
	// ShiftStagger spreads the first logins uniformly over this time from the start.
	// Default 15m.
	ShiftStagger time.Duration

	// CallbackDelay is the mean initial delay of a queued callback (uniform within
	// ±50%): the time from the customer's request to the callback contact entering the
	// queue. Default 90s.
	CallbackDelay time.Duration
	// QueueTransferProbability is the chance that a flow moves a new inbound contact
	// which has waited 30 s to 90 s to another queue serving its channel: the contact
	// ends and a QUEUE_TRANSFER contact is queued there. Default 0.03.
	QueueTransferProbability float64

	// ContactEvents and ContactRecords have Next return, for the same contacts, the
	// contact events Amazon Connect sends to EventBridge (KindContactEvent, whole
	// envelopes) and the contact records it streams (KindContactRecord). Off by
	// default. The agent events are the same with them or without.
	ContactEvents  bool
	ContactRecords bool
	// RecordUpdateFraction of contact records are delivered again minutes later with a
	// greater LastUpdateTimestamp (an update); RecordDuplicateFraction are delivered
	// twice, byte for byte (at least once delivery). Defaults 0.05 and 0.02.
	RecordUpdateFraction    float64
	RecordDuplicateFraction float64

	// Real-world variations, as fractions of events (0 = never, the default).
	// OldVersionFraction of events carry Version "2017-10-01"; NoStatusTypeFraction of
	// snapshots lack AgentStatus.Type; EnqueueSpellingFraction of snapshots with a
	// NextAgentStatus spell its timestamp "EnqueueTimestamp".
	OldVersionFraction      float64
	NoStatusTypeFraction    float64
	EnqueueSpellingFraction float64
}

// QueueConfig is a standard queue.
type QueueConfig struct {
	Name     string
	Channels []string
}

// RoutingProfileConfig is a routing profile.
type RoutingProfileConfig struct {
	Name string
	// Share weighs the part of the roster assigned to the profile.
	Share float64
	// Concurrency lists the profile's channels and their maximum slots, in the order
	// events list them.
	Concurrency []ChannelSlots
	// InboundQueues names queues of Config.Queues; an agent takes a contact of a
	// queue on the channels the queue and the profile share.
	InboundQueues []string
	// DefaultOutboundQueue names a queue of Config.Queues.
	DefaultOutboundQueue string
}

// ChannelSlots is the concurrency of one channel.
type ChannelSlots struct {
	Channel      string
	MaximumSlots int
}

// ChannelWeights weighs channels.
type ChannelWeights struct{ Voice, Chat, Task float64 }

// ChannelDurations is a duration per channel.
type ChannelDurations struct{ Voice, Chat, Task time.Duration }

// InitiationMix weighs initiation methods; only the ones meaningful for a channel are
// used (OUTBOUND and CALLBACK for voice only, API for chat and task only).
type InitiationMix struct{ Inbound, Outbound, Transfer, Callback, API float64 }

// CustomStatus is an agent status of type CUSTOM.
type CustomStatus struct {
	Name string
	// PerHour is how often a logged-in agent asks for it, per hour (Poisson).
	PerHour float64
	// MeanDuration is the mean time in it (lognormal).
	MeanDuration time.Duration
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Agents:     50,
		Seed:       1,
		Region:     "us-east-1",
		AccountID:  "123456789012",
		InstanceID: "a1b2c3d4-5678-90ab-cdef-111122223333",
		Queues: []QueueConfig{
			{Name: "BasicQueue", Channels: []string{ChannelVoice, ChannelChat, ChannelTask}},
			{Name: "Sales", Channels: []string{ChannelVoice}},
			{Name: "Support", Channels: []string{ChannelVoice, ChannelChat}},
			{Name: "Billing", Channels: []string{ChannelVoice, ChannelChat}},
			{Name: "Escalations", Channels: []string{ChannelTask}},
		},
		RoutingProfiles: []RoutingProfileConfig{
			{
				Name: "Sales", Share: 0.3,
				Concurrency:          []ChannelSlots{{ChannelVoice, 1}},
				InboundQueues:        []string{"Sales", "BasicQueue"},
				DefaultOutboundQueue: "Sales",
			},
			{
				Name: "Support", Share: 0.4,
				Concurrency:          []ChannelSlots{{ChannelVoice, 1}, {ChannelChat, 3}},
				InboundQueues:        []string{"Support", "Billing", "BasicQueue"},
				DefaultOutboundQueue: "Support",
			},
			{
				Name: "Omnichannel", Share: 0.3,
				Concurrency:          []ChannelSlots{{ChannelVoice, 1}, {ChannelChat, 3}, {ChannelTask, 5}},
				InboundQueues:        []string{"Support", "Escalations", "BasicQueue"},
				DefaultOutboundQueue: "BasicQueue",
			},
		},
		ContactsPerAgentHour: 6,
		ChannelMix:           ChannelWeights{Voice: 0.6, Chat: 0.3, Task: 0.1},
		VoiceMix:             InitiationMix{Inbound: 0.75, Outbound: 0.10, Transfer: 0.08, Callback: 0.07},
		ChatMix:              InitiationMix{API: 0.9, Transfer: 0.1},
		TaskMix:              InitiationMix{API: 0.85, Transfer: 0.15},
		HandleTime:           ChannelDurations{Voice: 5 * time.Minute, Chat: 8 * time.Minute, Task: 6 * time.Minute},
		AfterContactWork:     ChannelDurations{Voice: 45 * time.Second, Chat: 20 * time.Second, Task: 15 * time.Second},
		Patience:             ChannelDurations{Voice: 3 * time.Minute, Chat: 5 * time.Minute, Task: 2 * time.Hour},
		HoldProbability:      0.2,
		HoldTime:             45 * time.Second,
		MissedProbability:    0.03,
		RejectedProbability:  0.02,
		ErrorProbability:     0.01,
		NoAnswerProbability:  0.2,
		CustomStatuses: []CustomStatus{
			{Name: "Break", PerHour: 0.25, MeanDuration: 15 * time.Minute},
			{Name: "Lunch", PerHour: 0.125, MeanDuration: 30 * time.Minute},
			{Name: "Training", PerHour: 0.05, MeanDuration: 45 * time.Minute},
		},
		CallbackDelay:            90 * time.Second,
		QueueTransferProbability: 0.03,
		RecordUpdateFraction:     0.05,
		RecordDuplicateFraction:  0.02,
		ShiftLength:              8 * time.Hour,
		ShiftGap:                 16 * time.Hour,
		ShiftStagger:             15 * time.Minute,
	}
}

// InstanceARN is the ARN of the simulated instance.
func (c *Config) InstanceARN() string {
	return fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s", c.Region, c.AccountID, c.InstanceID)
}

// QueueARN is the ARN of the standard queue of that name: derived from the name and the
// instance, so the same from run to run (a collector's queue_names can list them).
func (c *Config) QueueARN(name string) string {
	instance := c.InstanceARN()
	return instance + "/queue/" + nameUUID(instance+"/queue/"+name)
}

// Validate reports the first thing wrong with the configuration.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Agents < 1 {
		bad("agents must be at least 1, got %d", c.Agents)
	}
	if c.Region == "" || c.AccountID == "" || c.InstanceID == "" {
		bad("region, account id and instance id must be set")
	}
	queues := map[string]QueueConfig{}
	for _, q := range c.Queues {
		if q.Name == "" {
			bad("a queue has no name")
		}
		if _, dup := queues[q.Name]; dup {
			bad("queue %q is defined twice", q.Name)
		}
		queues[q.Name] = q
		for _, ch := range q.Channels {
			if !knownChannel(ch) {
				bad("queue %q: unknown channel %q", q.Name, ch)
			}
		}
	}
	if len(c.RoutingProfiles) == 0 {
		bad("no routing profiles")
	}
	var share float64
	for _, p := range c.RoutingProfiles {
		if p.Share < 0 {
			bad("routing profile %q: negative share", p.Name)
		}
		share += p.Share
		if len(p.Concurrency) == 0 {
			bad("routing profile %q has no channels", p.Name)
		}
		for _, cs := range p.Concurrency {
			if !knownChannel(cs.Channel) || cs.MaximumSlots < 1 {
				bad("routing profile %q: bad concurrency %s %d", p.Name, cs.Channel, cs.MaximumSlots)
			}
		}
		for _, qn := range append([]string{p.DefaultOutboundQueue}, p.InboundQueues...) {
			if _, ok := queues[qn]; !ok {
				bad("routing profile %q: unknown queue %q", p.Name, qn)
			}
		}
	}
	if share <= 0 {
		bad("routing profile shares must add up to more than 0")
	}
	if c.ContactsPerAgentHour < 0 {
		bad("contacts per agent hour must not be negative")
	}
	for _, w := range []float64{c.ChannelMix.Voice, c.ChannelMix.Chat, c.ChannelMix.Task} {
		if w < 0 {
			bad("channel mix weights must not be negative")
		}
	}
	for name, m := range map[string]InitiationMix{"voice": c.VoiceMix, "chat": c.ChatMix, "task": c.TaskMix} {
		if m.Inbound < 0 || m.Outbound < 0 || m.Transfer < 0 || m.Callback < 0 || m.API < 0 {
			bad("%s mix weights must not be negative", name)
		}
	}
	for name, p := range map[string]float64{
		"hold probability": c.HoldProbability, "missed probability": c.MissedProbability,
		"rejected probability": c.RejectedProbability, "error probability": c.ErrorProbability,
		"no-answer probability": c.NoAnswerProbability, "old version fraction": c.OldVersionFraction,
		"no status type fraction": c.NoStatusTypeFraction, "enqueue spelling fraction": c.EnqueueSpellingFraction,
		"queue transfer probability": c.QueueTransferProbability, "record update fraction": c.RecordUpdateFraction,
		"record duplicate fraction": c.RecordDuplicateFraction,
	} {
		if p < 0 || p > 1 {
			bad("%s must be within [0, 1], got %g", name, p)
		}
	}
	if c.MissedProbability+c.ErrorProbability > 1 || c.RejectedProbability+c.ErrorProbability > 1 || c.NoAnswerProbability+c.ErrorProbability > 1 {
		bad("miss, reject and no-answer probabilities plus the error probability must not exceed 1")
	}
	for _, d := range []time.Duration{c.HandleTime.Voice, c.HandleTime.Chat, c.HandleTime.Task,
		c.AfterContactWork.Voice, c.AfterContactWork.Chat, c.AfterContactWork.Task,
		c.Patience.Voice, c.Patience.Chat, c.Patience.Task, c.HoldTime, c.CallbackDelay} {
		if d <= 0 {
			bad("handle, after contact work, patience, hold times and the callback delay must be positive")
			break
		}
	}
	for _, s := range c.CustomStatuses {
		if s.Name == "" || s.Name == statusAvailable || s.Name == statusOffline {
			bad("custom status %q: needs a name other than Available and Offline", s.Name)
		}
		if s.PerHour < 0 || s.MeanDuration <= 0 {
			bad("custom status %q: needs a rate of 0 or more and a positive duration", s.Name)
		}
	}
	if c.ShiftLength < time.Minute || c.ShiftGap < time.Minute || c.ShiftStagger < 0 {
		bad("shift length and gap must be at least a minute, stagger not negative")
	}
	return errors.Join(errs...)
}

func knownChannel(ch string) bool {
	return ch == ChannelVoice || ch == ChannelChat || ch == ChannelTask
}

func (w ChannelWeights) of(ch string) float64 {
	switch ch {
	case ChannelVoice:
		return w.Voice
	case ChannelChat:
		return w.Chat
	default:
		return w.Task
	}
}

func (d ChannelDurations) of(ch string) time.Duration {
	switch ch {
	case ChannelVoice:
		return d.Voice
	case ChannelChat:
		return d.Chat
	default:
		return d.Task
	}
}

func (c *Config) mixOf(ch string) InitiationMix {
	switch ch {
	case ChannelVoice:
		m := c.VoiceMix
		m.API = 0
		return m
	case ChannelChat:
		m := c.ChatMix
		m.Outbound, m.Callback = 0, 0
		return m
	default:
		m := c.TaskMix
		m.Outbound, m.Callback = 0, 0
		return m
	}
}
