package awsconnectreceiver

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/featuregate"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/fanout"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/getrecords"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/leases"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/pdataslab"
)

// streamAPI is the part of the Kinesis client the receiver uses.
type streamAPI interface {
	kinesisconsumer.AccessAPI
	fanout.API
}

// connect waits until the stream can be read, with enhanced fan-out until its consumer
// is ACTIVE, and with leases on until the lease table can be used, then starts the
// consumer: with checkpoints keyed by the stream's ARN in the storage extension or
// memory, or with leases, checkpoints in the lease table. It returns when the consumer
// is started or ctx ends.
func (r *awsConnectReceiver) connect(ctx context.Context, api streamAPI, opts kinesisconsumer.Options) {
	defer close(r.connectDone)
	streamARN, ok := r.awaitAccess(ctx, api)
	if !ok {
		return
	}
	if r.cfg.EnhancedFanOut.Enabled {
		// Before taking leases: a shard leased here but not yet readable would wait.
		if opts.Source, ok = r.awaitFanOut(ctx, api, streamARN); !ok {
			return
		}
		// Replays read a little history once, by polling: a subscription of their own
		// would collide with the shard's, one being allowed per consumer and shard.
		opts.ReplaySource = opts.Polling()
	}
	var coord *leases.Coordinator
	if r.leaseTable != nil {
		if coord, ok = r.awaitLeases(ctx, streamARN, opts); !ok {
			return
		}
		opts.Assigner, opts.Checkpoints = coord, coord
		// Shards are assigned, and leases taken, at the pace they are renewed.
		opts.AssignInterval = r.leaseTable.cfg.RenewInterval
	} else {
		opts.Checkpoints = kinesisconsumer.NewMemoryStore()
		if r.storage != nil {
			opts.Checkpoints = newStorageCheckpoints(r.storage, streamARN)
		}
	}
	if r.contacts != nil && r.storage != nil && !r.contactsReplayed() {
		// Before any record is read: the state must be at least as new as the checkpoints.
		if !r.retryUntil(ctx, scopeAccess, r.set.Logger, retryMessages{
			transient: "Cannot read the contact state from the storage extension; retrying",
			repeat:    "Still cannot read the contact state from the storage extension",
			passed:    "Read the contact state",
		}, func() (bool, error) { return false, r.contacts.load(ctx, r.storage, streamARN) }) {
			r.releaseUnused(coord)
			return
		}
	}
	if r.contacts != nil && r.cfg.Records == RecordsContactEvents {
		// Once its state is loaded, contact records may end its contacts.
		contactEventReceivers.add(r)
	}
	c, err := kinesisconsumer.New(opts)
	if err != nil {
		r.set.Logger.Error("Cannot create the Kinesis consumer", zap.Error(err))
		r.health.permanent(scopeAccess, err)
		r.releaseUnused(coord)
		return
	}
	r.consumerMu.Lock()
	defer r.consumerMu.Unlock()
	if ctx.Err() != nil {
		// Shutdown came first: it will not look for a consumer again.
		r.releaseUnused(coord)
		return
	}
	r.consumer, r.coordinator = c, coord
	c.Start()
}

// releaseUnused gives back the leases of a coordinator no consumer got to use.
func (r *awsConnectReceiver) releaseUnused(coord *leases.Coordinator) {
	if coord == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalSaveTimeout)
	defer cancel()
	if err := coord.Release(ctx); err != nil {
		r.set.Logger.Warn("Could not release the leases; other collectors take them after lease_duration", zap.Error(err))
	}
}

// finalSaveTimeout bounds what is written at shutdown outside the caller's context.
const finalSaveTimeout = 5 * time.Second

// awaitAccess runs kinesisconsumer.CheckAccess until it passes, and returns the
// stream's ARN; false means ctx ended first. A transient failure is retried after
// error_backoff; a permanent one (access denied, no such stream) is reported and checked
// again every shard_discovery_interval, so that a fixed policy starts reading without a
// restart.
func (r *awsConnectReceiver) awaitAccess(ctx context.Context, api kinesisconsumer.AccessAPI) (string, bool) {
	var streamARN string
	ok := r.retryUntil(ctx, scopeAccess, r.set.Logger.With(zap.String("stream", r.stream().Label())), retryMessages{
		permanent: "Cannot read the stream: fix the cause below; the receiver checks again every shard_discovery_interval and starts reading once it passes, without a restart",
		transient: "Checking access to the stream failed; retrying",
		repeat:    "Cannot read the stream yet; checking again",
		passed:    "The stream can be read now; starting",
	}, func() (bool, error) {
		arn, err := kinesisconsumer.CheckAccess(ctx, api, r.stream())
		if err != nil {
			return kinesisconsumer.IsPermanent(err), err
		}
		streamARN = arn
		r.set.Logger.Debug("Access to the stream checked", zap.String("stream_arn", arn))
		return false, nil
	})
	return streamARN, ok
}

// awaitFanOut finds the enhanced fan-out consumer, registering it if it is missing and
// register allows, until it is ACTIVE, and returns a Source subscribing as it; false means
// ctx ended first. A consumer missing with register: false, or a refused call, is
// reported as permanent and checked again every shard_discovery_interval.
func (r *awsConnectReceiver) awaitFanOut(ctx context.Context, api fanout.API, streamARN string) (*fanout.Source, bool) {
	e := r.cfg.EnhancedFanOut
	reg := &fanout.Registrar{
		API: api, StreamARN: streamARN, ConsumerName: e.consumerName(r.set.ID), ConsumerARN: e.ConsumerARN,
		Register: e.Register, Logger: r.set.Logger,
	}
	log := r.set.Logger.With(zap.String("consumer_name", reg.ConsumerName))
	if e.ConsumerARN != "" {
		log = r.set.Logger.With(zap.String("consumer_arn", e.ConsumerARN))
	}
	var arn string
	ok := r.retryUntil(ctx, scopeFanOut, log, retryMessages{
		permanent: "Cannot use the enhanced fan-out consumer: fix the cause below; the receiver checks again every shard_discovery_interval and starts reading once it passes, without a restart",
		transient: "Finding or registering the enhanced fan-out consumer failed; retrying",
		repeat:    "Cannot use the enhanced fan-out consumer yet; checking again",
		passed:    "The enhanced fan-out consumer can be used now; starting",
	}, func() (bool, error) {
		a, err := reg.Ensure(ctx)
		if err != nil {
			return errors.Is(err, fanout.ErrNotRegistered) || kinesisconsumer.IsPermanent(err), err
		}
		arn = a
		return false, nil
	})
	if !ok {
		return nil, false
	}
	log.Info("Reading the stream through enhanced fan-out", zap.String("consumer_arn", arn))
	// Each subscription's client decodes its events as the receiver's decodes GetRecords.
	src := &fanout.Source{API: api, Stream: r.stream(), Registrar: reg, Logger: r.set.Logger,
		StreamClientOptions: []func(*kinesis.Options){getrecords.Use}}
	src.SetConsumerARN(arn)
	return src, true
}

// awaitLeases starts a lease coordinator until one starts (the table reached, created if
// create_table and missing, checked), and returns it; false means ctx ended first.
// Failures are reported and retried as awaitAccess does.
func (r *awsConnectReceiver) awaitLeases(ctx context.Context, streamARN string, opts kinesisconsumer.Options) (*leases.Coordinator, bool) {
	var coord *leases.Coordinator
	t := r.leaseTable
	ok := r.retryUntil(ctx, scopeLeases, r.set.Logger.With(zap.String("lease_table", t.cfg.TableName), zap.String("worker_id", t.workerID)), retryMessages{
		permanent: "Cannot use the lease table: fix the cause below; the receiver checks again every shard_discovery_interval and starts reading once it passes, without a restart",
		transient: "Starting on the lease table failed; retrying",
		repeat:    "Cannot use the lease table yet; checking again",
		passed:    "The lease table can be used now; starting",
	}, func() (bool, error) {
		c, err := r.startCoordinator(ctx, t, streamARN, opts)
		if err != nil {
			return leaseErrorIsPermanent(err), err
		}
		coord = c
		return false, nil
	})
	if !ok {
		// Shutdown came as the coordinator started: stop its renewer.
		r.releaseUnused(coord)
		return nil, false
	}
	return coord, true
}

// retryMessages are what retryUntil logs: each new reason once at error (permanent) or
// warn (transient) level, its repeats at debug, and success after failures at info.
type retryMessages struct {
	permanent, transient, repeat, passed string
}

// retryUntil runs attempt until it succeeds, reporting each failure to health under
// scope: a transient one is retried after error_backoff, a permanent one every
// shard_discovery_interval, so that a fixed cause starts reading without a restart.
// false means ctx ended first.
func (r *awsConnectReceiver) retryUntil(ctx context.Context, scope string, log *zap.Logger, msgs retryMessages, attempt func() (permanent bool, err error)) bool {
	retry := consumerBackoff(r.cfg).Start()
	failures := 0
	lastLogged := ""
	for {
		permanent, err := attempt()
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			r.health.clear(scope)
			if failures > 0 {
				log.Info(msgs.passed, zap.Int("failed_checks", failures))
			}
			return true
		}
		failures++
		var wait time.Duration
		if permanent {
			r.health.permanent(scope, err)
			retry.Reset()
			wait = r.cfg.ShardDiscoveryInterval
			if wait <= 0 {
				wait = 30 * time.Second // as the consumer's default, never a busy loop
			}
		} else {
			r.health.recoverable(scope, err)
			wait = retry.Next()
		}
		switch {
		case err.Error() == lastLogged:
			log.Debug(msgs.repeat, zap.Duration("wait", wait), zap.Int("failed_checks", failures), zap.Error(err))
		case permanent:
			log.Error(msgs.permanent, zap.Duration("shard_discovery_interval", wait), zap.Error(err))
		default:
			log.Warn(msgs.transient, zap.Duration("wait", wait), zap.Error(err))
		}
		lastLogged = err.Error()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// healthCheckGate is the feature gate under which the health_check extension (v0.161.0)
// answers from the components' status; without it, it only says the collector runs.
const healthCheckGate = "extension.healthcheck.useComponentStatus"

// warnIfHealthCheckIgnoresStatus says so when a health_check extension is configured
// that will not show this receiver's status, rather than leave it silently green.
func warnIfHealthCheckIgnoresStatus(host component.Host, logger *zap.Logger) {
	hasHealthCheck := false
	for id := range host.GetExtensions() {
		if id.Type().String() == "health_check" {
			hasHealthCheck = true
		}
	}
	if !hasHealthCheck {
		return
	}
	if registered, enabled := gateState(featuregate.GlobalRegistry(), healthCheckGate); registered && !enabled {
		logger.Warn("The health_check extension answers healthy whatever this receiver reports (access denied, a missing stream, stalled shards): " +
			"run the collector with --feature-gates=+" + healthCheckGate + " and set health_check::component_health (see the README's Troubleshooting)")
	}
}

// warnIfPdataPooling says so when pdata's pools are on. With them, the built collector
// reading a 5,000-event backlog through its disk queue, in file_storage or queue_storage
// alike, delivered between a sixth and two thirds of the events (the rest garbled or
// never sent), and once panicked; with the queue in memory it delivered all
// (docs/performance.md). A user turning the gate on for less garbage collection would
// otherwise not know.
func warnIfPdataPooling(reg *featuregate.Registry, logger *zap.Logger) bool {
	_, enabled := gateState(reg, pdataslab.PoolingGate)
	if enabled {
		logger.Warn("The feature gate " + pdataslab.PoolingGate + " is on: with it, an exporter's persistent queue (sending_queue::storage) lost records " +
			"in this distribution's tests; turn it off (--feature-gates=-" + pdataslab.PoolingGate + "), or keep the queue in memory")
	}
	return enabled
}

// gateState says whether the feature gate id is registered in reg, and whether it is on.
func gateState(reg *featuregate.Registry, id string) (registered, enabled bool) {
	reg.VisitAll(func(g *featuregate.Gate) {
		if g.ID() == id {
			registered, enabled = true, g.IsEnabled()
		}
	})
	return registered, enabled
}
