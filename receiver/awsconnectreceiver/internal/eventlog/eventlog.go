// Package eventlog maps agent events, and records that are not agent events, to OTLP
// log records. It knows nothing of how records are read: the receiver runs each record
// through decoding, duplicate removal, the agents' state and this mapping.
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
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
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
	bodyFormat     BodyFormat
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
	b := &Builder{resourceConfig: rac, bodyFormat: BodyMap, resources: map[string]pcommon.Resource{}}
	for _, opt := range opts {
		opt(b)
	}
	// The pool's decoders share one cache of the events' repeated parts: the pool may
	// drop a decoder at any garbage collection, and its cache with it.
	cache := agentevent.NewCache()
	b.decoders.New = func() any {
		slab := &pdataslab.Slab{}
		return &decoder{
			d:       agentevent.NewDecoderSharing(cache),
			scratch: plog.NewLogRecord(),
			slab:    slab,
			body:    bodySink{redact: b.redact, discard: pcommon.NewValueEmpty(), slab: slab},
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
	// slab holds the values of the bodies and attributes built here.
	slab *pdataslab.Slab
	// json is scratch space for bodies written as JSON text.
	json []byte
}

// Source is where a batch's records were read: their aws.kinesis.* attributes.
type Source struct {
	Stream, Shard string
}

// Records turns the records of one batch into log records, one at a time, grouped by
// Amazon Connect instance. The caller owns the flow: it decodes each record (Decode),
// decides what becomes of it (a duplicate is simply not added), and adds it (AddEvent, or
// AddMalformed for a record that is not an agent event). Release returns its decoder.
type Records struct {
	b        *Builder
	dec      *decoder
	src      Source
	observed pcommon.Timestamp
	// groups is nil when no log records are wanted: Decode then builds no body, and the
	// Add methods do nothing.
	groups *Groups
	// data is the record last decoded, for a body that is its text; valid until Release.
	data []byte
}

// Groups holds a batch's log records by Amazon Connect instance, each instance's under
// its resource (Builder.Resource) and the receiver's scope.
type Groups struct {
	b        *Builder
	logs     plog.Logs
	groups   map[string]plog.LogRecordSlice
	capacity int
}

// NewGroups starts the groups of a batch of about capacity records.
func (b *Builder) NewGroups(capacity int) *Groups {
	return &Groups{b: b, logs: plog.NewLogs(), groups: map[string]plog.LogRecordSlice{}, capacity: capacity}
}

// Records returns the log records of an instance, made on first use.
func (g *Groups) Records(instance string) plog.LogRecordSlice {
	if lrs, ok := g.groups[instance]; ok {
		return lrs
	}
	rl := g.logs.ResourceLogs().AppendEmpty()
	g.b.Resource(instance).CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lrs := sl.LogRecords()
	lrs.EnsureCapacity(g.capacity)
	g.groups[instance] = lrs
	return lrs
}

// Logs returns every log record added.
func (g *Groups) Logs() plog.Logs { return g.logs }

// NewRecords starts a batch of capacity records read from src at observed. Without
// withLogs it only decodes: for a pipeline that wants the agents' state alone.
func (b *Builder) NewRecords(src Source, capacity int, observed time.Time, withLogs bool) *Records {
	r := &Records{
		b:        b,
		dec:      b.decoders.Get().(*decoder),
		src:      src,
		observed: pcommon.NewTimestampFromTime(observed),
	}
	if withLogs {
		r.groups = b.NewGroups(capacity)
	}
	return r
}

// Decode decodes a record's data into the event it returns, valid until the next
// Decode, and builds its log record's body in the same pass (a body that is the record's
// text is made of data by AddEvent).
func (r *Records) Decode(data []byte) (*agentevent.Event, error) {
	dec := r.dec
	if r.groups == nil || r.b.BodyIsRecordText() {
		r.data = data
		return &dec.ev, dec.d.Decode(data, &dec.ev, nil)
	}
	dec.body.reset(dec.scratch.Body())
	return &dec.ev, dec.d.Decode(data, &dec.ev, &dec.body)
}

// AddEvent adds the log record of the event last decoded.
func (r *Records) AddEvent(sequenceNumber string) {
	if r.groups == nil {
		return
	}
	dec := r.dec
	lr := dec.scratch
	switch {
	case r.b.BodyIsRecordText():
		lr.Body().SetStr(string(r.data))
	case r.b.BodyIsRedactedJSON():
		dec.json = SetJSON(lr.Body(), dec.json)
	}
	fillEvent(lr, &dec.ev, r.b.redact, dec.slab)
	r.add(lr, dec.ev.InstanceARN, sequenceNumber)
}

// AddMalformed adds the log record of a record that is not an agent event: severity
// ERROR, the raw data (or, with redact on, only its size), and what is wrong.
func (r *Records) AddMalformed(data []byte, sequenceNumber string, err error) {
	if r.groups == nil {
		return
	}
	lr := r.dec.scratch
	fillMalformed(lr, data, err, r.b.redact)
	r.add(lr, noInstance, sequenceNumber)
}

func (r *Records) add(lr plog.LogRecord, instance, sequenceNumber string) {
	lr.SetObservedTimestamp(r.observed)
	// The record's attributes so far are the event's or the failure's: none is one of these.
	attrs, slab := lr.Attributes(), r.dec.slab
	slab.PutNewStr(attrs, AttrStreamName, r.src.Stream)
	slab.PutNewStr(attrs, AttrShardID, r.src.Shard)
	slab.PutNewStr(attrs, AttrSequenceNumber, sequenceNumber)
	lr.MoveTo(r.groups.Records(instance).AppendEmpty())
}

// Logs returns the log records added; empty when none were wanted.
func (r *Records) Logs() plog.Logs {
	if r.groups == nil {
		return plog.NewLogs()
	}
	return r.groups.Logs()
}

// Release returns the decoder for another batch; the Records is not to be used after.
func (r *Records) Release() {
	r.b.decoders.Put(r.dec)
	r.dec, r.data = nil, nil
}

// Redactor is the Builder's redactor, nil if none: log records of other kinds built
// alongside redact the same way.
func (b *Builder) Redactor() *Redactor { return b.redact }

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

// Attributes of a log record: at most eight of the event (fillEvent), and three of where
// it was read (add).
const (
	maxEventAttrs = 8
	sourceAttrs   = 3
)

// maxResources bounds the resources kept, one per instance ARN: a few hundred bytes each.
const maxResources = 1000

func fillEvent(lr plog.LogRecord, ev *agentevent.Event, redact *Redactor, slab *pdataslab.Slab) {
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
	slab.EnsureCapacity(attrs, maxEventAttrs+sourceAttrs)
	putNonEmpty(slab, attrs, AttrEventID, ev.EventID)
	slab.PutNewStr(attrs, AttrEventType, ev.EventType)
	if redact.HashesAgentARN() && ev.AgentARN != "" {
		slab.PutNewStr(attrs, AttrAgentARN, redact.Hash(ev.AgentARN))
	} else {
		putNonEmpty(slab, attrs, AttrAgentARN, ev.AgentARN)
	}
	snap := &ev.Current
	switch username := snap.Configuration.Username; {
	case !redact.Active():
		putNonEmpty(slab, attrs, AttrAgentUsername, username)
	case redact.mode == RedactHash && username != "":
		slab.PutNewStr(attrs, AttrAgentUsername, redact.Hash(username))
	}
	putNonEmpty(slab, attrs, AttrStatusName, snap.AgentStatus.Name)
	putNonEmpty(slab, attrs, AttrStatusType, snap.AgentStatus.Type)
	if snap.AgentStatus.TypeDerived {
		attrs.PutBool(AttrStatusTypeDerived, true)
	}
	putNonEmpty(slab, attrs, AttrRoutingProfileName, snap.Configuration.RoutingProfile.Name)
}

// fillMalformed makes the log record of a record that is not an agent event.
func fillMalformed(lr plog.LogRecord, data []byte, err error, redact *Redactor) {
	FillMalformed(lr, data, err, redact, "an agent event")
}

// decodeFailure is what a decoder's error says of itself: its kind (error.type) and a
// message that quotes nothing of the record. agentevent's and the contact decoders'
// DecodeErrors are.
type decodeFailure interface {
	error
	ErrorType() string
	Redacted() string
}

// FillMalformed makes the log record of a record that is not what, the kind of record
// the stream carries ("an agent event"): severity ERROR, error.type and
// exception.message. Its body is the raw record, unless redact is on: a record that
// could not be read cannot be redacted field by field, and may hold a name anywhere, so
// only its size is kept, and the message quotes nothing of it.
func FillMalformed(lr plog.LogRecord, data []byte, err error, redact *Redactor, what string) {
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	kind, msg := "unknown", err.Error()
	var de decodeFailure
	if errors.As(err, &de) {
		kind = de.ErrorType()
	}
	switch {
	case redact.Active():
		lr.Body().SetStr(fmt.Sprintf("record of %d bytes withheld: it is not %s, and redact is on", len(data), what))
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

// putNonEmpty puts an attribute of the event, each put once on an empty map.
func putNonEmpty(slab *pdataslab.Slab, attrs pcommon.Map, k, v string) {
	if v != "" {
		slab.PutNewStr(attrs, k, v)
	}
}
