package connectsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
)

// The test decodes contact events and contact records with encoding/json, on its own
// structs, so that it checks the wire format and not the simulator's own view of it.

type eventEnvelope struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     eventDetail `json:"detail"`
}

type eventDetail struct {
	EventType                  string `json:"eventType"`
	ContactID                  string `json:"contactId"`
	InitialContactID           string `json:"initialContactId"`
	PreviousContactID          string `json:"previousContactId"`
	Channel                    string `json:"channel"`
	InstanceArn                string `json:"instanceArn"`
	InitiationMethod           string `json:"initiationMethod"`
	InitiationTimestamp        string `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp string `json:"connectedToSystemTimestamp"`
	DisconnectTimestamp        string `json:"disconnectTimestamp"`
	QueueInfo                  *struct {
		QueueArn         string `json:"queueArn"`
		QueueType        string `json:"queueType"`
		EnqueueTimestamp string `json:"enqueueTimestamp"`
	} `json:"queueInfo"`
	AgentInfo *struct {
		AgentArn                       string                          `json:"agentArn"`
		ConnectedToAgentTimestamp      string                          `json:"connectedToAgentTimestamp"`
		HierarchyGroups                map[string]struct{ Arn string } `json:"hierarchyGroups"`
		AfterContactWorkStartTimestamp string                          `json:"afterContactWorkStartTimestamp"`
		AfterContactWorkEndTimestamp   string                          `json:"afterContactWorkEndTimestamp"`
		AfterContactWorkDuration       *int64                          `json:"afterContactWorkDuration"`
	} `json:"agentInfo"`
	Tags map[string]string `json:"tags"`
}

type contactRecordDoc struct {
	AWSAccountID                       string `json:"AWSAccountId"`
	AWSContactTraceRecordFormatVersion string
	InstanceARN                        string
	ContactID                          string  `json:"ContactId"`
	InitialContactID                   *string `json:"InitialContactId"`
	PreviousContactID                  *string `json:"PreviousContactId"`
	NextContactID                      *string `json:"NextContactId"`
	Channel                            string
	InitiationMethod                   string
	InitiationTimestamp                string
	ConnectedToSystemTimestamp         *string
	DisconnectTimestamp                string
	DisconnectReason                   *string
	LastUpdateTimestamp                string
	TransferCompletedTimestamp         *string
	AgentConnectionAttempts            int64
	Agent                              *struct {
		ARN                            string
		Username                       string
		ConnectedToAgentTimestamp      string
		AgentInteractionDuration       int64
		CustomerHoldDuration           int64
		AfterContactWorkDuration       int64
		AfterContactWorkStartTimestamp *string
		AfterContactWorkEndTimestamp   *string
		NumberOfHolds                  int64
		RoutingProfile                 struct{ ARN, Name string }
	}
	Queue *struct {
		ARN              string
		Name             *string
		EnqueueTimestamp string
		DequeueTimestamp string
		Duration         int64
	}
}

var (
	secondsRE        = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	millisValueRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	recordTimeRE     = regexp.MustCompile(`"[A-Za-z]*Timestamp":("[^"]*"|null)`)
	eventTimeRE      = regexp.MustCompile(`"[A-Za-z]*Timestamp":"([^"]*)"`)
	instanceARN      = defaultInstanceARN()
	contactARNPrefix = instanceARN + "/contact/"
)

// simulateAll runs cfg for d of virtual time and returns the simulator and its records,
// up to and including the whole step that crossed d, so that the simulator's state is
// exactly what the records tell.
func simulateAll(t testing.TB, cfg Config, d time.Duration) (*Simulator, []Record) {
	t.Helper()
	s, err := New(cfg, testStart)
	require.NoError(t, err)
	end := testStart.Add(d)
	var recs []Record
	for {
		r := s.Next()
		recs = append(recs, r)
		if !r.At.Before(end) {
			for s.outHead < len(s.out) {
				recs = append(recs, s.Next())
			}
			return s, recs
		}
	}
}

// parseMillis reads a time that must have exactly three fractional digits; parseSeconds
// one that must have none. (Their layouts, not a regular expression: they run for every
// time of every record, and the test must stay fast under -race.)
func parseMillis(t testing.TB, v, where string) time.Time {
	t.Helper()
	tm, err := time.Parse(timestampLayout, v)
	if err != nil || tm.Format(timestampLayout) != v {
		t.Fatalf("%q is not a UTC time with milliseconds (%v): %s", v, err, where)
	}
	return tm
}

func parseSeconds(t testing.TB, v, where string) time.Time {
	t.Helper()
	tm, err := time.Parse(secondsLayout, v)
	if err != nil || tm.Format(secondsLayout) != v {
		t.Fatalf("%q is not a UTC time in whole seconds (%v): %s", v, err, where)
	}
	return tm
}

// trackedContact is one contact as its contact events tell it.
type trackedContact struct {
	method, channel, queue, agent, previous, initial string
	initiated, queued, connected, disconnected, done time.Time
	acwEnd                                           time.Time
	dequeuedNoAgent                                  bool
	next                                             string // the CALLBACK, QUEUE_TRANSFER or TRANSFER contact made from it
	nextMethod                                       string
}

// outcome is how a queued contact left its queue, or "" while it waits.
func (c *trackedContact) outcome() string {
	switch {
	case c.queued.IsZero():
		return "not queued"
	case !c.connected.IsZero():
		return "answered"
	case c.disconnected.IsZero():
		return ""
	case c.nextMethod == MethodCallback:
		return "callback"
	case c.nextMethod == MethodQueueTransfer:
		return "transferred"
	default:
		return "abandoned"
	}
}

// contactConfig is shiftyConfig with contact events and records on.
func contactConfig() Config {
	cfg := shiftyConfig()
	cfg.ContactEvents, cfg.ContactRecords = true, true
	return cfg
}

// TestContactInvariants runs 50 agents for 8 virtual hours with contact events and
// contact records on, decodes all of it, and checks that the three feeds tell the same
// story: per queue, contacts queued = answered + abandoned + callback + transferred +
// still waiting (the waiting ones checked against the simulator's own queues); every
// answer follows its QUEUED; every contact record agrees with the events; every contact
// an agent holds in agent events was queued first, in the same queue, and reached that
// agent in the contact events.
func TestContactInvariants(t *testing.T) {
	cfg := contactConfig()
	const runFor = 8 * time.Hour
	sim, recs := simulateAll(t, cfg, runFor)
	end := testStart.Add(runFor)

	contacts := map[string]*trackedContact{}
	envelopeIDs := map[string]bool{}
	kinds := map[Kind]int{}
	types := map[string]int{}
	var prevAt time.Time
	type ctrCopy struct {
		doc  contactRecordDoc
		data []byte
		at   time.Time
	}
	ctrs := map[string][]ctrCopy{}
	var agentRecs []Record
	// The receiver's decoders read every event and record, and no two events share the
	// identity its duplicate removal keys them by.
	var ce contactevent.Event
	var cr contactrecord.Record
	dedupKeys := map[string]bool{}

	for i, r := range recs {
		where := fmt.Sprintf("record %d (%s %s at %s)", i, r.Kind, r.EventType, r.At.Format(timestampLayout))
		require.False(t, r.At.Before(prevAt), "records come in time order: %s", where)
		prevAt = r.At
		kinds[r.Kind]++
		switch r.Kind {
		case KindAgentEvent:
			agentRecs = append(agentRecs, r)
		case KindContactEvent:
			var ev eventEnvelope
			require.NoError(t, json.Unmarshal(r.Data, &ev), where)
			d := ev.Detail
			types[d.EventType]++
			require.Equal(t, d.EventType, r.EventType, where)
			require.Equal(t, d.ContactID, r.Key, "partition key is the contact id: %s", where)
			require.Equal(t, "0", ev.Version, where)
			require.Equal(t, "Amazon Connect Contact Event", ev.DetailType, where)
			require.Equal(t, "aws.connect", ev.Source, where)
			require.Equal(t, cfg.AccountID, ev.Account, where)
			require.Equal(t, cfg.Region, ev.Region, where)
			require.ElementsMatch(t, []string{contactARNPrefix + d.ContactID, instanceARN}, ev.Resources, where)
			matches(t, eventIDRE, ev.ID, where)
			require.False(t, envelopeIDs[ev.ID], "envelope id %s repeats: %s", ev.ID, where)
			envelopeIDs[ev.ID] = true
			require.Equal(t, r.At.Truncate(time.Second).Format(secondsLayout), ev.Time, "time is the event's, in whole seconds: %s", where)
			require.Equal(t, instanceARN, d.InstanceArn, where)
			require.Equal(t, cfg.InstanceID, d.Tags["aws:connect:instanceId"], where)
			if i%5 == 0 { // a sample: the regular expressions are slow
				for _, m := range eventTimeRE.FindAllSubmatch(r.Data, -1) {
					require.Regexp(t, millisValueRE, string(m[1]), where)
				}
			}
			require.NotContains(t, string(r.Data), "null", "contact events leave out what they do not know: %s", where)

			require.NoError(t, contactevent.Decode(r.Data, &ce), where)
			require.Equal(t, d.ContactID, ce.ContactID, where)
			require.Equal(t, ev.ID, ce.Envelope.ID, where)
			require.True(t, r.At.Equal(ce.Timestamp()), "the event's own time is when it happened: %s", where)
			require.False(t, dedupKeys[ce.DedupKey()], "two events with one identity: %s", where)
			dedupKeys[ce.DedupKey()] = true

			c := contacts[d.ContactID]
			if d.EventType == ContactInitiated {
				require.Nil(t, c, "one INITIATED per contact: %s", where)
				c = &trackedContact{method: d.InitiationMethod, channel: d.Channel, previous: d.PreviousContactID, initial: d.InitialContactID,
					initiated: parseMillis(t, d.InitiationTimestamp, where)}
				require.True(t, c.initiated.Equal(r.At), where)
				contacts[d.ContactID] = c
				if d.PreviousContactID != "" {
					p := contacts[d.PreviousContactID]
					require.NotNil(t, p, "the previous contact is known: %s", where)
					require.Empty(t, p.next, "one contact made from another: %s", where)
					p.next, p.nextMethod = d.ContactID, d.InitiationMethod
					require.False(t, p.disconnected.IsZero(), "the previous contact ended first: %s", where)
					require.True(t, p.disconnected.Equal(c.initiated), "it ends as this one starts: %s", where)
					want := p.initial
					if want == "" {
						want = d.PreviousContactID
					}
					require.Equal(t, want, d.InitialContactID, "the chain's first contact: %s", where)
					switch d.InitiationMethod {
					case MethodCallback, MethodQueueTransfer:
						require.True(t, p.dequeuedNoAgent, "a %s comes from a contact no agent took: %s", d.InitiationMethod, where)
					case MethodTransfer:
						require.NotEmpty(t, p.agent, "a TRANSFER comes from a contact an agent took: %s", where)
					default:
						t.Fatalf("a %s contact has a previous contact: %s", d.InitiationMethod, where)
					}
				} else {
					require.Empty(t, d.InitialContactID, where)
					require.Contains(t, []string{MethodInbound, MethodAPI, MethodOutbound}, d.InitiationMethod, where)
				}
			}
			require.NotNil(t, c, "INITIATED comes first: %s", where)
			require.True(t, c.done.IsZero(), "nothing after COMPLETED: %s", where)
			require.Equal(t, c.method, d.InitiationMethod, where)
			require.Equal(t, c.channel, d.Channel, where)
			if d.QueueInfo != nil {
				require.NotEqual(t, MethodOutbound, c.method, "OUTBOUND contacts have no queueInfo: %s", where)
				matches(t, queueARNRE, d.QueueInfo.QueueArn, where)
				enq := parseMillis(t, d.QueueInfo.EnqueueTimestamp, where)
				if c.queue == "" {
					require.Equal(t, ContactQueued, d.EventType, "QUEUED brings the queue: %s", where)
				} else {
					require.Equal(t, c.queue, d.QueueInfo.QueueArn, where)
					require.True(t, c.queued.Equal(enq), where)
				}
				wantType := "STANDARD"
				if queueARNRE.FindStringSubmatch(d.QueueInfo.QueueArn)[1] != "" {
					wantType = "AGENT"
				}
				require.Equal(t, wantType, d.QueueInfo.QueueType, where)
			} else {
				require.Empty(t, c.queue, "later events repeat queueInfo: %s", where)
			}
			if d.AgentInfo != nil {
				matches(t, agentARNRE, d.AgentInfo.AgentArn, where)
				if c.agent != "" {
					require.Equal(t, c.agent, d.AgentInfo.AgentArn, where)
				}
			}
			switch d.EventType {
			case ContactInitiated:
			case ContactQueued:
				require.NotNil(t, d.QueueInfo, where)
				require.True(t, c.queued.IsZero(), "one QUEUED per contact: %s", where)
				c.queue, c.queued = d.QueueInfo.QueueArn, parseMillis(t, d.QueueInfo.EnqueueTimestamp, where)
				require.True(t, c.queued.Equal(r.At), where)
				if c.method == MethodQueueTransfer {
					require.True(t, c.queued.Equal(c.initiated), "a flow moves it at once: %s", where)
				} else {
					require.True(t, c.queued.After(c.initiated), "the flow runs before the queue: %s", where)
				}
				if c.method == MethodCallback {
					require.GreaterOrEqual(t, c.queued.Sub(c.initiated), cfg.CallbackDelay/2, "the initial delay: %s", where)
				}
			case ContactConnectedToAgent:
				require.NotNil(t, d.AgentInfo, where)
				require.Empty(t, c.agent, "one CONNECTED_TO_AGENT per contact: %s", where)
				require.True(t, c.disconnected.IsZero(), where)
				if c.method != MethodOutbound {
					require.False(t, c.queued.IsZero(), "a %s contact reaches an agent only after its QUEUED: %s", c.method, where)
				}
				c.agent, c.connected = d.AgentInfo.AgentArn, parseMillis(t, d.AgentInfo.ConnectedToAgentTimestamp, where)
				require.True(t, c.connected.Equal(r.At), where)
			case ContactConnectedToSystem:
				require.Contains(t, []string{MethodOutbound, MethodCallback}, c.method, where)
				require.NotEmpty(t, c.agent, where)
			case ContactDisconnected:
				require.True(t, c.disconnected.IsZero(), "one DISCONNECTED per contact: %s", where)
				c.disconnected = parseMillis(t, d.DisconnectTimestamp, where)
				require.True(t, c.disconnected.Equal(r.At), where)
				require.Equal(t, c.agent != "", d.AgentInfo != nil, where)
				c.dequeuedNoAgent = d.QueueInfo != nil && d.AgentInfo == nil
			case ContactCompleted:
				require.False(t, c.disconnected.IsZero(), "COMPLETED follows DISCONNECTED: %s", where)
				c.done = r.At
				if d.AgentInfo != nil && d.AgentInfo.AfterContactWorkEndTimestamp != "" {
					c.acwEnd = parseMillis(t, d.AgentInfo.AfterContactWorkEndTimestamp, where)
					require.True(t, c.acwEnd.Equal(r.At), "COMPLETED comes when after contact work ends: %s", where)
					acwStart := parseMillis(t, d.AgentInfo.AfterContactWorkStartTimestamp, where)
					require.True(t, acwStart.Equal(c.disconnected), where)
					require.NotNil(t, d.AgentInfo.AfterContactWorkDuration, where)
				} else {
					require.True(t, c.disconnected.Equal(r.At), "with no after contact work, COMPLETED comes at once: %s", where)
				}
			default:
				t.Fatalf("unexpected event type: %s", where)
			}
		case KindContactRecord:
			var doc contactRecordDoc
			require.NoError(t, json.Unmarshal(r.Data, &doc), where)
			require.Equal(t, doc.ContactID, r.Key, "partition key is the contact id: %s", where)
			if i%5 == 0 {
				for _, m := range recordTimeRE.FindAllSubmatch(r.Data, -1) {
					if string(m[1]) != "null" {
						require.Regexp(t, secondsRE, string(m[1][1:len(m[1])-1]), where)
					}
				}
			}
			require.Equal(t, FormatVersion, doc.AWSContactTraceRecordFormatVersion, where)
			require.Equal(t, cfg.AccountID, doc.AWSAccountID, where)
			require.Equal(t, instanceARN, doc.InstanceARN, where)
			for _, key := range []string{`"Agent":`, `"Queue":`, `"NextContactId":`, `"InitialContactId":`, `"PreviousContactId":`, `"DisconnectReason":`} {
				require.Contains(t, string(r.Data), key, "%s is there, null or not: %s", key, where)
			}
			require.NoError(t, contactrecord.Decode(r.Data, &cr), where)
			require.Equal(t, doc.ContactID, cr.ContactID, where)
			require.Equal(t, doc.Agent != nil, cr.Handled(), where)
			if doc.Agent != nil {
				require.Equal(t, doc.Agent.AgentInteractionDuration+doc.Agent.CustomerHoldDuration+doc.Agent.AfterContactWorkDuration, cr.HandleSeconds(), where)
			}
			ctrs[doc.ContactID] = append(ctrs[doc.ContactID], ctrCopy{doc: doc, data: r.Data, at: r.At})
		}
	}

	// Every contact an agent holds in agent events was queued first, in the same queue,
	// and reached that agent in the contact events; and the other way round.
	dec := agentevent.NewDecoder()
	var ev agentevent.Event
	heldBy := map[string]string{}
	for i, r := range agentRecs {
		where := fmt.Sprintf("agent event %d at %s", i, r.At.Format(timestampLayout))
		require.NoError(t, dec.Decode(r.Data, &ev, nil), where)
		for _, ac := range ev.Current.Contacts {
			c := contacts[ac.ContactID]
			require.NotNil(t, c, "contact %s of an agent event has contact events: %s", ac.ContactID, where)
			require.Equal(t, c.method, ac.InitiationMethod, where)
			require.Equal(t, c.channel, ac.Channel, where)
			require.False(t, c.initiated.After(ev.EventTimestamp), where)
			if c.method != MethodOutbound {
				require.False(t, c.queued.IsZero(), "contact %s was queued: %s", ac.ContactID, where)
				require.False(t, c.queued.After(ev.EventTimestamp), "contact %s was queued before an agent saw it: %s", ac.ContactID, where)
				require.Equal(t, c.queue, ac.Queue.ARN, "contact %s: same queue in both feeds: %s", ac.ContactID, where)
				require.True(t, c.queued.Equal(ac.QueueTimestamp), where)
			}
			switch ac.State {
			case StateConnecting, StateConnected, StateOnHold, StateEnded:
				require.Equal(t, ev.AgentARN, c.agent, "contact %s reached agent %s: %s", ac.ContactID, ev.AgentARN, where)
				require.False(t, c.connected.After(ev.EventTimestamp), where)
				heldBy[ac.ContactID] = ev.AgentARN
			}
		}
	}
	for id, c := range contacts {
		if c.agent != "" && c.connected.Before(end) {
			assert.Equal(t, c.agent, heldBy[id], "contact %s reached agent %s in the contact events", id, c.agent)
		}
	}

	// Per queue: queued = answered + abandoned + callback + transferred + still waiting.
	queued := map[string]int{}
	outcomes := map[string]map[string]int{}
	totals := map[string]int{}
	for _, c := range contacts {
		if c.queued.IsZero() {
			continue
		}
		queued[c.queue]++
		if outcomes[c.queue] == nil {
			outcomes[c.queue] = map[string]int{}
		}
		outcomes[c.queue][c.outcome()]++
		totals[c.outcome()]++
	}
	waiting := sim.waitingByQueue()
	for q, n := range queued {
		o := outcomes[q]
		require.Equal(t, n, o["answered"]+o["abandoned"]+o["callback"]+o["transferred"]+o[""], "queue %s: %v", q, o)
		require.Equal(t, waiting[q], o[""], "queue %s: contacts still waiting in the events and in the simulator", q)
	}
	for q, n := range waiting {
		require.Equal(t, n, outcomes[q][""], "queue %s: waiting in the simulator", q)
	}
	for _, o := range []string{"answered", "abandoned", "callback", "transferred"} {
		assert.Positive(t, totals[o], "outcome %s", o)
	}

	// Contact records: published after the contact and its after contact work, and in
	// agreement with the events; updates and duplicates as promised.
	var dups, updates int
	for id, c := range contacts {
		copies := ctrs[id]
		if !c.done.IsZero() && c.done.Before(end.Add(-2*time.Minute)) {
			require.NotEmpty(t, copies, "contact %s completed at %s has a record", id, c.done)
		}
		if len(copies) == 0 {
			continue
		}
		require.False(t, c.done.IsZero(), "contact %s has a record only once completed", id)
		first := copies[0]
		doc := first.doc
		where := fmt.Sprintf("record of contact %s", id)
		last := parseSeconds(t, doc.LastUpdateTimestamp, where)
		require.True(t, first.at.After(c.done), "published after COMPLETED: %s", where)
		require.True(t, last.After(c.disconnected), where)
		if !c.acwEnd.IsZero() {
			require.True(t, last.After(c.acwEnd), "LastUpdateTimestamp after the end of ACW: %s", where)
		}
		prevLast := last
		for _, cp := range copies[1:] {
			l := parseSeconds(t, cp.doc.LastUpdateTimestamp, where)
			if l.Equal(prevLast) {
				require.Equal(t, string(first.data), string(cp.data), "a copy with the same LastUpdateTimestamp is a duplicate: %s", where)
				dups++
			} else {
				require.True(t, l.After(prevLast), "an update has a greater LastUpdateTimestamp: %s", where)
				updates++
				first = cp
			}
			prevLast = l
		}
		require.Equal(t, c.method, doc.InitiationMethod, where)
		require.Equal(t, c.channel, doc.Channel, where)
		require.Equal(t, c.initiated.Truncate(time.Second), parseSeconds(t, doc.InitiationTimestamp, where), where)
		require.Equal(t, c.disconnected.Truncate(time.Second), parseSeconds(t, doc.DisconnectTimestamp, where), where)
		require.Equal(t, c.initial, deref(doc.InitialContactID), where)
		require.Equal(t, c.previous, deref(doc.PreviousContactID), where)
		require.Equal(t, c.next, deref(doc.NextContactID), where)
		require.Equal(t, c.agent != "", doc.Agent != nil, "handled in the record as in the events: %s", where)
		require.Equal(t, !c.queued.IsZero(), doc.Queue != nil, "queued in the record as in the events: %s", where)
		recordAbandoned := doc.Queue != nil && doc.Agent == nil && doc.NextContactID == nil
		require.Equal(t, c.outcome() == "abandoned", recordAbandoned, "abandoned in the record as in the events: %s", where)
		if doc.Queue != nil {
			require.Equal(t, c.queue, doc.Queue.ARN, where)
			enq := parseSeconds(t, doc.Queue.EnqueueTimestamp, where)
			deq := parseSeconds(t, doc.Queue.DequeueTimestamp, where)
			require.Equal(t, c.queued.Truncate(time.Second), enq, where)
			from := enq
			if c.method == MethodCallback {
				from = c.initiated.Truncate(time.Second)
			}
			require.Equal(t, int64(deq.Sub(from)/time.Second), doc.Queue.Duration, where)
			if doc.Agent != nil {
				require.Equal(t, c.connected.Truncate(time.Second), deq, where)
			} else {
				require.Equal(t, c.disconnected.Truncate(time.Second), deq, where)
			}
		}
		if a := doc.Agent; a != nil {
			require.Equal(t, c.agent, a.ARN, where)
			require.Equal(t, c.connected.Truncate(time.Second), parseSeconds(t, a.ConnectedToAgentTimestamp, where), where)
			require.GreaterOrEqual(t, a.AgentInteractionDuration, int64(0), where)
			talk := int64(c.disconnected.Truncate(time.Second).Sub(c.connected.Truncate(time.Second)) / time.Second)
			require.Equal(t, talk, a.AgentInteractionDuration+a.CustomerHoldDuration, "interaction and hold fill the time connected: %s", where)
			if !c.acwEnd.IsZero() {
				require.Equal(t, c.acwEnd.Truncate(time.Second), parseSeconds(t, *a.AfterContactWorkEndTimestamp, where), where)
				require.Equal(t, c.disconnected.Truncate(time.Second), parseSeconds(t, *a.AfterContactWorkStartTimestamp, where), where)
				require.Equal(t, int64(c.acwEnd.Truncate(time.Second).Sub(c.disconnected.Truncate(time.Second))/time.Second), a.AfterContactWorkDuration, where)
			}
			require.NotEmpty(t, a.Username, where)
			require.NotEmpty(t, a.RoutingProfile.Name, where)
		}
	}
	assert.Positive(t, dups, "duplicated records")
	assert.Positive(t, updates, "updated records")
	for _, typ := range []string{ContactInitiated, ContactQueued, ContactConnectedToAgent, ContactConnectedToSystem, ContactDisconnected, ContactCompleted} {
		assert.Positive(t, types[typ], "event type %s", typ)
	}
	t.Logf("%v records; contact events %v; outcomes %v; records: %d contacts, %d duplicates, %d updates", kinds, types, totals, len(ctrs), dups, updates)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestAgentEventsWithoutContactEvents: turning contact events and records on changes
// nothing in the agent events.
func TestAgentEventsWithoutContactEvents(t *testing.T) {
	off := contactConfig()
	off.ContactEvents, off.ContactRecords = false, false
	plain := simulate(t, off, 3*time.Hour)
	_, all := simulateAll(t, contactConfig(), 3*time.Hour)
	var agents []Record
	for _, r := range all {
		if r.Kind == KindAgentEvent && r.At.Before(testStart.Add(3*time.Hour)) {
			agents = append(agents, r)
		}
	}
	require.Equal(t, len(plain), len(agents))
	for i := range plain {
		require.Equal(t, plain[i].Key, agents[i].Key, "record %d", i)
		require.True(t, bytes.Equal(plain[i].Data, agents[i].Data), "record %d", i)
	}
	require.Greater(t, len(all), len(agents), "contact events and records came too")
}

// waitingByQueue counts, per queue ARN, the contacts in a queue now as contact events
// see them: waiting for routing, or ringing an agent who has not answered yet.
func (s *Simulator) waitingByQueue() map[string]int {
	n := map[string]int{}
	for _, c := range s.waiting {
		n[c.queueARN]++
	}
	for _, a := range s.agents {
		for _, c := range a.contacts {
			if c.queuedAt != 0 && c.method != MethodOutbound && c.agentAt == 0 && c.disconnectAt == 0 {
				n[c.queueARN]++
			}
		}
	}
	return n
}

func defaultInstanceARN() string {
	cfg := DefaultConfig()
	return cfg.InstanceARN()
}
