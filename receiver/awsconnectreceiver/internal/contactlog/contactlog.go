// Package contactlog maps contact events and contact records, and records that are
// neither, to OTLP log records, the way eventlog maps agent events: the same resources,
// the same redaction, the same shape for malformed records. It knows nothing of how
// records are read or decoded: the caller decodes each record, removes duplicates, and
// adds what is left.
package contactlog

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

// Attribute names of the log records, besides eventlog's (event id and type, agent ARN,
// the aws.kinesis.* ones, error.type, exception.message).
const (
	AttrContactID        = "aws.connect.contact.id"
	AttrInitialContactID = "aws.connect.contact.initial_id"
	AttrChannel          = "aws.connect.channel"
	AttrQueueARN         = "aws.connect.queue.arn"
	AttrQueueName        = "aws.connect.queue.name"
	AttrInitiationMethod = "aws.connect.contact.initiation_method"

	EventNamePrefix = "aws.connect.contact."
	RecordEventName = "aws.connect.contact_record"
)

// eventNames caches the event name of each documented event type.
var eventNames = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{
		contactevent.TypeInitiated, contactevent.TypeConnectedToSystem, contactevent.TypeContactDataUpdated,
		contactevent.TypeQueued, contactevent.TypeConnectedToAgent, contactevent.TypeDisconnected,
		contactevent.TypeCompleted, contactevent.TypePaused, contactevent.TypeResumed,
	} {
		m[t] = EventNamePrefix + strings.ToLower(t)
	}
	return m
}()

// EventName is the log record's event name for a contact event type; an unknown type
// passes through the same way, in lower case.
func EventName(eventType string) string {
	if n, ok := eventNames[eventType]; ok {
		return n
	}
	return EventNamePrefix + strings.ToLower(eventType)
}

// malformedWhat completes "it is not ..." in the body of a malformed record under redact.
const malformedWhat = "a contact event or a contact record"

// noInstance groups the records that name no Connect instance: malformed ones, mostly.
const noInstance = ""

// Records turns the records of one batch into log records grouped by Amazon Connect
// instance, each instance under the resource eventlog's Builder gives it. Not safe for
// concurrent use. A nil *Records adds nothing: for a receiver without a logs pipeline.
type Records struct {
	redact *eventlog.Redactor
	// recordText and redactedJSON say what the body is: eventlog.Builder.BodyIsRecordText
	// and BodyIsRedactedJSON.
	recordText, redactedJSON bool
	src                      eventlog.Source
	observed                 pcommon.Timestamp
	groups                   *eventlog.Groups
	// slab holds the values of the bodies and attributes built here.
	slab pdataslab.Slab
	body bodyBuilder
	// json is scratch space for bodies written as JSON text.
	json []byte
}

// NewRecords starts a batch of about capacity records read from src at observed. b
// gives the resources and the redactor.
func NewRecords(b *eventlog.Builder, src eventlog.Source, capacity int, observed time.Time) *Records {
	r := &Records{
		redact:       b.Redactor(),
		recordText:   b.BodyIsRecordText(),
		redactedJSON: b.BodyIsRedactedJSON(),
		src:          src,
		observed:     pcommon.NewTimestampFromTime(observed),
		groups:       b.NewGroups(capacity),
	}
	r.body = bodyBuilder{redact: r.redact, slab: &r.slab}
	return r
}

// maxAttrs is the most attributes a record gets: nine of its own, three of the source.
const maxAttrs = 12

// AddEvent adds the log record of a decoded contact event; data is the record it was
// decoded from, the body.
func (r *Records) AddEvent(ev *contactevent.Event, data []byte, sequenceNumber string) {
	if r == nil {
		return
	}
	lr := plog.NewLogRecord()
	if t := ev.Timestamp(); !t.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	}
	lr.SetEventName(EventName(ev.EventType))
	setInfo(lr)
	attrs := lr.Attributes()
	r.slab.EnsureCapacity(attrs, maxAttrs)
	r.put(attrs, eventlog.AttrEventID, ev.Envelope.ID)
	r.put(attrs, eventlog.AttrEventType, ev.EventType)
	r.put(attrs, AttrContactID, ev.ContactID)
	r.put(attrs, AttrInitialContactID, ev.InitialContactID)
	r.put(attrs, AttrChannel, ev.Channel)
	r.put(attrs, AttrInitiationMethod, ev.InitiationMethod)
	if ev.Queue != nil {
		r.putARN(attrs, AttrQueueARN, ev.Queue.ARN)
	}
	if ev.Agent != nil {
		r.putARN(attrs, eventlog.AttrAgentARN, ev.Agent.ARN)
	}
	r.setBody(lr.Body(), data)
	r.add(lr, ev.InstanceARN, sequenceNumber)
}

// AddRecord adds the log record of a decoded contact record; data is the record it was
// decoded from, the body.
func (r *Records) AddRecord(rec *contactrecord.Record, data []byte, sequenceNumber string) {
	if r == nil {
		return
	}
	lr := plog.NewLogRecord()
	if !rec.LastUpdateTimestamp.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(rec.LastUpdateTimestamp))
	}
	lr.SetEventName(RecordEventName)
	setInfo(lr)
	attrs := lr.Attributes()
	r.slab.EnsureCapacity(attrs, maxAttrs)
	r.put(attrs, AttrContactID, rec.ContactID)
	r.put(attrs, AttrInitialContactID, rec.InitialContactID)
	r.put(attrs, AttrChannel, rec.Channel)
	r.put(attrs, AttrInitiationMethod, rec.InitiationMethod)
	if rec.Queue != nil {
		r.putARN(attrs, AttrQueueARN, rec.Queue.ARN)
		r.put(attrs, AttrQueueName, rec.Queue.Name)
	}
	if rec.Agent != nil {
		r.putARN(attrs, eventlog.AttrAgentARN, rec.Agent.ARN)
	}
	r.setBody(lr.Body(), data)
	r.add(lr, rec.InstanceARN, sequenceNumber)
}

// setBody makes body of a decoded record's data, in the Builder's body format.
func (r *Records) setBody(body pcommon.Value, data []byte) {
	if r.recordText {
		body.SetStr(string(data))
		return
	}
	r.body.build(body, data)
	if r.redactedJSON {
		r.json = eventlog.SetJSON(body, r.json)
	}
}

// AddMalformed adds the log record of a record that could not be decoded, as eventlog
// does: severity ERROR, error.type, exception.message, the raw data unless redact is on.
func (r *Records) AddMalformed(data []byte, sequenceNumber string, err error) {
	if r == nil {
		return
	}
	lr := plog.NewLogRecord()
	eventlog.FillMalformed(lr, data, err, r.redact, malformedWhat)
	r.add(lr, noInstance, sequenceNumber)
}

// Logs returns the log records added so far.
func (r *Records) Logs() plog.Logs { return r.groups.Logs() }

func setInfo(lr plog.LogRecord) {
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
}

// put puts an attribute of the record, each once on a map without it, if not empty.
func (r *Records) put(attrs pcommon.Map, k, v string) {
	if v != "" {
		r.slab.PutNewStr(attrs, k, v)
	}
}

// putARN puts an ARN, hashed if it names an agent (an agent's, or an agent's own queue)
// and the redactor hashes agent ARNs: as the body has it.
func (r *Records) putARN(attrs pcommon.Map, k, arn string) {
	if arn != "" && r.redact.HashesAgentARN() && (k == eventlog.AttrAgentARN || eventlog.IsAgentARN(arn)) {
		arn = r.redact.Hash(arn)
	}
	r.put(attrs, k, arn)
}

func (r *Records) add(lr plog.LogRecord, instance, sequenceNumber string) {
	lr.SetObservedTimestamp(r.observed)
	attrs := lr.Attributes()
	r.slab.PutNewStr(attrs, eventlog.AttrStreamName, r.src.Stream)
	r.slab.PutNewStr(attrs, eventlog.AttrShardID, r.src.Shard)
	r.slab.PutNewStr(attrs, eventlog.AttrSequenceNumber, sequenceNumber)
	lr.MoveTo(r.groups.Records(instance).AppendEmpty())
}
