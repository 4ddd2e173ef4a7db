package leases

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
)

// TestSavesRacingTheRenewerAreNeverRefused: checkpoints saved while the renewer renews
// the same lease all succeed: each write is conditional on the counter the other just
// moved, so they take turns on the lease's mutex.
func TestSavesRacingTheRenewerAreNeverRefused(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a", func(c *Config) { c.LeaseDuration, c.RenewInterval = 3*time.Second, 50*time.Millisecond })
	var revoked []string
	a.OnRevoke(func(id string) { revoked = append(revoked, id) })
	require.Len(t, assign(t, a, open(1)), 1)
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Second)
	saves := 0
	for ; time.Now().Before(deadline); saves++ {
		require.NoError(t, a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: fmt.Sprint(1000 + saves)}), "save %d", saves)
	}
	a.Close()
	assert.Empty(t, revoked)
	l := rawLease(t, api, shardID(0))
	assert.Equal(t, fmt.Sprint(1000+saves-1), l.checkpoint)
	assert.Greater(t, l.counter, int64(saves+1), "the renewer renewed between the saves")
}

// lostAnswerAPI applies the next UpdateItem and then answers with an error, as when a
// timeout strikes after DynamoDB wrote: the counter moved, and the writer was not told.
type lostAnswerAPI struct {
	DynamoDBAPI
	mu   sync.Mutex
	lose int
	// failGets fails the next GetItems.
	failGets int
}

func (f *lostAnswerAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	fail := f.failGets > 0
	if fail {
		f.failGets--
	}
	f.mu.Unlock()
	if fail {
		return nil, context.DeadlineExceeded
	}
	return f.DynamoDBAPI.GetItem(ctx, in, optFns...)
}

func (f *lostAnswerAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := f.DynamoDBAPI.UpdateItem(ctx, in, optFns...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.lose > 0 {
		f.lose--
		return nil, context.DeadlineExceeded
	}
	return out, err
}

// TestAWriteWhoseAnswerWasLostDoesNotLoseTheLease: a renewal that DynamoDB applied but
// whose answer timed out leaves the held counter behind the item's; the next write finds
// the lease still this worker's, adopts the counter and succeeds, instead of reporting
// a lease lost that nobody took.
func TestAWriteWhoseAnswerWasLostDoesNotLoseTheLease(t *testing.T) {
	api := &lostAnswerAPI{DynamoDBAPI: start(t)}
	a := worker(t, api, "a", func(c *Config) { c.LeaseDuration, c.RenewInterval = time.Hour, 20*time.Minute })
	var revoked []string
	a.OnRevoke(func(id string) { revoked = append(revoked, id) })
	require.Len(t, assign(t, a, open(1)), 1)
	ctx := context.Background()

	api.lose = 1
	a.renewAll(ctx)
	require.NoError(t, a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "5"}))
	api.lose = 1
	require.Error(t, a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "6"}), "the answer was lost")
	a.renewAll(ctx)
	// A lost answer, and then the item cannot be read to tell: not a lost lease.
	api.lose = 1
	a.renewAll(ctx)
	api.failGets = 1
	a.renewAll(ctx)
	assert.Equal(t, []string{shardID(0)}, a.Held())
	require.NoError(t, a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "6"}))
	require.NoError(t, a.Release(ctx))
	assert.Empty(t, revoked)
	l := rawLease(t, api.DynamoDBAPI.(*dynamodb.Client), shardID(0))
	assert.Empty(t, l.owner, "released")
	assert.Equal(t, "6", l.checkpoint)
}
