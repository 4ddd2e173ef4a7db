package eventlog

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// A repeated Contacts or Concurrency key makes the record malformed, so the agent state
// (fed by the visit) and the log body can never disagree: it is not visited at all.
func TestBuildDuplicateKeysAreMalformed(t *testing.T) {
	tests := map[string]string{
		"Contacts": `{"EventType":"STATE_CHANGE","EventId":"e1","AgentARN":"a","CurrentAgentSnapshot":{` +
			`"Contacts":[{"ContactId":"c1","State":"CONNECTED","Channel":"VOICE"}],"Contacts":[]}}`,
		"Concurrency": `{"EventType":"STATE_CHANGE","EventId":"e2","AgentARN":"a","CurrentAgentSnapshot":{"Configuration":{"RoutingProfile":{` +
			`"Concurrency":[{"Channel":"CHAT","AvailableSlots":3,"MaximumSlots":3}],"Concurrency":[{"Channel":"CHAT","AvailableSlots":0,"MaximumSlots":3}]}}}}`,
	}
	for name, rec := range tests {
		t.Run(name, func(t *testing.T) {
			visited := 0
			res := newBuilder().buildVisiting(batchOf([]byte(rec)), observed, func(*agentevent.Event) { visited++ })
			assert.Equal(t, 1, res.Malformed)
			assert.Zero(t, visited, "the agent state never sees it")
			_, lr := onlyRecord(t, res.Logs)
			assert.Equal(t, agentevent.ErrKindDuplicateKey, attrStr(lr, AttrErrorType))
			assert.Contains(t, attrStr(lr, AttrExceptionMessage), name+": key repeated")
			assert.Equal(t, rec, lr.Body().Str(), "the raw record is kept, nothing lost")
		})
	}
}

// An object over the member limit is refused as malformed, naming the limit, and costs
// about a scan (BenchmarkBuildWorstRecord measures it).
func TestBuildTooManyMembersIsMalformed(t *testing.T) {
	rec := worstRecord(agentevent.MaxMembers + 1)
	res := newBuilder().build(batchOf(rec), observed)
	require.Equal(t, 1, res.Malformed)
	_, lr := onlyRecord(t, res.Logs)
	assert.Equal(t, agentevent.ErrKindTooManyMembers, attrStr(lr, AttrErrorType))
	assert.Contains(t, attrStr(lr, AttrExceptionMessage), fmt.Sprintf("Extra: object has more than %d members", agentevent.MaxMembers))

	// At the limit, the whole body is built.
	rec = worstRecord(agentevent.MaxMembers)
	res = newBuilder().build(batchOf(rec), observed)
	require.Equal(t, 0, res.Malformed)
	_, lr = onlyRecord(t, res.Logs)
	extra, ok := lr.Body().Map().Get("Extra")
	require.True(t, ok)
	assert.Equal(t, agentevent.MaxMembers, extra.Map().Len())
}

// Records naming endless instance ARNs cannot grow the resource cache without end; a
// resource past the bound is built each time, and still right.
func TestResourceCacheBounded(t *testing.T) {
	b := newBuilder()
	for i := range 3 * maxResources {
		arn := fmt.Sprintf("arn:aws:connect:us-east-1:123456789012:instance/%08d", i)
		id, ok := b.Resource(arn).Attributes().Get("cloud.resource_id")
		require.True(t, ok)
		require.Equal(t, arn, id.Str())
	}
	assert.LessOrEqual(t, len(b.resources), maxResources)
	assert.Positive(t, len(b.resources))
}
