package contactrecord

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
// failure as a *DecodeError whose Redacted message is no longer than its Error, and a
// record it accepts, written out again, must decode to the same record.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(recordsDir, "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		everyField, `{}`, `[]`, `{"ContactId":"c"}`, `{"contactid":"c","agent":{"routingprofile":{"name":"x"}}}`,
		`{"EventType":"LOGIN","AgentARN":"a"}`, `{"eventType":"QUEUED","contactId":"c"}`,
		`{"ContactId":"\ud800","LastUpdateTimestamp":"1970-01-01T00:00:00.001Z","Channel":"Voice"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		err := Decode(data, &r)
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
		if r.ContactID == "" {
			t.Fatalf("accepted without ContactId: %q", data)
		}
		again := encode(t, &r)
		var back Record
		if err := Decode(again, &back); err != nil {
			t.Fatalf("re-encoded record %s does not decode: %v", again, err)
		}
		if !reflect.DeepEqual(r, back) {
			t.Fatalf("round trip changed the record:\n%#v\n%#v\nvia %s", r, back, again)
		}
		if r.DedupKey() != back.DedupKey() || r.ContactKey() != back.ContactKey() {
			t.Fatal("round trip changed the keys")
		}
	})
}

// encode writes a record in the wire format, independently of the decoder.
func encode(t *testing.T, r *Record) []byte {
	t.Helper()
	ts := func(tm time.Time) any {
		if tm.IsZero() {
			return nil
		}
		return tm.Format(time.RFC3339Nano)
	}
	doc := map[string]any{
		"AWSAccountId": r.AWSAccountID, "AWSContactTraceRecordFormatVersion": r.FormatVersion, "InstanceARN": r.InstanceARN,
		"ContactId": r.ContactID, "InitialContactId": r.InitialContactID, "PreviousContactId": r.PreviousContactID,
		"NextContactId": r.NextContactID, "RelatedContactId": r.RelatedContactID, "Channel": r.Channel,
		"InitiationMethod": r.InitiationMethod, "DisconnectReason": r.DisconnectReason,
		"InitiationTimestamp": ts(r.InitiationTimestamp), "ConnectedToSystemTimestamp": ts(r.ConnectedToSystemTimestamp),
		"DisconnectTimestamp": ts(r.DisconnectTimestamp), "LastUpdateTimestamp": ts(r.LastUpdateTimestamp),
		"ScheduledTimestamp": ts(r.ScheduledTimestamp), "TransferCompletedTimestamp": ts(r.TransferCompletedTimestamp),
		"AgentConnectionAttempts": r.AgentConnectionAttempts,
	}
	if a := r.Agent; a != nil {
		doc["Agent"] = map[string]any{
			"ARN": a.ARN, "Username": a.Username, "RoutingProfile": map[string]any{"ARN": a.RoutingProfileARN, "Name": a.RoutingProfileName},
			"ConnectedToAgentTimestamp": ts(a.ConnectedToAgentTimestamp), "AgentInteractionDuration": a.AgentInteractionDuration,
			"CustomerHoldDuration": a.CustomerHoldDuration, "AgentInitiatedHoldDuration": a.AgentInitiatedHoldDuration,
			"NumberOfHolds": a.NumberOfHolds, "LongestHoldDuration": a.LongestHoldDuration,
			"AfterContactWorkStartTimestamp": ts(a.AfterContactWorkStartTimestamp), "AfterContactWorkEndTimestamp": ts(a.AfterContactWorkEndTimestamp),
			"AfterContactWorkDuration": a.AfterContactWorkDuration, "AgentPauseDuration": a.AgentPauseDuration,
		}
	}
	if q := r.Queue; q != nil {
		doc["Queue"] = map[string]any{"ARN": q.ARN, "Name": q.Name, "EnqueueTimestamp": ts(q.EnqueueTimestamp), "DequeueTimestamp": ts(q.DequeueTimestamp), "Duration": q.Duration}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
