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
var learnedQueueNames = &queueNames{names: map[string]string{}, limit: maxLearnedQueueNames}

type queueNames struct {
	// users counts the contact_events receivers with a metrics pipeline: learning costs
	// the agent events a little, and is done only while one runs.
	users atomic.Int32

	mu    sync.RWMutex
	names map[string]string
	limit int
}

func (q *queueNames) wanted() bool { return q.users.Load() > 0 }

// learn keeps arn's name. The strings are copied: a decoder's may live in its buffers.
func (q *queueNames) learn(arn, name string) {
	if arn == "" || name == "" {
		return
	}
	q.mu.RLock()
	cur, known := q.names[arn]
	q.mu.RUnlock()
	if cur == name {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if known || len(q.names) < q.limit {
		q.names[strings.Clone(arn)] = strings.Clone(name)
	}
}

func (q *queueNames) name(arn string) string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.names[arn]
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
