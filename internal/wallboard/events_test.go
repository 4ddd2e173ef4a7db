package wallboard

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEventLine(t *testing.T) {
	line := `{"AWSAccountId":"1","EventTimestamp":"2026-11-23T23:16:32.218Z","EventType":"STATE_CHANGE"} aws.connect.event.id=e1 aws.connect.event.type=STATE_CHANGE aws.connect.agent.arn=arn:x aws.connect.agent.username=jdoe aws.connect.agent.status.name=On Break aws.connect.agent.status.type=CUSTOM aws.connect.routing_profile.name=Basic Routing Profile aws.kinesis.stream_name=s`
	got, ok := EventLine(line)
	assert.True(t, ok)
	assert.Equal(t, "23:16:32  STATE_CHANGE  jdoe  On Break  Basic Routing Profile", got)

	got, ok = EventLine(`not json at all aws.kinesis.stream_name=s aws.kinesis.shard_id=x error.type=invalid_json exception.message=oops`)
	assert.True(t, ok)
	assert.Contains(t, got, "invalid_json")

	_, ok = EventLine("2026-11-23T23:16:32.218Z	info	Logs	{\"resource\": {}}")
	assert.False(t, ok)
}

// Lines as the demo's debug exporter prints a contact event and a contact record.
func TestContactEventLine(t *testing.T) {
	event := `{"account":"123456789012","detail":{"channel":"VOICE","contactId":"83cc8304-046d-4243-b27f-2c38d4122750","eventType":"QUEUED"},"detail-type":"Amazon Connect Contact Event","time":"2026-12-02T09:35:48Z","version":"0"} aws.connect.event.id=7c09 aws.connect.event.type=QUEUED aws.connect.contact.id=83cc8304-046d-4243-b27f-2c38d4122750 aws.connect.channel=VOICE aws.connect.contact.initiation_method=INBOUND aws.connect.queue.arn=arn:aws:connect:us-east-1:1:instance/i/queue/befb6684-b588-56b6-8cc1-6555dd1ac088 aws.kinesis.stream_name=connect-contact-events`
	got, ok := EventLine(event)
	assert.True(t, ok)
	assert.Equal(t, "09:35:48  QUEUED  VOICE  queue befb6684  contact 83cc8304", got)

	record := `{"AWSAccountId":"1","ContactId":"8c8cf155-308d-4358-a163-6cfa11872b4e","LastUpdateTimestamp":"2026-12-02T09:36:02Z"} aws.connect.contact.id=8c8cf155-308d-4358-a163-6cfa11872b4e aws.connect.channel=CHAT aws.connect.contact.initiation_method=API aws.connect.queue.arn=arn:aws:connect:us-east-1:1:instance/i/queue/befb6684 aws.connect.queue.name=Sales aws.kinesis.stream_name=connect-contact-records`
	got, ok = EventLine(record)
	assert.True(t, ok)
	assert.Equal(t, "09:36:02  CONTACT_RECORD  CHAT  Sales  contact 8c8cf155", got)
}
