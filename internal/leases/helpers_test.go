package leases

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
)

const testTable = "leases"

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// worker starts a Coordinator on srv's table, closed when the test ends. Tests use
// short durations: a 3 s lease renewed every second.
func worker(t *testing.T, api DynamoDBAPI, id string, mods ...func(*Config)) *Coordinator {
	t.Helper()
	cfg := Config{
		Table:            testTable,
		WorkerID:         id,
		StreamARN:        "arn:aws:kinesis:us-east-1:000000000000:stream/test",
		LeaseDuration:    3 * time.Second,
		RenewInterval:    time.Second,
		MaxLeasesToSteal: 1,
		CreateTable:      true,
		InitialPosition:  sentinelTrimHorizon,
		Logger:           zaptest.NewLogger(t).Named(id),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(api, cfg)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(c.Close)
	return c
}

// open lists n open shards, shardId-000000000000 on.
func open(n int) []ktypes.Shard {
	var shards []ktypes.Shard
	for i := range n {
		shards = append(shards, shard(shardID(i)))
	}
	return shards
}

func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// shard is an open shard with the given parents (one for a split, two for a merge).
func shard(id string, parents ...string) ktypes.Shard {
	s := ktypes.Shard{ShardId: aws.String(id), SequenceNumberRange: &ktypes.SequenceNumberRange{StartingSequenceNumber: aws.String("1")}}
	if len(parents) > 0 {
		s.ParentShardId = aws.String(parents[0])
	}
	if len(parents) > 1 {
		s.AdjacentParentShardId = aws.String(parents[1])
	}
	return s
}

// closed is a shard that reached its end (after a split or merge).
func closed(s ktypes.Shard) ktypes.Shard {
	s.SequenceNumberRange.EndingSequenceNumber = aws.String("999")
	return s
}

func assign(t *testing.T, c *Coordinator, shards []ktypes.Shard) []string {
	t.Helper()
	ids, err := c.Assign(context.Background(), shards)
	require.NoError(t, err)
	return ids
}

// rawItem reads a lease item as DynamoDB has it.
func rawItem(t *testing.T, api *dynamodb.Client, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := api.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: keyOf(id), ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	return out.Item
}

func rawLease(t *testing.T, api *dynamodb.Client, id string) *lease {
	t.Helper()
	item := rawItem(t, api, id)
	require.NotNil(t, item, "no item for %s", id)
	l, err := decodeLease(item)
	require.NoError(t, err)
	return l
}

func start(t *testing.T) *dynamodb.Client {
	return dynamotest.Start(t).Client
}
