package contactevent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzDecode feeds the decoder arbitrary records. It must never panic, must give every
// failure as a *DecodeError whose Redacted message is no longer than its Error, and an
// event it accepts, written out again, must decode to the same event.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		everyField, `{}`, `[]`, `null`, `{"eventType":"X","contactId":"c"}`,
		`{"source":"aws.connect","detail-type":"x","detail":{"EventType":"queued","ContactId":"c","QueueInfo":{"EnqueueTimestamp":"1970-01-01T00:00:00.001Z"}}}`,
		`{"eventType":"X","contactId":"\ud800","channel":"Voice","routingCriteria":[{"Index":1}]}`,
		`{"EventType":"STATE_CHANGE","AgentARN":"a"}`, `{"AWSContactTraceRecordFormatVersion":"2017-03-10"}`,
		`{"source":"aws.connect","detail-type":null,"detail":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev Event
		err := Decode(data, &ev)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			if de.Kind == "" || len(de.Redacted()) > len(de.Error()) {
				t.Fatalf("bad error %#v", de)
			}
			return
		}
		if ev.EventType == "" || ev.ContactID == "" {
			t.Fatalf("accepted without eventType or contactId: %q", data)
		}
		again := encode(t, &ev)
		var back Event
		if err := Decode(again, &back); err != nil {
			t.Fatalf("re-encoded event %s does not decode: %v", again, err)
		}
		if !reflect.DeepEqual(ev, back) {
			t.Fatalf("round trip changed the event:\n%#v\n%#v\nvia %s", ev, back, again)
		}
		if ev.DedupKey() != back.DedupKey() {
			t.Fatal("round trip changed the key")
		}
	})
}

// encode writes an event in the wire format, independently of the decoder: an envelope
// if it came in one, else the bare detail.
func encode(t *testing.T, ev *Event) []byte {
	t.Helper()
	ts := func(tm time.Time) any {
		if tm.IsZero() {
			return nil
		}
		return tm.Format(time.RFC3339Nano)
	}
	detail := map[string]any{
		"eventType": ev.EventType, "contactId": ev.ContactID, "initialContactId": ev.InitialContactID,
		"previousContactId": ev.PreviousContactID, "relatedContactId": ev.RelatedContactID, "channel": ev.Channel,
		"instanceArn": ev.InstanceARN, "initiationMethod": ev.InitiationMethod,
		"initiationTimestamp": ts(ev.InitiationTimestamp), "connectedToSystemTimestamp": ts(ev.ConnectedToSystemTimestamp),
		"disconnectTimestamp": ts(ev.DisconnectTimestamp), "scheduledTimestamp": ts(ev.ScheduledTimestamp),
		"disconnectReason": ev.DisconnectReason, "answeringMachineDetectionStatus": ev.AnsweringMachineDetectionStatus,
		"updatedProperties": ev.UpdatedProperties,
	}
	if q := ev.Queue; q != nil {
		detail["queueInfo"] = map[string]any{"queueArn": q.ARN, "queueType": q.Type, "enqueueTimestamp": ts(q.EnqueueTimestamp)}
	}
	if a := ev.Agent; a != nil {
		groups := map[string]any{}
		for i, arn := range a.HierarchyGroupARNs {
			groups["level"+string(rune('1'+i))] = map[string]any{"arn": arn}
		}
		detail["agentInfo"] = map[string]any{
			"agentArn": a.ARN, "connectedToAgentTimestamp": ts(a.ConnectedToAgentTimestamp),
			"agentInitiatedHoldDuration": a.AgentInitiatedHoldDuration, "afterContactWorkDuration": a.AfterContactWorkDuration,
			"afterContactWorkStartTimestamp": ts(a.AfterContactWorkStartTimestamp), "afterContactWorkEndTimestamp": ts(a.AfterContactWorkEndTimestamp),
			"acceptedByAgentTimestamp": ts(a.AcceptedByAgentTimestamp), "previewEndTimestamp": ts(a.PreviewEndTimestamp),
			"hierarchyGroups": groups,
		}
	}
	var doc any = detail
	if e := ev.Envelope; e.Source != "" {
		doc = map[string]any{
			"version": e.Version, "id": e.ID, "detail-type": e.DetailType, "source": e.Source, "account": e.Account,
			"time": ts(e.Time), "region": e.Region, "resources": e.Resources, "detail": detail,
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
