package awsconnectreceiver

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"
)

// Scopes of the problems health keeps; the consumer's shards are "shard " + their ID.
const (
	scopeAccess = "access"           // the permission check before reading
	scopeStream = "stream"           // listing or assigning the stream's shards
	scopeFanOut = "enhanced_fan_out" // the stream consumer that enhanced fan-out subscribes as
)

// health keeps the receiver's current problems by scope and reports their sum through
// componentstatus, to every host the receiver was started with (one per pipeline it is
// in): PermanentError while a problem needs a person (access denied, no such stream),
// RecoverableError while a shard or the listing is held up, OK once all have cleared.
//
// The collector's status model (service/internal/status, v0.161.0) allows no way out of
// PermanentError but to Stopping: once reported, it stays until the collector restarts,
// even though the receiver goes on retrying and reads once the cause is fixed.
type health struct {
	mu       sync.Mutex
	logger   *zap.Logger
	hosts    []component.Host
	problems map[string]problem
	// last is the event reported last, nil before any; sent to hosts added later.
	last *componentstatus.Event
	// lastScopes are the scopes last reported, so that a recoverable error is reported
	// again when another shard joins in, not at each retry (which would restart the
	// health_check extension's recovery_duration).
	lastScopes string
}

type problem struct {
	err       error
	permanent bool
}

func newHealth(logger *zap.Logger) *health {
	return &health{logger: logger, problems: map[string]problem{}}
}

// addHost reports to host from now on, starting with the current status if it is not OK.
func (h *health) addHost(host component.Host) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, host)
	if h.last != nil && h.last.Status() != componentstatus.StatusOK {
		componentstatus.ReportStatus(host, h.last)
	}
}

// permanent records a problem only a person can fix.
func (h *health) permanent(scope string, err error) { h.set(scope, problem{err: err, permanent: true}) }

// recoverable records a problem the receiver expects to get past by retrying.
func (h *health) recoverable(scope string, err error) { h.set(scope, problem{err: err}) }

// clear records that scope's trouble is over.
func (h *health) clear(scope string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.problems[scope]; !ok {
		return
	}
	delete(h.problems, scope)
	h.report()
}

// consumer is the consumer's Health hook: a shard ID, or "" for the stream as a whole
// (listing, assigning shards), and an error while reading it is held up, nil once not.
func (h *health) consumer(shardID string, err error) {
	scope := scopeStream
	if shardID != "" {
		scope = "shard " + shardID
	}
	if err == nil {
		h.clear(scope)
		return
	}
	h.recoverable(scope, err)
}

func (h *health) set(scope string, p problem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.problems[scope] = p
	h.report()
}

// report sends the status the problems add up to, if it changed. h.mu is held, so
// events reach the hosts in order.
func (h *health) report() {
	if h.last != nil && h.last.Status() == componentstatus.StatusPermanentError {
		if len(h.problems) == 0 {
			h.logger.Info("The receiver's problems have cleared and it is reading, but its component status stays PermanentError until the collector restarts: the collector's status model has no way back from it")
		}
		return
	}
	scopes := make([]string, 0, len(h.problems))
	anyPermanent := false
	for scope, p := range h.problems {
		scopes = append(scopes, scope)
		anyPermanent = anyPermanent || p.permanent
	}
	slices.Sort(scopes)
	// One line, for the health endpoint's body: with a permanent problem, only those.
	var msgs []string
	for _, scope := range scopes {
		if p := h.problems[scope]; p.permanent || !anyPermanent {
			msgs = append(msgs, scopedMessage(scope, p.err))
		}
	}
	var ev *componentstatus.Event
	switch {
	case anyPermanent:
		ev = componentstatus.NewPermanentErrorEvent(errors.New(strings.Join(msgs, "; ")))
	case len(msgs) > 0:
		ev = componentstatus.NewRecoverableErrorEvent(errors.New(strings.Join(msgs, "; ")))
	default:
		ev = componentstatus.NewEvent(componentstatus.StatusOK)
	}
	key := strings.Join(scopes, ",")
	if h.last == nil && ev.Status() == componentstatus.StatusOK {
		return // the collector reports OK itself once Start returns
	}
	if h.last != nil && h.last.Status() == ev.Status() && h.lastScopes == key {
		return
	}
	h.last, h.lastScopes = ev, key
	for _, host := range h.hosts {
		componentstatus.ReportStatus(host, ev)
	}
}

// scopedMessage prefixes a shard's error with the shard, which the consumer's errors
// may not name.
func scopedMessage(scope string, err error) string {
	msg := err.Error()
	if strings.HasPrefix(scope, "shard ") && !strings.Contains(msg, strings.TrimPrefix(scope, "shard ")) {
		return scope + ": " + msg
	}
	return msg
}
