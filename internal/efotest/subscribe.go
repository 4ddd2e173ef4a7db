package efotest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

type subscribeInput struct {
	ConsumerARN      string
	ShardId          string
	StartingPosition struct {
		Type           types.ShardIteratorType
		SequenceNumber string
		Timestamp      json.Number // epoch seconds
	}
}

// sigV4 is the form of an Authorization header signed with SigV4 for Kinesis in
// us-east-1: the signature itself is not checked, only that the SDK signed.
var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=[^/\s]+/(\d{8})/us-east-1/kinesis/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$`)

// checkWire lists how a SubscribeToShard request breaks the wire protocol AWS expects.
func checkWire(r *http.Request) []string {
	var v []string
	if r.ProtoMajor != 2 {
		v = append(v, "SubscribeToShard over "+r.Proto+": AWS requires HTTP/2")
	}
	if r.Method != http.MethodPost {
		v = append(v, "SubscribeToShard with method "+r.Method+", not POST")
	}
	if r.URL.Path != "/" {
		v = append(v, "SubscribeToShard to path "+r.URL.Path+", not /")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		v = append(v, "SubscribeToShard with content-type "+strconv.Quote(ct)+", not application/x-amz-json-1.1")
	}
	date := r.Header.Get("X-Amz-Date")
	if _, err := time.Parse("20060102T150405Z", date); err != nil {
		v = append(v, "SubscribeToShard with X-Amz-Date "+strconv.Quote(date)+", not a SigV4 date")
	}
	auth := r.Header.Get("Authorization")
	m := sigV4.FindStringSubmatch(auth)
	switch {
	case m == nil:
		v = append(v, "SubscribeToShard with Authorization "+strconv.Quote(auth)+", not SigV4 for kinesis in us-east-1")
	case !strings.HasPrefix(date, m[1]):
		v = append(v, "SubscribeToShard signed for "+m[1]+" but dated "+date)
	default:
		signed := strings.Split(m[2], ";")
		for _, h := range []string{"host", "x-amz-date", "x-amz-target"} {
			if !slices.Contains(signed, h) {
				v = append(v, "SubscribeToShard's signature leaves out "+h)
			}
		}
	}
	return v
}

// checkPosition says what is wrong with a StartingPosition, if anything.
func checkPosition(in *subscribeInput) (time.Time, error) {
	p := in.StartingPosition
	switch p.Type {
	case types.ShardIteratorTypeTrimHorizon, types.ShardIteratorTypeLatest:
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		if p.SequenceNumber == "" {
			return time.Time{}, fmt.Errorf("StartingPosition %s needs a SequenceNumber", p.Type)
		}
	case types.ShardIteratorTypeAtTimestamp:
		secs, err := strconv.ParseFloat(p.Timestamp.String(), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("StartingPosition AT_TIMESTAMP needs a Timestamp, got %q", p.Timestamp)
		}
		return time.UnixMilli(int64(secs*1000 + 0.5)), nil
	default:
		return time.Time{}, fmt.Errorf("StartingPosition type %q is not one Kinesis knows", p.Type)
	}
	return time.Time{}, nil
}

// refuse records a subscription the client should not have asked for and answers it.
func (s *Server) refuse(w http.ResponseWriter, errType, message string) {
	s.violate("SubscribeToShard refused, %s: %s", errType, message)
	writeError(w, errType, message)
}

func (s *Server) subscribeToShard(w http.ResponseWriter, r *http.Request) {
	if v := checkWire(r); len(v) > 0 {
		s.mu.Lock()
		s.violations = append(s.violations, v...)
		s.mu.Unlock()
		writeError(w, "InvalidArgumentException", strings.Join(v, "; "))
		return
	}
	var in subscribeInput
	if err := readInput(r, &in); err != nil || in.ConsumerARN == "" || in.ShardId == "" {
		s.refuse(w, "InvalidArgumentException", fmt.Sprintf("ConsumerARN and ShardId are required (%v)", err))
		return
	}
	s.mu.Lock()
	errType, failed := s.failSubscribe.take()
	c := s.consumers[in.ConsumerARN]
	var active bool
	var streamARN string
	if c != nil {
		active, streamARN = s.status(c) == types.ConsumerStatusActive, c.streamARN
	}
	s.mu.Unlock()
	switch {
	case failed:
		writeError(w, errType, injectedMessage(errType))
		return
	case c == nil:
		s.refuse(w, "ResourceNotFoundException", "Consumer "+in.ConsumerARN+" not found.")
		return
	case !active:
		s.refuse(w, "ResourceInUseException", "Consumer "+in.ConsumerARN+": consumer is not ACTIVE.")
		return
	}
	at, err := checkPosition(&in)
	if err != nil {
		s.refuse(w, "InvalidArgumentException", err.Error())
		return
	}
	shard, err := s.findShard(r, streamARN, in.ShardId)
	if err != nil {
		writeError(w, "InternalFailure", "backend: "+err.Error())
		return
	}
	if shard == nil {
		s.refuse(w, "ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", in.ShardId, streamName(streamARN), accountOf(streamARN)))
		return
	}
	sub, inUse := s.open(&in, at)
	if inUse {
		writeError(w, "ResourceInUseException", fmt.Sprintf("Another active subscription exists for this consumer: %s:%s", in.ConsumerARN, in.ShardId))
		return
	}
	st := &streamer{s: s, w: w, rc: http.NewResponseController(w), ctx: r.Context(), sub: sub, streamARN: streamARN, shard: *shard}
	defer s.closeSub(st)
	st.run()
}

// findShard is the shard as the backend lists it, or nil if it has no such shard.
func (s *Server) findShard(r *http.Request, streamARN, shardID string) (*types.Shard, error) {
	shards, err := s.listShards(r.Context(), streamARN)
	if err != nil {
		return nil, err
	}
	for _, sh := range shards {
		if aws.ToString(sh.ShardId) == shardID {
			return &sh, nil
		}
	}
	return nil, nil
}

// open accepts a subscription unless its consumer and shard have one open, or had one
// until less than Options.Linger ago.
func (s *Server) open(in *subscribeInput, at time.Time) (*subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, old := range s.subs {
		if old.ConsumerARN == in.ConsumerARN && old.ShardID == in.ShardId &&
			(old.Closed.IsZero() || now.Before(old.Closed.Add(s.opts.Linger))) {
			return nil, true
		}
	}
	sub := &subscription{Subscription: Subscription{
		ConsumerARN:      in.ConsumerARN,
		ShardID:          in.ShardId,
		StartingPosition: string(in.StartingPosition.Type),
		SequenceNumber:   in.StartingPosition.SequenceNumber,
		Timestamp:        at,
		Opened:           now,
	}}
	if len(s.streamFaults) > 0 {
		sub.fault = &s.streamFaults[0]
		s.streamFaults = s.streamFaults[1:]
	}
	s.subs = append(s.subs, sub)
	return sub, false
}

// closeSub marks a subscription ended when its handler returns, on a panic too: it
// stays in use until then.
func (s *Server) closeSub(st *streamer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.end == "" {
		st.end = EndClient
	}
	st.sub.End, st.sub.Err, st.sub.Closed = st.end, st.err, time.Now()
}

// listShards is every shard of the stream, the backend's pages joined.
func (s *Server) listShards(ctx context.Context, streamARN string) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamARN: &streamARN}
	for {
		page, err := s.backend.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, page.Shards...)
		if page.NextToken == nil {
			return shards, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken} // a token goes alone
	}
}
