package agentevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eventsDir = "../../testdata/events"

// Identifiers used across the fixtures in testdata/events.
const (
	usInstance   = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-5678-90ab-cdef-111122223333"
	jdoeID       = "7cbdb714-51bb-4536-a8c3-c0ea93febf6a"
	jdoeARN      = usInstance + "/agent/" + jdoeID
	asmithID     = "a4b58530-5692-46ca-ac73-4fcc401550f7"
	asmithARN    = usInstance + "/agent/" + asmithID
	availableARN = usInstance + "/agent-state/169935fb-b048-47ba-a592-96d22f2bd750"
	breakARN     = usInstance + "/agent-state/e73974aa-e90e-4707-95dd-983c0813ed6b"
	lunchARN     = usInstance + "/agent-state/5e736dac-6d9e-4119-b739-25f9064b9ddf"
	trainingARN  = usInstance + "/agent-state/f37d131c-f8d8-4c10-997e-e6b15c1ab3cc"
	offlineARN   = usInstance + "/agent-state/7bc1f3f5-32ff-451a-8824-9b3933be6046"
	basicQueue   = usInstance + "/queue/e70e5eb4-74c8-464d-a095-3aa32dbd7c39"
	salesQueue   = usInstance + "/queue/0db5ddcd-0f3b-4c15-ba31-23cbb614c191"
	basicProfile = usInstance + "/routing-profile/a71bca3b-61b1-4dc3-aade-d02b0cd55862"
	salesProfile = usInstance + "/routing-profile/a7e3fa89-a675-41f5-857c-f9b3c2c3eb84"
	northAmerica = usInstance + "/agent-group/787ad8cd-0ce2-43d7-97fd-3777a9661a9f"
	supportTier1 = usInstance + "/agent-group/b0296760-8229-49d5-9b68-735019403e22"
	emea         = usInstance + "/agent-group/94bec855-38a3-44e3-98b8-999f51b47ba7"
	sales        = usInstance + "/agent-group/2e999b47-4c60-4db5-91ab-91bc95876328"
	insideSales  = usInstance + "/agent-group/7f41810c-f97e-4ec5-9b51-870b31a7cc4e"

	euInstance = "arn:aws:connect:eu-west-2:210987654321:instance/f0e1d2c3-b4a5-4968-8776-655443322110"
	pnovakID   = "13b42795-e9cc-4dfe-aa44-18ef8da727ea"
	euSupport  = euInstance + "/queue/d12be6ce-3bdf-435a-b960-b489836d35d6"
	euEscalate = euInstance + "/queue/21141118-a194-4fe2-9c30-9d02e548a1b0"

	benchInstance = "arn:aws:connect:us-east-1:123456789012:instance/9f8e7d6c-5b4a-4321-a0b1-c2d3e4f5a6b7"
	benchQueue    = benchInstance + "/queue/e9bb3ddd-60c0-41c6-b781-4752bedde6e7"
)

// utc builds an expected timestamp independently of the parser under test.
func utc(year int, month time.Month, day, hour, minute, sec, msec int) time.Time {
	return time.Date(year, month, day, hour, minute, sec, msec*int(time.Millisecond), time.UTC)
}

func assertTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.Truef(t, want.Equal(got), "%s: want %s, got %s", what, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
	assert.Equalf(t, time.UTC, got.Location(), "%s: not in UTC", what)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	require.NoError(t, err)
	return data
}

func decodeFixture(t *testing.T, name string) *Event {
	t.Helper()
	var ev Event
	err := NewDecoder().Decode(readFixture(t, name), &ev, nil)
	require.NoError(t, err, name)
	return &ev
}

func decodeString(t *testing.T, d *Decoder, ev *Event, record string) {
	t.Helper()
	err := d.Decode([]byte(record), ev, nil)
	require.NoError(t, err, record)
}

func basicConcurrency(voice, chat, task int64) []Concurrency {
	return []Concurrency{
		{Channel: "VOICE", AvailableSlots: voice, MaximumSlots: 1},
		{Channel: "CHAT", AvailableSlots: chat, MaximumSlots: 3},
		{Channel: "TASK", AvailableSlots: task, MaximumSlots: 1},
	}
}

func basicInboundQueues(agentID string) []Queue {
	return []Queue{
		{ARN: basicQueue, Name: "BasicQueue", Channels: []string{"CHAT", "TASK", "VOICE"}},
		{ARN: usInstance + "/queue/agent/" + agentID, Name: "", Channels: []string{"CHAT", "TASK", "VOICE"}},
	}
}

func jdoeHierarchy() HierarchyGroups {
	return HierarchyGroups{Levels: [5]HierarchyGroup{
		{ARN: northAmerica, Name: "North America"},
		{ARN: supportTier1, Name: "Support Tier 1"},
	}}
}

func asmithHierarchy() HierarchyGroups {
	return HierarchyGroups{Levels: [5]HierarchyGroup{
		{ARN: emea, Name: "EMEA"},
		{ARN: sales, Name: "Sales"},
		{ARN: insideSales, Name: "Inside Sales"},
	}}
}

// checkJdoeConfig checks the configuration John Doe has in most fixtures.
func checkJdoeConfig(t *testing.T, c *Configuration, conc []Concurrency) {
	t.Helper()
	assert.Equal(t, "jdoe", c.Username)
	assert.Equal(t, "John", c.FirstName)
	assert.Equal(t, "Doe", c.LastName)
	assert.Equal(t, jdoeHierarchy(), c.HierarchyGroups)
	assert.Empty(t, c.Proficiencies)
	rp := &c.RoutingProfile
	assert.Equal(t, basicProfile, rp.ARN)
	assert.Equal(t, "Basic Routing Profile", rp.Name)
	assert.Equal(t, conc, rp.Concurrency)
	assert.Equal(t, basicInboundQueues(jdoeID), rp.InboundQueues)
	assert.Equal(t, Queue{ARN: basicQueue, Name: "BasicQueue", Channels: []string{"VOICE"}}, rp.DefaultOutboundQueue)
}

func checkStatus(t *testing.T, st AgentStatus, arn, name, typ string, derived bool, start time.Time) {
	t.Helper()
	assert.Equal(t, arn, st.ARN, "status ARN")
	assert.Equal(t, name, st.Name, "status name")
	assert.Equal(t, typ, st.Type, "status type")
	assert.Equal(t, derived, st.TypeDerived, "TypeDerived")
	assertTime(t, start, st.StartTimestamp, "status StartTimestamp")
}

func checkHeader(t *testing.T, ev *Event, typ, id string, ts time.Time, instance, agent string) {
	t.Helper()
	assert.Equal(t, typ, ev.EventType, "EventType")
	assert.Equal(t, id, ev.EventID, "EventId")
	assertTime(t, ts, ev.EventTimestamp, "EventTimestamp")
	assert.Equal(t, instance, ev.InstanceARN, "InstanceARN")
	assert.Equal(t, agent, ev.AgentARN, "AgentARN")
}

// fixtureChecks holds the expectations for every valid fixture in testdata/events.
var fixtureChecks = []struct {
	file  string
	check func(t *testing.T, ev *Event)
}{
	{"login.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeLogin, "3e5f692d-fec2-4ba1-bd17-97a166ddb66c", utc(2019, 5, 25, 18, 43, 59, 49), usInstance, jdoeARN)
		assert.Equal(t, "123456789012", ev.AWSAccountID)
		assert.Equal(t, "2019-05-25", ev.Version)
		checkStatus(t, ev.Current.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 49))
		checkJdoeConfig(t, &ev.Current.Configuration, basicConcurrency(1, 3, 1))
		assert.Empty(t, ev.Current.Contacts)
		assert.Equal(t, NextAgentStatus{}, ev.Current.NextAgentStatus)
		assert.False(t, ev.HasPrevious, "LOGIN without PreviousAgentSnapshot")
		assert.Equal(t, Snapshot{}, ev.Previous)
	}},
	{"logout.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeLogout, "cce22105-9a33-4e7b-8f12-5b4bb8966543", utc(2019, 5, 25, 21, 2, 11, 560), usInstance, jdoeARN)
		checkStatus(t, ev.Current.AgentStatus, offlineARN, "Offline", StatusOffline, false, utc(2019, 5, 25, 21, 1, 58, 3))
		checkJdoeConfig(t, &ev.Current.Configuration, basicConcurrency(1, 3, 1))
		assert.Empty(t, ev.Current.Contacts)
		assert.False(t, ev.HasPrevious)
		assert.Equal(t, Snapshot{}, ev.Previous)
	}},
	{"heart_beat.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeHeartBeat, "689ed7fc-62d5-4e1a-aac5-a9f09993808d", utc(2019, 5, 25, 18, 47, 59, 101), usInstance, jdoeARN)
		checkStatus(t, ev.Current.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 49))
		checkJdoeConfig(t, &ev.Current.Configuration, basicConcurrency(1, 3, 1))
		assert.Empty(t, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		assert.Equal(t, ev.Current, ev.Previous, "a heartbeat's snapshots are identical")
	}},
	{"state_change_status.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "76dd7e95-9040-45b8-afd8-ea77d3f743ef", utc(2019, 5, 25, 19, 12, 3, 412), usInstance, asmithARN)
		checkStatus(t, ev.Current.AgentStatus, breakARN, "Break", StatusCustom, false, utc(2019, 5, 25, 19, 12, 3, 412))
		assert.Equal(t, NextAgentStatus{}, ev.Current.NextAgentStatus, "NextAgentStatus null")
		cfg := &ev.Current.Configuration
		assert.Equal(t, "asmith", cfg.Username)
		assert.Equal(t, "Alice", cfg.FirstName)
		assert.Equal(t, "Smith", cfg.LastName)
		assert.Equal(t, asmithHierarchy(), cfg.HierarchyGroups)
		assert.Equal(t, salesProfile, cfg.RoutingProfile.ARN)
		assert.Equal(t, "Sales Routing Profile", cfg.RoutingProfile.Name)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 0, 2}}, cfg.RoutingProfile.Concurrency)
		assert.Equal(t, []Queue{
			{ARN: salesQueue, Name: "SalesQueue", Channels: []string{"CHAT", "VOICE"}},
			{ARN: usInstance + "/queue/agent/" + asmithID, Channels: []string{"CHAT", "VOICE"}},
		}, cfg.RoutingProfile.InboundQueues)
		assert.Empty(t, ev.Current.Contacts)

		require.True(t, ev.HasPrevious)
		checkStatus(t, ev.Previous.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 30, 0, 518))
		assert.Equal(t, []Concurrency{{"VOICE", 1, 1}, {"CHAT", 2, 2}}, ev.Previous.Configuration.RoutingProfile.Concurrency)
		assert.Equal(t, NextAgentStatus{}, ev.Previous.NextAgentStatus)
		assert.Empty(t, ev.Previous.Contacts)
	}},
	{"state_change_next_status.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "4b41d56b-83b1-440a-b518-507a2388d302", utc(2019, 5, 25, 20, 3, 40, 6), usInstance, jdoeARN)
		checkStatus(t, ev.Current.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 49))
		assert.Equal(t, NextAgentStatus{ARN: lunchARN, Name: "Lunch", EnqueuedTimestamp: utc(2019, 5, 25, 20, 3, 40, 6)}, ev.Current.NextAgentStatus)
		checkJdoeConfig(t, &ev.Current.Configuration, basicConcurrency(0, 0, 0))
		call := Contact{
			ContactID:                 "1f50ad05-ffc7-4c31-b8c9-34a3ed3eb0c3",
			Channel:                   "VOICE",
			InitiationMethod:          "INBOUND",
			State:                     ContactConnected,
			StateStartTimestamp:       utc(2019, 5, 25, 20, 1, 15, 230),
			ConnectedToAgentTimestamp: utc(2019, 5, 25, 20, 1, 15, 230),
			QueueTimestamp:            utc(2019, 5, 25, 20, 0, 49, 870),
			Queue:                     Queue{ARN: basicQueue, Name: "BasicQueue"},
		}
		assert.Equal(t, []Contact{call}, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		assert.Equal(t, NextAgentStatus{}, ev.Previous.NextAgentStatus)
		assert.Equal(t, basicConcurrency(0, 3, 1), ev.Previous.Configuration.RoutingProfile.Concurrency)
		assert.Equal(t, []Contact{call}, ev.Previous.Contacts)
	}},
	{"next_status_enqueue_spelling.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "19905236-77b2-4895-ba52-ab877a6743f3", utc(2019, 5, 25, 20, 11, 9, 990), usInstance, jdoeARN)
		// "EnqueueTimestamp": "2019-05-25T20:11:09.99Z"
		assert.Equal(t, NextAgentStatus{ARN: breakARN, Name: "Break", EnqueuedTimestamp: utc(2019, 5, 25, 20, 11, 9, 990)}, ev.Current.NextAgentStatus)
		want := Contact{
			ContactID:                 "be793c9f-b080-4760-af86-2336413e3e9e",
			InitialContactID:          "30ea7932-0769-4ea3-aad0-c330157398af",
			Channel:                   "VOICE",
			InitiationMethod:          "TRANSFER",
			State:                     ContactConnectedOnHold,
			StateStartTimestamp:       utc(2019, 5, 25, 20, 11, 2, 4),
			ConnectedToAgentTimestamp: utc(2019, 5, 25, 20, 9, 31, 777),
			QueueTimestamp:            utc(2019, 5, 25, 20, 9, 20, 100),
			Queue:                     Queue{ARN: basicQueue, Name: "BasicQueue"},
		}
		assert.Equal(t, []Contact{want}, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		assert.Equal(t, NextAgentStatus{}, ev.Previous.NextAgentStatus)
	}},
	{"old_version_no_type.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "a862aad5-e2ac-4ef2-b5cb-282a429bf06f", utc(2017, 11, 14, 9, 30, 5, 312), usInstance,
			usInstance+"/agent/4478252b-5a14-4c72-92fb-ba53994acede")
		assert.Equal(t, "2017-10-01", ev.Version)
		checkStatus(t, ev.Current.AgentStatus, lunchARN, "Lunch", StatusCustom, true, utc(2017, 11, 14, 9, 30, 5, 312))
		assert.Equal(t, HierarchyGroups{}, ev.Current.Configuration.HierarchyGroups, "AgentHierarchyGroups null")
		assert.Equal(t, "bwayne", ev.Current.Configuration.Username)
		assert.Equal(t, NextAgentStatus{}, ev.Current.NextAgentStatus, "no NextAgentStatus key")
		require.True(t, ev.HasPrevious)
		checkStatus(t, ev.Previous.AgentStatus, availableARN, "Available", StatusRoutable, true, utc(2017, 11, 14, 8, 2, 44, 90))
	}},
	{"timestamps_no_millis.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "d5f5f455-fc9d-4388-962e-7586f7243d6c", utc(2019, 5, 25, 18, 55, 27, 0), usInstance, jdoeARN)
		checkStatus(t, ev.Current.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 0))
		assert.Equal(t, NextAgentStatus{ARN: trainingARN, Name: "Training", EnqueuedTimestamp: utc(2019, 5, 25, 18, 55, 20, 0)}, ev.Current.NextAgentStatus)
		checkJdoeConfig(t, &ev.Current.Configuration, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 2, 3}, {"TASK", 0, 1}})
		assert.Equal(t, []Contact{{
			ContactID:                 "4cbcfd75-f7e9-49e6-a74d-eae6ee1cc6e7",
			Channel:                   "CHAT",
			InitiationMethod:          "API",
			State:                     ContactConnected,
			StateStartTimestamp:       utc(2019, 5, 25, 18, 55, 27, 0),
			ConnectedToAgentTimestamp: utc(2019, 5, 25, 18, 55, 27, 0),
			QueueTimestamp:            utc(2019, 5, 25, 18, 55, 1, 0),
			Queue:                     Queue{ARN: basicQueue, Name: "BasicQueue"},
		}}, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		checkStatus(t, ev.Previous.AgentStatus, availableARN, "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 0))
		assert.Empty(t, ev.Previous.Contacts)
	}},
	{"nulls.json", func(t *testing.T, ev *Event) {
		cwuID := "b81ea007-5bce-471d-8f2d-93359472091c"
		checkHeader(t, ev, TypeStateChange, "e0fbc222-0429-40ca-8dc7-ed8fcaecd247", utc(2019, 5, 25, 19, 40, 12, 640), usInstance, usInstance+"/agent/"+cwuID)
		cfg := &ev.Current.Configuration
		assert.Equal(t, HierarchyGroups{}, cfg.HierarchyGroups, "AgentHierarchyGroups null")
		assert.Equal(t, "Chen", cfg.FirstName)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 0, 2}}, cfg.RoutingProfile.Concurrency)
		require.Len(t, cfg.RoutingProfile.InboundQueues, 2)
		assert.Equal(t, "", cfg.RoutingProfile.InboundQueues[1].Name, "agent queue has a null Name")
		assert.Equal(t, usInstance+"/queue/agent/"+cwuID, cfg.RoutingProfile.InboundQueues[1].ARN)
		assert.Equal(t, []Contact{{
			ContactID:           "a74dd571-1065-4f3a-9357-ea575147bd66",
			InitialContactID:    "", // null
			Channel:             "VOICE",
			InitiationMethod:    "OUTBOUND",
			State:               ContactConnecting,
			StateStartTimestamp: utc(2019, 5, 25, 19, 40, 12, 640),
			// ConnectedToAgentTimestamp and QueueTimestamp are null
			Queue: Queue{ARN: usInstance + "/queue/agent/" + cwuID}, // only an ARN
		}}, ev.Current.Contacts)
		assert.True(t, ev.Current.Contacts[0].QueueTimestamp.IsZero())
		assert.True(t, ev.Current.Contacts[0].ConnectedToAgentTimestamp.IsZero())
		assert.Equal(t, NextAgentStatus{}, ev.Current.NextAgentStatus)
		require.True(t, ev.HasPrevious)
		assert.Empty(t, ev.Previous.Contacts, "Contacts: []")
		assert.Equal(t, []Concurrency{{"VOICE", 1, 1}, {"CHAT", 2, 2}}, ev.Previous.Configuration.RoutingProfile.Concurrency)
	}},
	{"extras.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "6383c222-6925-4d45-a581-637cc0f7f366", utc(2024, 3, 7, 10, 15, 31, 125), euInstance, euInstance+"/agent/"+pnovakID)
		assert.Equal(t, "210987654321", ev.AWSAccountID)
		checkStatus(t, ev.Current.AgentStatus, euInstance+"/agent-state/3154be85-f094-493a-b09f-73bfd0e7ca74", "Available", StatusRoutable, false, utc(2024, 3, 7, 8, 0, 12, 0))
		cfg := &ev.Current.Configuration
		assert.Equal(t, "pnovak", cfg.Username)
		assert.Equal(t, []Proficiency{
			{Name: "Technology", Value: "Kinesis", Level: 3},
			{Name: "Language", Value: "Czech", Level: 5},
			{Name: "Product", Value: "Billing", Level: 1.5},
		}, cfg.Proficiencies)
		assert.Equal(t, HierarchyGroups{Levels: [5]HierarchyGroup{
			{ARN: euInstance + "/agent-group/cfc93b61-eb38-4b59-8820-e5469b4bccf3", Name: "Europe"},
			{ARN: euInstance + "/agent-group/f0e9977f-4d0b-4794-9a77-53eba92a44e8", Name: "UK"},
			{ARN: euInstance + "/agent-group/962ca802-7c30-4032-9d71-55243ef31bec", Name: "London"},
			{ARN: euInstance + "/agent-group/2401ef09-7e7c-4e23-a140-a14958b1d105", Name: "Billing"},
			{ARN: euInstance + "/agent-group/817318c9-4503-47a6-9879-c9f1ccb491ec", Name: "Team 7"},
		}}, cfg.HierarchyGroups)
		rp := &cfg.RoutingProfile
		assert.Equal(t, euInstance+"/routing-profile/eefa414e-218e-4727-b987-8e6465f9925e", rp.ARN)
		assert.Equal(t, "Omnichannel Profile", rp.Name)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 1, 2}, {"TASK", 4, 5}, {"EMAIL", 0, 1}}, rp.Concurrency)
		assert.Equal(t, []Queue{
			{ARN: euSupport, Name: "Support", Channels: []string{"VOICE", "CHAT", "TASK", "EMAIL"}},
			{ARN: euEscalate, Name: "Escalations", Channels: []string{"TASK"}},
			{ARN: euInstance + "/queue/agent/" + pnovakID, Channels: []string{"VOICE", "CHAT", "TASK", "EMAIL"}},
		}, rp.InboundQueues)
		assert.Equal(t, Queue{ARN: euSupport, Name: "Support", Channels: []string{"VOICE"}}, rp.DefaultOutboundQueue)

		support := Queue{ARN: euSupport, Name: "Support", Channels: []string{"VOICE", "CHAT", "TASK", "EMAIL"}}
		email := Contact{
			ContactID:                 "ac79c9b3-0cc1-4754-a792-5a14b764ba16",
			Channel:                   "EMAIL",
			InitiationMethod:          "INBOUND",
			State:                     ContactConnected,
			StateStartTimestamp:       utc(2024, 3, 7, 10, 15, 2, 250),
			ConnectedToAgentTimestamp: utc(2024, 3, 7, 10, 15, 2, 250),
			QueueTimestamp:            utc(2024, 3, 7, 10, 2, 44, 1),
			Queue:                     support,
		}
		task := Contact{
			ContactID:                 "e149881e-84f3-40ef-8e4a-b36de49f7329",
			InitialContactID:          "af87db43-12f8-4e6b-b24b-c13c1b251c24",
			Channel:                   "TASK",
			InitiationMethod:          "API",
			State:                     ContactPaused,
			StateStartTimestamp:       utc(2024, 3, 7, 10, 14, 59, 999),
			ConnectedToAgentTimestamp: utc(2024, 3, 7, 9, 40, 0, 500),
			QueueTimestamp:            utc(2024, 3, 7, 9, 39, 58, 120),
			Queue:                     Queue{ARN: euEscalate, Name: "Escalations", Channels: []string{"TASK"}},
		}
		video := Contact{
			ContactID:           "18abef80-a856-415a-b6b8-c4fff754f6cc",
			Channel:             "VIDEO",      // unknown channel passes through
			InitiationMethod:    "WEBRTC_API", // unknown initiation method passes through
			State:               ContactIncoming,
			StateStartTimestamp: utc(2024, 3, 7, 10, 15, 31, 125),
			QueueTimestamp:      utc(2024, 3, 7, 10, 15, 30, 0),
			Queue:               support,
		}
		assert.Equal(t, []Contact{email, task, video}, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		assert.Equal(t, []Contact{email, task}, ev.Previous.Contacts)
		assert.Equal(t, []Concurrency{{"VOICE", 1, 1}, {"CHAT", 1, 2}, {"TASK", 4, 5}, {"EMAIL", 0, 1}}, ev.Previous.Configuration.RoutingProfile.Concurrency)
		assert.Len(t, ev.Previous.Configuration.Proficiencies, 3)
	}},
	{"missed_contact.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "fcda1678-effc-492e-82c6-6850a6ac7c95", utc(2019, 5, 25, 18, 58, 41, 872), usInstance, jdoeARN)
		missed := Contact{
			ContactID:           "d4b2c536-e07a-4119-991b-b638a37b5097",
			Channel:             "VOICE",
			InitiationMethod:    "INBOUND",
			State:               ContactMissed,
			StateStartTimestamp: utc(2019, 5, 25, 18, 58, 41, 872),
			QueueTimestamp:      utc(2019, 5, 25, 18, 58, 5, 310),
			Queue:               Queue{ARN: basicQueue, Name: "BasicQueue"},
		}
		assert.Equal(t, []Contact{missed}, ev.Current.Contacts)
		assert.True(t, ev.Current.HasProblemContact())
		require.True(t, ev.HasPrevious)
		incoming := missed
		incoming.State = ContactIncoming
		incoming.StateStartTimestamp = utc(2019, 5, 25, 18, 58, 21, 650)
		assert.Equal(t, []Contact{incoming}, ev.Previous.Contacts)
		assert.False(t, ev.Previous.HasProblemContact())
	}},
	{"rejected_chat.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "b8a2563f-e11a-4728-a921-50208aef7d3b", utc(2019, 5, 25, 19, 5, 12, 93), usInstance, asmithARN)
		assert.Equal(t, []Contact{{
			ContactID:           "bf58b2ba-61c4-4c19-919c-2c74bce3de4a",
			Channel:             "CHAT",
			InitiationMethod:    "API",
			State:               ContactRejected,
			StateStartTimestamp: utc(2019, 5, 25, 19, 5, 12, 93),
			QueueTimestamp:      utc(2019, 5, 25, 19, 4, 58, 400),
			Queue:               Queue{ARN: salesQueue, Name: "SalesQueue"},
		}}, ev.Current.Contacts)
		assert.True(t, ev.Current.HasProblemContact())
		require.True(t, ev.HasPrevious)
		require.Len(t, ev.Previous.Contacts, 1)
		assert.Equal(t, ContactConnecting, ev.Previous.Contacts[0].State)
		assert.False(t, ev.Previous.HasProblemContact())
		assert.Equal(t, []Concurrency{{"VOICE", 1, 1}, {"CHAT", 1, 2}}, ev.Current.Configuration.RoutingProfile.Concurrency)
		assert.Equal(t, asmithHierarchy(), ev.Current.Configuration.HierarchyGroups)
	}},
	{"error_contact.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "730598a8-a0ec-4e06-bf8d-f8dcffd58178", utc(2019, 5, 25, 19, 22, 48, 715), usInstance, jdoeARN)
		assert.Equal(t, []Contact{{
			ContactID:           "0b559257-0bd1-4182-8744-5f3aba61dd0c",
			Channel:             "VOICE",
			InitiationMethod:    "CALLBACK",
			State:               ContactError,
			StateStartTimestamp: utc(2019, 5, 25, 19, 22, 48, 715),
			QueueTimestamp:      utc(2019, 5, 25, 19, 20, 0, 4),
			Queue:               Queue{ARN: basicQueue, Name: "BasicQueue"},
		}}, ev.Current.Contacts)
		assert.True(t, ev.Current.HasProblemContact())
		require.True(t, ev.HasPrevious)
		require.Len(t, ev.Previous.Contacts, 1)
		assert.Equal(t, ContactConnecting, ev.Previous.Contacts[0].State)
		assertTime(t, utc(2019, 5, 25, 19, 22, 40, 2), ev.Previous.Contacts[0].StateStartTimestamp, "previous StateStartTimestamp")
		checkJdoeConfig(t, &ev.Current.Configuration, basicConcurrency(0, 0, 0))
	}},
	{"unknown_event_type.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, "AGENT_TRAINING_STARTED", "8ec46693-744f-4f7c-9413-4cb74a12a18d", utc(2019, 5, 25, 19, 30, 0, 0), usInstance, asmithARN)
		checkStatus(t, ev.Current.AgentStatus, trainingARN, "Training", StatusCustom, false, utc(2019, 5, 25, 19, 29, 58, 250))
		assert.Equal(t, asmithHierarchy(), ev.Current.Configuration.HierarchyGroups)
		require.True(t, ev.HasPrevious)
		checkStatus(t, ev.Previous.AgentStatus, breakARN, "Break", StatusCustom, false, utc(2019, 5, 25, 19, 12, 3, 412))
	}},
	{"state_change_two_contacts.json", func(t *testing.T, ev *Event) {
		inst := usInstance
		checkHeader(t, ev, TypeStateChange, "477f2c4f-cd1a-4785-b1a8-d1b10c6b2d1f", utc(2019, 5, 25, 18, 55, 27, 17), inst,
			inst+"/agent/4c1f7f3e-9d2b-4a6e-8f0a-5b7c9d2e1f30")
		checkStatus(t, ev.Current.AgentStatus, inst+"/agent-state/0a3d9c1e-55b1-4a3c-9b7e-1f2e3d4c5b6a", "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 49))
		cfg := &ev.Current.Configuration
		assert.Equal(t, "mgarcia", cfg.Username)
		assert.Equal(t, "North America", cfg.HierarchyGroups.Levels[0].Name)
		assert.Equal(t, "Support Tier 1", cfg.HierarchyGroups.Levels[1].Name)
		assert.Equal(t, HierarchyGroup{}, cfg.HierarchyGroups.Levels[2])
		assert.Equal(t, "Basic Routing Profile", cfg.RoutingProfile.Name)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 2, 3}, {"TASK", 1, 1}}, cfg.RoutingProfile.Concurrency)
		q := inst + "/queue/2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a"
		assert.Equal(t, Queue{ARN: q, Name: "BasicQueue", Channels: []string{"VOICE"}}, cfg.RoutingProfile.DefaultOutboundQueue)
		voice := Contact{
			ContactID:                 "8f1d2c3b-4a5e-4f6d-9c8b-7a6e5d4c3b2a",
			Channel:                   "VOICE",
			InitiationMethod:          "INBOUND",
			State:                     ContactConnected,
			StateStartTimestamp:       utc(2019, 5, 25, 18, 52, 10, 211),
			ConnectedToAgentTimestamp: utc(2019, 5, 25, 18, 52, 10, 211),
			QueueTimestamp:            utc(2019, 5, 25, 18, 51, 58, 734),
			Queue:                     Queue{ARN: q, Name: "BasicQueue"},
		}
		chat := Contact{
			ContactID:                 "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
			InitialContactID:          "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f",
			Channel:                   "CHAT",
			InitiationMethod:          "TRANSFER",
			State:                     ContactEnded,
			StateStartTimestamp:       utc(2019, 5, 25, 18, 55, 27, 17),
			ConnectedToAgentTimestamp: utc(2019, 5, 25, 18, 53, 40, 512),
			QueueTimestamp:            utc(2019, 5, 25, 18, 53, 31, 4),
			Queue:                     Queue{ARN: q, Name: "BasicQueue"},
		}
		assert.Equal(t, []Contact{voice, chat}, ev.Current.Contacts)
		assert.False(t, ev.Current.HasProblemContact())
		require.True(t, ev.HasPrevious)
		assert.Equal(t, HierarchyGroups{}, ev.Previous.Configuration.HierarchyGroups)
		assert.Equal(t, []Contact{voice}, ev.Previous.Contacts)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 2, 3}}, ev.Previous.Configuration.RoutingProfile.Concurrency)
	}},
	{"bench_state_change.json", func(t *testing.T, ev *Event) {
		checkHeader(t, ev, TypeStateChange, "082dec5d-f39b-401b-8ef2-ae23a10c99b1", utc(2019, 5, 25, 18, 55, 27, 17), benchInstance,
			benchInstance+"/agent/0937ded1-2e31-4dac-9e3d-ea5920b6a273")
		checkStatus(t, ev.Current.AgentStatus, benchInstance+"/agent-state/7a793cb0-d6d8-4b88-85bf-991edbc6d8c6", "Available", StatusRoutable, false, utc(2019, 5, 25, 18, 43, 59, 49))
		cfg := &ev.Current.Configuration
		assert.Equal(t, HierarchyGroups{Levels: [5]HierarchyGroup{{ARN: benchInstance + "/agent-group/892984ca-e50c-43c9-b5b9-272ffb3eafb8", Name: "Americas"}}}, cfg.HierarchyGroups)
		assert.Equal(t, benchInstance+"/routing-profile/9e300543-f7ac-4299-9311-86422daefa5c", cfg.RoutingProfile.ARN)
		assert.Equal(t, "Support Profile", cfg.RoutingProfile.Name)
		assert.Equal(t, []Concurrency{{"VOICE", 0, 1}, {"CHAT", 1, 2}, {"TASK", 0, 1}}, cfg.RoutingProfile.Concurrency)
		q := Queue{ARN: benchQueue, Name: "Support"}
		assert.Equal(t, []Contact{
			{
				ContactID:                 "990d8db4-455b-4c96-aa3b-8a2e051b6211",
				Channel:                   "VOICE",
				InitiationMethod:          "INBOUND",
				State:                     ContactConnected,
				StateStartTimestamp:       utc(2019, 5, 25, 18, 52, 10, 211),
				ConnectedToAgentTimestamp: utc(2019, 5, 25, 18, 52, 10, 211),
				QueueTimestamp:            utc(2019, 5, 25, 18, 51, 58, 734),
				Queue:                     q,
			},
			{
				ContactID:                 "e16aa01d-aa8e-4504-8cf9-bdefb83e95a6",
				Channel:                   "CHAT",
				InitiationMethod:          "API",
				State:                     ContactEnded,
				StateStartTimestamp:       utc(2019, 5, 25, 18, 55, 27, 17),
				ConnectedToAgentTimestamp: utc(2019, 5, 25, 18, 53, 40, 512),
				QueueTimestamp:            utc(2019, 5, 25, 18, 53, 31, 4),
				Queue:                     q,
			},
		}, ev.Current.Contacts)
		require.True(t, ev.HasPrevious)
		assert.Equal(t, []Concurrency{{"VOICE", 1, 1}, {"CHAT", 2, 2}, {"TASK", 1, 1}}, ev.Previous.Configuration.RoutingProfile.Concurrency)
		assert.Empty(t, ev.Previous.Contacts)
	}},
}

func TestDecodeFixtures(t *testing.T) {
	for _, tc := range fixtureChecks {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			tc.check(t, decodeFixture(t, tc.file))
		})
	}
}

// Every valid fixture must have expectations above, so that a new one cannot go untested.
func TestDecodeFixturesAllCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	require.NoError(t, err)
	var onDisk, checked []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	for _, tc := range fixtureChecks {
		checked = append(checked, tc.file)
	}
	sort.Strings(onDisk)
	sort.Strings(checked)
	assert.Equal(t, onDisk, checked)
	assert.GreaterOrEqual(t, len(onDisk), 16)
}

// The benchmark record must stay a realistic ~3 KB when compacted.
func TestBenchFixtureSize(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, readFixture(t, "bench_state_change.json")))
	assert.GreaterOrEqual(t, buf.Len(), 2800)
	assert.LessOrEqual(t, buf.Len(), 3200)

	// The compact form decodes to the same event as the pretty-printed one.
	var ev Event
	err := NewDecoder().Decode(buf.Bytes(), &ev, nil)
	require.NoError(t, err)
	assert.Equal(t, *decodeFixture(t, "bench_state_change.json"), ev)
}

// treeSink rebuilds the document from what the decoder hands its Sink, the way
// encoding/json decodes into any (numbers as float64).
type treeSink struct {
	root  any
	stack []*treeNode
}

type treeNode struct {
	isArray bool
	m       map[string]any
	a       []any
	key     string
}

func (s *treeSink) put(v any) {
	if len(s.stack) == 0 {
		s.root = v
		return
	}
	top := s.stack[len(s.stack)-1]
	if top.isArray {
		top.a = append(top.a, v)
	} else {
		top.m[top.key] = v
	}
}

func (s *treeSink) Object(int) { s.stack = append(s.stack, &treeNode{m: map[string]any{}}) }
func (s *treeSink) Array(int)  { s.stack = append(s.stack, &treeNode{isArray: true, a: []any{}}) }
func (s *treeSink) End() {
	n := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if n.isArray {
		s.put(n.a)
	} else {
		s.put(n.m)
	}
}
func (s *treeSink) Key(k []byte)     { s.stack[len(s.stack)-1].key = string(k) }
func (s *treeSink) String(v string)  { s.put(v) }
func (s *treeSink) Int(i int64)      { s.put(float64(i)) }
func (s *treeSink) Double(f float64) { s.put(f) }
func (s *treeSink) Bool(b bool)      { s.put(b) }
func (s *treeSink) Null()            { s.put(nil) }

// The sink sees the whole document, every field the model knows and every one it does
// not, exactly as encoding/json reads it.
func TestDecodeSinkSeesWholeDocument(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	d := NewDecoder()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := readFixture(t, filepath.Base(f))
			var want any
			require.NoError(t, json.Unmarshal(data, &want))
			var ev Event
			sink := &treeSink{}
			require.NoError(t, d.Decode(data, &ev, sink))
			assert.Empty(t, sink.stack, "every Object and Array was ended")
			assert.Equal(t, want, sink.root)
		})
	}

	// The undocumented fields of extras.json among them.
	var ev Event
	sink := &treeSink{}
	require.NoError(t, d.Decode(readFixture(t, "extras.json"), &ev, sink))
	root := sink.root.(map[string]any)
	assert.Equal(t, []any{1.0, 2.5, true, nil}, root["SomeNewField"].(map[string]any)["a"])
	assert.Equal(t, []any{"team:billing", "site:london"}, root["Tags"])
	current := root["CurrentAgentSnapshot"].(map[string]any)
	assert.Equal(t, 42.0, current["SnapshotRevision"])
	assert.Equal(t, "Ready for contacts", current["AgentStatus"].(map[string]any)["Description"])
	assert.Equal(t, "connect:Task", current["Contacts"].([]any)[1].(map[string]any)["SubType"])
}

func TestDeriveStatusType(t *testing.T) {
	for name, want := range map[string]string{
		"Available": StatusRoutable,
		"Offline":   StatusOffline,
		"Break":     StatusCustom,
		"Lunch":     StatusCustom,
		"Training":  StatusCustom,
		"available": StatusCustom, // names are case-sensitive
		"":          StatusCustom,
	} {
		assert.Equal(t, want, DeriveStatusType(name), name)
	}
}

func TestDecodeDerivesMissingStatusType(t *testing.T) {
	tests := []struct {
		name        string
		status      string // the AgentStatus object
		wantName    string
		wantType    string
		wantDerived bool
	}{
		{"available", `{"Name":"Available"}`, "Available", StatusRoutable, true},
		{"offline", `{"Name":"Offline"}`, "Offline", StatusOffline, true},
		{"custom", `{"Name":"Coffee break"}`, "Coffee break", StatusCustom, true},
		{"null type", `{"Name":"Offline","Type":null}`, "Offline", StatusOffline, true},
		{"explicit type kept", `{"Name":"Available","Type":"ROUTABLE"}`, "Available", StatusRoutable, false},
		{"explicit type wins over name", `{"Name":"Available","Type":"CUSTOM"}`, "Available", StatusCustom, false},
		{"explicit unknown type", `{"Name":"Meeting","Type":"SOMETHING_NEW"}`, "Meeting", "SOMETHING_NEW", false},
		{"no name no type", `{"ARN":"x"}`, "", "", false},
	}
	d := NewDecoder()
	var ev Event
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			decodeString(t, d, &ev, `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":`+tc.status+`},`+
				`"PreviousAgentSnapshot":{"AgentStatus":`+tc.status+`}}`)
			for _, st := range []AgentStatus{ev.Current.AgentStatus, ev.Previous.AgentStatus} {
				assert.Equal(t, tc.wantName, st.Name)
				assert.Equal(t, tc.wantType, st.Type)
				assert.Equal(t, tc.wantDerived, st.TypeDerived)
			}
		})
	}
}

func TestDecodeUnknownValuesPassThrough(t *testing.T) {
	ev := decodeFixture(t, "unknown_event_type.json")
	assert.Equal(t, "AGENT_TRAINING_STARTED", ev.EventType)

	ev = decodeFixture(t, "extras.json")
	require.Len(t, ev.Current.Contacts, 3)
	assert.Equal(t, "EMAIL", ev.Current.Contacts[0].Channel)
	assert.Equal(t, ContactPaused, ev.Current.Contacts[1].State)
	assert.Equal(t, "VIDEO", ev.Current.Contacts[2].Channel)
	assert.Equal(t, "WEBRTC_API", ev.Current.Contacts[2].InitiationMethod)

	var got Event
	decodeString(t, NewDecoder(), &got, `{"EventType":"AGENT_SKILL_CHANGED","Version":"2031-01-01",`+
		`"CurrentAgentSnapshot":{"AgentStatus":{"Name":"Focus","Type":"FOCUSED"},`+
		`"Configuration":{"RoutingProfile":{"Concurrency":[{"Channel":"HOLOGRAM","AvailableSlots":7,"MaximumSlots":9}]}},`+
		`"Contacts":[{"Channel":"SMS","InitiationMethod":"TELEPATHY","State":"DREAMING"}]}}`)
	assert.Equal(t, "AGENT_SKILL_CHANGED", got.EventType)
	assert.Equal(t, "2031-01-01", got.Version)
	assert.Equal(t, AgentStatus{Name: "Focus", Type: "FOCUSED"}, got.Current.AgentStatus)
	assert.Equal(t, []Concurrency{{"HOLOGRAM", 7, 9}}, got.Current.Configuration.RoutingProfile.Concurrency)
	assert.Equal(t, []Contact{{Channel: "SMS", InitiationMethod: "TELEPATHY", State: "DREAMING"}}, got.Current.Contacts)
}

func TestDecodeMalformedFixtures(t *testing.T) {
	tests := []struct {
		file  string
		kind  string
		field string
	}{
		{"not_json.txt", ErrKindInvalidJSON, ""},
		{"truncated.json", ErrKindInvalidJSON, ""},
		{"array.json", ErrKindNotAnObject, ""},
		{"string.json", ErrKindNotAnObject, ""},
		{"wrong_type_timestamp.json", ErrKindWrongType, "EventTimestamp"},
		{"wrong_type_contacts.json", ErrKindWrongType, "CurrentAgentSnapshot.Contacts"},
		{"invalid_utf8.bin", ErrKindInvalidUTF8, ""},
		{"empty.bin", ErrKindInvalidJSON, ""},
		{"no_event_type.json", ErrKindMissingField, "EventType"},
		{"bad_timestamp.json", ErrKindInvalidTimestamp, "EventTimestamp"},
	}
	d := NewDecoder() // one decoder for all: errors must not poison it
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var ev Event
			err := d.Decode(readFixture(t, filepath.Join("malformed", tc.file)), &ev, nil)
			require.Error(t, err)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "want *DecodeError, got %T: %v", err, err)
			assert.Equal(t, tc.kind, de.Kind)
			assert.Equal(t, tc.field, de.Field)
			assert.NotEmpty(t, de.Msg)
			if tc.field != "" {
				assert.True(t, strings.HasPrefix(err.Error(), tc.field+": "), err.Error())
			} else {
				assert.Equal(t, de.Msg, err.Error())
			}
		})
	}

	// Every malformed fixture is in the table.
	entries, err := os.ReadDir(filepath.Join(eventsDir, "malformed"))
	require.NoError(t, err)
	var onDisk, listed []string
	for _, e := range entries {
		onDisk = append(onDisk, e.Name())
	}
	for _, tc := range tests {
		listed = append(listed, tc.file)
	}
	sort.Strings(onDisk)
	sort.Strings(listed)
	assert.Equal(t, onDisk, listed)

	// The decoder still works after all those failures.
	var ev Event
	err = d.Decode(readFixture(t, "login.json"), &ev, nil)
	require.NoError(t, err)
	assert.Equal(t, TypeLogin, ev.EventType)
	assert.Equal(t, jdoeARN, ev.AgentARN)
}

func TestDecodeMalformedFixtureContents(t *testing.T) {
	// invalid_utf8.bin is otherwise a valid event: only the bytes 0xff 0xfe spoil it.
	data := readFixture(t, "malformed/invalid_utf8.bin")
	assert.True(t, bytes.Contains(data, []byte("\"Jo\xff\xfehn\"")))
	fixed := bytes.Replace(data, []byte("\xff\xfe"), nil, 1)
	var ev Event
	err := NewDecoder().Decode(fixed, &ev, nil)
	require.NoError(t, err)
	assert.Equal(t, "John", ev.Current.Configuration.FirstName)

	// truncated.json is the start of a real event.
	trunc := readFixture(t, "malformed/truncated.json")
	login := readFixture(t, "login.json")
	assert.True(t, bytes.HasPrefix(login, trunc))
	assert.Greater(t, len(trunc), 100)

	assert.Empty(t, readFixture(t, "malformed/empty.bin"))
}

func TestDecodeErrorPaths(t *testing.T) {
	tests := []struct {
		name   string
		record string
		kind   string
		field  string
	}{
		{"event type number", `{"EventType":3}`, ErrKindWrongType, "EventType"},
		{"event type null", `{"EventType":null,"EventId":"x"}`, ErrKindMissingField, "EventType"},
		{"event type empty", `{"EventType":""}`, ErrKindMissingField, "EventType"},
		{"empty object", `{}`, ErrKindMissingField, "EventType"},
		{"agent arn object", `{"EventType":"LOGIN","AgentARN":{}}`, ErrKindWrongType, "AgentARN"},
		{"snapshot array", `{"EventType":"LOGIN","CurrentAgentSnapshot":[]}`, ErrKindWrongType, "CurrentAgentSnapshot"},
		{"previous snapshot string", `{"EventType":"LOGIN","PreviousAgentSnapshot":"none"}`, ErrKindWrongType, "PreviousAgentSnapshot"},
		{"status start timestamp", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"AgentStatus":{"StartTimestamp":"soon"}}}`,
			ErrKindInvalidTimestamp, "CurrentAgentSnapshot.AgentStatus.StartTimestamp"},
		{"status name number", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"AgentStatus":{"Name":1}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.AgentStatus.Name"},
		{"next status enqueue spelling", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"NextAgentStatus":{"EnqueueTimestamp":"later"}}}`,
			ErrKindInvalidTimestamp, "CurrentAgentSnapshot.NextAgentStatus.EnqueueTimestamp"},
		{"next status enqueued spelling", `{"EventType":"LOGIN","PreviousAgentSnapshot":{"NextAgentStatus":{"EnqueuedTimestamp":12}}}`,
			ErrKindWrongType, "PreviousAgentSnapshot.NextAgentStatus.EnqueuedTimestamp"},
		{"contact state", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":[{"State":"CONNECTED"},{"State":5}]}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Contacts[1].State"},
		{"contact not object", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":["c1"]}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Contacts[0]"},
		{"contact queue name", `{"EventType":"STATE_CHANGE","PreviousAgentSnapshot":{"Contacts":[{},{},{"Queue":{"Name":true}}]}}`,
			ErrKindWrongType, "PreviousAgentSnapshot.Contacts[2].Queue.Name"},
		{"contact queue array", `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":[{"Queue":[]}]}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Contacts[0].Queue"},
		{"contact timestamp", `{"EventType":"STATE_CHANGE","PreviousAgentSnapshot":{"Contacts":[{"StateStartTimestamp":"2019-05-25T18:55:27.Z"}]}}`,
			ErrKindInvalidTimestamp, "PreviousAgentSnapshot.Contacts[0].StateStartTimestamp"},
		{"inbound queue channel", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{"Channels":["VOICE",3]}]}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.RoutingProfile.InboundQueues[0].Channels[1]"},
		{"inbound queue not object", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"InboundQueues":[{},"q"]}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.RoutingProfile.InboundQueues[1]"},
		{"default outbound queue", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"DefaultOutboundQueue":"q"}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.RoutingProfile.DefaultOutboundQueue"},
		{"concurrency slots", `{"EventType":"LOGIN","PreviousAgentSnapshot":{"Configuration":{"RoutingProfile":{"Concurrency":[{"AvailableSlots":"1"}]}}}}`,
			ErrKindWrongType, "PreviousAgentSnapshot.Configuration.RoutingProfile.Concurrency[0].AvailableSlots"},
		{"concurrency not array", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{"Concurrency":{}}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.RoutingProfile.Concurrency"},
		{"routing profile string", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":"rp"}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.RoutingProfile"},
		{"hierarchy level", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"AgentHierarchyGroups":{"Level1":null,"Level2":"x"}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.AgentHierarchyGroups.Level2"},
		{"hierarchy level name", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"AgentHierarchyGroups":{"Level5":{"Name":[]}}}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.AgentHierarchyGroups.Level5.Name"},
		{"proficiency level", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"Proficiencies":[{"Level":"high"}]}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.Proficiencies[0].Level"},
		{"username number", `{"EventType":"LOGIN","CurrentAgentSnapshot":{"Configuration":{"Username":42}}}`,
			ErrKindWrongType, "CurrentAgentSnapshot.Configuration.Username"},
	}
	d := NewDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			err := d.Decode([]byte(tc.record), &ev, nil)
			require.Error(t, err)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "want *DecodeError, got %T: %v", err, err)
			assert.Equal(t, tc.kind, de.Kind, de.Error())
			assert.Equal(t, tc.field, de.Field, de.Error())
		})
	}
}

// Nulls anywhere the model allows an object, array, string or number decode as zero values.
func TestDecodeNullsEverywhere(t *testing.T) {
	var ev Event
	decodeString(t, NewDecoder(), &ev, `{"EventType":"STATE_CHANGE","EventId":null,"EventTimestamp":null,"AgentARN":null,
		"InstanceARN":null,"AWSAccountId":null,"Version":null,"PreviousAgentSnapshot":null,
		"CurrentAgentSnapshot":{"AgentStatus":null,"NextAgentStatus":null,"Contacts":null,
			"Configuration":{"Username":null,"FirstName":null,"LastName":null,"AgentHierarchyGroups":null,"Proficiencies":null,
				"RoutingProfile":{"ARN":null,"Name":null,"InboundQueues":null,"DefaultOutboundQueue":null,
					"Concurrency":[{"Channel":null,"AvailableSlots":null,"MaximumSlots":null}]}}}}`)
	assert.Equal(t, TypeStateChange, ev.EventType)
	assert.Equal(t, Event{
		EventType: TypeStateChange,
		Current: Snapshot{Configuration: Configuration{RoutingProfile: RoutingProfile{
			Concurrency: []Concurrency{{}},
		}}},
	}, ev)
	assert.False(t, ev.HasPrevious, "PreviousAgentSnapshot null")
}

func TestParseTimestamp(t *testing.T) {
	valid := []struct {
		in   string
		want time.Time
	}{
		{"2019-05-25T18:55:27.017Z", utc(2019, 5, 25, 18, 55, 27, 17)},
		{"2019-05-25T18:55:27Z", utc(2019, 5, 25, 18, 55, 27, 0)},
		{"2019-05-25T18:55:27.0Z", utc(2019, 5, 25, 18, 55, 27, 0)},
		{"2019-05-25T18:55:27.1Z", time.Date(2019, 5, 25, 18, 55, 27, 100000000, time.UTC)},
		{"2019-05-25T18:55:27.12Z", time.Date(2019, 5, 25, 18, 55, 27, 120000000, time.UTC)},
		{"2019-05-25T18:55:27.123Z", time.Date(2019, 5, 25, 18, 55, 27, 123000000, time.UTC)},
		{"2019-05-25T18:55:27.1234Z", time.Date(2019, 5, 25, 18, 55, 27, 123400000, time.UTC)},
		{"2019-05-25T18:55:27.12345Z", time.Date(2019, 5, 25, 18, 55, 27, 123450000, time.UTC)},
		{"2019-05-25T18:55:27.123456Z", time.Date(2019, 5, 25, 18, 55, 27, 123456000, time.UTC)},
		{"2019-05-25T18:55:27.1234567Z", time.Date(2019, 5, 25, 18, 55, 27, 123456700, time.UTC)},
		{"2019-05-25T18:55:27.12345678Z", time.Date(2019, 5, 25, 18, 55, 27, 123456780, time.UTC)},
		{"2019-05-25T18:55:27.123456789Z", time.Date(2019, 5, 25, 18, 55, 27, 123456789, time.UTC)},
		{"2019-05-25T18:55:27.000000001Z", time.Date(2019, 5, 25, 18, 55, 27, 1, time.UTC)},
		{"2019-05-25T18:55:27.017z", utc(2019, 5, 25, 18, 55, 27, 17)},
		{"2019-05-25T18:55:27z", utc(2019, 5, 25, 18, 55, 27, 0)},
		{"2019-05-25T18:55:27.017+00:00", utc(2019, 5, 25, 18, 55, 27, 17)},
		{"2019-05-25T18:55:27+00:00", utc(2019, 5, 25, 18, 55, 27, 0)},
		{"2019-05-25T18:55:27.017+02:00", utc(2019, 5, 25, 16, 55, 27, 17)},
		{"2019-05-25T01:00:00+02:00", utc(2019, 5, 24, 23, 0, 0, 0)},
		{"2019-05-25T18:55:27.5-05:30", time.Date(2019, 5, 26, 0, 25, 27, 500000000, time.UTC)},
		{"2020-02-29T23:59:59.999Z", utc(2020, 2, 29, 23, 59, 59, 999)},
		{"2019-12-31T23:59:59Z", utc(2019, 12, 31, 23, 59, 59, 0)},
		{"2019-01-01T00:00:00.000Z", utc(2019, 1, 1, 0, 0, 0, 0)},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTimestamp([]byte(tc.in))
			require.NoError(t, err)
			assertTime(t, tc.want, got, tc.in)
			assert.Equal(t, tc.want, got, "same representation as time.Date in UTC")
		})
	}

	invalid := []string{
		"",
		"2019-13-01T00:00:00Z",
		"2019-00-10T00:00:00Z",
		"2019-04-31T00:00:00Z",
		"2019-02-29T00:00:00Z", // not a leap year
		"2019-05-00T00:00:00Z",
		"2019-05-32T00:00:00Z",
		"2019-05-25T24:00:00Z",
		"2019-05-25T18:60:00Z",
		"2019-05-25T18:55:60Z",
		"2019-05-25 18:55:27",
		"2019-05-25 18:55:27Z",
		"2019-05-25T18:55:27.Z",
		"2019-05-25T18:55:27.",
		"2019-05-25T18:55:27",
		"2019-05-25T18:55:27.017",
		"2019-05-25T18:55:27.017ZZ",
		"2019-05-25T18:55:27.017 Z",
		"2019-05-25T18:55:27.0x7Z",
		"2019-05-25",
		"20190525T185527Z",
		"2019-5-25T18:55:27Z",
		"2019-05-25T18:55:27.017+2:00",
		"yesterday",
		"garbage that is long enough to pass a length check",
		"xxxx-xx-xxTxx:xx:xxZ",
		"1558810527017",
	}
	for _, in := range invalid {
		t.Run("invalid "+in, func(t *testing.T) {
			got, err := ParseTimestamp([]byte(in))
			require.Error(t, err, "%q parsed as %s", in, got)
			assert.True(t, errors.Is(err, errTimestamp))
			assert.True(t, got.IsZero())
		})
	}
}

// A Decoder and an Event are reused across records: nothing of one record may show in the next.
func TestDecoderReuseNoStaleData(t *testing.T) {
	// Two contacts in the current snapshot, one in the previous, and a next status.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(readFixture(t, "state_change_two_contacts.json"), &doc))
	doc["CurrentAgentSnapshot"].(map[string]any)["NextAgentStatus"] = map[string]any{
		"ARN": "arn:next", "Name": "Lunch", "EnqueuedTimestamp": "2019-05-25T18:56:00.000Z",
	}
	doc["CurrentAgentSnapshot"].(map[string]any)["Configuration"].(map[string]any)["Proficiencies"] = []any{
		map[string]any{"Level": 2, "Name": "Language", "Value": "Spanish"},
	}
	first, err := json.Marshal(doc)
	require.NoError(t, err)

	d := NewDecoder()
	var ev Event
	err = d.Decode(first, &ev, nil)
	require.NoError(t, err)
	require.Len(t, ev.Current.Contacts, 2)
	require.True(t, ev.HasPrevious)
	require.Len(t, ev.Previous.Contacts, 1)
	require.Equal(t, "Lunch", ev.Current.NextAgentStatus.Name)
	require.Len(t, ev.Current.Configuration.Proficiencies, 1)
	require.Len(t, ev.Current.Configuration.RoutingProfile.Concurrency, 3)
	require.Len(t, ev.Previous.Configuration.RoutingProfile.Concurrency, 2)

	// Then a record with no contacts and no previous snapshot.
	err = d.Decode(readFixture(t, "login.json"), &ev, nil)
	require.NoError(t, err)
	assert.Empty(t, ev.Current.Contacts)
	assert.Equal(t, NextAgentStatus{}, ev.Current.NextAgentStatus)
	assert.Empty(t, ev.Current.Configuration.Proficiencies)
	assert.Equal(t, basicConcurrency(1, 3, 1), ev.Current.Configuration.RoutingProfile.Concurrency)
	assert.False(t, ev.HasPrevious)
	assertEmptySnapshot(t, &ev.Previous)
	// And the rest of the event is the login's alone.
	want := decodeFixture(t, "login.json")
	assert.Equal(t, want.Current.AgentStatus, ev.Current.AgentStatus)
	assert.Equal(t, want.Current.Configuration.HierarchyGroups, ev.Current.Configuration.HierarchyGroups)
	assert.Equal(t, want.Current.Configuration.RoutingProfile.InboundQueues, ev.Current.Configuration.RoutingProfile.InboundQueues)
	assert.Equal(t, want.EventID, ev.EventID)

	// Then a nearly empty record: no concurrency, no status, no configuration.
	decodeString(t, d, &ev, `{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Contacts":[]}}`)
	assert.Equal(t, TypeHeartBeat, ev.EventType)
	assert.Empty(t, ev.EventID)
	assert.Empty(t, ev.AgentARN)
	assert.Empty(t, ev.InstanceARN)
	assert.Empty(t, ev.Version)
	assert.True(t, ev.EventTimestamp.IsZero())
	assertEmptySnapshot(t, &ev.Current)
	assert.False(t, ev.HasPrevious)
	assertEmptySnapshot(t, &ev.Previous)

	// A status type derived for one record is not carried into the next.
	decodeString(t, d, &ev, `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":{"Name":"Break"}}}`)
	require.True(t, ev.Current.AgentStatus.TypeDerived)
	decodeString(t, d, &ev, `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":{"Name":"Break","Type":"CUSTOM"}}}`)
	assert.False(t, ev.Current.AgentStatus.TypeDerived)

	// A failed record leaves nothing behind for the next one either.
	err = d.Decode(readFixture(t, "malformed/wrong_type_contacts.json"), &ev, nil)
	require.Error(t, err)
	decodeString(t, d, &ev, `{"EventType":"LOGOUT"}`)
	assert.Equal(t, TypeLogout, ev.EventType)
	assertEmptySnapshot(t, &ev.Current)
	assertEmptySnapshot(t, &ev.Previous)
}

func assertEmptySnapshot(t *testing.T, s *Snapshot) {
	t.Helper()
	assert.Equal(t, AgentStatus{}, s.AgentStatus)
	assert.Equal(t, NextAgentStatus{}, s.NextAgentStatus)
	assert.Empty(t, s.Contacts)
	c := &s.Configuration
	assert.Empty(t, c.Username)
	assert.Empty(t, c.FirstName)
	assert.Empty(t, c.LastName)
	assert.Equal(t, HierarchyGroups{}, c.HierarchyGroups)
	assert.Empty(t, c.Proficiencies)
	rp := &c.RoutingProfile
	assert.Empty(t, rp.ARN)
	assert.Empty(t, rp.Name)
	assert.Empty(t, rp.InboundQueues)
	assert.Empty(t, rp.Concurrency)
	assert.Empty(t, rp.DefaultOutboundQueue.ARN)
	assert.Empty(t, rp.DefaultOutboundQueue.Name)
	assert.Empty(t, rp.DefaultOutboundQueue.Channels)
}

// The queues' channel lists keep their arrays from one record to the next (no
// allocation per queue), and never carry a channel over.
func TestDecoderReusesQueueChannels(t *testing.T) {
	d := NewDecoder()
	var ev Event
	decodeString(t, d, &ev, `{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{`+
		`"InboundQueues":[{"ARN":"a","Channels":["VOICE","CHAT"]},{"ARN":"b","Channels":["TASK"]}],`+
		`"DefaultOutboundQueue":{"ARN":"o","Channels":["VOICE","CHAT"]}}},`+
		`"Contacts":[{"ContactId":"c1","Queue":{"ARN":"q"}}]}}`)
	decodeString(t, d, &ev, `{"EventType":"HEART_BEAT","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{`+
		`"InboundQueues":[{"ARN":"c"},{"ARN":"d","Channels":["EMAIL"]},{"ARN":"e","Channels":["CHAT"]}],`+
		`"DefaultOutboundQueue":{"ARN":"p"}}},`+
		`"Contacts":[{"ContactId":"c2"}]}}`)
	rp := withNilSlices(ev).Current.Configuration.RoutingProfile
	assert.Equal(t, []Queue{{ARN: "c"}, {ARN: "d", Channels: []string{"EMAIL"}}, {ARN: "e", Channels: []string{"CHAT"}}}, rp.InboundQueues)
	assert.Equal(t, Queue{ARN: "p"}, rp.DefaultOutboundQueue)
	assert.Equal(t, Queue{}, ev.Current.Contacts[0].Queue)

	record := readFixture(t, "heart_beat.json")
	require.NoError(t, d.Decode(record, &ev, nil))
	require.NotEmpty(t, ev.Current.Configuration.RoutingProfile.InboundQueues)
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Decode(record, &ev, nil); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "allocations per record, once the event's arrays are sized")
}

// Decoded strings must alias neither the record's bytes, which the caller may reuse,
// nor the decoder's parse buffers, which the next Decode overwrites.
func TestDecodedStringsOutliveRecord(t *testing.T) {
	want := *decodeFixture(t, "extras.json")

	d := NewDecoder()
	data := readFixture(t, "extras.json")
	var ev Event
	err := d.Decode(data, &ev, nil)
	require.NoError(t, err)
	for i := range data {
		data[i] = 'x'
	}
	assert.Equal(t, want, ev)

	// Decoding other records, of the same size and shape, into another Event with the
	// same decoder leaves the first Event intact.
	other := readFixture(t, "extras.json")
	other = bytes.ReplaceAll(other, []byte(`"Name": "`), []byte(`"Name": "~`))
	other = bytes.ReplaceAll(other, []byte(`"ContactId": "`), []byte(`"ContactId": "~`))
	other = bytes.ReplaceAll(other, []byte(`"EventId": "`), []byte(`"EventId": "~`))
	var ev2 Event
	for _, rec := range [][]byte{other, readFixture(t, "bench_state_change.json"), other} {
		err = d.Decode(rec, &ev2, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, "~"+want.EventID, ev2.EventID)
	assert.Equal(t, "~Omnichannel Profile", ev2.Current.Configuration.RoutingProfile.Name)
	assert.Equal(t, want, ev)
}

func TestHasProblemContact(t *testing.T) {
	tests := []struct {
		states []string
		want   bool
	}{
		{nil, false},
		{[]string{ContactMissed}, true},
		{[]string{ContactRejected}, true},
		{[]string{ContactError}, true},
		{[]string{ContactConnected}, false},
		{[]string{ContactEnded}, false},
		{[]string{ContactConnectedOnHold}, false},
		{[]string{ContactIncoming}, false},
		{[]string{ContactPending}, false},
		{[]string{ContactConnecting}, false},
		{[]string{ContactPaused}, false},
		{[]string{"SOMETHING_NEW"}, false},
		{[]string{ContactConnected, ContactEnded}, false},
		{[]string{ContactConnected, ContactMissed}, true},
		{[]string{ContactEnded, ContactConnected, ContactError}, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.states), func(t *testing.T) {
			var s Snapshot
			for _, st := range tc.states {
				s.Contacts = append(s.Contacts, Contact{State: st})
			}
			assert.Equal(t, tc.want, s.HasProblemContact())
		})
	}

	for file, want := range map[string]bool{
		"missed_contact.json":            true,
		"rejected_chat.json":             true,
		"error_contact.json":             true,
		"state_change_two_contacts.json": false, // CONNECTED and ENDED
		"bench_state_change.json":        false,
		"extras.json":                    false,
		"login.json":                     false,
	} {
		assert.Equal(t, want, decodeFixture(t, file).Current.HasProblemContact(), file)
	}
}

// The intern table is bounded: a stream of ever new status names must not grow it
// without limit, and values past the bound must still be right.
func TestInternTableBounded(t *testing.T) {
	d := NewDecoder()
	var ev Event
	n := maxInterned + 2000
	names := make([]string, 0, n)
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("Custom status %05d", i)
		rec := fmt.Sprintf(`{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":{"Name":%q},`+
			`"Contacts":[{"Channel":"VOICE","State":"CONNECTED"}]}}`, want)
		err := d.Decode([]byte(rec), &ev, nil)
		require.NoError(t, err)
		require.Equal(t, want, ev.Current.AgentStatus.Name)
		require.Equal(t, StatusCustom, ev.Current.AgentStatus.Type)
		require.True(t, ev.Current.AgentStatus.TypeDerived)
		require.Len(t, ev.Current.Contacts, 1)
		require.Equal(t, "VOICE", ev.Current.Contacts[0].Channel)
		names = append(names, ev.Current.AgentStatus.Name)
	}
	assert.LessOrEqual(t, len(d.intern), maxInterned)
	assert.Equal(t, "VOICE", d.intern["VOICE"], "early values stay interned")
	// Names kept from earlier records are intact: none was overwritten by a later one.
	for i, got := range names {
		require.Equal(t, fmt.Sprintf("Custom status %05d", i), got)
	}

	// Still decoding full events correctly once the table is full.
	err := d.Decode(readFixture(t, "bench_state_change.json"), &ev, nil)
	require.NoError(t, err)
	assert.Equal(t, *decodeFixture(t, "bench_state_change.json"), ev)
	assert.LessOrEqual(t, len(d.intern), maxInterned)

	// Long values are never interned but come back whole.
	long := strings.Repeat("n", maxInternedLen+1)
	d2 := NewDecoder()
	decodeString(t, d2, &ev, `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":{"Name":"`+long+`"}}}`)
	assert.Equal(t, long, ev.Current.AgentStatus.Name)
	_, interned := d2.intern[long]
	assert.False(t, interned)
}

// A value the same as the last one at its place is the interned one; a different one
// is read anew, never the last one again.
func TestRepeatedValuesAreTheInternedOnes(t *testing.T) {
	d := NewDecoder()
	var ev Event
	status := func(name, channel string) {
		decodeString(t, d, &ev, `{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"AgentStatus":{"Name":"`+name+`"},`+
			`"Contacts":[{"Channel":"`+channel+`"},{"Channel":"VOICE"}]},"PreviousAgentSnapshot":{"AgentStatus":{"Name":"`+name+`"}}}`)
	}
	status("Available", "CHAT")
	first := ev.Current.AgentStatus.Name
	for _, tc := range []struct{ name, channel string }{
		{"Available", "CHAT"}, {"Break", "CHAT"}, {"Lunch", "TASK"}, {"Available", "VOICE"}, {"Available", "VOICE"},
	} {
		status(tc.name, tc.channel)
		require.Equal(t, tc.name, ev.Current.AgentStatus.Name)
		require.Equal(t, tc.name, ev.Previous.AgentStatus.Name)
		require.Equal(t, tc.channel, ev.Current.Contacts[0].Channel)
		require.Equal(t, "VOICE", ev.Current.Contacts[1].Channel)
		if tc.name == "Available" {
			assert.Same(t, unsafe.StringData(first), unsafe.StringData(ev.Current.AgentStatus.Name))
			assert.Same(t, unsafe.StringData(first), unsafe.StringData(ev.Previous.AgentStatus.Name))
		}
	}
}
