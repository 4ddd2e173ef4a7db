package leases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"go.uber.org/zap"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// DynamoDBAPI is the part of *dynamodb.Client the coordinator calls.
type DynamoDBAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// Config configures a Coordinator.
type Config struct {
	// Table is the lease table: one per stream.
	Table string
	// WorkerID names this worker in leaseOwner. It must be unique in the fleet.
	WorkerID string
	// StreamARN is recorded in each lease item; items of another stream are refused.
	// Empty: not recorded nor checked.
	StreamARN string
	// LeaseDuration is how long a lease's counter may stay unchanged before other
	// workers take it. Default 10s.
	LeaseDuration time.Duration
	// RenewInterval is the wait between renewals of the held leases: at most
	// LeaseDuration/3. Default 3s, or LeaseDuration/3 if that is less.
	RenewInterval time.Duration
	// MaxLeasesPerWorker caps what this worker holds; 0: no limit.
	MaxLeasesPerWorker int
	// MaxLeasesToSteal is how many leases one Assign call may steal from the most loaded
	// worker; 0 turns stealing off. The receiver's default is 1.
	MaxLeasesToSteal int
	// CreateTable creates the table (on demand, hash key leaseKey) when it is missing.
	CreateTable bool
	// Initial, when set, seeds the checkpoint of a lease item that was never owned: the
	// checkpoints kept before leases were turned on.
	Initial kinesisconsumer.CheckpointStore
	// InitialPosition is the consumer's start position for shards with no checkpoint:
	// "LATEST" (the default), "TRIM_HORIZON" or "AT_TIMESTAMP". It only labels the
	// checkpoint of new items, as KCL does; children are labelled TRIM_HORIZON.
	InitialPosition string
	// OnChange, when set, hears of each lease this worker gains or gives up, and how
	// many it holds after that, for the receiver's telemetry. It must not block.
	OnChange func(change Change, shardID string, held int)
	Clock    func() time.Time
	Logger   *zap.Logger
}

// MaxRecentKeys is the most EventIds a checkpoint's duplicate window may hold with
// leases: the window is saved in the shard's lease item, 8 bytes an EventId, and a
// DynamoDB item holds at most 400 KB; 40,000 take 320 KB and leave room for the rest.
const MaxRecentKeys = 40000

// Change is a lease gained or given up by this worker.
type Change string

// The changes OnChange hears of.
const (
	Taken      Change = "taken"       // an unowned lease (new, released, or of a finished parent's child)
	Expired    Change = "expired"     // a lease its holder stopped renewing
	Stolen     Change = "stolen"      // taken from a more loaded worker to balance the fleet
	Lost       Change = "lost"        // taken by another worker, or not renewed in time
	Released   Change = "released"    // given back at shutdown
	Ended      Change = "ended"       // its shard was read to its end
	HandedOver Change = "handed_over" // given to the worker that asked for it, its reader stopped and checkpointed
)

// Sentinels of the checkpoint attribute, KCL's.
const (
	sentinelTrimHorizon = "TRIM_HORIZON"
	sentinelLatest      = "LATEST"
	sentinelAtTimestamp = "AT_TIMESTAMP"
	sentinelShardEnd    = "SHARD_END"
)

const (
	defaultLeaseDuration = 10 * time.Second
	defaultRenewInterval = 3 * time.Second
)

// withDefaults checks cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.Table == "" {
		errs = append(errs, errors.New("Table is required"))
	}
	if cfg.WorkerID == "" {
		errs = append(errs, errors.New("WorkerID is required"))
	}
	if cfg.LeaseDuration < 0 || cfg.RenewInterval < 0 {
		errs = append(errs, errors.New("LeaseDuration and RenewInterval must not be negative"))
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = defaultLeaseDuration
	}
	if cfg.RenewInterval == 0 {
		cfg.RenewInterval = min(defaultRenewInterval, cfg.LeaseDuration/3)
	}
	if cfg.RenewInterval > cfg.LeaseDuration/3 {
		errs = append(errs, fmt.Errorf("RenewInterval (%s) must be at most a third of LeaseDuration (%s), so a lease is renewed several times before others may take it", cfg.RenewInterval, cfg.LeaseDuration))
	}
	if cfg.MaxLeasesPerWorker < 0 {
		errs = append(errs, errors.New("MaxLeasesPerWorker must not be negative (0: no limit)"))
	}
	if cfg.MaxLeasesToSteal < 0 {
		errs = append(errs, errors.New("MaxLeasesToSteal must not be negative (0: no stealing)"))
	}
	switch cfg.InitialPosition {
	case "":
		cfg.InitialPosition = sentinelLatest
	case sentinelLatest, sentinelTrimHorizon, sentinelAtTimestamp:
	default:
		errs = append(errs, fmt.Errorf("InitialPosition %q must be LATEST, TRIM_HORIZON or AT_TIMESTAMP", cfg.InitialPosition))
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("leases: %w", errors.Join(errs...))
	}
	return cfg, nil
}
