package awsconnectreceiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/awsclients"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/leases"
)

// scopeLeases is health's scope for the lease table: reaching it, creating or checking it.
const scopeLeases = "leases"

// serviceInstanceID is the resource attribute that names a collector in its fleet.
const serviceInstanceID = "service.instance.id"

// leaseSettings are the lease table's AWS settings: its own region (the stream's by
// default), endpoint and role. Without a role of its own, the table takes the collector's
// own credentials, never the stream's role.
func (r *awsConnectReceiver) leaseSettings(l *LeasesConfig, streamRegion string) awsclients.Settings {
	region := l.Region
	if region == "" {
		region = streamRegion
	}
	return awsclients.Settings{Field: "leases::", Region: region, Endpoint: l.Endpoint, RoleARN: l.RoleARN, ExternalID: string(l.ExternalID)}
}

// workerID is worker_id, else the collector's service.instance.id, else the host's name
// with a random suffix: unique in the fleet either way.
func workerID(l *LeasesConfig, set receiver.Settings) string {
	if l.WorkerID != "" {
		return l.WorkerID
	}
	if v, ok := set.Resource.Attributes().Get(serviceInstanceID); ok && v.AsString() != "" {
		return v.AsString()
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "otelcol"
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	return host + "-" + hex.EncodeToString(suffix)
}

// leaseTable builds what the lease coordinators of this receiver share: the table's
// DynamoDB client, on its own credentials.
type leaseTable struct {
	cfg      *LeasesConfig
	api      *dynamodb.Client
	workerID string
}

func (r *awsConnectReceiver) newLeaseTable(l *LeasesConfig, streamRegion string) (*leaseTable, error) {
	api, err := r.clients.DynamoDB(r.leaseSettings(l, streamRegion))
	if err != nil {
		return nil, err
	}
	return &leaseTable{cfg: l, api: api, workerID: workerID(l, r.set)}, nil
}

// startCoordinator returns a started lease coordinator for the stream: the table ensured (and
// created if create_table), the renewer running. Checkpoints the storage extension kept
// before leases seed new lease items.
func (r *awsConnectReceiver) startCoordinator(ctx context.Context, t *leaseTable, streamARN string, opts kinesisconsumer.Options) (*leases.Coordinator, error) {
	var initial kinesisconsumer.CheckpointStore
	if r.storage != nil {
		initial = newStorageCheckpoints(r.storage, streamARN)
	}
	c, err := leases.New(t.api, leases.Config{
		Table:              t.cfg.TableName,
		WorkerID:           t.workerID,
		StreamARN:          streamARN,
		LeaseDuration:      t.cfg.LeaseDuration,
		RenewInterval:      t.cfg.RenewInterval,
		MaxLeasesPerWorker: t.cfg.MaxLeasesPerWorker,
		MaxLeasesToSteal:   t.cfg.MaxLeasesToSteal,
		CreateTable:        t.cfg.CreateTable,
		Initial:            initial,
		InitialPosition:    string(opts.StartPosition.Type),
		OnChange:           r.leaseChanged,
		Logger:             r.set.Logger,
	})
	if err != nil {
		return nil, permanentError{err}
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// leaseChanged counts a lease gained or given up, and records the leases held after it.
func (r *awsConnectReceiver) leaseChanged(change leases.Change, _ string, held int) {
	ctx := context.Background()
	r.telemetry.ReceiverAwsConnectLeaseChanges.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("change", string(change)))))
	r.telemetry.ReceiverAwsConnectLeasesHeld.Record(ctx, int64(held))
}

// permanentError marks an error only a person can fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// leaseErrorIsPermanent says whether a failure to start the lease coordinator needs a
// person: access denied, unknown credentials, a missing table without create_table, a
// table that is not a lease table. Throttling, 5xx answers and the network are retried.
func leaseErrorIsPermanent(err error) bool {
	if _, ok := errors.AsType[permanentError](err); ok {
		return true
	}
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		switch apiErr.ErrorCode() {
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
			"ResourceNotFoundException", "ValidationException", "ExpiredTokenException", "InvalidClientTokenId":
			return true
		}
		return false
	}
	// A failed call is an OperationError; anything else is what the table was found to
	// be (another key schema, being deleted).
	_, called := errors.AsType[*smithy.OperationError](err)
	return !called
}

// logLeasesBesideStorage says once what the storage extension still does with leases on.
func (r *awsConnectReceiver) logLeasesBesideStorage() {
	if r.storage == nil || !r.cfg.Leases.HasValue() {
		return
	}
	r.set.Logger.Info("Leases are on and storage is set: checkpoints live in the lease table; "+
		"the storage extension's checkpoints only seed lease items created for the first time, and after that it holds nothing the receiver reads",
		zap.String("storage", r.cfg.Storage.String()), zap.String("lease_table", r.cfg.Leases.Get().TableName))
}
