package awsconnectreceiver

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// maxLearnedQueueNames bounds the names learned, against records naming endless queues:
// an instance has at most a few thousand.
const maxLearnedQueueNames = 20000

// learnedQueueNames are the queue names this collector's receivers have read, by queue
// ARN: agent events name the queues of agents' routing profiles and contacts, contact
// records their queue. Contact events name queues by ARN only: their receivers offer the
// names learned in aws.connect.queue.info.
var learnedQueueNames = newQueueNames()

type queueNames struct {
	// users counts the contact_events receivers with a metrics pipeline: learning costs
	// the agent events a little, and is done only while one runs.
	users atomic.Int32

	// names maps ARNs to names: written once a queue, read at every agent event without
	// a lock (sync.Map's case).
	names sync.Map
	mu    sync.Mutex // for count's sake
	count int
}

func newQueueNames() *queueNames { return &queueNames{} }

func (q *queueNames) wanted() bool { return q.users.Load() > 0 }

// learn keeps arn's name. The strings are copied: a decoder's may live in its buffers.
func (q *queueNames) learn(arn, name string) {
	if arn == "" || name == "" {
		return
	}
	cur, known := q.names.Load(arn)
	if known && cur.(string) == name {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, known = q.names.Load(arn); !known {
		if q.count >= maxLearnedQueueNames {
			return
		}
		q.count++
	}
	q.names.Store(strings.Clone(arn), strings.Clone(name))
}

func (q *queueNames) name(arn string) string {
	if v, ok := q.names.Load(arn); ok {
		return v.(string)
	}
	return ""
}

// learnQueueNames learns the names of the queues an agent event names: its agent's
// routing profile's inbound queues and default outbound queue, and its contacts' queues.
func learnQueueNames(ev *agentevent.Event) {
	snap := &ev.Current
	rp := &snap.Configuration.RoutingProfile
	for i := range rp.InboundQueues {
		learnedQueueNames.learn(rp.InboundQueues[i].ARN, rp.InboundQueues[i].Name)
	}
	learnedQueueNames.learn(rp.DefaultOutboundQueue.ARN, rp.DefaultOutboundQueue.Name)
	for i := range snap.Contacts {
		learnedQueueNames.learn(snap.Contacts[i].Queue.ARN, snap.Contacts[i].Queue.Name)
	}
}
