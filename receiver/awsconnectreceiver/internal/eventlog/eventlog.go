// Package eventlog turns Kinesis records of agent events into OTLP log records.
package eventlog

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

// Attribute names of the log records.
const (
	AttrEventID            = "aws.connect.event.id"
	AttrEventType          = "aws.connect.event.type"
	AttrAgentARN           = "aws.connect.agent.arn"
	AttrAgentUsername      = "aws.connect.agent.username"
	AttrStatusName         = "aws.connect.agent.status.name"
	AttrStatusType         = "aws.connect.agent.status.type"
	AttrStatusTypeDerived  = "aws.connect.agent.status.type_derived"
	AttrRoutingProfileName = "aws.connect.routing_profile.name"
	AttrStreamName         = "aws.kinesis.stream_name"
	AttrShardID            = "aws.kinesis.shard_id"
	AttrSequenceNumber     = "aws.kinesis.sequence_number"
	AttrErrorType          = "error.type"
	AttrExceptionMessage   = "exception.message"
	EventNamePrefix        = "aws.connect.agent."
)

// noInstance groups the records that name no Connect instance: malformed ones, mostly.
const noInstance = ""

// eventNames caches the event name of each documented event type.
var eventNames = map[string]string{
	agentevent.TypeLogin:       EventNamePrefix + "login",
	agentevent.TypeLogout:      EventNamePrefix + "logout",
	agentevent.TypeStateChange: EventNamePrefix + "state_change",
	agentevent.TypeHeartBeat:   EventNamePrefix + "heart_beat",
}

// EventName is the log record's event name for an event type; an unknown type passes
// through the same way, in lower case.
func EventName(eventType string) string {
	if n, ok := eventNames[eventType]; ok {
		return n
	}
	return EventNamePrefix + strings.ToLower(eventType)
}

// Builder builds log records; it is safe for concurrent use.
type Builder struct {
	resourceConfig metadata.ResourceAttributesConfig
	redact         *Redactor
	decoders       sync.Pool

	mu        sync.Mutex
	resources map[string]pcommon.Resource // by instance ARN; read-only once stored
}

// Option changes a Builder.
type Option func(*Builder)

// WithRedactor has the Builder drop or hash agents' names and usernames.
func WithRedactor(r *Redactor) Option { return func(b *Builder) { b.redact = r } }

// NewBuilder returns a Builder whose resources carry the attributes rac enables.
func NewBuilder(rac metadata.ResourceAttributesConfig, opts ...Option) *Builder {
	b := &Builder{resourceConfig: rac, resources: map[string]pcommon.Resource{}}
	for _, opt := range opts {
		opt(b)
	}
	b.decoders.New = func() any {
		return &decoder{
			d:       agentevent.NewDecoder(),
			scratch: plog.NewLogRecord(),
			body:    bodySink{redact: b.redact, discard: pcommon.NewValueEmpty()},
		}
	}
	return b
}

type decoder struct {
	d    *agentevent.Decoder
	ev   agentevent.Event
	body bodySink
	// scratch is the record an event is built into before it is moved to its resource,
	// which is known only once the event is decoded.
	scratch plog.LogRecord
}

// Result is the outcome of one batch.
type Result struct {
	Logs      plog.Logs
	Malformed int
	// Duplicates are the events left out because the shard handed on their EventId
	// lately (see kinesisconsumer.RecentKeys).
	Duplicates int
}

// Build turns a batch into logs: one log record per record, grouped by Amazon Connect
// instance. A record that is not an agent event becomes a record with severity ERROR.
func (b *Builder) Build(batch kinesisconsumer.Batch, observed time.Time) Result {
	return b.BuildVisiting(batch, observed, nil)
}

// Visit decodes a batch without building logs and calls visit with each agent event, in
// order, but for duplicates (as Build leaves them out); the Result has no Logs.
func (b *Builder) Visit(batch kinesisconsumer.Batch, visit func(*agentevent.Event)) Result {
	var res Result
	dec := b.decoders.Get().(*decoder)
	defer b.decoders.Put(dec)
	for i := range batch.Records {
		if err := dec.d.Decode(batch.Records[i].Data, &dec.ev, nil); err != nil {
			res.Malformed++
			continue
		}
		if !batch.Recent.Admit(dec.ev.EventID) {
			res.Duplicates++
			continue
		}
		visit(&dec.ev)
	}
	return res
}

// BuildVisiting is Build that also calls visit, when not nil, with each agent event, in
// order, in the same pass. An event whose EventId batch.Recent does not admit (the shard
// handed it on lately) is a duplicate: it is left out, and not visited.
func (b *Builder) BuildVisiting(batch kinesisconsumer.Batch, observed time.Time, visit func(*agentevent.Event)) Result {
	res := Result{Logs: plog.NewLogs()}
	dec := b.decoders.Get().(*decoder)
	defer b.decoders.Put(dec)

	groups := map[string]plog.LogRecordSlice{}
	records := func(instance string) plog.LogRecordSlice {
		if lrs, ok := groups[instance]; ok {
			return lrs
		}
		rl := res.Logs.ResourceLogs().AppendEmpty()
		b.Resource(instance).CopyTo(rl.Resource())
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(metadata.ScopeName)
		lrs := sl.LogRecords()
		lrs.EnsureCapacity(len(batch.Records))
		groups[instance] = lrs
		return lrs
	}
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range batch.Records {
		rec := &batch.Records[i]
		lr := dec.scratch
		dec.body.reset(lr.Body())
		if err := dec.d.Decode(rec.Data, &dec.ev, &dec.body); err != nil {
			res.Malformed++
			fillMalformed(lr, rec.Data, err, b.redact)
			lr.SetObservedTimestamp(obs)
			putKinesis(lr.Attributes(), batch, rec)
			lr.MoveTo(records(noInstance).AppendEmpty())
			continue
		}
		if !batch.Recent.Admit(dec.ev.EventID) {
			res.Duplicates++
			continue
		}
		if visit != nil {
			visit(&dec.ev)
		}
		fillEvent(lr, &dec.ev, b.redact)
		lr.SetObservedTimestamp(obs)
		putKinesis(lr.Attributes(), batch, rec)
		lr.MoveTo(records(dec.ev.InstanceARN).AppendEmpty())
	}
	return res
}

// Resource returns the resource of an instance, built once and cached; it must not be
// modified. Logs and metrics of one instance share it.
func (b *Builder) Resource(instanceARN string) pcommon.Resource {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.resources[instanceARN]; ok {
		return r
	}
	rb := metadata.NewResourceBuilder(b.resourceConfig)
	rb.SetCloudProvider("aws")
	if a, ok := parseInstanceARN(instanceARN); ok {
		rb.SetCloudAccountID(a.account)
		rb.SetCloudRegion(a.region)
		rb.SetCloudResourceID(instanceARN)
		rb.SetAwsConnectInstanceID(a.instanceID)
	}
	r := rb.Emit()
	// One stream carries the events of a few instances; past maxResources (hostile
	// records naming endless ARNs) resources are built each time instead of kept.
	if len(b.resources) < maxResources {
		b.resources[instanceARN] = r
	}
	return r
}

// maxResources bounds the resources kept, one per instance ARN: a few hundred bytes each.
const maxResources = 1000

func fillEvent(lr plog.LogRecord, ev *agentevent.Event, redact *Redactor) {
	if !ev.EventTimestamp.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.EventTimestamp))
	}
	lr.SetEventName(EventName(ev.EventType))
	if ev.Current.HasProblemContact() {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	attrs := lr.Attributes()
	attrs.EnsureCapacity(13)
	putNonEmpty(attrs, AttrEventID, ev.EventID)
	attrs.PutStr(AttrEventType, ev.EventType)
	if redact.hashesAgentARN() && ev.AgentARN != "" {
		attrs.PutStr(AttrAgentARN, redact.hash(ev.AgentARN))
	} else {
		putNonEmpty(attrs, AttrAgentARN, ev.AgentARN)
	}
	snap := &ev.Current
	switch username := snap.Configuration.Username; {
	case !redact.active():
		putNonEmpty(attrs, AttrAgentUsername, username)
	case redact.mode == RedactHash && username != "":
		attrs.PutStr(AttrAgentUsername, redact.hash(username))
	}
	putNonEmpty(attrs, AttrStatusName, snap.AgentStatus.Name)
	putNonEmpty(attrs, AttrStatusType, snap.AgentStatus.Type)
	if snap.AgentStatus.TypeDerived {
		attrs.PutBool(AttrStatusTypeDerived, true)
	}
	putNonEmpty(attrs, AttrRoutingProfileName, snap.Configuration.RoutingProfile.Name)
}

// fillMalformed makes the log record of a record that is not an agent event. Its body is
// the raw record, unless redact is on: a record that could not be read cannot be
// redacted field by field, and may hold a name anywhere, so only its size is kept, and
// the message quotes nothing of it.
func fillMalformed(lr plog.LogRecord, data []byte, err error, redact *Redactor) {
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	kind, msg := "unknown", err.Error()
	var de *agentevent.DecodeError
	if errors.As(err, &de) {
		kind = de.Kind
	}
	switch {
	case redact.active():
		lr.Body().SetStr(fmt.Sprintf("record of %d bytes withheld: it is not an agent event, and redact is on", len(data)))
		msg = "record could not be decoded"
		if de != nil {
			msg = de.Redacted()
		}
	case utf8.Valid(data):
		lr.Body().SetStr(string(data))
	default:
		lr.Body().SetEmptyBytes().FromRaw(data)
	}
	attrs := lr.Attributes()
	attrs.PutStr(AttrErrorType, kind)
	attrs.PutStr(AttrExceptionMessage, msg)
}

func putKinesis(attrs pcommon.Map, batch kinesisconsumer.Batch, rec *kinesisconsumer.Record) {
	attrs.PutStr(AttrStreamName, batch.StreamName)
	attrs.PutStr(AttrShardID, batch.ShardID)
	attrs.PutStr(AttrSequenceNumber, rec.SequenceNumber)
}

func putNonEmpty(attrs pcommon.Map, k, v string) {
	if v != "" {
		attrs.PutStr(k, v)
	}
}
