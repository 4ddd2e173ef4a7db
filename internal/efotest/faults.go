package efotest

import (
	"slices"
	"time"
)

// failure answers the next n calls of an action with errType.
type failure struct {
	errType string
	n       int
}

// take uses up one failure, if any are left; the server's mutex is held.
func (f *failure) take() (string, bool) {
	if f.n <= 0 {
		return "", false
	}
	f.n--
	return f.errType, true
}

// FailSubscribe answers the next n SubscribeToShard calls that pass the wire checks
// with errType: ResourceInUseException, LimitExceededException, InternalFailure (a
// 500, which the SDK retries)...
func (s *Server) FailSubscribe(errType string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSubscribe = failure{errType, n}
}

// FailDescribe answers the next n DescribeStreamConsumer calls with errType
// (LimitExceededException is AWS's throttling of it).
func (s *Server) FailDescribe(errType string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failDescribe = failure{errType, n}
}

// A streamFault breaks one subscription after it has written `after` events.
type streamFault struct {
	end           End // EndDropped, EndCorrupt or EndException
	after         int
	exceptionType string
}

// DropAfter makes a subscription break its connection after writing that many
// SubscribeToShardEvents: its stream is reset, as a server that goes away mid-stream.
// Faults queue: each subscription opened takes the oldest one left.
func (s *Server) DropAfter(events int) { s.addFault(streamFault{end: EndDropped, after: events}) }

// CorruptAfter makes a subscription write that many good events, then a frame whose
// message CRC is wrong, then stop.
func (s *Server) CorruptAfter(events int) { s.addFault(streamFault{end: EndCorrupt, after: events}) }

// ExceptionAfter makes a subscription send an exception message of exceptionType
// (InternalFailureException, say) after that many events, then end.
func (s *Server) ExceptionAfter(events int, exceptionType string) {
	s.addFault(streamFault{end: EndException, after: events, exceptionType: exceptionType})
}

func (s *Server) addFault(f streamFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamFaults = append(s.streamFaults, f)
}

// SetLifetime changes how long subscriptions last, open ones included.
func (s *Server) SetLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// End is how a subscription ended.
type End string

const (
	EndLifetime  End = "lifetime"  // the server ended it cleanly at its lifetime
	EndShardEnd  End = "shard-end" // the shard is closed and was read to its end
	EndClient    End = "client"    // the client went: it reset the stream or a write failed
	EndDropped   End = "dropped"   // DropAfter reset the stream
	EndCorrupt   End = "corrupt"   // CorruptAfter wrote a malformed frame
	EndException End = "exception" // ExceptionAfter sent an exception message
	EndBackend   End = "backend"   // the backend failed; an InternalFailureException was sent
	EndClosed    End = "closed"    // the server closed
)

// Subscription is one SubscribeToShard the server accepted.
type Subscription struct {
	ConsumerARN, ShardID string
	// StartingPosition is the position's Type; SequenceNumber and Timestamp are set for
	// the types that take them.
	StartingPosition string
	SequenceNumber   string
	Timestamp        time.Time
	// Opened is when it was accepted, Closed when its handler returned (zero while open).
	Opened, Closed time.Time
	// Events and Records are the SubscribeToShardEvents and records written so far (the
	// initial-response not counted): they stop growing while a client does not read.
	Events, Records int
	// End is how it ended, "" while open; Err says more for EndBackend.
	End End
	Err string
}

// subscription is a Subscription as the server keeps it, guarded by its mutex.
type subscription struct {
	Subscription
	fault *streamFault
	// writing is true while its handler is in Write or Flush: a count that does not
	// move while writing is a client's flow control holding the server back, not a
	// slow backend.
	writing bool
}

// Subscriptions are every subscription accepted, oldest first, as they are now.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Subscription, len(s.subs))
	for i, sub := range s.subs {
		out[i] = sub.Subscription
	}
	return out
}

// Registers is how many RegisterStreamConsumer calls came.
func (s *Server) Registers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registers
}

// Describes is how many DescribeStreamConsumer calls came, failed ones included.
func (s *Server) Describes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.describes
}

// Violations are the breaches of the wire protocol seen in SubscribeToShard calls, and
// subscriptions to consumers or shards that are not there or not ACTIVE.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}
