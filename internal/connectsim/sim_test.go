package connectsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

var testStart = time.Date(2024, 3, 7, 7, 30, 0, 0, time.UTC)

// simulate runs cfg for d of virtual time and returns its records.
func simulate(t testing.TB, cfg Config, d time.Duration) []Record {
	t.Helper()
	s, err := New(cfg, testStart)
	require.NoError(t, err)
	end := testStart.Add(d)
	var recs []Record
	for {
		r := s.Next()
		if !r.At.Before(end) {
			return recs
		}
		recs = append(recs, r)
	}
}

// shiftyConfig has short shifts, so that a run of hours sees agents log out, get heart
// beats while logged out, and log in again; and it is busy enough (about 80% of the
// agents' time on contacts) that queues form: callers ask for callbacks and flows move
// contacts to other queues only when they wait.
func shiftyConfig() Config {
	cfg := DefaultConfig()
	cfg.ContactsPerAgentHour = 9
	cfg.ShiftLength = 3 * time.Hour
	cfg.ShiftGap = 40 * time.Minute
	cfg.ShiftStagger = 20 * time.Minute
	return cfg
}

var (
	uuidRE      = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
	instanceRE  = `arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333`
	agentARNRE  = regexp.MustCompile(`^` + instanceRE + `/agent/` + uuidRE + `$`)
	statusARNRE = regexp.MustCompile(`^` + instanceRE + `/agent-state/` + uuidRE + `$`)
	queueARNRE  = regexp.MustCompile(`^` + instanceRE + `/queue/(agent/)?` + uuidRE + `$`)
	profileRE   = regexp.MustCompile(`^` + instanceRE + `/routing-profile/` + uuidRE + `$`)
	groupARNRE  = regexp.MustCompile(`^` + instanceRE + `/agent-group/` + uuidRE + `$`)
	eventIDRE   = regexp.MustCompile(`^` + uuidRE + `$`)
	// Every timestamp in the output has milliseconds.
	timestampRE = regexp.MustCompile(`"(EventTimestamp|StartTimestamp|StateStartTimestamp|ConnectedToAgentTimestamp|QueueTimestamp|EnqueuedTimestamp|EnqueueTimestamp)":("[^"]*"|null)`)
	millisRE    = regexp.MustCompile(`^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$`)
)

// allowed are the contact state transitions the data model allows the simulator.
var allowed = map[string][]string{
	StateIncoming:   {StateConnected, StateConnecting, StateMissed, StateRejected, StateError},
	StateConnecting: {StateConnected, StateError, StateEnded},
	StateConnected:  {StateOnHold, StateEnded},
	StateOnHold:     {StateConnected, StateEnded},
}

type rawSnapshots struct {
	Current  json.RawMessage `json:"CurrentAgentSnapshot"`
	Previous json.RawMessage `json:"PreviousAgentSnapshot"`
}

type agentTrack struct {
	events   int
	last     time.Time
	lastType string
	current  json.RawMessage
	loggedIn bool
	logoutAt time.Time
	contacts map[string]bool
}

// TestInvariants runs 50 agents for 8 virtual hours and checks every event against the
// data model and the simulator's promises.
func TestInvariants(t *testing.T) {
	cfg := shiftyConfig()
	const runFor = 8 * time.Hour
	recs := simulate(t, cfg, runFor)
	end := testStart.Add(runFor)
	require.Greater(t, len(recs), 10000)

	dec := agentevent.NewDecoder()
	var ev agentevent.Event
	agents := map[string]*agentTrack{}
	holder := map[string]string{} // contact id -> agent ARN whose snapshot lists it
	eventIDs := map[string]bool{}
	seenTypes := map[string]int{}
	seenStates := map[string]int{}
	seenMethods := map[string]int{}
	seenChannels := map[string]int{}
	seenStatuses := map[string]int{}
	seenNext := map[string]int{}
	var (
		prevAt                                time.Time
		agentQueueContacts, heartBeatsOffline int
		statusARNs                            = map[string]string{}
	)
	for i, r := range recs {
		where := fmt.Sprintf("record %d (%s at %s)", i, r.EventType, r.At.Format(timestampLayout))
		require.NoError(t, dec.Decode(r.Data, &ev, nil), where)
		require.Equal(t, r.Key, ev.AgentARN, "partition key is the agent ARN: %s", where)
		matches(t, agentARNRE, ev.AgentARN, where)
		require.Equal(t, cfg.InstanceARN(), ev.InstanceARN, where)
		require.Equal(t, "123456789012", ev.AWSAccountID, where)
		require.Equal(t, VersionCurrent, ev.Version, where)
		require.Equal(t, r.EventType, ev.EventType, where)
		require.True(t, r.At.Equal(ev.EventTimestamp), where)
		require.False(t, r.At.Before(prevAt), "output is in time order: %s", where)
		prevAt = r.At
		require.Regexp(t, eventIDRE, ev.EventID, where)
		require.False(t, eventIDs[ev.EventID], "EventId %s repeats: %s", ev.EventID, where)
		eventIDs[ev.EventID] = true
		if i%10 == 0 { // a sample: the regular expressions are slow
			for _, m := range timestampRE.FindAllSubmatch(r.Data, -1) {
				if string(m[2]) != "null" {
					require.Regexp(t, millisRE, string(m[2]), "%s: %s", where, m[1])
				}
			}
		}
		require.NotContains(t, string(r.Data), `"EnqueueTimestamp"`, where)
		seenTypes[ev.EventType]++

		raw := rawSnapshots{Current: rawMember(r.Data, "CurrentAgentSnapshot"), Previous: rawMember(r.Data, "PreviousAgentSnapshot")}
		require.NotNil(t, raw.Current, where)
		if i%100 == 0 {
			var full rawSnapshots
			require.NoError(t, json.Unmarshal(r.Data, &full), where)
			require.Equal(t, string(full.Current), string(raw.Current), where)
			require.Equal(t, string(full.Previous), string(raw.Previous), where)
		}
		a := agents[ev.AgentARN]
		if a == nil {
			a = &agentTrack{contacts: map[string]bool{}}
			agents[ev.AgentARN] = a
			require.Equal(t, agentevent.TypeLogin, ev.EventType, "an agent's first event is LOGIN: %s", where)
		}

		// Timestamps per agent, and heart beats after exactly 120 s of silence.
		if a.events > 0 {
			require.True(t, ev.EventTimestamp.After(a.last), "EventTimestamps increase per agent: %s", where)
			gap := ev.EventTimestamp.Sub(a.last)
			if a.loggedIn || !a.last.Add(HeartBeatInterval).After(a.logoutAt.Add(HeartBeatAfterLogout)) {
				require.LessOrEqual(t, gap, HeartBeatInterval, "no agent is silent for more than 120 s: %s", where)
			} else {
				require.Equal(t, agentevent.TypeLogin, ev.EventType, "an hour after logout only LOGIN comes: %s", where)
			}
			if ev.EventType == agentevent.TypeHeartBeat {
				require.Equal(t, HeartBeatInterval, gap, "a HEART_BEAT follows 120 s of silence: %s", where)
			}
		}

		// The previous snapshot is the agent's previous current one, byte for byte.
		if ev.EventType == agentevent.TypeLogin {
			require.False(t, ev.HasPrevious, "LOGIN has no PreviousAgentSnapshot: %s", where)
			require.Nil(t, raw.Previous, where)
			require.False(t, a.loggedIn, "LOGIN of a logged-in agent: %s", where)
			require.Equal(t, "Available", ev.Current.AgentStatus.Name, where)
			require.True(t, ev.Current.AgentStatus.StartTimestamp.Equal(ev.EventTimestamp), where)
			require.Empty(t, ev.Current.Contacts, where)
		} else {
			require.True(t, ev.HasPrevious, where)
			require.Equal(t, string(a.current), string(raw.Previous), "PreviousAgentSnapshot is the last CurrentAgentSnapshot: %s", where)
		}

		cur, prev := &ev.Current, &ev.Previous
		switch ev.EventType {
		case agentevent.TypeHeartBeat:
			require.Equal(t, string(raw.Previous), string(raw.Current), "a HEART_BEAT changes nothing: %s", where)
			if !a.loggedIn {
				heartBeatsOffline++
				require.Equal(t, agentevent.StatusOffline, cur.AgentStatus.Type, where)
			}
		case agentevent.TypeLogout:
			require.True(t, a.loggedIn, where)
			require.Equal(t, agentevent.StatusOffline, cur.AgentStatus.Type, where)
			require.Equal(t, agentevent.StatusOffline, prev.AgentStatus.Type, "agents go Offline, then log out: %s", where)
			require.Empty(t, cur.Contacts, where)
		case agentevent.TypeStateChange:
			require.True(t, a.loggedIn, "STATE_CHANGE of a logged-out agent: %s", where)
		}

		// Agent status.
		st := cur.AgentStatus
		require.False(t, st.TypeDerived, where)
		matches(t, statusARNRE, st.ARN, where)
		require.Equal(t, agentevent.DeriveStatusType(st.Name), st.Type, where)
		if arn, ok := statusARNs[st.Name]; ok {
			require.Equal(t, arn, st.ARN, "one ARN per status: %s", where)
		}
		statusARNs[st.Name] = st.ARN
		seenStatuses[st.Name]++
		if ev.HasPrevious {
			if prev.AgentStatus.Name != st.Name {
				require.True(t, st.StartTimestamp.Equal(ev.EventTimestamp), "a new status starts with its event: %s", where)
			} else {
				require.True(t, st.StartTimestamp.Equal(prev.AgentStatus.StartTimestamp), where)
			}
		}
		if next := cur.NextAgentStatus; next.Name != "" {
			seenNext[next.Name]++
			matches(t, statusARNRE, next.ARN, where)
			require.NotEqual(t, "Available", next.Name, where)
			require.NotEmpty(t, cur.Contacts, "a next status waits only for contacts: %s", where)
			require.False(t, next.EnqueuedTimestamp.After(ev.EventTimestamp), where)
			if prev.NextAgentStatus.Name != next.Name {
				require.True(t, next.EnqueuedTimestamp.Equal(ev.EventTimestamp), where)
			}
		}

		// Configuration.
		conf := cur.Configuration
		require.NotEmpty(t, conf.Username, where)
		matches(t, profileRE, conf.RoutingProfile.ARN, where)
		matches(t, queueARNRE, conf.RoutingProfile.DefaultOutboundQueue.ARN, where)
		for _, q := range conf.RoutingProfile.InboundQueues {
			matches(t, queueARNRE, q.ARN, where)
		}
		for _, g := range conf.HierarchyGroups.Levels {
			if g.ARN != "" {
				matches(t, groupARNRE, g.ARN, where)
			}
		}

		// Slots agree with the contacts that hold them.
		held := map[string]int64{}
		for _, c := range cur.Contacts {
			switch c.State {
			case agentevent.ContactMissed, agentevent.ContactRejected, agentevent.ContactError:
			default:
				held[c.Channel]++
			}
		}
		require.NotEmpty(t, conf.RoutingProfile.Concurrency, where)
		for _, cc := range conf.RoutingProfile.Concurrency {
			require.Equal(t, cc.MaximumSlots-held[cc.Channel], cc.AvailableSlots, "%s slots: %s", cc.Channel, where)
			require.GreaterOrEqual(t, cc.AvailableSlots, int64(0), where)
			require.LessOrEqual(t, cc.AvailableSlots, cc.MaximumSlots, where)
		}

		// Contacts: allowed transitions, state timestamps, one agent at a time.
		before := map[string]agentevent.Contact{}
		if ev.HasPrevious {
			for _, c := range prev.Contacts {
				before[c.ContactID] = c
			}
		}
		now := map[string]bool{}
		for _, c := range cur.Contacts {
			now[c.ContactID] = true
			seenStates[c.State]++
			seenMethods[c.InitiationMethod]++
			seenChannels[c.Channel]++
			matches(t, eventIDRE, c.ContactID, where)
			matches(t, queueARNRE, c.Queue.ARN, where)
			if c.Queue.Name == "" {
				agentQueueContacts++
				require.Equal(t, MethodTransfer, c.InitiationMethod, "only transfers go to agent queues: %s", where)
			}
			if c.InitiationMethod == MethodTransfer || c.InitiationMethod == MethodCallback || c.InitiationMethod == MethodQueueTransfer {
				require.NotEmpty(t, c.InitialContactID, "a contact made from another names its chain: %s", where)
			} else {
				require.Empty(t, c.InitialContactID, where)
			}
			if c.InitiationMethod == MethodOutbound {
				require.True(t, c.QueueTimestamp.IsZero(), "outbound contacts have no QueueTimestamp: %s", where)
			} else {
				require.False(t, c.QueueTimestamp.IsZero(), where)
				require.False(t, c.QueueTimestamp.After(ev.EventTimestamp), where)
			}
			if !c.ConnectedToAgentTimestamp.IsZero() {
				require.False(t, c.ConnectedToAgentTimestamp.After(c.StateStartTimestamp), where)
			}
			if other, ok := holder[c.ContactID]; ok && other != ev.AgentARN {
				t.Fatalf("contact %s is in the snapshots of %s and %s: %s", c.ContactID, other, ev.AgentARN, where)
			}
			holder[c.ContactID] = ev.AgentARN

			old, had := before[c.ContactID]
			switch {
			case !had:
				require.Equal(t, agentevent.TypeStateChange, ev.EventType, where)
				require.True(t, c.StateStartTimestamp.Equal(ev.EventTimestamp), where)
				if c.InitiationMethod == MethodOutbound {
					require.Equal(t, StateConnecting, c.State, "outbound contacts start CONNECTING: %s", where)
				} else {
					require.Equal(t, StateIncoming, c.State, "inbound contacts start INCOMING: %s", where)
					// Routing offers contacts to routable agents only.
					require.Equal(t, agentevent.StatusRoutable, prev.AgentStatus.Type, "contact routed to an agent in %s: %s", prev.AgentStatus.Name, where)
					require.Empty(t, prev.NextAgentStatus.Name, "contact routed to an agent waiting for %s: %s", prev.NextAgentStatus.Name, where)
					for _, pc := range prev.Contacts {
						require.NotContains(t, []string{StateMissed, StateRejected, StateError}, pc.State, where)
					}
				}
			case old.State != c.State:
				require.Contains(t, allowed[old.State], c.State, "contact %s: %s -> %s: %s", c.ContactID, old.State, c.State, where)
				require.True(t, c.StateStartTimestamp.Equal(ev.EventTimestamp), where)
				if c.State == StateRejected {
					require.NotEqual(t, ChannelVoice, c.Channel, "voice is MISSED, not REJECTED: %s", where)
				}
				if c.State == StateMissed {
					require.Equal(t, ChannelVoice, c.Channel, where)
				}
			default:
				require.True(t, c.StateStartTimestamp.Equal(old.StateStartTimestamp), where)
				if ev.EventType == agentevent.TypeStateChange {
					require.NotContains(t, []string{StateMissed, StateRejected, StateError}, c.State,
						"a %s contact leaves with the next state change: %s", c.State, where)
				}
			}
		}
		for id, old := range before {
			if !now[id] {
				require.Contains(t, []string{StateEnded, StateMissed, StateRejected, StateError}, old.State,
					"contact %s left in state %s: %s", id, old.State, where)
				if holder[id] == ev.AgentARN {
					delete(holder, id)
				}
			}
		}

		switch ev.EventType {
		case agentevent.TypeLogin:
			a.loggedIn = true
		case agentevent.TypeLogout:
			a.loggedIn, a.logoutAt = false, ev.EventTimestamp
		}
		a.events++
		a.last, a.lastType = ev.EventTimestamp, ev.EventType
		a.current = append(json.RawMessage(nil), raw.Current...)
	}

	// Every agent still being watched at the end had an event in the last 120 s.
	for arn, a := range agents {
		if a.loggedIn || !a.last.Add(HeartBeatInterval).After(a.logoutAt.Add(HeartBeatAfterLogout)) {
			assert.False(t, end.Sub(a.last) > HeartBeatInterval, "agent %s silent since %s", arn, a.last)
		}
	}
	assert.Len(t, agents, cfg.Agents, "every agent logged in")

	for _, typ := range []string{EventLogin, EventLogout, EventStateChange, EventHeartBeat} {
		assert.Positive(t, seenTypes[typ], "event type %s", typ)
	}
	for _, st := range []string{StateIncoming, StateConnecting, StateConnected, StateOnHold, StateEnded, StateMissed, StateRejected, StateError} {
		assert.Positive(t, seenStates[st], "contact state %s", st)
	}
	for _, m := range []string{MethodInbound, MethodOutbound, MethodTransfer, MethodCallback, MethodAPI, MethodQueueTransfer} {
		assert.Positive(t, seenMethods[m], "initiation method %s", m)
	}
	for _, ch := range []string{ChannelVoice, ChannelChat, ChannelTask} {
		assert.Positive(t, seenChannels[ch], "channel %s", ch)
	}
	for _, st := range []string{"Available", "Offline", "Break", "Lunch", "Training"} {
		assert.Positive(t, seenStatuses[st], "status %s", st)
	}
	assert.Positive(t, seenNext["Break"]+seenNext["Lunch"]+seenNext["Training"], "a custom NextAgentStatus")
	assert.Positive(t, seenNext["Offline"], "Offline as NextAgentStatus at the end of a shift")
	assert.Positive(t, agentQueueContacts, "transfers to agent queues")
	assert.Positive(t, heartBeatsOffline, "heart beats after logout")
	t.Logf("%d events: %v; contact states %v; statuses %v; next statuses %v", len(recs), seenTypes, seenStates, seenStatuses, seenNext)
}

func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	a := simulate(t, cfg, 2*time.Hour)
	b := simulate(t, cfg, 2*time.Hour)
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.Equal(t, a[i].Key, b[i].Key, "record %d", i)
		require.True(t, bytes.Equal(a[i].Data, b[i].Data), "record %d differs", i)
		require.Equal(t, a[i].At, b[i].At)
	}

	cfg.Seed = 2
	c := simulate(t, cfg, 2*time.Hour)
	same := 0
	for i := range min(len(a), len(c)) {
		if bytes.Equal(a[i].Data, c[i].Data) {
			same++
		}
	}
	assert.Zero(t, same, "another seed gives other events")
	assert.NotEqual(t, a[0].Key, c[0].Key, "another seed gives other agents")
}

func TestVariations(t *testing.T) {
	plain := DefaultConfig()
	cfg := plain
	cfg.OldVersionFraction = 0.2
	cfg.NoStatusTypeFraction = 0.3
	cfg.EnqueueSpellingFraction = 0.5
	const runFor = 6 * time.Hour
	base := simulate(t, plain, runFor)
	recs := simulate(t, cfg, runFor)

	// The variations do not change the simulation, only how events are spelled.
	require.Equal(t, len(base), len(recs))
	for i := range recs {
		require.Equal(t, base[i].Key, recs[i].Key)
		require.Equal(t, base[i].At, recs[i].At)
		require.Equal(t, base[i].EventType, recs[i].EventType)
	}

	dec := agentevent.NewDecoder()
	var ev agentevent.Event
	var old, noType, withNext, spelled int
	for i, r := range recs {
		require.NoError(t, dec.Decode(r.Data, &ev, nil), "record %d", i)
		if ev.Version == VersionOld {
			old++
		} else {
			require.Equal(t, VersionCurrent, ev.Version)
		}
		if ev.Current.AgentStatus.TypeDerived {
			noType++
		}
		if ev.Current.NextAgentStatus.Name != "" {
			withNext++
			require.False(t, ev.Current.NextAgentStatus.EnqueuedTimestamp.IsZero(), "record %d", i)
			var raw rawSnapshots
			require.NoError(t, json.Unmarshal(r.Data, &raw))
			if bytes.Contains(raw.Current, []byte(`"EnqueueTimestamp"`)) {
				spelled++
			}
		}
	}
	n := float64(len(recs))
	t.Logf("%d events: old version %d, no type %d, %d of %d next statuses spelled EnqueueTimestamp", len(recs), old, noType, spelled, withNext)
	assert.InDelta(t, 0.2, float64(old)/n, 0.02)
	assert.InDelta(t, 0.3, float64(noType)/n, 0.03)
	require.Greater(t, withNext, 100)
	assert.InDelta(t, 0.5, float64(spelled)/float64(withNext), 0.1)
}

func TestValidate(t *testing.T) {
	cfg := DefaultConfig()
	require.NoError(t, cfg.Validate())
	cfg.Agents = 0
	cfg.MissedProbability = 2
	cfg.RoutingProfiles[0].InboundQueues = []string{"Nope"}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "agents")
	assert.Contains(t, err.Error(), "missed probability")
	assert.Contains(t, err.Error(), `unknown queue "Nope"`)
	_, err = New(cfg, testStart)
	require.Error(t, err)
}

func TestSampleEventsShape(t *testing.T) {
	// The simulator's events have the key set of the repository's sample events.
	recs := simulate(t, DefaultConfig(), 30*time.Minute)
	var sample, ours map[string]any
	i := 0
	for recs[i].EventType != EventStateChange {
		i++
	}
	require.NoError(t, json.Unmarshal(recs[i].Data, &ours))
	data, err := readSample("state_change_status.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sample))
	for k := range sample {
		assert.Contains(t, ours, k)
	}
	// The mean record is a few KB, like the samples.
	var total int
	for _, r := range recs {
		total += len(r.Data)
	}
	mean := float64(total) / float64(len(recs))
	assert.True(t, mean > 2000 && mean < 10000 && !math.IsNaN(mean), "mean record size %.0f", mean)
}

var matched = map[*regexp.Regexp]map[string]bool{}

// matches is require.Regexp, remembering what matched: ARNs repeat.
func matches(t *testing.T, re *regexp.Regexp, s, where string) {
	if matched[re][s] {
		return
	}
	require.Regexp(t, re, s, where)
	if matched[re] == nil {
		matched[re] = map[string]bool{}
	}
	matched[re][s] = true
}

// rawMember returns the bytes of the value of a top-level member of a JSON object, or
// nil if it is absent.
func rawMember(doc []byte, key string) json.RawMessage {
	needle := []byte(`"` + key + `":`)
	i := bytes.Index(doc, needle)
	if i < 0 {
		return nil
	}
	start := i + len(needle)
	depth, inString := 0, false
	for j := start; j < len(doc); j++ {
		c := doc[j]
		switch {
		case inString:
			if c == '\\' {
				j++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return doc[start:j]
			}
			depth--
			if depth == 0 {
				return doc[start : j+1]
			}
		case c == ',' && depth == 0:
			return doc[start:j]
		}
	}
	return nil
}

func readSample(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
}
