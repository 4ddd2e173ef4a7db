// Package contactrecord is the Amazon Connect contact record (CTR) model, as the
// instance's data streaming writes it to a Kinesis stream, and its decoder. It knows
// nothing of the collector.
//
// See ../shared/reference/contact-data-model.md, section 2, for the fields and pitfalls.
package contactrecord

import "time"

// Record is one contact record. It holds the fields the receiver's attributes, duplicate
// removal and metrics use; the log record's body keeps the whole document. Zero values
// stand for fields that were absent or null; times before 2000 are zero too. Enum values
// (Channel, InitiationMethod, DisconnectReason) are in upper case.
type Record struct {
	AWSAccountID  string
	FormatVersion string // AWSContactTraceRecordFormatVersion
	InstanceARN   string

	ContactID         string
	InitialContactID  string
	PreviousContactID string
	NextContactID     string
	RelatedContactID  string

	Channel          string
	InitiationMethod string
	DisconnectReason string

	InitiationTimestamp        time.Time
	ConnectedToSystemTimestamp time.Time
	DisconnectTimestamp        time.Time
	LastUpdateTimestamp        time.Time
	ScheduledTimestamp         time.Time
	TransferCompletedTimestamp time.Time

	AgentConnectionAttempts int64

	// Agent is nil when no agent accepted the contact.
	Agent *Agent
	// Queue is nil when the contact was never queued.
	Queue *Queue
}

// Agent is the agent who accepted the contact. Durations are in seconds.
type Agent struct {
	ARN                            string
	Username                       string
	RoutingProfileARN              string
	RoutingProfileName             string
	ConnectedToAgentTimestamp      time.Time
	AgentInteractionDuration       int64
	CustomerHoldDuration           int64
	AgentInitiatedHoldDuration     int64
	NumberOfHolds                  int64
	LongestHoldDuration            int64
	AfterContactWorkStartTimestamp time.Time
	AfterContactWorkEndTimestamp   time.Time
	AfterContactWorkDuration       int64
	AgentPauseDuration             int64
}

// Queue is the queue the contact was placed in.
type Queue struct {
	ARN              string
	Name             string
	EnqueueTimestamp time.Time
	DequeueTimestamp time.Time
	Duration         int64 // seconds
}

// Handled reports whether an agent was connected to the contact.
func (r *Record) Handled() bool {
	return r.Agent != nil && !r.Agent.ConnectedToAgentTimestamp.IsZero()
}

// HandleSeconds is the contact's handle time, AWS's AHT components: agent interaction,
// customer hold and after contact work. Meaningful for handled contacts only.
func (r *Record) HandleSeconds() int64 {
	if r.Agent == nil {
		return 0
	}
	return r.Agent.AgentInteractionDuration + r.Agent.CustomerHoldDuration + r.Agent.AfterContactWorkDuration
}
