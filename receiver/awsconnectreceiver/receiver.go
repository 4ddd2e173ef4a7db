package awsconnectreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentstate"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awsclients"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/getrecords"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/leases"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/eventlog"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/receiver/awsconnectreceiver/internal/metadata"
)

const transport = "kinesis"

// awsConnectReceiver serves the logs and the metrics pipeline from one Kinesis consumer.
type awsConnectReceiver struct {
	cfg       *Config
	set       receiver.Settings
	obsrecv   *receiverhelper.ObsReport
	telemetry *metadata.TelemetryBuilder
	builder   *eventlog.Builder

	// nextLogs and nextMetrics are set by the factory before Start, for the pipelines
	// the receiver is in; either may be nil.
	nextLogs    consumer.Logs
	nextMetrics consumer.Metrics
	// state and agentMetrics, with records agent_events.
	state        *agentstate.Store
	agentMetrics *agentMetrics
	// contacts and queueMetrics, with records contact_events or contact_records.
	contacts     *contactState
	queueMetrics *queueMetrics
	// metrics is what the metrics pipeline gets: agentMetrics or queueMetrics.
	metrics     metricSet
	stopMetrics context.CancelFunc
	metricsDone chan struct{}

	// clients builds every AWS client, on one transport whose idle connections are
	// closed at shutdown.
	clients *awsclients.Clients
	storage storage.Client

	// health reports the receiver's status to the collector (health.go). connect, run
	// from Start, checks access and then creates the consumer, under consumerMu.
	health      *health
	stopConnect context.CancelFunc
	connectDone chan struct{}
	consumerMu  sync.Mutex
	consumer    *kinesisconsumer.Consumer
	// leaseTable is set with leases on; coordinator once the consumer reads with it.
	leaseTable  *leaseTable
	coordinator *leases.Coordinator
}

func newReceiver(cfg *Config, set receiver.Settings) (*awsConnectReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	builder := eventlog.NewBuilder(cfg.ResourceAttributes,
		eventlog.WithRedactor(eventlog.NewRedactor(cfg.Redact.Mode, string(cfg.Redact.Salt)).HashingAgentARN(cfg.Redact.AgentARN)),
		eventlog.WithBodyFormat(cfg.LogBody))
	return &awsConnectReceiver{
		cfg:       cfg,
		set:       set,
		obsrecv:   obsrecv,
		telemetry: tb,
		builder:   builder,
		health:    newHealth(set.Logger),
	}, nil
}

func (r *awsConnectReceiver) stream() kinesisconsumer.StreamRef {
	return kinesisconsumer.StreamRef{Name: r.cfg.StreamName, ARN: r.cfg.StreamARN}
}

// Start builds the Kinesis client and returns; in the background it checks that the
// stream can be read (see connect), then reads it.
func (r *awsConnectReceiver) Start(ctx context.Context, host component.Host) error {
	r.health.addHost(host)
	clients, err := awsclients.New(ctx, r.kinesisSettings().Region, r.cfg.TLS, r.set.Logger)
	if err != nil {
		return err
	}
	r.clients = clients
	// The consumer retries every failed call itself, with its own bounded backoff and
	// without the SDK's retry quota, which would otherwise fail calls outright under
	// sustained throttling.
	api, err := clients.Kinesis(r.kinesisSettings(), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 }, getrecords.Use)
	if err != nil {
		return err
	}
	if l := r.cfg.Leases.Get(); l != nil {
		streamCfg, err := clients.Config(r.kinesisSettings())
		if err != nil {
			return err
		}
		if r.leaseTable, err = r.newLeaseTable(l, streamCfg.Region); err != nil {
			return err
		}
	}

	if r.cfg.Storage != nil {
		client, err := storageClient(ctx, host, *r.cfg.Storage, r.set.ID)
		if err != nil {
			return err
		}
		r.storage = client
		r.logLeasesBesideStorage()
	} else if r.leaseTable == nil {
		r.set.Logger.Warn("No storage extension set: shard checkpoints live in memory only, so after a restart reading starts again from start_position")
	}

	start, err := r.startPosition()
	if err != nil {
		return err
	}
	var replay time.Duration
	switch {
	case r.nextMetrics == nil:
	case r.cfg.Records == RecordsAgentEvents:
		r.state = agentstate.New(r.cfg.AgentTTL)
		r.agentMetrics = newAgentMetrics(r.cfg, r.set, newMetricResources(r.cfg, r.set, r.builder), r.state, time.Now())
		r.metrics = r.agentMetrics
		// Gauges must be right at once after a restart: replay what rebuilds the state.
		replay = replayWindow
	default:
		// Contacts wait for minutes, chats and tasks for days, beyond any replay worth
		// reading: their state is kept in the storage extension instead (contacts.go).
		// But a fleet's shards move between collectors, each with storage of its own: a
		// shard taken over is replayed instead, far enough back for most waits.
		r.contacts = newContactState(r.cfg, r.set.Logger)
		if r.contactsReplayed() {
			replay = contactReplayWindow
		}
		r.queueMetrics = newQueueMetrics(r.cfg, r.set, newMetricResources(r.cfg, r.set, r.builder), r.contacts.store, time.Now())
		r.queueMetrics.afterTick = r.saveContactsAfterTick
		r.queueMetrics.evicted = r.reportEvictions
		r.metrics = r.queueMetrics
		r.warnIfContactStateIsVolatile()
	}
	warnIfHealthCheckIgnoresStatus(host, r.set.Logger)
	warnIfPdataPooling(featuregate.GlobalRegistry(), r.set.Logger)
	backoff := consumerBackoff(r.cfg)
	opts := kinesisconsumer.Options{
		API:        api,
		Stream:     r.stream(),
		Processor:  r,
		MaxRecords: r.cfg.MaxRecordsPerCall,
		// Process keeps nothing of a record's data: the records decode into strings of
		// their own (copies, interned, or carved from the decoder's buffers).
		Recycle:            getrecords.Recycle,
		MaxBatchRecords:    r.cfg.MaxRecordsPerRequest,
		MaxBatchBytes:      r.cfg.MaxBytesPerRequest,
		MaxBatchesInFlight: r.cfg.MaxBatchesInFlight,
		StartPosition:      start,
		PollInterval:       r.cfg.PollInterval,
		DiscoveryInterval:  r.cfg.ShardDiscoveryInterval,
		ProcessBackoff:     backoff,
		ReadBackoff:        backoff,
		Replay:             replay,
		DedupWindow:        r.cfg.dedupWindow(),
		Health:             r.health.consumer,
		Logger:             r.set.Logger,
	}
	connectCtx, cancel := context.WithCancel(context.Background())
	r.stopConnect, r.connectDone = cancel, make(chan struct{})
	go r.connect(connectCtx, api, opts)
	if r.metrics != nil {
		ctx, cancel := context.WithCancel(context.Background())
		r.stopMetrics, r.metricsDone = cancel, make(chan struct{})
		go r.exportMetrics(ctx)
	}
	return nil
}

// exportMetrics sends the gauges every collection_interval until ctx ends. Gauges the
// pipeline refuses with a retryable error (a full exporter queue, the memory limiter) are
// collected again and offered after error_backoff, until taken; a permanent refusal waits
// for the next interval.
func (r *awsConnectReceiver) exportMetrics(ctx context.Context) {
	defer close(r.metricsDone)
	interval := r.cfg.CollectionInterval
	retry := consumerBackoff(r.cfg).Start()
	// The timer is set from due, never the other way round: a timer started first fires
	// before due when this goroutine is held up between the two, and the schedule below
	// would then offer the gauges again as soon as due comes.
	due := time.Now().Add(interval)
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	refusals := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := r.exportGauges(ctx, time.Now())
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !consumererror.IsPermanent(err):
			refusals++
			if refusals == 1 {
				r.set.Logger.Warn("Metrics pipeline refused the gauges; offering them again, fresh, after a backoff", zap.Error(err))
			}
			timer.Reset(retry.Next())
			continue
		case err != nil:
			r.set.Logger.Warn("Metrics pipeline refused the gauges permanently; the next interval sends them again", zap.Error(err))
		case refusals > 0:
			r.set.Logger.Info("Metrics pipeline took the gauges again", zap.Int("refusals", refusals))
		}
		refusals = 0
		retry.Reset()
		// Keep to the interval's schedule, however long the retries took.
		now := time.Now()
		for !due.After(now) {
			due = due.Add(interval)
		}
		timer.Reset(due.Sub(now))
	}
}

// exportGauges collects the metrics at now and offers them to the pipeline.
func (r *awsConnectReceiver) exportGauges(ctx context.Context, now time.Time) error {
	md := r.metrics.collect(now)
	n := md.DataPointCount()
	if n == 0 {
		r.metrics.taken()
		return nil
	}
	obsCtx := r.obsrecv.StartMetricsOp(ctx)
	err := r.nextMetrics.ConsumeMetrics(obsCtx, md)
	r.obsrecv.EndMetricsOp(obsCtx, "agent_state", n, err)
	if err == nil {
		r.metrics.taken()
	}
	return err
}

// exportFinalGauges ends this collector's gauge series at zero, once its shards are
// released: see agentMetrics.final. A refusal is only logged, as nothing is lost.
func (r *awsConnectReceiver) exportFinalGauges(ctx context.Context) {
	md := r.metrics.final(time.Now())
	n := md.DataPointCount()
	if n == 0 {
		return
	}
	obsCtx := r.obsrecv.StartMetricsOp(ctx)
	err := r.nextMetrics.ConsumeMetrics(obsCtx, md)
	r.obsrecv.EndMetricsOp(obsCtx, "agent_state", n, err)
	if err != nil {
		r.set.Logger.Warn("Metrics pipeline refused the last gauges, at zero; this collector's series may linger in the backend until it forgets them", zap.Error(err))
	}
}

func (r *awsConnectReceiver) Shutdown(ctx context.Context) error {
	var errs []error
	if r.stopConnect != nil {
		// Cancelled first, so that connect, if it has not started the consumer yet, never will.
		r.stopConnect()
		select {
		case <-r.connectDone:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("the access check, or the start on the lease table, did not stop: %w", ctx.Err()))
		}
	}
	// After connect, which adds it: contact records end its contacts no more.
	contactEventReceivers.remove(r)
	r.consumerMu.Lock()
	c, coord := r.consumer, r.coordinator
	r.consumerMu.Unlock()
	if c != nil {
		// Readers finish or abandon their batch, save their last checkpoints, and the
		// consumer then releases the leases itself (kinesisconsumer.Releaser).
		errs = append(errs, c.Shutdown(ctx))
	}
	if coord != nil {
		// The consumer released the leases itself unless its readers did not stop in
		// time; then this stops the renewer and gives back what is held. A no-op after
		// the consumer's own release. On a context of its own, as the consumer's.
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
		errs = append(errs, coord.Release(relCtx))
		cancel()
	}
	if r.stopMetrics != nil {
		r.stopMetrics()
		<-r.metricsDone
		r.exportFinalGauges(ctx)
	}
	if r.storage != nil {
		errs = append(errs, r.storage.Close(ctx))
	}
	r.clients.Close()
	r.telemetry.Shutdown()
	return errors.Join(errs...)
}

// kinesisSettings are the stream's: its region (region, else the one in stream_arn,
// else the SDK's chain), endpoint and role.
func (r *awsConnectReceiver) kinesisSettings() awsclients.Settings {
	region := r.cfg.Region
	if region == "" && r.cfg.StreamARN != "" {
		region = streamARNRegion(r.cfg.StreamARN)
	}
	return awsclients.Settings{Region: region, Endpoint: r.cfg.Endpoint, RoleARN: r.cfg.RoleARN, ExternalID: string(r.cfg.ExternalID)}
}

func (r *awsConnectReceiver) startPosition() (kinesisconsumer.Position, error) {
	switch r.cfg.StartPosition {
	case StartLatest, "":
		return kinesisconsumer.Position{Type: types.ShardIteratorTypeLatest}, nil
	case StartTrimHorizon:
		return kinesisconsumer.Position{Type: types.ShardIteratorTypeTrimHorizon}, nil
	case StartAtTimestamp:
		return kinesisconsumer.Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: r.cfg.StartTimestamp}, nil
	}
	return kinesisconsumer.Position{}, fmt.Errorf("start_position %q is not supported", r.cfg.StartPosition)
}

func consumerBackoff(cfg *Config) kinesisconsumer.Backoff {
	b := cfg.ErrorBackoff
	if !b.Enabled {
		// No growth and no jitter: retry at a steady pace.
		return kinesisconsumer.Backoff{Initial: cfg.PollInterval, Max: cfg.PollInterval, Multiplier: 1}
	}
	return kinesisconsumer.Backoff{Initial: b.InitialInterval, Max: b.MaxInterval, Multiplier: b.Multiplier, Jitter: b.RandomizationFactor}
}

func storageClient(ctx context.Context, host component.Host, id, owner component.ID) (storage.Client, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; add it under extensions and service::extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, owner, "")
	if err != nil {
		return nil, fmt.Errorf("storage: get client from %q: %w", id, err)
	}
	return client, nil
}

// Process implements kinesisconsumer.Processor: it hands a batch to the logs pipeline
// and applies it to the state, once each. Replayed records only rebuild state.
func (r *awsConnectReceiver) Process(ctx context.Context, b kinesisconsumer.Batch) error {
	now := time.Now()
	if r.cfg.Records != RecordsAgentEvents {
		return r.processContacts(ctx, b, now)
	}
	if b.Replay && r.state == nil {
		return nil
	}
	first := b.Attempt == 1
	if first && !b.Replay {
		r.countRead(ctx, b)
	}
	// Replayed records only rebuild the state. Otherwise the state takes the batch on its
	// first offer only: a batch the logs pipeline refuses is offered again, but its events
	// are already counted.
	applyState := r.state != nil && first
	withLogs := r.nextLogs != nil && !b.Replay
	recs := r.builder.NewRecords(eventlog.Source{Stream: b.StreamName, Shard: b.ShardID}, len(b.Records), now, withLogs)
	defer recs.Release()

	// One flow per record: decode (building the log body in the same pass), drop a
	// duplicate, update the state, add the log record.
	var malformed, duplicates int
	var obs []agentstate.Observation
	for i := range b.Records {
		rec := &b.Records[i]
		ev, err := recs.Decode(rec.Data)
		if err != nil {
			malformed++
			recs.AddMalformed(rec.Data, rec.SequenceNumber, err)
			continue
		}
		if !b.Recent.Admit(ev.EventID) {
			duplicates++
			continue
		}
		if learnedQueueNames.wanted() {
			learnQueueNames(ev)
		}
		if applyState {
			var applied bool
			if obs, applied = r.state.Apply(ev, b.ShardID, now, obs[:0]); applied && !b.Replay {
				r.agentMetrics.observe(ev.InstanceARN, obs)
			}
		}
		recs.AddEvent(rec.SequenceNumber)
	}
	if b.Replay {
		return nil
	}
	if first {
		r.recordOutcome(ctx, malformed, duplicates)
	}
	if !withLogs {
		return nil
	}
	return r.consumeLogs(ctx, b, recs.Logs(), "json")
}

// countRead counts a batch's records, and how far behind its shard's tip it was read.
func (r *awsConnectReceiver) countRead(ctx context.Context, b kinesisconsumer.Batch) {
	shard := metric.WithAttributeSet(attribute.NewSet(attribute.String("shard_id", b.ShardID)))
	r.telemetry.ReceiverAwsConnectRecordsRead.Add(ctx, int64(len(b.Records)))
	r.telemetry.ReceiverAwsConnectShardMillisBehindLatest.Record(ctx, b.MillisBehindLatest, shard)
}

// consumeLogs offers a batch's log records to the logs pipeline. A retryable refusal is
// returned, for the batch to be offered again; a permanent one drops the batch, counted
// and logged, and the shard moves past it.
func (r *awsConnectReceiver) consumeLogs(ctx context.Context, b kinesisconsumer.Batch, logs plog.Logs, format string) error {
	n := logs.LogRecordCount()
	if n == 0 {
		return nil // every record was a duplicate
	}
	obsCtx := r.obsrecv.StartLogsOp(ctx)
	err := r.nextLogs.ConsumeLogs(obsCtx, logs)
	r.obsrecv.EndLogsOp(obsCtx, format, n, err)
	switch {
	case err == nil:
		return nil
	case consumererror.IsPermanent(err):
		r.telemetry.ReceiverAwsConnectRecordsDropped.Add(ctx, int64(n))
		r.set.Logger.Error("Pipeline refused a batch permanently; moving past it",
			zap.String("shard_id", b.ShardID),
			zap.Int("records", n),
			zap.String("first_sequence_number", b.Records[0].SequenceNumber),
			zap.Error(err))
		return nil
	default:
		r.telemetry.ReceiverAwsConnectBatchesRefused.Add(ctx, 1)
		return err
	}
}

func (r *awsConnectReceiver) recordOutcome(ctx context.Context, malformed, duplicates int) {
	if malformed > 0 {
		r.telemetry.ReceiverAwsConnectRecordsMalformed.Add(ctx, int64(malformed))
	}
	if duplicates > 0 {
		r.telemetry.ReceiverAwsConnectRecordsDuplicate.Add(ctx, int64(duplicates))
	}
}
