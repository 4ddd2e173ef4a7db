package awsconnectreceiver

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactevent"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactrecord"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/contactstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/contactlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
)

// processContacts is Process for contact events and contact records: the same flow as
// agent events' (decode, drop a duplicate, update the state, add the log record), and
// then the contact state is saved before the batch can be checkpointed.
func (r *awsConnectReceiver) processContacts(ctx context.Context, b kinesisconsumer.Batch, now time.Time) error {
	if b.Replay {
		return r.replayContacts(b, now)
	}
	first := b.Attempt == 1
	if first {
		r.countRead(ctx, b)
	}
	// The state takes a batch on its first offer only; its changes are saved on every
	// offer until saved (contactState.save), so a batch is checkpointed only once the
	// state it left is stored: after a crash, the events read again change nothing.
	applyState := r.contacts != nil && first
	// Log records are built only for a logs pipeline: a nil Records adds nothing.
	var recs *contactlog.Records
	if r.nextLogs != nil {
		recs = contactlog.NewRecords(r.builder, eventlog.Source{Stream: b.StreamName, Shard: b.ShardID}, len(b.Records), now)
	}
	var malformed, duplicates int
	var dequeues []contactstate.Dequeue
	var ev contactevent.Event
	var cr contactrecord.Record
	for i := range b.Records {
		rec := &b.Records[i]
		switch r.cfg.Records {
		case RecordsContactEvents:
			if err := contactevent.Decode(rec.Data, &ev); err != nil {
				malformed++
				recs.AddMalformed(rec.Data, rec.SequenceNumber, err)
				continue
			}
			if !b.Recent.Admit(ev.DedupKey()) {
				duplicates++
				continue
			}
			if applyState {
				dequeues = r.contacts.store.ApplyShardEvent(&ev, b.ShardID, now, dequeues[:0])
				r.queueMetrics.dequeued(dequeues)
			}
			recs.AddEvent(&ev, rec.Data, rec.SequenceNumber)
		case RecordsContactRecords:
			if err := contactrecord.Decode(rec.Data, &cr); err != nil {
				malformed++
				recs.AddMalformed(rec.Data, rec.SequenceNumber, err)
				continue
			}
			if !b.Recent.Admit(cr.DedupKey()) {
				duplicates++
				continue
			}
			if cr.Queue != nil && learnedQueueNames.wanted() {
				learnedQueueNames.learn(cr.Queue.ARN, cr.Queue.Name)
			}
			// A contact counts once, on its first record; updates are logged, not counted.
			if applyState && r.contacts.store.ApplyRecord(&cr, now) {
				r.queueMetrics.recorded(&cr)
			}
			if first {
				// The record proves its contact is over, whatever events were lost.
				contactEventReceivers.endFromRecord(&cr, now)
			}
			recs.AddRecord(&cr, rec.Data, rec.SequenceNumber)
		}
	}
	if first {
		r.recordOutcome(ctx, malformed, duplicates)
	}
	if err := r.saveContactStates(ctx); err != nil {
		r.telemetry.ReceiverAwsConnectBatchesRefused.Add(ctx, 1)
		return fmt.Errorf("save the contact state before the checkpoint: %w", err)
	}
	if recs == nil {
		return nil
	}
	return r.consumeLogs(ctx, b, recs.Logs(), "json")
}

// contactReplayWindow is how far back a shard taken over from another collector of a
// fleet is replayed into the contact state: contacts that have waited longer are counted
// from their next event, when they leave the queue.
const contactReplayWindow = time.Hour

// contactsReplayed says whether shards are replayed into the contact state as they
// start: for contact events read by a fleet (leases), whose shards move between
// collectors. A single collector keeps the state in its storage instead.
func (r *awsConnectReceiver) contactsReplayed() bool {
	return r.contacts != nil && r.cfg.Records == RecordsContactEvents && r.cfg.Leases.Get() != nil
}

// replayContacts applies a replayed batch to the contact state: contacts of a shard taken
// over, whose earlier reader logged them and counted their leaving the queue. What they
// settle of this collector's own contacts is counted.
func (r *awsConnectReceiver) replayContacts(b kinesisconsumer.Batch, now time.Time) error {
	if !r.contactsReplayed() {
		return nil
	}
	var ev contactevent.Event
	var dequeues []contactstate.Dequeue
	for i := range b.Records {
		if contactevent.Decode(b.Records[i].Data, &ev) != nil || !b.Recent.Admit(ev.DedupKey()) {
			continue
		}
		dequeues = r.contacts.store.ReplayShardEvent(&ev, b.ShardID, now, dequeues[:0])
		r.queueMetrics.dequeued(dequeues)
	}
	return nil
}

// forgetShardContacts forgets the contacts of a shard a fleet's other collector reads now,
// which replays it.
func (r *awsConnectReceiver) forgetShardContacts(shardID string) int {
	if !r.contactsReplayed() {
		return 0
	}
	dequeues, n := r.contacts.store.ForgetShard(shardID, nil)
	r.queueMetrics.dequeued(dequeues)
	return n
}

// saveContactStates saves this receiver's contact state and, for contact records, the
// states of the contact event receivers the records ended contacts of.
func (r *awsConnectReceiver) saveContactStates(ctx context.Context) error {
	if r.contacts != nil {
		if err := r.contacts.save(ctx); err != nil {
			return err
		}
	}
	if r.cfg.Records == RecordsContactRecords {
		return contactEventReceivers.save(ctx)
	}
	return nil
}

// contactEventReceivers are the contact_events receivers of this collector with a
// metrics pipeline, which the contact_records receivers tell of every contact record.
var contactEventReceivers = &receiverSet{members: map[*awsConnectReceiver]struct{}{}}

type receiverSet struct {
	mu      sync.Mutex
	members map[*awsConnectReceiver]struct{}
}

func (s *receiverSet) add(r *awsConnectReceiver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.members[r]; !ok {
		s.members[r] = struct{}{}
		learnedQueueNames.users.Add(1)
	}
}

func (s *receiverSet) remove(r *awsConnectReceiver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.members[r]; ok {
		delete(s.members, r)
		learnedQueueNames.users.Add(-1)
	}
}

func (s *receiverSet) all() []*awsConnectReceiver {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*awsConnectReceiver, 0, len(s.members))
	for r := range s.members {
		out = append(out, r)
	}
	return out
}

// endFromRecord ends the contact of a contact record wherever a contact_events receiver
// still holds it as not ended: its DISCONNECTED was lost.
func (s *receiverSet) endFromRecord(cr *contactrecord.Record, now time.Time) {
	for _, r := range s.all() {
		r.queueMetrics.dequeued(r.contacts.store.EndFromRecord(cr, now, nil))
	}
}

// save saves every member's contact state.
func (s *receiverSet) save(ctx context.Context) error {
	for _, r := range s.all() {
		if err := r.contacts.save(ctx); err != nil {
			return fmt.Errorf("%s: %w", r.set.ID, err)
		}
	}
	return nil
}

// contactState is the contact state of a contact_events or contact_records receiver,
// and its copy in the storage extension.
type contactState struct {
	store  *contactstate.Store
	logger *zap.Logger
	// storage is nil without a storage extension: the state then lives in memory only,
	// as the checkpoints do.
	storage storage.Client
	prefix  string

	// saveMu makes saves one at a time: a bucket marshalled earlier must never be
	// written after one marshalled later.
	saveMu sync.Mutex
}

func newContactState(cfg *Config, logger *zap.Logger) *contactState {
	c := contactstate.DefaultConfig()
	c.ContactTTL = cfg.ContactTTL
	return &contactState{store: contactstate.New(c), logger: logger}
}

// contactStatePrefix keys the state's buckets by stream, as the checkpoints are.
func contactStatePrefix(stream string) string { return "contact_state/" + stream + "/" }

// load reads the state saved for the stream, before any record is read. A bucket that
// cannot be read is logged and left empty: its contacts are counted again from their
// next event, and the rest of the state is right.
func (c *contactState) load(ctx context.Context, client storage.Client, stream string) error {
	c.storage, c.prefix = client, contactStatePrefix(stream)
	ops := make([]*storage.Operation, contactstate.Buckets)
	for i := range ops {
		ops[i] = storage.GetOperation(c.prefix + strconv.Itoa(i))
	}
	if err := client.Batch(ctx, ops...); err != nil {
		return fmt.Errorf("read the contact state: %w", err)
	}
	loaded := 0
	for i, op := range ops {
		if op.Value == nil {
			continue
		}
		if err := c.store.LoadBucket(i, op.Value); err != nil {
			c.logger.Error("A bucket of the stored contact state is unreadable; its contacts are counted again from their next event",
				zap.String("key", op.Key), zap.Error(err))
			continue
		}
		loaded++
	}
	st := c.store.Stats()
	c.logger.Info("Loaded the contact state", zap.Int("buckets", loaded), zap.Int("contacts_waiting", st.Waiting),
		zap.Int("contacts_live", st.Live), zap.Int("contacts_ended", st.Ended), zap.Int("contact_records", st.Records))
	return nil
}

// save writes the buckets changed since the last save.
func (c *contactState) save(ctx context.Context) error {
	if c.storage == nil {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	ids := c.store.DirtyBuckets()
	if len(ids) == 0 {
		return nil
	}
	ops := make([]*storage.Operation, 0, len(ids))
	for _, i := range ids {
		key := c.prefix + strconv.Itoa(i)
		if data := c.store.MarshalBucket(i); data != nil {
			ops = append(ops, storage.SetOperation(key, data))
		} else {
			ops = append(ops, storage.DeleteOperation(key))
		}
	}
	if err := c.storage.Batch(ctx, ops...); err != nil {
		return err
	}
	c.store.MarkClean(ids)
	return nil
}

// saveContactsAfterTick saves what a collection changed (abandons settled, contacts
// forgotten). A failure is only logged: the next batch saves those buckets again.
func (r *awsConnectReceiver) saveContactsAfterTick() {
	ctx, cancel := context.WithTimeout(context.Background(), finalSaveTimeout)
	defer cancel()
	if err := r.contacts.save(ctx); err != nil {
		r.set.Logger.Warn("Could not save the contact state after a collection; the next batch saves it", zap.Error(err))
	}
}

// warnIfContactStateIsVolatile says what a restart loses when the contact state has no
// storage extension to live in.
func (r *awsConnectReceiver) warnIfContactStateIsVolatile() {
	switch {
	case r.contactsReplayed():
		r.set.Logger.Info("With leases, the contacts waiting in queues are rebuilt by replaying each shard's last hour as it is taken, not from a storage extension: a contact that has waited longer is counted from its next event")
	case r.cfg.Storage == nil:
		r.set.Logger.Warn("No storage extension set: the contact state lives in memory only, so after a restart the queue gauges count only contacts that have an event after it, and contact records updated later may count their contact again; set storage to keep it")
	}
}

// reportEvictions counts, and logs, what the contact state's bounds evicted: a contact
// center whose live contacts outgrow them loses count of some.
func (r *awsConnectReceiver) reportEvictions(contacts, records int64) {
	ctx := context.Background()
	kind := func(k string) metric.AddOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k)))
	}
	if contacts > 0 {
		r.telemetry.ReceiverAwsConnectContactsEvicted.Add(ctx, contacts, kind("contact"))
		r.set.Logger.Warn("The contact state is full: it forgot contacts before their time, oldest ended ones first; a waiting contact forgotten is no longer counted",
			zap.Int64("contacts", contacts))
	}
	if records > 0 {
		r.telemetry.ReceiverAwsConnectContactsEvicted.Add(ctx, records, kind("contact_record"))
		r.set.Logger.Warn("The contact state is full: it forgot contact records seen before their 24 hours, oldest first; an update of one counts its contact again",
			zap.Int64("records", records))
	}
}
