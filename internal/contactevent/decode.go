package contactevent

import (
	"encoding/json"
	"strconv"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/jsondecode"
)

// Kinds of decode failure, the error.type of a malformed record's log record; the same
// strings as agentevent's where they mean the same.
const (
	ErrKindInvalidUTF8      = jsondecode.KindInvalidUTF8
	ErrKindInvalidJSON      = jsondecode.KindInvalidJSON
	ErrKindNotAnObject      = jsondecode.KindNotAnObject
	ErrKindWrongType        = jsondecode.KindWrongType
	ErrKindMissingField     = jsondecode.KindMissingField
	ErrKindInvalidTimestamp = jsondecode.KindInvalidTimestamp
	ErrKindInvalidValue     = jsondecode.KindInvalidValue
	// ErrKindNotAContactEvent is a record of another kind: another source's event, an
	// agent event, a JSON object that is neither an envelope nor a detail.
	ErrKindNotAContactEvent = "not_a_contact_event"
)

// DecodeError says why a record is not a contact event. Its Redacted() quotes nothing
// of the record.
type DecodeError = jsondecode.DecodeError

// envelopeWire is the top level of a record: an EventBridge envelope, or a bare detail,
// whose eventType and contactId tell it apart, or something else. Keys match
// case-insensitively, as encoding/json does.
type envelopeWire struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     *string         `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`

	// Their presence is all that matters at the top level.
	EventType json.RawMessage `json:"eventType"`
	ContactID json.RawMessage `json:"contactId"`
	AgentARN  json.RawMessage `json:"AgentARN"`
	// A contact record has it; it is not a contact event.
	CTRVersion json.RawMessage `json:"AWSContactTraceRecordFormatVersion"`
}

type detailWire struct {
	EventType         string `json:"eventType"`
	ContactID         string `json:"contactId"`
	InitialContactID  string `json:"initialContactId"`
	PreviousContactID string `json:"previousContactId"`
	RelatedContactID  string `json:"relatedContactId"`
	Channel           string `json:"channel"`
	InstanceARN       string `json:"instanceArn"`
	InitiationMethod  string `json:"initiationMethod"`

	InitiationTimestamp        string `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp string `json:"connectedToSystemTimestamp"`
	DisconnectTimestamp        string `json:"disconnectTimestamp"`
	ScheduledTimestamp         string `json:"scheduledTimestamp"`

	QueueInfo *queueWire `json:"queueInfo"`
	AgentInfo *agentWire `json:"agentInfo"`

	DisconnectReason                string   `json:"disconnectReason"`
	AnsweringMachineDetectionStatus string   `json:"answeringMachineDetectionStatus"`
	UpdatedProperties               []string `json:"updatedProperties"`
}

type queueWire struct {
	QueueARN         string `json:"queueArn"`
	QueueType        string `json:"queueType"`
	EnqueueTimestamp string `json:"enqueueTimestamp"`
}

type agentWire struct {
	AgentARN                       string               `json:"agentArn"`
	ConnectedToAgentTimestamp      string               `json:"connectedToAgentTimestamp"`
	AgentInitiatedHoldDuration     int64                `json:"agentInitiatedHoldDuration"`
	AfterContactWorkStartTimestamp string               `json:"afterContactWorkStartTimestamp"`
	AfterContactWorkEndTimestamp   string               `json:"afterContactWorkEndTimestamp"`
	AfterContactWorkDuration       int64                `json:"afterContactWorkDuration"`
	AcceptedByAgentTimestamp       string               `json:"acceptedByAgentTimestamp"`
	PreviewEndTimestamp            string               `json:"previewEndTimestamp"`
	HierarchyGroups                *hierarchyGroupsWire `json:"hierarchyGroups"`
}

type hierarchyGroupsWire struct {
	Level1 *groupWire `json:"level1"`
	Level2 *groupWire `json:"level2"`
	Level3 *groupWire `json:"level3"`
	Level4 *groupWire `json:"level4"`
	Level5 *groupWire `json:"level5"`
}

type groupWire struct {
	ARN string `json:"arn"`
}

// Decode reads one Kinesis record into ev: an EventBridge envelope holding a contact
// event, or the event's detail alone (a rule's InputPath $.detail), with whitespace
// around it. Keys match case-insensitively; enum values are upper-cased; times before
// 2000 are zero. Unknown fields, detail-types and event types pass. A record that is not
// a contact event returns a *DecodeError, and ev is then undefined.
func Decode(data []byte, ev *Event) error {
	*ev = Event{}
	data, err := jsondecode.Trim(data)
	if err != nil {
		return err
	}
	var env envelopeWire
	if err := jsondecode.Unmarshal(data, &env, ""); err != nil {
		return err
	}
	detail, prefix := data, ""
	switch {
	case env.Source != nil || env.DetailType != nil || jsondecode.Kind(env.Detail) != "null":
		if err := checkEnvelope(&env); err != nil {
			return err
		}
		detail, prefix = env.Detail, "detail."
		ev.Envelope = Envelope{
			ID:         env.ID,
			Version:    env.Version,
			DetailType: *env.DetailType,
			Source:     *env.Source,
			Account:    env.Account,
			Region:     env.Region,
			Resources:  env.Resources,
		}
		if ev.Envelope.Time, err = jsondecode.Time("time", env.Time); err != nil {
			return err
		}
	case env.CTRVersion != nil && env.EventType == nil:
		return &DecodeError{Kind: ErrKindNotAContactEvent, Msg: "a contact record (AWSContactTraceRecordFormatVersion, no eventType), not a contact event"}
	case env.EventType == nil && env.ContactID == nil:
		return &DecodeError{Kind: ErrKindNotAContactEvent, Msg: "neither an EventBridge envelope nor a contact event's detail"}
	case env.ContactID == nil && env.AgentARN != nil:
		return &DecodeError{Kind: ErrKindNotAContactEvent, Msg: "an agent event (EventType and AgentARN, no contactId), not a contact event"}
	}
	var d detailWire
	if err := jsondecode.Unmarshal(detail, &d, prefix); err != nil {
		return err
	}
	return fill(ev, &d, prefix)
}

// checkEnvelope accepts an envelope from aws.connect with a detail object, whatever its
// detail-type: AWS may rename it, and the detail's shape is checked next.
func checkEnvelope(env *envelopeWire) error {
	switch {
	case env.Source == nil:
		return &DecodeError{Kind: ErrKindMissingField, Field: "source", Msg: "missing from the envelope"}
	case *env.Source != Source:
		return &DecodeError{Kind: ErrKindNotAContactEvent, Field: "source", Msg: "not " + Source, Detail: strconv.Quote(*env.Source)}
	case env.DetailType == nil:
		return &DecodeError{Kind: ErrKindMissingField, Field: "detail-type", Msg: "missing from the envelope"}
	}
	switch k := jsondecode.Kind(env.Detail); k {
	case "object":
		return nil
	case "null":
		return &DecodeError{Kind: ErrKindMissingField, Field: "detail", Msg: "missing from the envelope"}
	default:
		return &DecodeError{Kind: ErrKindWrongType, Field: "detail", Msg: "want object, got " + k}
	}
}

func fill(ev *Event, d *detailWire, prefix string) error {
	if d.EventType == "" {
		return &DecodeError{Kind: ErrKindMissingField, Field: prefix + "eventType", Msg: "missing, so this is not a contact event"}
	}
	if d.ContactID == "" {
		return &DecodeError{Kind: ErrKindMissingField, Field: prefix + "contactId", Msg: "missing, so this is not a contact event"}
	}
	for _, id := range [...]struct{ field, value string }{
		{"eventType", d.EventType}, {"contactId", d.ContactID}, {"instanceArn", d.InstanceARN},
	} {
		if err := jsondecode.IdentityPart(prefix+id.field, id.value); err != nil {
			return err
		}
	}
	ev.EventType = jsondecode.Upper(d.EventType)
	ev.ContactID = d.ContactID
	ev.InitialContactID = d.InitialContactID
	ev.PreviousContactID = d.PreviousContactID
	ev.RelatedContactID = d.RelatedContactID
	ev.Channel = jsondecode.Upper(d.Channel)
	ev.InstanceARN = d.InstanceARN
	ev.InitiationMethod = jsondecode.Upper(d.InitiationMethod)
	ev.DisconnectReason = jsondecode.Upper(d.DisconnectReason)
	ev.AnsweringMachineDetectionStatus = jsondecode.Upper(d.AnsweringMachineDetectionStatus)
	ev.UpdatedProperties = d.UpdatedProperties

	var ts jsondecode.Times
	ts.Parse(&ev.InitiationTimestamp, prefix+"initiationTimestamp", d.InitiationTimestamp)
	ts.Parse(&ev.ConnectedToSystemTimestamp, prefix+"connectedToSystemTimestamp", d.ConnectedToSystemTimestamp)
	ts.Parse(&ev.DisconnectTimestamp, prefix+"disconnectTimestamp", d.DisconnectTimestamp)
	ts.Parse(&ev.ScheduledTimestamp, prefix+"scheduledTimestamp", d.ScheduledTimestamp)
	if q := d.QueueInfo; q != nil {
		ev.Queue = &QueueInfo{ARN: q.QueueARN, Type: jsondecode.Upper(q.QueueType)}
		ts.Parse(&ev.Queue.EnqueueTimestamp, prefix+"queueInfo.enqueueTimestamp", q.EnqueueTimestamp)
	}
	if a := d.AgentInfo; a != nil {
		ev.Agent = &AgentInfo{
			ARN:                        a.AgentARN,
			AgentInitiatedHoldDuration: a.AgentInitiatedHoldDuration,
			AfterContactWorkDuration:   a.AfterContactWorkDuration,
		}
		p := prefix + "agentInfo."
		ts.Parse(&ev.Agent.ConnectedToAgentTimestamp, p+"connectedToAgentTimestamp", a.ConnectedToAgentTimestamp)
		ts.Parse(&ev.Agent.AfterContactWorkStartTimestamp, p+"afterContactWorkStartTimestamp", a.AfterContactWorkStartTimestamp)
		ts.Parse(&ev.Agent.AfterContactWorkEndTimestamp, p+"afterContactWorkEndTimestamp", a.AfterContactWorkEndTimestamp)
		ts.Parse(&ev.Agent.AcceptedByAgentTimestamp, p+"acceptedByAgentTimestamp", a.AcceptedByAgentTimestamp)
		ts.Parse(&ev.Agent.PreviewEndTimestamp, p+"previewEndTimestamp", a.PreviewEndTimestamp)
		if h := a.HierarchyGroups; h != nil {
			for i, g := range [...]*groupWire{h.Level1, h.Level2, h.Level3, h.Level4, h.Level5} {
				if g != nil {
					ev.Agent.HierarchyGroupARNs[i] = g.ARN
				}
			}
		}
	}
	return ts.Err()
}

// DedupKey is the event's identity for duplicate removal: its instance, contact, type and
// own time (Timestamp, in unix nanoseconds). Not the envelope's id: EventBridge may give
// a resent event a new one. Decode refuses the separator inside the parts.
func (e *Event) DedupKey() string {
	sep := jsondecode.IDSeparator
	return e.InstanceARN + sep + e.ContactID + sep + e.EventType + sep + strconv.FormatInt(jsondecode.Nanos(e.Timestamp()), 10)
}
