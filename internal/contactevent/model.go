// Package contactevent is the Amazon Connect contact event model, as EventBridge delivers
// it to a Kinesis stream, and its decoder. It knows nothing of the collector.
//
// See ../shared/reference/contact-data-model.md, section 3, for the fields and pitfalls.
package contactevent

import "time"

// Event types (detail.eventType). Others pass through unchanged: AWS adds types.
const (
	TypeInitiated          = "INITIATED"
	TypeConnectedToSystem  = "CONNECTED_TO_SYSTEM"
	TypeContactDataUpdated = "CONTACT_DATA_UPDATED"
	TypeQueued             = "QUEUED"
	TypeConnectedToAgent   = "CONNECTED_TO_AGENT"
	TypeDisconnected       = "DISCONNECTED"
	TypeCompleted          = "COMPLETED"
	TypePaused             = "PAUSED"
	TypeResumed            = "RESUMED"
)

// The envelope's source and detail-type of Amazon Connect's contact events.
const (
	Source     = "aws.connect"
	DetailType = "Amazon Connect Contact Event"
)

// Initiation methods (shared with contact records).
const (
	InitiationInbound       = "INBOUND"
	InitiationOutbound      = "OUTBOUND"
	InitiationTransfer      = "TRANSFER"
	InitiationQueueTransfer = "QUEUE_TRANSFER"
	InitiationCallback      = "CALLBACK"
	InitiationAPI           = "API"
)

// Event is one contact event. Zero values stand for fields that were absent or null;
// times before 2000 (AWS's 1970-01-01T00:00:00.001Z placeholders) are zero too. Enum
// values (EventType, Channel, InitiationMethod, QueueInfo.Type) are in upper case.
type Event struct {
	// Envelope is zero when the record held the detail alone (a rule's InputPath $.detail).
	Envelope Envelope

	EventType         string
	ContactID         string
	InitialContactID  string
	PreviousContactID string
	RelatedContactID  string
	Channel           string
	InstanceARN       string
	InitiationMethod  string

	InitiationTimestamp        time.Time
	ConnectedToSystemTimestamp time.Time
	DisconnectTimestamp        time.Time
	ScheduledTimestamp         time.Time

	// Queue is nil when the event has no queueInfo (OUTBOUND contacts never do).
	Queue *QueueInfo
	// Agent is nil when the event has no agentInfo.
	Agent *AgentInfo

	DisconnectReason                string
	AnsweringMachineDetectionStatus string
	UpdatedProperties               []string
}

// Envelope is EventBridge's part of the record.
type Envelope struct {
	ID         string
	Version    string
	DetailType string
	Source     string
	Account    string
	Region     string
	Time       time.Time
	Resources  []string
}

// QueueInfo is the queue a contact was placed in.
type QueueInfo struct {
	ARN              string
	Type             string // STANDARD or AGENT
	EnqueueTimestamp time.Time
}

// AgentInfo is the agent a contact was connected to.
type AgentInfo struct {
	ARN                            string
	ConnectedToAgentTimestamp      time.Time
	AgentInitiatedHoldDuration     int64 // seconds
	AfterContactWorkStartTimestamp time.Time
	AfterContactWorkEndTimestamp   time.Time
	AfterContactWorkDuration       int64 // seconds
	AcceptedByAgentTimestamp       time.Time
	PreviewEndTimestamp            time.Time
	// HierarchyGroupARNs holds level1..level5, empty where a level is not set.
	HierarchyGroupARNs [5]string
}

// Timestamp is the time the event happened, from the field its type sets (section 3.4 of
// the reference): the enqueue time of QUEUED, the connected-to-agent time of
// CONNECTED_TO_AGENT, and so on; else the envelope's time.
func (e *Event) Timestamp() time.Time {
	var t time.Time
	switch e.EventType {
	case TypeInitiated:
		t = e.InitiationTimestamp
	case TypeConnectedToSystem:
		t = e.ConnectedToSystemTimestamp
	case TypeQueued:
		if e.Queue != nil {
			t = e.Queue.EnqueueTimestamp
		}
	case TypeConnectedToAgent:
		if e.Agent != nil {
			t = e.Agent.ConnectedToAgentTimestamp
		}
	case TypeDisconnected:
		t = e.DisconnectTimestamp
	case TypeCompleted:
		if e.Agent != nil {
			t = e.Agent.AfterContactWorkEndTimestamp
		}
		if t.IsZero() {
			t = e.DisconnectTimestamp
		}
	}
	if t.IsZero() {
		t = e.Envelope.Time
	}
	return t
}
