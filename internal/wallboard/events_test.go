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
