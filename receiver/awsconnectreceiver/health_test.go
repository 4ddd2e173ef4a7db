package awsconnectreceiver

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// statusHost records the status events a component reports, as the collector's host
// would receive them, and checks each against the collector's own rule (v0.161.0,
// service/internal/status): nothing leaves PermanentError but Stopping.
type statusHost struct {
	component.Host
	t *testing.T

	mu     sync.Mutex
	events []*componentstatus.Event
}

func newStatusHost(t *testing.T) *statusHost {
	return &statusHost{Host: componenttest.NewNopHost(), t: t}
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.events); n > 0 && h.events[n-1].Status() == componentstatus.StatusPermanentError {
		h.t.Errorf("%s reported after PermanentError: the collector ignores it", ev.Status())
	}
	h.events = append(h.events, ev)
}

func (h *statusHost) all() []*componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*componentstatus.Event(nil), h.events...)
}

func (h *statusHost) latest() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

func statuses(evs []*componentstatus.Event) []componentstatus.Status {
	out := make([]componentstatus.Status, len(evs))
	for i, ev := range evs {
		out[i] = ev.Status()
	}
	return out
}

// TestHealthRecoverableThenOK: a held-up shard is a recoverable error naming the shard,
// another shard joining is reported again, and OK comes once every shard has cleared.
func TestHealthRecoverableThenOK(t *testing.T) {
	host := newStatusHost(t)
	h := newHealth(zap.NewNop())
	h.addHost(host)

	h.consumer("", nil)
	assert.Empty(t, host.all(), "nothing to say while all is well: the collector reports OK itself")

	h.consumer("shardId-000000000001", errors.New("checkpoint unreadable: invalid character"))
	h.consumer("shardId-000000000001", errors.New("checkpoint unreadable: invalid character, again"))
	require.Len(t, host.all(), 1, "a retry failing the same way is not news")
	ev := host.latest()
	assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
	assert.EqualError(t, ev.Err(), "shard shardId-000000000001: checkpoint unreadable: invalid character")

	h.consumer("", errors.New("list shards: ProvisionedThroughputExceededException"))
	require.Len(t, host.all(), 2, "another scope in trouble is")
	assert.EqualError(t, host.latest().Err(), "shard shardId-000000000001: checkpoint unreadable: invalid character, again; list shards: ProvisionedThroughputExceededException")

	h.consumer("shardId-000000000001", nil)
	assert.Equal(t, componentstatus.StatusRecoverableError, host.latest().Status(), "the listing is still held up")
	h.consumer("", nil)
	assert.Equal(t, []componentstatus.Status{
		componentstatus.StatusRecoverableError, componentstatus.StatusRecoverableError,
		componentstatus.StatusRecoverableError, componentstatus.StatusOK,
	}, statuses(host.all()))
	h.consumer("", nil)
	assert.Len(t, host.all(), 4, "clearing what is clear says nothing")
}

// TestHealthPermanentStays: a permanent problem outranks the recoverable ones and, as
// the collector allows no way back from it, nothing is reported after it; the log says
// why the status stays once the problem clears.
func TestHealthPermanentStays(t *testing.T) {
	host := newStatusHost(t)
	core, logs := observer.New(zap.InfoLevel)
	h := newHealth(zap.New(core))
	h.addHost(host)

	h.consumer("shardId-000000000000", errors.New("saving checkpoints fails"))
	h.permanent(scopeAccess, errors.New("kinesis:GetRecords on arn:aws:kinesis:us-east-1:123456789012:stream/s is not allowed: AccessDeniedException: no"))
	ev := host.latest()
	require.Equal(t, componentstatus.StatusPermanentError, ev.Status())
	assert.EqualError(t, ev.Err(), "kinesis:GetRecords on arn:aws:kinesis:us-east-1:123456789012:stream/s is not allowed: AccessDeniedException: no",
		"the permanent problem alone, first thing in the body")

	h.clear(scopeAccess)
	h.consumer("shardId-000000000000", nil)
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusPermanentError}, statuses(host.all()))
	assert.Equal(t, 1, logs.FilterMessageSnippet("stays PermanentError until the collector restarts").Len())
}

// TestHealthLateHost: a host that comes later (the receiver's second pipeline) gets the
// current status at once.
func TestHealthLateHost(t *testing.T) {
	h := newHealth(zap.NewNop())
	first, second := newStatusHost(t), newStatusHost(t)
	h.addHost(first)
	h.permanent(scopeAccess, errors.New("stream s was not found in region us-east-1"))
	h.addHost(second)
	require.NotNil(t, second.latest())
	assert.Equal(t, componentstatus.StatusPermanentError, second.latest().Status())
	assert.EqualError(t, second.latest().Err(), "stream s was not found in region us-east-1")
}
