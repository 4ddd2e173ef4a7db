// Package leases shares a Kinesis stream's shards among several consumers through a
// DynamoDB lease table, with the semantics of the Kinesis Client Library (KCL): its
// DynamoDBLeaseTaker, DynamoDBLeaseRenewer, DynamoDBLeaseRefresher and the parent rules
// of its HierarchicalShardSyncer. A Coordinator is a kinesisconsumer Assigner,
// CheckpointStore, Revoker, Releaser and HandOverer.
//
// How each KCL semantic is met:
//
//   - Items. One item per shard, hash key leaseKey (the shard ID), with KCL's
//     attributes: leaseOwner (absent when free), leaseCounter, checkpoint (a sequence
//     number, or TRIM_HORIZON, LATEST, AT_TIMESTAMP or SHARD_END),
//     checkpointSubSequenceNumber (0), ownerSwitchesSinceCheckpoint, parentShardIds;
//     plus streamArn, and the rest of a consumer checkpoint: checkpointArrivalTime,
//     startedAt, recentEventIds (the duplicate window, so that failover keeps duplicate
//     removal) and shardEndSequenceNumber. Every worker creates the items of the shards
//     it lists with a PutItem conditional on attribute_not_exists(leaseKey), so they are
//     created once. A sentinel loads as "no checkpoint", except SHARD_END; AT_TIMESTAMP
//     with startedAt is a reader that started at LATEST before any record. An item of
//     another stream is refused: one table per stream, as KCL's single-stream mode.
//
//   - Conditional writes. Renewal, take, hand-over, checkpoint and release are
//     UpdateItems conditional on the leaseCounter this worker last saw (and, but for
//     take, on leaseOwner being this worker), and each increments it; a steal's request
//     is conditional on both and changes neither (below). A checkpoint on a lease
//     taken by another worker fails its condition: Save returns an error wrapping
//     kinesisconsumer.ErrLeaseLost and the lease is dropped. A failed condition is
//     checked against the item first: if an earlier write of ours landed but its answer
//     was lost (a timeout), the lease is still ours and the write is made again at the
//     counter found. Each held lease has a mutex, so the renewer and Save take turns.
//
//   - Renewal runs on its own timer (RenewInterval, at most LeaseDuration/3). A failed
//     condition means the lease was taken: it is dropped and OnRevoke's fn told. Other
//     failures (throttling, DynamoDB out of reach) are retried, until the lease has gone
//     LeaseDuration unrenewed on the local clock: then it is dropped and revoked too, as
//     other workers may take it from then on.
//
//   - Expiry, as KCL, with no clock shared: a lease held by another worker is expired
//     once its leaseCounter has not changed for LeaseDuration on this worker's clock,
//     counted from when this worker first saw that counter. An unowned lease is
//     available at once (released, or new).
//
//   - Taking and fairness, at each Assign, after a consistent scan: eligible leases are
//     those of listed shards not at SHARD_END whose parents are done. workers are the
//     distinct owners of unexpired eligible leases, plus this one; target =
//     ceil(eligible/workers), capped by MaxLeasesPerWorker. Below target, a worker takes
//     available leases (unowned or expired), shuffled so that workers starting together
//     do not race for the same ones. With none available it steals, at most
//     MaxLeasesToSteal a call, from the most loaded worker: only when that worker holds
//     more than target, or exactly target while the thief holds two or more fewer (KCL's
//     rule; without it, three workers on four shards stay at 2, 2, 0). Every steal thus
//     narrows a gap of at least two leases, so the sum of the squares of the workers'
//     counts falls with each one: a lease cannot move back and forth, and once the
//     counts are within one of each other nothing moves (vmware-go-kcl's stealing loop
//     cannot happen).
//
//   - Steals hand over (ours; KCL takes at once). A steal only asks: pendingOwner is set
//     to the thief, conditional on the owner and counter scanned and on no request
//     standing; owner and counter are left to the holder, whose renewals and checkpoints
//     go on. In balancing, a lease asked for counts for the worker that asked, at every
//     worker, so nobody asks twice for the same gap. Renewals return the item: the
//     holder's first renewal that shows the request calls the consumer's OnHandOver fn,
//     which stops the shard's reader as a graceful stop does (the request in flight
//     exported and checkpointed), then calls done; done moves leaseOwner to the asker,
//     counter+1, ownerSwitchesSinceCheckpoint+1, pendingOwner removed, conditional on
//     this worker owning it at the counter held and the request being the same (an
//     OnChange handed_over). The thief takes it at its next Assign, as a lease owned by
//     its own ID. So balancing repeats nothing, where a take at once repeats the
//     holder's request in flight. A holder that has not handed over LeaseDuration after
//     the request (an older version, or stuck) is taken from the old way, conditional on
//     the request being the thief's: at most that request is repeated, as before. A
//     holder that dies leaves the lease to expire; taking an expired lease removes any
//     request, as do Release and a checkpoint at SHARD_END.
//
//   - Lineage: a child's lease is never taken before each of its parents (one for a
//     split, two for a merge) is at SHARD_END or no longer listed. Save of a checkpoint
//     at the shard's end writes SHARD_END and removes the owner, so the parent is
//     neither renewed nor counted, and its children become eligible at the next Assign.
//     Starting at LATEST, the consumer saves SHARD_END for a shard closed before it read
//     anything, so such a parent does not hold its children up forever either.
//
//   - Release (a graceful stop): the renewer stops, then each held lease is given back
//     (leaseOwner removed, counter+1, conditional), so another worker takes it at its
//     next Assign instead of after LeaseDuration. Close stops the renewer and keeps the
//     leases, as a crash would.
//
//   - Table: created on demand (PAY_PER_REQUEST, hash key leaseKey) when CreateTable is
//     set and it is missing, and waited for until ACTIVE; otherwise DescribeTable must
//     find it keyed by leaseKey alone. Errors name the table and what is wrong.
//
//   - Migration: with Initial set (the storage extension's checkpoints from before
//     leases), an item nobody has owned yet is seeded from it, whichever worker created
//     the item.
package leases
