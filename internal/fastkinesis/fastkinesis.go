// Package fastkinesis is an in-process Kinesis server for throughput measurements: it
// speaks Kinesis's JSON 1.1 wire protocol over plain HTTP for the calls a polling
// consumer makes (DescribeStreamSummary, ListShards, GetShardIterator, GetRecords) and
// serves one stream of S shards, each holding the same fixed list of records, from
// memory at full speed: no rate limits, no SigV4 check. kinesis-local serves about 400
// records a second, which bounds whatever reads from it; this server leaves the reader
// as the only bound.
//
// Each record's JSON is encoded once and shared by every shard; only its sequence number
// differs per shard, so a GetRecords answer is written as a few copies of prepared
// bytes.
package fastkinesis

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Record is one record every shard holds.
type Record struct {
	PartitionKey string
	Data         []byte
}

// Options say what the server serves.
type Options struct {
	// Stream is the stream's name; its ARN is in us-east-1 of account 000000000000.
	Stream string
	// Shards is the number of open shards, at least 1.
	Shards int
	// Records are what each shard holds, oldest first.
	Records []Record
	// OnFirstRecords, when set, is called once, before the first GetRecords answer that
	// holds more than one record is written: the moment a consumer starts reading in
	// earnest (a consumer's access check at start reads a single record).
	OnFirstRecords func()
}

// Server is a running fast Kinesis.
type Server struct {
	// Endpoint is its plain HTTP URL, for a client's BaseEndpoint.
	Endpoint string
	// ARN is the stream's ARN.
	ARN string

	opts     Options
	shardIDs []string
	// heads[i] is record i's JSON up to its sequence number's digits after the shard's
	// prefix: {"ApproximateArrivalTimestamp":T,"Data":"...","PartitionKey":"...","SequenceNumber":"<shard prefix>
	heads [][]byte
	// offsets[i] is the sum of the lengths of record 0..i-1's JSON, separators included,
	// so an answer's length is known before it is written.
	offsets []int
	// shardJSON is each shard as ListShards describes it.
	shardJSON [][]byte
	// arrival is record 0's ApproximateArrivalTimestamp; each next one arrived 1 ms later.
	arrival time.Time

	first  sync.Once
	served atomic.Int64
	http   *http.Server
}

const (
	region  = "us-east-1"
	account = "000000000000"
	// seqDigits is how many digits follow a sequence number's shard prefix: Kinesis's
	// are 56 digits in all.
	seqDigits = 48
	// seqPrefixLen: "49" and six digits of shard index.
	seqPrefixLen = 8
)

// Start serves opts on a free port of 127.0.0.1 until Close.
func Start(opts Options) (*Server, error) {
	if opts.Shards < 1 {
		return nil, errors.New("fastkinesis: at least one shard")
	}
	if opts.Stream == "" {
		return nil, errors.New("fastkinesis: a stream name")
	}
	s := &Server{
		opts: opts,
		ARN:  fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, account, opts.Stream),
		// Records arrived one millisecond apart, the last a minute ago.
		arrival: time.Now().Add(-time.Minute - time.Duration(len(opts.Records))*time.Millisecond).Truncate(time.Millisecond),
	}
	s.prepare()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Endpoint = "http://" + l.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(l) }()
	return s, nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.http.Close() }

// Served is how many records GetRecords answers have held so far, over all shards.
func (s *Server) Served() int64 { return s.served.Load() }

// ShardIDs are the shards' IDs, in order.
func (s *Server) ShardIDs() []string { return s.shardIDs }

// SequenceNumber is the sequence number of record i on shard.
func (s *Server) SequenceNumber(shard, i int) string {
	return s.seqPrefix(shard) + digits(i)
}

func (s *Server) seqPrefix(shard int) string { return fmt.Sprintf("49%06d", shard) }

// digits is i+1 in seqDigits digits: sequence numbers start at 1 after the prefix.
func digits(i int) string {
	d := strconv.Itoa(i + 1)
	return strings.Repeat("0", seqDigits-len(d)) + d
}

// recordTail closes a record's JSON after its sequence number.
const recordTail = `"}`

func (s *Server) prepare() {
	n := len(s.opts.Records)
	s.heads = make([][]byte, n)
	s.offsets = make([]int, n+1)
	for i, r := range s.opts.Records {
		key, _ := json.Marshal(r.PartitionKey)
		ts := s.arrival.Add(time.Duration(i) * time.Millisecond)
		var b strings.Builder
		b.Grow(base64.StdEncoding.EncodedLen(len(r.Data)) + len(key) + 128)
		fmt.Fprintf(&b, `{"ApproximateArrivalTimestamp":%d.%03d,"Data":"`, ts.Unix(), ts.Nanosecond()/1e6)
		b.WriteString(base64.StdEncoding.EncodeToString(r.Data))
		b.WriteString(`","PartitionKey":`)
		b.Write(key)
		b.WriteString(`,"SequenceNumber":"`)
		s.heads[i] = []byte(b.String())
		// The record, its sequence number, its tail and a comma before the next.
		s.offsets[i+1] = s.offsets[i] + len(s.heads[i]) + seqPrefixLen + seqDigits + len(recordTail) + 1
	}
	// Hash key ranges split 0..2^128-1 evenly, as CreateStream does.
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	step := new(big.Int).Div(space, big.NewInt(int64(s.opts.Shards)))
	for i := range s.opts.Shards {
		id := fmt.Sprintf("shardId-%012d", i)
		s.shardIDs = append(s.shardIDs, id)
		lo := new(big.Int).Mul(step, big.NewInt(int64(i)))
		hi := new(big.Int).Sub(new(big.Int).Add(lo, step), big.NewInt(1))
		if i == s.opts.Shards-1 {
			hi = new(big.Int).Sub(space, big.NewInt(1))
		}
		shard, _ := json.Marshal(map[string]any{
			"ShardId":             id,
			"HashKeyRange":        map[string]string{"StartingHashKey": lo.String(), "EndingHashKey": hi.String()},
			"SequenceNumberRange": map[string]string{"StartingSequenceNumber": s.SequenceNumber(i, 0)},
		})
		s.shardJSON = append(s.shardJSON, shard)
	}
}

// ServeHTTP answers one Kinesis call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	if r.Method != http.MethodPost || !ok {
		fail(w, http.StatusBadRequest, "UnknownOperationException", "not a Kinesis call")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	switch op {
	case "DescribeStreamSummary":
		s.describeStreamSummary(w, body)
	case "ListShards":
		s.listShards(w, body)
	case "GetShardIterator":
		s.getShardIterator(w, body)
	case "GetRecords":
		s.getRecords(w, body)
	default:
		fail(w, http.StatusBadRequest, "UnknownOperationException", op+" is not served by fastkinesis")
	}
}

// streamRef is how a call names the stream.
type streamRef struct {
	StreamName string
	StreamARN  string
}

// check answers ResourceNotFoundException when the call names another stream.
func (s *Server) check(w http.ResponseWriter, ref streamRef) bool {
	if (ref.StreamName != "" && ref.StreamName != s.opts.Stream) || (ref.StreamARN != "" && ref.StreamARN != s.ARN) {
		fail(w, http.StatusBadRequest, "ResourceNotFoundException",
			fmt.Sprintf("Stream %s%s under account %s not found.", ref.StreamName, ref.StreamARN, account))
		return false
	}
	return true
}

func (s *Server) describeStreamSummary(w http.ResponseWriter, body []byte) {
	var in streamRef
	if !decode(w, body, &in) || !s.check(w, in) {
		return
	}
	answer(w, map[string]any{"StreamDescriptionSummary": map[string]any{
		"StreamName":              s.opts.Stream,
		"StreamARN":               s.ARN,
		"StreamStatus":            "ACTIVE",
		"StreamModeDetails":       map[string]string{"StreamMode": "PROVISIONED"},
		"RetentionPeriodHours":    24,
		"StreamCreationTimestamp": float64(s.arrival.Add(-time.Hour).Unix()),
		"EnhancedMonitoring":      []any{map[string]any{"ShardLevelMetrics": []string{}}},
		"EncryptionType":          "NONE",
		"OpenShardCount":          s.opts.Shards,
		"ConsumerCount":           0,
	}})
}

func (s *Server) listShards(w http.ResponseWriter, body []byte) {
	var in struct {
		streamRef
		NextToken  string
		MaxResults int
	}
	if !decode(w, body, &in) || !s.check(w, in.streamRef) {
		return
	}
	from := 0
	if in.NextToken != "" {
		if in.StreamName != "" {
			fail(w, http.StatusBadRequest, "InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
			return
		}
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > s.opts.Shards {
			fail(w, http.StatusBadRequest, "InvalidArgumentException", "invalid NextToken")
			return
		}
		from = n
	}
	limit := in.MaxResults
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	to := min(from+limit, s.opts.Shards)
	var b strings.Builder
	b.WriteString(`{`)
	if to < s.opts.Shards {
		fmt.Fprintf(&b, `"NextToken":"%d",`, to)
	}
	b.WriteString(`"Shards":[`)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		b.Write(s.shardJSON[i])
	}
	b.WriteString(`]}`)
	write(w, []byte(b.String()))
}

// An iterator is "shard index/next record index".
func iterator(shard, next int) string { return fmt.Sprintf("%d/%d", shard, next) }

func (s *Server) parseIterator(it string) (shard, next int, ok bool) {
	a, b, found := strings.Cut(it, "/")
	if !found {
		return 0, 0, false
	}
	shard, err1 := strconv.Atoi(a)
	next, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || shard < 0 || shard >= s.opts.Shards || next < 0 || next > len(s.opts.Records) {
		return 0, 0, false
	}
	return shard, next, true
}

func (s *Server) getShardIterator(w http.ResponseWriter, body []byte) {
	var in struct {
		streamRef
		ShardId                string
		ShardIteratorType      string
		StartingSequenceNumber string
		Timestamp              float64
	}
	if !decode(w, body, &in) || !s.check(w, in.streamRef) {
		return
	}
	shard := -1
	for i, id := range s.shardIDs {
		if id == in.ShardId {
			shard = i
		}
	}
	if shard < 0 {
		fail(w, http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", in.ShardId, s.opts.Stream, account))
		return
	}
	n := len(s.opts.Records)
	var next int
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
		next = 0
	case "LATEST":
		next = n
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		i, ok := s.recordIndex(shard, in.StartingSequenceNumber)
		if !ok {
			fail(w, http.StatusBadRequest, "InvalidArgumentException",
				fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", in.StartingSequenceNumber, in.ShardId, s.opts.Stream, account))
			return
		}
		next = i
		if in.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			next = i + 1
		}
	case "AT_TIMESTAMP":
		// The first record that arrived at or after the timestamp.
		millis := int64(in.Timestamp*1000+0.5) - s.arrival.UnixMilli()
		next = int(min(max(millis, 0), int64(n)))
	default:
		fail(w, http.StatusBadRequest, "InvalidArgumentException", "unknown ShardIteratorType "+in.ShardIteratorType)
		return
	}
	write(w, []byte(`{"ShardIterator":"`+iterator(shard, next)+`"}`))
}

// recordIndex finds the record a sequence number of shard names.
func (s *Server) recordIndex(shard int, seq string) (int, bool) {
	rest, ok := strings.CutPrefix(seq, s.seqPrefix(shard))
	if !ok || len(rest) != seqDigits {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimLeft(rest, "0"))
	if err != nil || v < 1 || v > len(s.opts.Records) {
		return 0, false
	}
	return v - 1, true
}

func (s *Server) getRecords(w http.ResponseWriter, body []byte) {
	var in struct {
		ShardIterator string
		Limit         int
		StreamARN     string
	}
	if !decode(w, body, &in) || !s.check(w, streamRef{StreamARN: in.StreamARN}) {
		return
	}
	shard, next, ok := s.parseIterator(in.ShardIterator)
	if !ok {
		fail(w, http.StatusBadRequest, "InvalidArgumentException", "Invalid ShardIterator.")
		return
	}
	limit := in.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	n := len(s.opts.Records)
	end := min(next+limit, n)
	count := end - next
	if count > 1 && s.opts.OnFirstRecords != nil {
		s.first.Do(s.opts.OnFirstRecords)
	}
	s.served.Add(int64(count))

	// How far behind the tip the reader is after this answer: one millisecond a record
	// left, 0 at the tip.
	head := fmt.Sprintf(`{"MillisBehindLatest":%d,"NextShardIterator":"%s","Records":[`, n-end, iterator(shard, end))
	const tail = `]}`
	length := len(head) + len(tail)
	if count > 0 {
		length += s.offsets[end] - s.offsets[next] - 1 // no comma after the last
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("Content-Length", strconv.Itoa(length))
	h.Set("X-Amzn-Requestid", "fastkinesis")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(head)
	prefix := s.seqPrefix(shard)
	var seq [seqDigits]byte
	for i := next; i < end; i++ {
		if i > next {
			bw.WriteByte(',')
		}
		bw.Write(s.heads[i])
		bw.WriteString(prefix)
		bw.Write(seqDigitsOf(seq[:], i+1))
		bw.WriteString(recordTail)
	}
	bw.WriteString(tail)
	_ = bw.Flush()
}

// seqDigitsOf writes v in len(buf) digits, zero-padded.
func seqDigitsOf(buf []byte, v int) []byte {
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return buf
}

func decode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", err.Error())
		return false
	}
	return true
}

func answer(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	write(w, data)
}

func write(w http.ResponseWriter, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Amzn-Requestid", "fastkinesis")
	_, _ = w.Write(data)
}

// fail answers an error the way Kinesis does: its type in __type.
func fail(w http.ResponseWriter, status int, typ, msg string) {
	data, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
