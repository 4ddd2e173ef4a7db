// Package contactstate keeps the live state of Amazon Connect contacts in queues, from
// their contact events, and counts it the way Amazon Connect's queue metrics do: the
// contacts waiting in each queue, the oldest of them, and each contact's leaving the queue
// (answered, abandoned, queued for callback, moved to another queue) with its wait. It also
// remembers which contact records (CTRs) it has seen, so a record delivered again counts
// its contact once. It knows nothing of the collector.
//
// See ../shared/reference/contact-data-model.md, sections 3.4, 3.5, 4 and 4.1, and the
// pitfalls 3, 7, 11 and 12, for what the events say and how AWS counts.
//
// # Events are unordered, duplicated and lost
//
// EventBridge delivers contact events best effort and in no order, and the events of one
// contact may be spread over shards. So every fact is merged, never replaced: the first
// queue and enqueue time seen win, a connected-to-agent or disconnect time once known
// stays, and an ended contact (DISCONNECTED, COMPLETED, or any event with a disconnect
// time) never waits again, whatever arrives after it. A contact leaves the queue exactly
// once, whichever of its events shows it first; a duplicate changes nothing. Later events
// repeat the earlier ones' fields (CONNECTED_TO_AGENT carries the enqueue time, DISCONNECTED
// both), so a lost QUEUED or CONNECTED_TO_AGENT is rebuilt from them.
//
// # Abandons wait for a grace period
//
// A contact that asked for a callback, or that a flow moved to another queue, ends with a
// DISCONNECTED that looks like an abandon. Only its successor (a new contact whose
// initiation method is CALLBACK or QUEUE_TRANSFER and whose previous contact is this one)
// tells, and it may come before or after, from another shard. So an apparent abandon is
// held for Config.AbandonGrace and settled by Tick; a successor seen first is remembered
// on its predecessor, in an entry of its own if need be. Transfers and callbacks are new
// contact IDs with their own QUEUED, and are counted as such, as AWS does.
//
// # Bounded memory
//
// Contacts are keyed by a 64-bit hash of instance ARN and contact ID (a collision among
// 200,000 contacts has a chance of about one in a billion); instance, queue and channel
// strings are shared. A contact with no event for ContactTTL is forgotten (its terminal
// event was lost); an ended one is remembered for Retention, so that a late event cannot
// make it wait again, then forgotten. Past MaxContacts, the oldest ended contacts go first,
// then the contacts with the oldest last event. Records seen are remembered for
// RecordWindow, at most MaxRecords of them.
//
// # Why the state is persisted, not replayed
//
// Contact events carry no heartbeat and no snapshot: a contact waiting for ten minutes
// emits nothing new, so after a restart the in-queue set can only come from what was seen
// before. Replaying the stream far enough back is not an answer: chats and tasks can wait
// for days (tasks expire after 7 days by default, up to 90), beyond any replay window worth
// reading at each start, and a Kinesis stream's retention may be only 24 hours, so the
// QUEUED event of a contact still waiting may no longer be there at all. So the receiver
// keeps the state in the collector's storage extension, in Buckets buckets by hash of the
// contact key, and writes the changed ones (DirtyBuckets, MarshalBucket, MarkClean) before
// it saves the checkpoints that cover the events, so that the state is always at least as
// new as the checkpoints. Events read again after a crash are applied again, which changes
// nothing: applying is idempotent.
//
// Times are stored as absolute unix times: event times for the waits, wall clock times for
// the TTL, the retention, the record window and a pending abandon's grace, with the
// store's clock at the save. At the first call after a load, the wall clock times shift by
// the time since that save, so a downtime counts towards none of them: the events of the
// downtime are still to be read. Otherwise an ended contact would be forgotten at once
// after a downtime longer than Retention, and its events read again after the restart
// would count it twice; and an abandon's grace would run out before the backlog that holds
// its successor is read.
package contactstate
