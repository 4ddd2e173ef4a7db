package awsconnectreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/featuregate"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// connect waits until the stream can be read, then starts the consumer with checkpoints
// keyed by the stream's ARN. It returns when the consumer is started or ctx ends.
func (r *awsConnectReceiver) connect(ctx context.Context, api kinesisconsumer.AccessAPI, opts kinesisconsumer.Options) {
	defer close(r.connectDone)
	streamARN, ok := r.awaitAccess(ctx, api)
	if !ok {
		return
	}
	opts.Checkpoints = kinesisconsumer.NewMemoryStore()
	if r.storage != nil {
		opts.Checkpoints = newStorageCheckpoints(r.storage, streamARN)
	}
	c, err := kinesisconsumer.New(opts)
	if err != nil {
		r.set.Logger.Error("Cannot create the Kinesis consumer", zap.Error(err))
		r.health.permanent(scopeAccess, err)
		return
	}
	r.consumerMu.Lock()
	defer r.consumerMu.Unlock()
	if ctx.Err() != nil {
		return // Shutdown came first: it will not look for a consumer again
	}
	r.consumer = c
	c.Start()
}

// awaitAccess runs kinesisconsumer.CheckAccess until it passes, and returns the
// stream's ARN; false means ctx ended first. A transient failure is retried after
// error_backoff; a permanent one (access denied, no such stream) is reported and checked
// again every shard_discovery_interval, so that a fixed policy starts reading without a
// restart.
func (r *awsConnectReceiver) awaitAccess(ctx context.Context, api kinesisconsumer.AccessAPI) (string, bool) {
	log := r.set.Logger.With(zap.String("stream", r.stream().Label()))
	retry := consumerBackoff(r.cfg).Start()
	failures := 0
	lastLogged := ""
	for {
		streamARN, err := kinesisconsumer.CheckAccess(ctx, api, r.stream())
		if ctx.Err() != nil {
			return "", false
		}
		if err == nil {
			r.health.clear(scopeAccess)
			if failures > 0 {
				log.Info("The stream can be read now; starting", zap.Int("failed_checks", failures))
			}
			log.Debug("Access to the stream checked", zap.String("stream_arn", streamARN))
			return streamARN, true
		}
		failures++
		var wait time.Duration
		permanent := kinesisconsumer.IsPermanent(err)
		if permanent {
			r.health.permanent(scopeAccess, err)
			retry.Reset()
			wait = r.cfg.ShardDiscoveryInterval
			if wait <= 0 {
				wait = 30 * time.Second // as the consumer's default, never a busy loop
			}
		} else {
			r.health.recoverable(scopeAccess, err)
			wait = retry.Next()
		}
		// Each new reason once at its level, its repeats at debug.
		switch {
		case err.Error() == lastLogged:
			log.Debug("Cannot read the stream yet; checking again", zap.Duration("wait", wait), zap.Int("failed_checks", failures), zap.Error(err))
		case permanent:
			log.Error("Cannot read the stream: fix the cause below; the receiver checks again every shard_discovery_interval and starts reading once it passes, without a restart",
				zap.Duration("shard_discovery_interval", wait), zap.Error(err))
		default:
			log.Warn("Checking access to the stream failed; retrying", zap.Duration("wait", wait), zap.Error(err))
		}
		lastLogged = err.Error()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", false
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
	registered, enabled := false, false
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == healthCheckGate {
			registered, enabled = true, g.IsEnabled()
		}
	})
	if registered && !enabled {
		logger.Warn("The health_check extension answers healthy whatever this receiver reports (access denied, a missing stream, stalled shards): " +
			"run the collector with --feature-gates=+" + healthCheckGate + " and set health_check::component_health (see the README's Troubleshooting)")
	}
}
