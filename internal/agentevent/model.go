// Package agentevent is the Amazon Connect agent event model and its decoder.
//
// It knows every field of the published data model and the extras real streams carry
// (see the domain notes in the README), and it knows nothing of the collector.
package agentevent

import "time"

// Event types documented by Amazon Connect. Others pass through unchanged.
const (
	TypeLogin       = "LOGIN"
	TypeLogout      = "LOGOUT"
	TypeStateChange = "STATE_CHANGE"
	TypeHeartBeat   = "HEART_BEAT"
)

// Agent status types.
const (
	StatusRoutable = "ROUTABLE"
	StatusCustom   = "CUSTOM"
	StatusOffline  = "OFFLINE"
)

// Contact states. PAUSED is not in the published model but tasks use it.
const (
	ContactIncoming        = "INCOMING"
	ContactPending         = "PENDING"
	ContactConnecting      = "CONNECTING"
	ContactConnected       = "CONNECTED"
	ContactConnectedOnHold = "CONNECTED_ONHOLD"
	ContactMissed          = "MISSED"
	ContactRejected        = "REJECTED"
	ContactError           = "ERROR"
	ContactEnded           = "ENDED"
	ContactPaused          = "PAUSED"
)

// Event is one agent event record. Zero values stand for fields that were absent or null.
type Event struct {
	EventID        string
	EventType      string
	EventTimestamp time.Time
	AgentARN       string
	InstanceARN    string
	AWSAccountID   string
	Version        string

	Current Snapshot
	// HasPrevious is false when the event carries no previous snapshot (LOGIN and LOGOUT may not).
	HasPrevious bool
	Previous    Snapshot
}

// Snapshot is an agent's state as of an event.
type Snapshot struct {
	AgentStatus AgentStatus
	// NextAgentStatus has an empty Name and ARN when the agent set no next status.
	NextAgentStatus NextAgentStatus
	Configuration   Configuration
	Contacts        []Contact
}

// AgentStatus is the status an agent is in.
type AgentStatus struct {
	ARN            string
	Name           string
	Type           string
	StartTimestamp time.Time
	// TypeDerived is true when the event had no Type and it was derived from Name.
	TypeDerived bool
}

// NextAgentStatus is the status an agent asked for while busy with contacts.
type NextAgentStatus struct {
	ARN               string
	Name              string
	EnqueuedTimestamp time.Time
}

// Configuration is the agent's user and routing configuration.
type Configuration struct {
	Username        string
	FirstName       string
	LastName        string
	RoutingProfile  RoutingProfile
	HierarchyGroups HierarchyGroups
	Proficiencies   []Proficiency
}

// HierarchyGroups holds up to five levels; an empty ARN and Name mean the level is not set.
type HierarchyGroups struct {
	Levels [5]HierarchyGroup
}

// HierarchyGroup is one level of the agent hierarchy.
type HierarchyGroup struct {
	ARN  string
	Name string
}

// Proficiency is a routing proficiency of the agent.
type Proficiency struct {
	Name  string
	Value string
	Level float64
}

// RoutingProfile is the agent's routing profile.
type RoutingProfile struct {
	ARN                  string
	Name                 string
	InboundQueues        []Queue
	DefaultOutboundQueue Queue
	Concurrency          []Concurrency
}

// Concurrency is the agent's capacity on one channel.
type Concurrency struct {
	Channel        string
	AvailableSlots int64
	MaximumSlots   int64
}

// Queue is a queue; agent queues carry only an ARN.
type Queue struct {
	ARN      string
	Name     string
	Channels []string
}

// Contact is a contact an agent is handling.
type Contact struct {
	ContactID                 string
	InitialContactID          string
	Channel                   string
	InitiationMethod          string
	State                     string
	StateStartTimestamp       time.Time
	ConnectedToAgentTimestamp time.Time
	QueueTimestamp            time.Time
	Queue                     Queue
}

// DeriveStatusType gives the status type for a status name, for events that lack
// AgentStatus.Type: "Available" is routable, "Offline" is offline, anything else is custom.
func DeriveStatusType(name string) string {
	switch name {
	case "Available":
		return StatusRoutable
	case "Offline":
		return StatusOffline
	default:
		return StatusCustom
	}
}

// HasProblemContact reports whether any contact was missed, rejected or failed.
func (s *Snapshot) HasProblemContact() bool {
	for i := range s.Contacts {
		switch s.Contacts[i].State {
		case ContactMissed, ContactRejected, ContactError:
			return true
		}
	}
	return false
}
