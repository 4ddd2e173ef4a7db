package contactrecord

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
	// ErrKindNotAContactRecord is a record of another kind on the stream: an agent event
	// (AWS allows one stream for both), a contact event.
	ErrKindNotAContactRecord = "not_a_contact_record"
)

// DecodeError says why a record is not a contact record. Its Redacted() quotes nothing
// of the record.
type DecodeError = jsondecode.DecodeError

// recordWire is a CTR as Connect writes it: PascalCase keys (matched case-insensitively,
// as encoding/json does), nulls for what is not set.
type recordWire struct {
	AWSAccountID      string `json:"AWSAccountId"`
	FormatVersion     string `json:"AWSContactTraceRecordFormatVersion"`
	InstanceARN       string `json:"InstanceARN"`
	ContactID         string `json:"ContactId"`
	InitialContactID  string `json:"InitialContactId"`
	PreviousContactID string `json:"PreviousContactId"`
	NextContactID     string `json:"NextContactId"`
	RelatedContactID  string `json:"RelatedContactId"`

	Channel          string `json:"Channel"`
	InitiationMethod string `json:"InitiationMethod"`
	DisconnectReason string `json:"DisconnectReason"`

	InitiationTimestamp        string `json:"InitiationTimestamp"`
	ConnectedToSystemTimestamp string `json:"ConnectedToSystemTimestamp"`
	DisconnectTimestamp        string `json:"DisconnectTimestamp"`
	LastUpdateTimestamp        string `json:"LastUpdateTimestamp"`
	ScheduledTimestamp         string `json:"ScheduledTimestamp"`
	TransferCompletedTimestamp string `json:"TransferCompletedTimestamp"`

	AgentConnectionAttempts int64 `json:"AgentConnectionAttempts"`

	Agent *agentWire `json:"Agent"`
	Queue *queueWire `json:"Queue"`

	// What other kinds of record on the stream have, to say which one it is.
	EventType  json.RawMessage `json:"EventType"`
	AgentARN   json.RawMessage `json:"AgentARN"`
	DetailType json.RawMessage `json:"detail-type"`
}

type agentWire struct {
	ARN                            string              `json:"ARN"`
	Username                       string              `json:"Username"`
	RoutingProfile                 *routingProfileWire `json:"RoutingProfile"`
	ConnectedToAgentTimestamp      string              `json:"ConnectedToAgentTimestamp"`
	AgentInteractionDuration       int64               `json:"AgentInteractionDuration"`
	CustomerHoldDuration           int64               `json:"CustomerHoldDuration"`
	AgentInitiatedHoldDuration     int64               `json:"AgentInitiatedHoldDuration"`
	NumberOfHolds                  int64               `json:"NumberOfHolds"`
	LongestHoldDuration            int64               `json:"LongestHoldDuration"`
	AfterContactWorkStartTimestamp string              `json:"AfterContactWorkStartTimestamp"`
	AfterContactWorkEndTimestamp   string              `json:"AfterContactWorkEndTimestamp"`
	AfterContactWorkDuration       int64               `json:"AfterContactWorkDuration"`
	AgentPauseDuration             int64               `json:"AgentPauseDuration"`
}

type routingProfileWire struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

type queueWire struct {
	ARN              string `json:"ARN"`
	Name             string `json:"Name"`
	EnqueueTimestamp string `json:"EnqueueTimestamp"`
	DequeueTimestamp string `json:"DequeueTimestamp"`
	Duration         int64  `json:"Duration"`
}

// Decode reads one Kinesis record, a CTR with whitespace around it, into r. Keys match
// case-insensitively; enum values are upper-cased; times before 2000 are zero; unknown
// fields pass. A record that is not a contact record returns a *DecodeError, and r is
// then undefined.
func Decode(data []byte, r *Record) error {
	*r = Record{}
	data, err := jsondecode.Trim(data)
	if err != nil {
		return err
	}
	var w recordWire
	if err := jsondecode.Unmarshal(data, &w, ""); err != nil {
		return err
	}
	if w.ContactID == "" {
		switch {
		case w.EventType != nil && w.AgentARN != nil:
			return &DecodeError{Kind: ErrKindNotAContactRecord, Msg: "an agent event (EventType and AgentARN, no ContactId), not a contact record"}
		case w.DetailType != nil:
			return &DecodeError{Kind: ErrKindNotAContactRecord, Msg: "an EventBridge event (detail-type, no ContactId), not a contact record"}
		}
		return &DecodeError{Kind: ErrKindMissingField, Field: "ContactId", Msg: "missing, so this is not a contact record"}
	}
	if w.EventType != nil && w.FormatVersion == "" {
		return &DecodeError{Kind: ErrKindNotAContactRecord, Msg: "a contact event's detail (EventType, no AWSContactTraceRecordFormatVersion), not a contact record"}
	}
	for _, id := range [...]struct{ field, value string }{{"InstanceARN", w.InstanceARN}, {"ContactId", w.ContactID}} {
		if err := jsondecode.IdentityPart(id.field, id.value); err != nil {
			return err
		}
	}
	*r = Record{
		AWSAccountID:            w.AWSAccountID,
		FormatVersion:           w.FormatVersion,
		InstanceARN:             w.InstanceARN,
		ContactID:               w.ContactID,
		InitialContactID:        w.InitialContactID,
		PreviousContactID:       w.PreviousContactID,
		NextContactID:           w.NextContactID,
		RelatedContactID:        w.RelatedContactID,
		Channel:                 jsondecode.Upper(w.Channel),
		InitiationMethod:        jsondecode.Upper(w.InitiationMethod),
		DisconnectReason:        jsondecode.Upper(w.DisconnectReason),
		AgentConnectionAttempts: w.AgentConnectionAttempts,
	}
	var ts jsondecode.Times
	ts.Parse(&r.InitiationTimestamp, "InitiationTimestamp", w.InitiationTimestamp)
	ts.Parse(&r.ConnectedToSystemTimestamp, "ConnectedToSystemTimestamp", w.ConnectedToSystemTimestamp)
	ts.Parse(&r.DisconnectTimestamp, "DisconnectTimestamp", w.DisconnectTimestamp)
	ts.Parse(&r.LastUpdateTimestamp, "LastUpdateTimestamp", w.LastUpdateTimestamp)
	ts.Parse(&r.ScheduledTimestamp, "ScheduledTimestamp", w.ScheduledTimestamp)
	ts.Parse(&r.TransferCompletedTimestamp, "TransferCompletedTimestamp", w.TransferCompletedTimestamp)
	if a := w.Agent; a != nil {
		r.Agent = &Agent{
			ARN:                        a.ARN,
			Username:                   a.Username,
			AgentInteractionDuration:   a.AgentInteractionDuration,
			CustomerHoldDuration:       a.CustomerHoldDuration,
			AgentInitiatedHoldDuration: a.AgentInitiatedHoldDuration,
			NumberOfHolds:              a.NumberOfHolds,
			LongestHoldDuration:        a.LongestHoldDuration,
			AfterContactWorkDuration:   a.AfterContactWorkDuration,
			AgentPauseDuration:         a.AgentPauseDuration,
		}
		if rp := a.RoutingProfile; rp != nil {
			r.Agent.RoutingProfileARN, r.Agent.RoutingProfileName = rp.ARN, rp.Name
		}
		ts.Parse(&r.Agent.ConnectedToAgentTimestamp, "Agent.ConnectedToAgentTimestamp", a.ConnectedToAgentTimestamp)
		ts.Parse(&r.Agent.AfterContactWorkStartTimestamp, "Agent.AfterContactWorkStartTimestamp", a.AfterContactWorkStartTimestamp)
		ts.Parse(&r.Agent.AfterContactWorkEndTimestamp, "Agent.AfterContactWorkEndTimestamp", a.AfterContactWorkEndTimestamp)
	}
	if q := w.Queue; q != nil {
		r.Queue = &Queue{ARN: q.ARN, Name: q.Name, Duration: q.Duration}
		ts.Parse(&r.Queue.EnqueueTimestamp, "Queue.EnqueueTimestamp", q.EnqueueTimestamp)
		ts.Parse(&r.Queue.DequeueTimestamp, "Queue.DequeueTimestamp", q.DequeueTimestamp)
	}
	return ts.Err()
}

// DedupKey is the identity of this copy of the record for duplicate removal: instance,
// contact and LastUpdateTimestamp (unix nanoseconds). A copy resent as it was is a
// duplicate; an update has a greater LastUpdateTimestamp, so a new key. Decode refuses
// the separator inside the parts.
func (r *Record) DedupKey() string {
	return r.ContactKey() + jsondecode.IDSeparator + strconv.FormatInt(jsondecode.Nanos(r.LastUpdateTimestamp), 10)
}

// ContactKey is the contact's identity, instance and contact id: the same for every copy
// and update of its record, to count the contact once.
func (r *Record) ContactKey() string {
	return r.InstanceARN + jsondecode.IDSeparator + r.ContactID
}
