package leases

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/dynamotest"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// stolenFrom has b steal one of a's two leases the old way, and returns it: a never
// hands it over (a stuck holder, or an older version), so b takes it once its request
// has stood for LeaseDuration (aged here rather than waited for).
func stolenFrom(t *testing.T, a, b *Coordinator) string {
	t.Helper()
	a.OnHandOver(func(string, func()) {})
	shards := open(2)
	require.Len(t, assign(t, a, shards), 2)
	require.Empty(t, assign(t, b, shards), "b asks for a lease; a holds it until it hands it over")
	asked := askedBy(t, b)
	b.mu.Lock()
	b.intents[asked] = b.cfg.Clock().Add(-b.cfg.LeaseDuration)
	b.mu.Unlock()
	// The take is conditional on the counter scanned, which a's renewals may move in
	// between: b tries again at each Assign.
	var got []string
	require.Eventually(t, func() bool { got = assign(t, b, shards); return len(got) > 0 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{asked}, got, "b is below its fair share (1 of 2) and steals the one it asked for")
	return got[0]
}

// askedBy is the one lease w has asked for.
func askedBy(t *testing.T, w *Coordinator) string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.intents, 1)
	for id := range w.intents {
		return id
	}
	return ""
}

// TestSaveAfterLeaseTakenIsRefused: a worker whose lease was taken cannot move the
// shard's checkpoint: the conditional write fails with ErrLeaseLost, the new owner's
// checkpoint stays, and the lease is no longer held.
func TestSaveAfterLeaseTakenIsRefused(t *testing.T) {
	api := start(t)
	// A slow renewer, so that the Save finds the loss, not the renewer.
	slow := func(c *Config) { c.LeaseDuration, c.RenewInterval = 60*time.Second, 20*time.Second }
	a := worker(t, api, "a", slow)
	b := worker(t, api, "b", slow)
	stolen := stolenFrom(t, a, b)
	ctx := context.Background()
	require.NoError(t, b.Save(ctx, stolen, kinesisconsumer.Checkpoint{SequenceNumber: "200"}))

	err := a.Save(ctx, stolen, kinesisconsumer.Checkpoint{SequenceNumber: "100"})
	require.Error(t, err)
	assert.ErrorIs(t, err, kinesisconsumer.ErrLeaseLost)
	assert.Contains(t, err.Error(), stolen)
	assert.NotContains(t, a.Held(), stolen)
	cp, ok, err := b.Load(ctx, stolen)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "200", cp.SequenceNumber, "the new owner's checkpoint stays")
	assert.Equal(t, "b", rawLease(t, api, stolen).owner)
	// The other lease is a's still.
	require.Len(t, a.Held(), 1)
	require.NoError(t, a.Save(ctx, a.Held()[0], kinesisconsumer.Checkpoint{SequenceNumber: "300"}))
}

// TestRenewerRevokesLostLease: the renewer, on its own timer, finds a lease taken and
// tells the consumer through OnRevoke.
func TestRenewerRevokesLostLease(t *testing.T) {
	api := start(t)
	a := worker(t, api, "a", func(c *Config) { c.LeaseDuration, c.RenewInterval = 900*time.Millisecond, 300*time.Millisecond })
	revoked := make(chan string, 4)
	a.OnRevoke(func(id string) { revoked <- id })
	b := worker(t, api, "b")
	stolen := stolenFrom(t, a, b)
	select {
	case id := <-revoked:
		assert.Equal(t, stolen, id)
	case <-time.After(10 * time.Second):
		t.Fatal("the renewer did not revoke the stolen lease")
	}
	assert.NotContains(t, a.Held(), stolen)
	assert.Len(t, a.Held(), 1, "the lease still a's is kept, and renewed")
	before := rawLease(t, api, a.Held()[0]).counter
	require.Eventually(t, func() bool { return rawLease(t, api, a.Held()[0]).counter > before }, 10*time.Second, 50*time.Millisecond)
	assert.Empty(t, revoked, "revoked once")
}

// TestExpiredLeasesAreTakenAfterLeaseDurationOnTheTakersClock: a worker that stopped
// renewing (a crash: no release) loses its leases to another only after the other has
// seen their counters unchanged for LeaseDuration on its own clock; the other asks to
// assign again the moment they would expire, not at its next interval.
func TestExpiredLeasesAreTakenAfterLeaseDurationOnTheTakersClock(t *testing.T) {
	api := start(t)
	shards := open(2)
	a := worker(t, api, "a")
	require.Len(t, assign(t, a, shards), 2)
	a.Close() // crashed: its leases stay its own in the table

	clock := newFakeClock()
	// No stealing, so that only expiry can move the leases.
	b := worker(t, api, "b", func(c *Config) { c.Clock, c.MaxLeasesToSteal = clock.Now, 0 })
	_, due := b.NextAssignIn()
	assert.False(t, due, "nothing is due before the first scan")
	assert.Empty(t, assign(t, b, shards), "first sight: not expired")
	in, due := b.NextAssignIn()
	assert.True(t, due)
	assert.Equal(t, b.cfg.LeaseDuration, in, "the next assignment is due when the leases would expire")
	clock.Advance(b.cfg.LeaseDuration - time.Millisecond)
	in, _ = b.NextAssignIn()
	assert.Equal(t, time.Millisecond, in, "due on the taker's clock")
	assert.Empty(t, assign(t, b, shards), "not yet LeaseDuration unchanged")
	clock.Advance(time.Millisecond)
	assert.Equal(t, []string{shardID(0), shardID(1)}, assign(t, b, shards))
	for _, id := range []string{shardID(0), shardID(1)} {
		assert.Equal(t, "b", rawLease(t, api, id).owner)
	}
	_, due = b.NextAssignIn()
	assert.False(t, due, "leases held here are not due to expire")
}

// TestRenewedLeasesDoNotExpire: a lease whose counter moves between two scans is not
// expired, however far the taker's clock moved: no clock is shared.
func TestRenewedLeasesDoNotExpire(t *testing.T) {
	api := start(t)
	shards := open(2)
	a := worker(t, api, "a", func(c *Config) { c.LeaseDuration, c.RenewInterval = 600*time.Millisecond, 100*time.Millisecond })
	require.Len(t, assign(t, a, shards), 2)
	clock := newFakeClock()
	b := worker(t, api, "b", func(c *Config) { c.Clock, c.MaxLeasesToSteal = clock.Now, 0 })
	for range 5 {
		assert.Empty(t, assign(t, b, shards))
		in, due := b.NextAssignIn()
		assert.True(t, due && in == b.cfg.LeaseDuration, "a lease renewed since the last scan is due to expire a LeaseDuration from it, not %s", in)
		before := rawLease(t, api, shardID(0)).counter
		require.Eventually(t, func() bool { return rawLease(t, api, shardID(0)).counter > before }, 10*time.Second, 20*time.Millisecond)
		require.Eventually(t, func() bool { return rawLease(t, api, shardID(1)).counter > before }, 10*time.Second, 20*time.Millisecond)
		clock.Advance(time.Hour)
	}
	assert.Empty(t, assign(t, b, shards))
	assert.Len(t, a.Held(), 2)
}

// TestReleasedLeasesAreTakenAtOnce: a graceful stop gives the leases back, and another
// worker holds them after its next Assign, its clock unmoved (no waiting for expiry).
func TestReleasedLeasesAreTakenAtOnce(t *testing.T) {
	api := start(t)
	shards := open(4)
	a := worker(t, api, "a")
	require.Len(t, assign(t, a, shards), 4)
	ctx := context.Background()
	require.NoError(t, a.Save(ctx, shardID(2), kinesisconsumer.Checkpoint{SequenceNumber: "42"}))
	clock := newFakeClock()
	b := worker(t, api, "b", func(c *Config) { c.Clock, c.MaxLeasesToSteal = clock.Now, 0 })
	assert.Empty(t, assign(t, b, shards))

	require.NoError(t, a.Release(ctx))
	assert.Empty(t, a.Held())
	for _, id := range []string{shardID(0), shardID(3)} {
		l := rawLease(t, api, id)
		assert.Empty(t, l.owner)
	}
	assert.Equal(t, []string{shardID(0), shardID(1), shardID(2), shardID(3)}, assign(t, b, shards))
	cp, ok, err := b.Load(ctx, shardID(2))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "42", cp.SequenceNumber, "the checkpoint saved before the release is where b goes on")
	_, err = a.Assign(ctx, shards)
	assert.Error(t, err, "a released coordinator takes nothing more")
}

// flakyAPI fails the calls the test chooses with an error of its choosing: DynamoDB
// throttling or out of reach, which dynalite cannot produce.
type flakyAPI struct {
	DynamoDBAPI
	mu   sync.Mutex
	fail error
	// during, when set, runs while a write is in flight: a slow answer.
	during func()
}

func (f *flakyAPI) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *flakyAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	err, during := f.fail, f.during
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out, err := f.DynamoDBAPI.UpdateItem(ctx, in, optFns...)
	if during != nil {
		during()
	}
	return out, err
}

// TestThrottlingIsNotALostLease: failing renewals keep the lease until it has gone
// LeaseDuration unrenewed on the local clock; then it is dropped and revoked, as others
// may take it. A throttled checkpoint is an error to retry, not a lost lease.
func TestThrottlingIsNotALostLease(t *testing.T) {
	for _, fail := range []error{
		&types.ProvisionedThroughputExceededException{Message: aws.String("throttled")},
		&types.RequestLimitExceeded{Message: aws.String("account limit")},
		errors.New("dial tcp: connection refused"),
	} {
		t.Run(fail.Error(), func(t *testing.T) {
			flaky := &flakyAPI{DynamoDBAPI: start(t)}
			clock := newFakeClock()
			// A renewer that never ticks in the test: renewals are driven by hand.
			a := worker(t, flaky, "a", func(c *Config) { c.Clock, c.LeaseDuration, c.RenewInterval = clock.Now, time.Hour, 20*time.Minute })
			var revoked []string
			a.OnRevoke(func(id string) { revoked = append(revoked, id) })
			require.Len(t, assign(t, a, open(1)), 1)
			ctx := context.Background()

			flaky.setFail(fail)
			err := a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "7"})
			require.Error(t, err)
			assert.NotErrorIs(t, err, kinesisconsumer.ErrLeaseLost)
			assert.Contains(t, err.Error(), shardID(0))
			clock.Advance(time.Hour - time.Second)
			a.renewAll(ctx)
			assert.Equal(t, []string{shardID(0)}, a.Held(), "failing renewals within the lease duration keep the lease")
			assert.Empty(t, revoked)

			clock.Advance(time.Second)
			a.renewAll(ctx)
			assert.Empty(t, a.Held())
			assert.Equal(t, []string{shardID(0)}, revoked)
			flaky.setFail(nil)
			assert.ErrorIs(t, a.Save(ctx, shardID(0), kinesisconsumer.Checkpoint{SequenceNumber: "7"}), kinesisconsumer.ErrLeaseLost)
		})
	}
}

// TestALeaseCountsAsRenewedWhenTheWriteWasSent: others may see a renewal as soon as it
// lands, so the worker times its lease from when it sent the write, not from a slow
// answer: it gives the lease up no later than others may take it.
func TestALeaseCountsAsRenewedWhenTheWriteWasSent(t *testing.T) {
	flaky := &flakyAPI{DynamoDBAPI: start(t)}
	clock := newFakeClock()
	a := worker(t, flaky, "a", func(c *Config) { c.Clock, c.LeaseDuration, c.RenewInterval = clock.Now, time.Hour, 20*time.Minute })
	require.Len(t, assign(t, a, open(1)), 1)
	ctx := context.Background()
	flaky.during = func() { clock.Advance(30 * time.Minute) } // the answer takes half an hour
	a.renewAll(ctx)
	flaky.during = nil
	flaky.setFail(errors.New("dial tcp: connection refused"))
	clock.Advance(30 * time.Minute) // an hour after the renewal was sent
	a.renewAll(ctx)
	assert.Empty(t, a.Held(), "given up an hour after the last renewal was sent")
}

// TestMissingTableIsAClearError, and a table is created, on demand, when asked.
func TestTable(t *testing.T) {
	api := start(t)
	ctx := context.Background()
	c, err := New(api, Config{Table: "absent", WorkerID: "a"})
	require.NoError(t, err)
	err = c.Start(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lease table absent does not exist")
	assert.Contains(t, err.Error(), "create_table")

	c, err = New(api, Config{Table: "created", WorkerID: "a", CreateTable: true})
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(c.Close)
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("created")})
	require.NoError(t, err)
	assert.Equal(t, types.TableStatusActive, out.Table.TableStatus)
	assert.Equal(t, types.BillingModePayPerRequest, out.Table.BillingModeSummary.BillingMode)
	assert.Equal(t, []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}}, out.Table.KeySchema)

	// A second worker finds it and uses it as it is.
	c2, err := New(api, Config{Table: "created", WorkerID: "b", CreateTable: true})
	require.NoError(t, err)
	require.NoError(t, c2.Start(ctx))
	t.Cleanup(c2.Close)

	_, err = api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("other-app"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	c3, err := New(api, Config{Table: "other-app", WorkerID: "a"})
	require.NoError(t, err)
	err = c3.Start(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lease table other-app has key schema [id (HASH)]")
}

// TestAccessDeniedIsNamed: an identity whose policy lacks dynamodb:DescribeTable gets an
// error naming the table and saying access was denied (AWS's answer, through a proxy).
func TestAccessDeniedIsNamed(t *testing.T) {
	srv := dynamotest.Start(t)
	proxy := kinesistest.StartProxy(t, srv.Endpoint)
	proxy.Deny("DynamoDB_20120810.DescribeTable")
	c, err := New(dynamotest.NewClient(proxy.URL), Config{Table: "leases", WorkerID: "a", CreateTable: true})
	require.NoError(t, err)
	err = c.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "describe lease table leases: access denied")
	assert.Contains(t, err.Error(), "AccessDeniedException")
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for want, cfg := range map[string]Config{
		"Table is required":    {WorkerID: "a"},
		"WorkerID is required": {Table: "t"},
		"RenewInterval (5s) must be at most a third of LeaseDuration (10s)": {Table: "t", WorkerID: "a", RenewInterval: 5 * time.Second},
		"MaxLeasesToSteal must not be negative":                             {Table: "t", WorkerID: "a", MaxLeasesToSteal: -1},
		"InitialPosition \"EARLIEST\"":                                      {Table: "t", WorkerID: "a", InitialPosition: "EARLIEST"},
	} {
		_, err := New(start0{}, cfg)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
	c, err := New(start0{}, Config{Table: "t", WorkerID: "a", LeaseDuration: 2 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second/3, c.cfg.RenewInterval, "the default renewal fits a short lease")
}

// start0 is a DynamoDBAPI never called.
type start0 struct{ DynamoDBAPI }

func TestAnEndpointThatIsNotDynamoDBIsAnErrorNotACrash(t *testing.T) {
	// A server answering every call 200 with an empty document, as a wrong endpoint may.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	c, err := New(dynamotest.NewClient(srv.URL), Config{Table: "leases", WorkerID: "a", CreateTable: true})
	require.NoError(t, err)
	err = c.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "describes no table")
}

// changeLog records what OnChange hears.
type changeLog struct {
	mu   sync.Mutex
	got  []string
	held []int // how many leases were held after each change
}

func (l *changeLog) on(c *Config) {
	c.OnChange = func(change Change, id string, held int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.got = append(l.got, string(change)+" "+id)
		l.held = append(l.held, held)
	}
}

func (l *changeLog) heldCounts() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.held)
}

func (l *changeLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// TestEveryChangeIsReported: OnChange hears each lease taken, stolen, lost, ended and
// released, for the receiver's telemetry.
func TestEveryChangeIsReported(t *testing.T) {
	api := start(t)
	slow := func(c *Config) { c.LeaseDuration, c.RenewInterval = 60*time.Second, 20*time.Second }
	var aLog, bLog changeLog
	a := worker(t, api, "a", slow, aLog.on)
	b := worker(t, api, "b", slow, bLog.on)
	stolen := stolenFrom(t, a, b)
	kept := shardID(0)
	if stolen == kept {
		kept = shardID(1)
	}
	ctx := context.Background()
	require.ErrorIs(t, a.Save(ctx, stolen, kinesisconsumer.Checkpoint{SequenceNumber: "1"}), kinesisconsumer.ErrLeaseLost)
	require.NoError(t, b.Save(ctx, stolen, kinesisconsumer.Checkpoint{SequenceNumber: "2", ShardEnd: true}))
	require.NoError(t, a.Release(ctx))

	assert.Equal(t, []string{"taken " + shardID(0), "taken " + shardID(1), "lost " + stolen, "released " + kept}, sortedAfterFirstTwo(aLog.all()))
	assert.Equal(t, []string{"stolen " + stolen, "ended " + stolen}, bLog.all())
	assert.Equal(t, []int{1, 2, 1, 0}, aLog.heldCounts(), "leases held after each change of a's")
	assert.Equal(t, []int{1, 0}, bLog.heldCounts(), "leases held after each change of b's")
}

// sortedAfterFirstTwo sorts the first two entries (taken in either order) and keeps the rest.
func sortedAfterFirstTwo(s []string) []string {
	if len(s) >= 2 {
		slices.Sort(s[:2])
	}
	return s
}
