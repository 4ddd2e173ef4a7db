package kinesisconsumer

import (
	"context"
	"crypto/md5"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// fakeKinesis is an in-process Kinesis data stream implementing KinesisAPI.
//
// It models what the consumer relies on:
//   - shards with hash key ranges and sequence number ranges; the hash key space is
//     [0, 2^128-1] split evenly between the initial shards;
//   - Put routes a record like Kinesis: the MD5 of the partition key, read as a 128-bit
//     big-endian integer, picks the open shard whose hash key range holds it;
//   - SplitShard and MergeShards close the parent(s) (EndingSequenceNumber is set) and
//     create children carrying ParentShardId / AdjacentParentShardId; new records go to
//     the children;
//   - sequence numbers are decimal strings of one fixed width drawn from one increasing
//     counter, so they increase across the whole stream and compare both as numbers
//     (compareSeq) and as strings;
//   - GetShardIterator for every iterator type (validating the sequence number belongs
//     to the shard, as Kinesis does), GetRecords honoring Limit (1..10000), returning
//     MillisBehindLatest and, at the end of a closed shard, NextShardIterator=nil and
//     ChildShards;
//   - ListShards with pagination (pageSize shards a page, NextToken), refusing a call that
//     names the stream together with a NextToken like Kinesis does;
//   - fault injection (failNext / failNextIf), expiry of every outstanding iterator
//     (expireIterators), a call log and an observer hook (setOnCall).
//
// Iterators can be reused until they expire, like Kinesis's (which live 5 minutes).
type fakeKinesis struct {
	mu sync.Mutex

	name string
	arn  string
	// requireARN models a stream shared from another account through a resource policy:
	// every call must carry its StreamARN.
	requireARN bool
	pageSize   int

	shards     []*fakeShard // in creation order; shard IDs increase with it
	seqCounter uint64
	clock      func() time.Time
	lastTime   time.Time

	iterators map[string]*fakeIterator
	nextIter  int
	tokens    map[string]int // ListShards NextToken -> offset
	nextToken int

	faults []*fakeFault
	calls  []fakeCall
	onCall func(fakeCall)
}

type fakeShard struct {
	id                string
	parent, adjacent  string
	startHash         *big.Int
	endHash           *big.Int
	startSeq, endSeq  string // endSeq is empty while the shard is open
	records           []types.Record
	children          []string
	trimmed           bool // past retention: no longer listed nor readable
	createdAt, closed time.Time
}

func (s *fakeShard) open() bool { return s.endSeq == "" }

type fakeIterator struct {
	shard   *fakeShard
	pos     int
	expired bool
}

// fakeCall is one call the fake answered (or refused).
type fakeCall struct {
	Op      string // "ListShards", "GetShardIterator", "GetRecords"
	ShardID string // for GetShardIterator and GetRecords (resolved from the iterator)
	// For GetShardIterator:
	IteratorType types.ShardIteratorType
	StartSeq     string
	Timestamp    time.Time
	// For ListShards:
	NextToken  string
	StreamName string
	StreamARN  string
	// For GetRecords: how many records were returned, and their sequence range.
	Returned          int
	FirstSeq, LastSeq string
	Err               error
}

type fakeFault struct {
	op        string
	remaining int
	err       error
	match     func(fakeCall) bool
}

const (
	opListShards       = "ListShards"
	opGetShardIterator = "GetShardIterator"
	opGetRecords       = "GetRecords"
)

var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// newFakeKinesis returns a stream named name with n open shards splitting the hash key
// space evenly. Its ARN is arn:aws:kinesis:us-east-1:123456789012:stream/<name>.
func newFakeKinesis(name string, n int) *fakeKinesis {
	f := &fakeKinesis{
		name:       name,
		arn:        "arn:aws:kinesis:us-east-1:123456789012:stream/" + name,
		pageSize:   2,
		clock:      time.Now,
		seqCounter: 1000,
		iterators:  map[string]*fakeIterator{},
		tokens:     map[string]int{},
	}
	space := new(big.Int).Add(maxHashKey, big.NewInt(1))
	step := new(big.Int).Div(space, big.NewInt(int64(n)))
	for i := range n {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Mul(step, big.NewInt(int64(i+1))), big.NewInt(1))
		if i == n-1 {
			end = new(big.Int).Set(maxHashKey)
		}
		f.newShardLocked(start, end, "", "")
	}
	return f
}

// ---- helpers for tests ----

func (f *fakeKinesis) streamRef() StreamRef { return StreamRef{Name: f.name} }

// setClock replaces the clock giving records their ApproximateArrivalTimestamp.
func (f *fakeKinesis) setClock(clock func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = clock
	f.lastTime = time.Time{}
}

// setOnCall installs an observer called after each call, outside the fake's lock.
func (f *fakeKinesis) setOnCall(fn func(fakeCall)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onCall = fn
}

// failNext makes the next n calls of op fail with err.
func (f *fakeKinesis) failNext(op string, n int, err error) {
	f.failNextIf(op, n, err, nil)
}

// failNextIf makes the next n calls of op for which match returns true fail with err.
// match sees the call as it would be logged (for GetRecords, ShardID is resolved from the
// iterator).
func (f *fakeKinesis) failNextIf(op string, n int, err error, match func(fakeCall) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fakeFault{op: op, remaining: n, err: err, match: match})
}

// pendingFaults is how many injected failures have not fired yet.
func (f *fakeKinesis) pendingFaults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ft := range f.faults {
		n += ft.remaining
	}
	return n
}

// expireIterators makes every iterator handed out so far expired.
func (f *fakeKinesis) expireIterators() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.iterators {
		it.expired = true
	}
}

// callLog returns a copy of the calls answered so far.
func (f *fakeKinesis) callLog() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// countCalls counts the logged calls for which match returns true.
func (f *fakeKinesis) countCalls(match func(fakeCall) bool) int {
	n := 0
	for _, c := range f.callLog() {
		if match(c) {
			n++
		}
	}
	return n
}

// shardIDs returns every shard's ID, in creation order.
func (f *fakeKinesis) shardIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.shards))
	for _, s := range f.shards {
		ids = append(ids, s.id)
	}
	return ids
}

// children returns the IDs of the shard's children.
func (f *fakeKinesis) children(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.shardLocked(id).children)
}

// lastSeq returns the sequence number of the shard's last record, or "".
func (f *fakeKinesis) lastSeq(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shardLocked(id)
	if len(s.records) == 0 {
		return ""
	}
	return aws.ToString(s.records[len(s.records)-1].SequenceNumber)
}

// hashKey returns the 128-bit hash key of a partition key, as Kinesis computes it.
func hashKey(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// keyFor returns a partition key, with the given prefix, that the open shard id holds.
func (f *fakeKinesis) keyFor(id, prefix string) string {
	f.mu.Lock()
	s := f.shardLocked(id)
	lo, hi := s.startHash, s.endHash
	f.mu.Unlock()
	for i := 0; ; i++ {
		k := fmt.Sprintf("%s-%d", prefix, i)
		h := hashKey(k)
		if h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0 {
			return k
		}
	}
}

// put adds a record, routed by the MD5 hash of its partition key; it returns the shard
// it went to and its sequence number.
func (f *fakeKinesis) put(partitionKey string, data []byte) (shardID, seq string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := hashKey(partitionKey)
	for _, s := range f.shards {
		if s.open() && h.Cmp(s.startHash) >= 0 && h.Cmp(s.endHash) <= 0 {
			seq = f.nextSeqLocked()
			s.records = append(s.records, types.Record{
				SequenceNumber:              aws.String(seq),
				PartitionKey:                aws.String(partitionKey),
				Data:                        slices.Clone(data),
				ApproximateArrivalTimestamp: aws.Time(f.nowLocked()),
			})
			return s.id, seq
		}
	}
	panic("fakeKinesis: no open shard holds hash key " + h.String())
}

// splitShard closes the open shard id and creates two children, split at
// newStartingHashKey (or at the middle of its range if nil). It returns their IDs.
func (f *fakeKinesis) splitShard(id string, newStartingHashKey *big.Int) (lower, upper string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shardLocked(id)
	if s == nil || !s.open() {
		return "", "", &types.ResourceInUseException{Message: aws.String("shard " + id + " is not open")}
	}
	if newStartingHashKey == nil {
		newStartingHashKey = new(big.Int).Add(s.startHash, new(big.Int).Rsh(new(big.Int).Sub(s.endHash, s.startHash), 1))
		newStartingHashKey.Add(newStartingHashKey, big.NewInt(1))
	}
	if newStartingHashKey.Cmp(s.startHash) <= 0 || newStartingHashKey.Cmp(s.endHash) > 0 {
		return "", "", &types.InvalidArgumentException{Message: aws.String("NewStartingHashKey out of range")}
	}
	f.closeLocked(s)
	a := f.newShardLocked(s.startHash, new(big.Int).Sub(newStartingHashKey, big.NewInt(1)), s.id, "")
	b := f.newShardLocked(newStartingHashKey, s.endHash, s.id, "")
	s.children = []string{a.id, b.id}
	return a.id, b.id, nil
}

// mergeShards closes the open, adjacent shards id and adjacentID and creates their
// child, with ParentShardId=id and AdjacentParentShardId=adjacentID.
func (f *fakeKinesis) mergeShards(id, adjacentID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, b := f.shardLocked(id), f.shardLocked(adjacentID)
	if a == nil || b == nil || !a.open() || !b.open() {
		return "", &types.ResourceInUseException{Message: aws.String("shards must exist and be open")}
	}
	one := big.NewInt(1)
	lo, hi := a, b
	if b.startHash.Cmp(a.startHash) < 0 {
		lo, hi = b, a
	}
	if new(big.Int).Add(lo.endHash, one).Cmp(hi.startHash) != 0 {
		return "", &types.InvalidArgumentException{Message: aws.String("shards are not adjacent")}
	}
	f.closeLocked(a)
	f.closeLocked(b)
	c := f.newShardLocked(lo.startHash, hi.endHash, a.id, b.id)
	a.children = []string{c.id}
	b.children = []string{c.id}
	return c.id, nil
}

// trimShard makes a closed shard expire past retention: it is no longer listed.
func (f *fakeKinesis) trimShard(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shardLocked(id)
	if s.open() {
		panic("fakeKinesis: only closed shards expire")
	}
	s.trimmed = true
}

// compareSeq compares two sequence numbers numerically.
func compareSeq(a, b string) int {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		panic(fmt.Sprintf("bad sequence numbers %q %q", a, b))
	}
	return x.Cmp(y)
}

// ---- internals ----

func (f *fakeKinesis) nowLocked() time.Time {
	t := f.clock()
	if t.Before(f.lastTime) {
		t = f.lastTime
	}
	f.lastTime = t
	return t
}

// nextSeqLocked returns the next sequence number: 56 decimal digits, like Kinesis's.
func (f *fakeKinesis) nextSeqLocked() string {
	f.seqCounter += 7
	return fmt.Sprintf("4959%052d", f.seqCounter)
}

func (f *fakeKinesis) newShardLocked(startHash, endHash *big.Int, parent, adjacent string) *fakeShard {
	s := &fakeShard{
		id:        fmt.Sprintf("shardId-%012d", len(f.shards)),
		parent:    parent,
		adjacent:  adjacent,
		startHash: new(big.Int).Set(startHash),
		endHash:   new(big.Int).Set(endHash),
		startSeq:  f.nextSeqLocked(),
		createdAt: f.nowLocked(),
	}
	f.shards = append(f.shards, s)
	return s
}

func (f *fakeKinesis) closeLocked(s *fakeShard) {
	s.endSeq = f.nextSeqLocked()
	s.closed = f.nowLocked()
}

func (f *fakeKinesis) shardLocked(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

// recordOwnerLocked returns the shard holding the record with sequence number seq, if any.
func (f *fakeKinesis) recordOwnerLocked(seq string) *fakeShard {
	for _, s := range f.shards {
		for _, r := range s.records {
			if aws.ToString(r.SequenceNumber) == seq {
				return s
			}
		}
	}
	return nil
}

func (f *fakeKinesis) toShard(s *fakeShard) types.Shard {
	out := types.Shard{
		ShardId: aws.String(s.id),
		HashKeyRange: &types.HashKeyRange{
			StartingHashKey: aws.String(s.startHash.String()),
			EndingHashKey:   aws.String(s.endHash.String()),
		},
		SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String(s.startSeq)},
	}
	if s.parent != "" {
		out.ParentShardId = aws.String(s.parent)
	}
	if s.adjacent != "" {
		out.AdjacentParentShardId = aws.String(s.adjacent)
	}
	if s.endSeq != "" {
		out.SequenceNumberRange.EndingSequenceNumber = aws.String(s.endSeq)
	}
	return out
}

// begin takes the lock, checks ctx and injected faults. The returned function records the
// call, releases the lock and calls the observer; it must be called exactly once.
func (f *fakeKinesis) begin(ctx context.Context, call *fakeCall) (func(), error) {
	f.mu.Lock()
	finish := func() {
		f.calls = append(f.calls, *call)
		hook := f.onCall
		f.mu.Unlock()
		if hook != nil {
			hook(*call)
		}
	}
	if err := ctx.Err(); err != nil {
		return finish, err
	}
	for _, ft := range f.faults {
		if ft.op == call.Op && ft.remaining > 0 && (ft.match == nil || ft.match(*call)) {
			ft.remaining--
			return finish, ft.err
		}
	}
	return finish, nil
}

func invalidArg(format string, args ...any) error {
	return &types.InvalidArgumentException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func (f *fakeKinesis) checkStreamLocked(name, arn *string) error {
	if f.requireARN && arn == nil {
		return &types.AccessDeniedException{Message: aws.String("stream shared through a resource policy: StreamARN is required")}
	}
	if name == nil && arn == nil {
		return invalidArg("either StreamName or StreamARN is required")
	}
	if name != nil && *name != f.name {
		return &types.ResourceNotFoundException{Message: aws.String("stream " + *name + " not found")}
	}
	if arn != nil && *arn != f.arn {
		return &types.ResourceNotFoundException{Message: aws.String("stream " + *arn + " not found")}
	}
	return nil
}

// ListShards implements KinesisAPI.
func (f *fakeKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (out *kinesis.ListShardsOutput, err error) {
	call := fakeCall{
		Op:         opListShards,
		NextToken:  aws.ToString(in.NextToken),
		StreamName: aws.ToString(in.StreamName),
		StreamARN:  aws.ToString(in.StreamARN),
	}
	finish, ferr := f.begin(ctx, &call)
	defer func() { call.Err = err; finish() }()
	if ferr != nil {
		return nil, ferr
	}
	if in.ShardFilter != nil {
		return nil, invalidArg("fakeKinesis does not support ShardFilter")
	}
	offset := 0
	if in.NextToken != nil {
		if in.StreamName != nil || in.StreamCreationTimestamp != nil || in.ExclusiveStartShardId != nil {
			return nil, invalidArg("NextToken and StreamName, StreamCreationTimestamp or ExclusiveStartShardId cannot be provided together")
		}
		if f.requireARN && in.StreamARN == nil {
			return nil, &types.AccessDeniedException{Message: aws.String("stream shared through a resource policy: StreamARN is required")}
		}
		if in.StreamARN != nil && *in.StreamARN != f.arn {
			return nil, &types.ResourceNotFoundException{Message: aws.String("stream " + *in.StreamARN + " not found")}
		}
		o, ok := f.tokens[*in.NextToken]
		if !ok {
			return nil, &types.ExpiredNextTokenException{Message: aws.String("invalid or expired NextToken")}
		}
		offset = o
	} else if err := f.checkStreamLocked(in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}

	var listed []*fakeShard
	for _, s := range f.shards {
		if !s.trimmed {
			listed = append(listed, s)
		}
	}
	if in.ExclusiveStartShardId != nil {
		offset = len(listed)
		for i, s := range listed {
			if s.id > *in.ExclusiveStartShardId {
				offset = i
				break
			}
		}
	}
	size := f.pageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10000 {
			return nil, invalidArg("MaxResults %d out of range", *in.MaxResults)
		}
		size = min(size, int(*in.MaxResults))
	}
	offset = min(offset, len(listed))
	end := min(offset+size, len(listed))
	out = &kinesis.ListShardsOutput{}
	for _, s := range listed[offset:end] {
		out.Shards = append(out.Shards, f.toShard(s))
	}
	if end < len(listed) {
		f.nextToken++
		tok := "token-" + strconv.Itoa(f.nextToken)
		f.tokens[tok] = end
		out.NextToken = aws.String(tok)
	}
	return out, nil
}

// GetShardIterator implements KinesisAPI.
func (f *fakeKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (out *kinesis.GetShardIteratorOutput, err error) {
	call := fakeCall{
		Op:           opGetShardIterator,
		ShardID:      aws.ToString(in.ShardId),
		IteratorType: in.ShardIteratorType,
		StartSeq:     aws.ToString(in.StartingSequenceNumber),
		Timestamp:    aws.ToTime(in.Timestamp),
		StreamName:   aws.ToString(in.StreamName),
		StreamARN:    aws.ToString(in.StreamARN),
	}
	finish, ferr := f.begin(ctx, &call)
	defer func() { call.Err = err; finish() }()
	if ferr != nil {
		return nil, ferr
	}
	if err := f.checkStreamLocked(in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	if in.ShardId == nil {
		return nil, invalidArg("ShardId is required")
	}
	s := f.shardLocked(*in.ShardId)
	if s == nil || s.trimmed {
		return nil, &types.ResourceNotFoundException{Message: aws.String("shard " + *in.ShardId + " not found")}
	}
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
		pos = 0
	case types.ShardIteratorTypeLatest:
		pos = len(s.records)
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		if in.StartingSequenceNumber == nil {
			return nil, invalidArg("StartingSequenceNumber is required for %s", in.ShardIteratorType)
		}
		seq := *in.StartingSequenceNumber
		if _, ok := new(big.Int).SetString(seq, 10); !ok {
			return nil, invalidArg("StartingSequenceNumber %q is not a number", seq)
		}
		if compareSeq(seq, s.startSeq) < 0 || (s.endSeq != "" && compareSeq(seq, s.endSeq) > 0) {
			return nil, invalidArg("StartingSequenceNumber %s used in GetShardIterator on shard %s is not in the shard", seq, s.id)
		}
		if owner := f.recordOwnerLocked(seq); owner != nil && owner != s {
			return nil, invalidArg("StartingSequenceNumber %s used in GetShardIterator on shard %s belongs to shard %s", seq, s.id, owner.id)
		}
		pos = len(s.records)
		for i, r := range s.records {
			c := compareSeq(aws.ToString(r.SequenceNumber), seq)
			if c > 0 || (c == 0 && in.ShardIteratorType == types.ShardIteratorTypeAtSequenceNumber) {
				pos = i
				break
			}
		}
	case types.ShardIteratorTypeAtTimestamp:
		if in.Timestamp == nil {
			return nil, invalidArg("Timestamp is required for AT_TIMESTAMP")
		}
		pos = len(s.records)
		for i, r := range s.records {
			if !r.ApproximateArrivalTimestamp.Before(*in.Timestamp) {
				pos = i
				break
			}
		}
	default:
		return nil, invalidArg("unknown ShardIteratorType %q", in.ShardIteratorType)
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(f.newIteratorLocked(s, pos))}, nil
}

func (f *fakeKinesis) newIteratorLocked(s *fakeShard, pos int) string {
	f.nextIter++
	tok := fmt.Sprintf("iterator-%d-%s-%d", f.nextIter, s.id, pos)
	f.iterators[tok] = &fakeIterator{shard: s, pos: pos}
	return tok
}

// readSpan is the first and last sequence numbers a GetRecords call of the fake
// returned, in its output's ResultMetadata under readSpanKey.
type readSpan struct{ first, last string }

type readSpanKey struct{}

// GetRecords implements KinesisAPI.
func (f *fakeKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (out *kinesis.GetRecordsOutput, err error) {
	call := fakeCall{Op: opGetRecords, StreamARN: aws.ToString(in.StreamARN)}
	// Resolve the shard before faults are looked at, so a fault can target a shard.
	f.mu.Lock()
	it := f.iterators[aws.ToString(in.ShardIterator)]
	if it != nil {
		call.ShardID = it.shard.id
	}
	f.mu.Unlock()
	finish, ferr := f.begin(ctx, &call)
	defer func() { call.Err = err; finish() }()
	if ferr != nil {
		return nil, ferr
	}
	if f.requireARN && in.StreamARN == nil {
		return nil, &types.AccessDeniedException{Message: aws.String("stream shared through a resource policy: StreamARN is required")}
	}
	if in.StreamARN != nil && *in.StreamARN != f.arn {
		return nil, &types.ResourceNotFoundException{Message: aws.String("stream " + *in.StreamARN + " not found")}
	}
	if in.ShardIterator == nil || it == nil {
		return nil, invalidArg("invalid ShardIterator %q", aws.ToString(in.ShardIterator))
	}
	limit := 10000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, invalidArg("Limit %d is out of range 1..10000", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	if it.expired {
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	s := it.shard
	if s.trimmed {
		return nil, &types.ResourceNotFoundException{Message: aws.String("shard " + s.id + " not found")}
	}
	end := min(it.pos+limit, len(s.records))
	out = &kinesis.GetRecordsOutput{Records: []types.Record{}}
	for _, r := range s.records[it.pos:end] {
		r.Data = slices.Clone(r.Data)
		out.Records = append(out.Records, r)
	}
	if n := len(out.Records); n > 0 {
		call.Returned = n
		call.FirstSeq = aws.ToString(out.Records[0].SequenceNumber)
		call.LastSeq = aws.ToString(out.Records[n-1].SequenceNumber)
		out.ResultMetadata.Set(readSpanKey{}, readSpan{call.FirstSeq, call.LastSeq})
	}
	var behind int64
	if end < len(s.records) {
		behind = max(1, f.nowLocked().Sub(*s.records[end].ApproximateArrivalTimestamp).Milliseconds())
	}
	out.MillisBehindLatest = aws.Int64(behind)
	if !s.open() && end == len(s.records) {
		// The end of a closed shard: no next iterator, and its children.
		for _, cid := range s.children {
			c := f.shardLocked(cid)
			out.ChildShards = append(out.ChildShards, types.ChildShard{
				ShardId:      aws.String(c.id),
				ParentShards: slices.DeleteFunc([]string{c.parent, c.adjacent}, func(p string) bool { return p == "" }),
				HashKeyRange: &types.HashKeyRange{
					StartingHashKey: aws.String(c.startHash.String()),
					EndingHashKey:   aws.String(c.endHash.String()),
				},
			})
		}
		return out, nil
	}
	out.NextShardIterator = aws.String(f.newIteratorLocked(s, end))
	return out, nil
}

// serverError is what a 500 from Kinesis looks like once the SDK parsed it.
func serverError() error {
	return &smithy.GenericAPIError{Code: "InternalFailure", Message: "We encountered an internal error. Please try again.", Fault: smithy.FaultServer}
}

func throttled() error {
	return &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard")}
}

var _ KinesisAPI = (*fakeKinesis)(nil)

// holds says whether the shard id's hash key range holds partitionKey.
func (f *fakeKinesis) holds(id, partitionKey string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shardLocked(id)
	h := hashKey(partitionKey)
	return h.Cmp(s.startHash) >= 0 && h.Cmp(s.endHash) <= 0
}
