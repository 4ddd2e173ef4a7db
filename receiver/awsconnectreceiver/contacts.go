package awsconnectreceiver

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
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
	first := b.Attempt == 1
	if first {
		r.countRead(ctx, b)
	}
	// The state takes a batch on its first offer only; its changes are saved on every
	// offer until saved (contactState.save), so a batch is checkpointed only once the
	// state it left is stored: after a crash, the events read again change nothing.
	applyState := r.contacts != nil && first
	// Log records are built only for a logs pipeline.
	var recs *contactlog.Records
	if r.nextLogs != nil {
		recs = contactlog.NewRecords(r.builder, eventlog.Source{Stream: b.StreamName, Shard: b.ShardID}, len(b.Records), now)
	}
	malformedRecord := func(rec *kinesisconsumer.Record, err error) {
		if recs != nil {
			recs.AddMalformed(rec.Data, rec.SequenceNumber, err)
		}
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
				malformedRecord(rec, err)
				continue
			}
			if !b.Recent.Admit(ev.DedupKey()) {
				duplicates++
				continue
			}
			if applyState {
				dequeues = r.contacts.store.ApplyEvent(&ev, now, dequeues[:0])
				r.queueMetrics.dequeued(dequeues)
			}
			if recs != nil {
				recs.AddEvent(&ev, rec.Data, rec.SequenceNumber)
			}
		case RecordsContactRecords:
			if err := contactrecord.Decode(rec.Data, &cr); err != nil {
				malformed++
				malformedRecord(rec, err)
				continue
			}
			if !b.Recent.Admit(cr.DedupKey()) {
				duplicates++
				continue
			}
			// A contact counts once, on its first record; updates are logged, not counted.
			if applyState && r.contacts.store.ApplyRecord(&cr, now) {
				r.queueMetrics.recorded(&cr)
			}
			if recs != nil {
				recs.AddRecord(&cr, rec.Data, rec.SequenceNumber)
			}
		}
	}
	if first {
		r.recordOutcome(ctx, malformed, duplicates)
	}
	if r.contacts != nil {
		if err := r.contacts.save(ctx); err != nil {
			r.telemetry.ReceiverAwsConnectBatchesRefused.Add(ctx, 1)
			return fmt.Errorf("save the contact state before the checkpoint: %w", err)
		}
	}
	if recs == nil {
		return nil
	}
	return r.consumeLogs(ctx, b, recs.Logs(), "json")
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
	case r.cfg.Storage == nil:
		r.set.Logger.Warn("No storage extension set: the contacts waiting in queues live in memory only, so after a restart the queue gauges count only contacts that have an event after it; set storage to keep them")
	case r.cfg.Leases.Get() != nil:
		r.set.Logger.Warn("With leases, the contact state is kept in this collector's storage extension, not in the lease table: a shard another collector takes over starts without the contacts waiting on it, which it counts from their next event")
	}
}
