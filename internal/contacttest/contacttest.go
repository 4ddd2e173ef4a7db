// Package contacttest writes Amazon Connect contact events for the tests, as EventBridge
// delivers them to a Kinesis stream: the whole envelope, shaped after the reference's
// samples.
package contacttest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// InstanceARN is the instance of the events.
const InstanceARN = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-1111-2222-3333-444444444444"

// Event is a contact event. Queue and Enqueued make its queueInfo, Connected its
// agentInfo; Channel defaults to VOICE and Method to INBOUND.
type Event struct {
	Type, ContactID, PreviousContactID, Method, Queue, Channel string
	Enqueued, Connected, Disconnected                          time.Time
}

// JSON is the event in its EventBridge envelope, with envelope id id.
func (e Event) JSON(id string) []byte {
	ms := func(at time.Time) string { return at.UTC().Format("2006-01-02T15:04:05.000Z") }
	channel := e.Channel
	if channel == "" {
		channel = "VOICE"
	}
	method := e.Method
	if method == "" {
		method = "INBOUND"
	}
	started := e.Enqueued
	if started.IsZero() {
		started = time.Now()
	}
	detail := map[string]any{
		"eventType":           e.Type,
		"contactId":           e.ContactID,
		"channel":             channel,
		"instanceArn":         InstanceARN,
		"initiationMethod":    method,
		"initiationTimestamp": ms(started.Add(-20 * time.Second)),
	}
	if e.PreviousContactID != "" {
		detail["previousContactId"] = e.PreviousContactID
	}
	if e.Queue != "" && !e.Enqueued.IsZero() {
		detail["queueInfo"] = map[string]any{"queueArn": e.Queue, "queueType": "STANDARD", "enqueueTimestamp": ms(e.Enqueued)}
	}
	if !e.Connected.IsZero() {
		detail["agentInfo"] = map[string]any{"agentArn": InstanceARN + "/agent/bbbbbbbb-1111-2222-3333-444444444444", "connectedToAgentTimestamp": ms(e.Connected)}
	}
	if !e.Disconnected.IsZero() {
		detail["disconnectTimestamp"] = ms(e.Disconnected)
	}
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": id, "detail-type": "Amazon Connect Contact Event", "source": "aws.connect",
		"account": "111122223333", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{InstanceARN}, "detail": detail,
	})
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

// Records returns the events' partition keys and data, keyed by EventBridge's event id,
// its default partition key: one contact's events land on any shard, in any order
// between shards.
func Records(evs ...Event) (keys []string, data [][]byte) {
	for i, ev := range evs {
		id := fmt.Sprintf("%s-%s-%d-%d", ev.ContactID, ev.Type, i, time.Now().UnixNano())
		keys = append(keys, id)
		data = append(data, ev.JSON(id))
	}
	return keys, data
}

// Put writes the events to a kinesis-local stream.
func Put(t testing.TB, srv *kinesistest.Server, stream string, evs ...Event) {
	t.Helper()
	keys, data := Records(evs...)
	srv.Put(t, stream, keys, data)
}
