// Package fleettest runs and watches a fleet of collectors sharing one Kinesis stream
// through a DynamoDB lease table: collector configurations with leases, an OTLP backend
// that tells the collectors apart, the lease table as DynamoDB holds it, and a writer of
// simulated agent events. test/fleet and the soak run's fleet mode use it.
package fleettest

import (
	"context"
	"net"
	"slices"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/gaugesum"
)

// Attribute names the recorder reads, as the receiver writes them.
const (
	attrEventID   = "aws.connect.event.id"
	attrAgentARN  = "aws.connect.agent.arn"
	attrShardID   = "aws.kinesis.shard_id"
	attrSequence  = "aws.kinesis.sequence_number"
	AttrServiceID = gaugesum.InstanceAttribute
)

// Arrival is one log record as the backend received it.
type Arrival struct {
	// Member is the collector that exported it: each has an endpoint of its own.
	Member string
	// Index orders arrivals across all members; At is the wall clock.
	Index                           int
	At                              time.Time
	EventID, Agent, Shard, Sequence string
	// EventTime is the log record's timestamp, the event's EventTimestamp.
	EventTime time.Time
}

// GaugeExport is one metrics request of a collector: its gauges by series, the series
// key leaving service.instance.id aside so that collectors' series can be summed.
type GaugeExport struct {
	At time.Time
	// Values are the export's gauges by series, service.instance.id left out.
	Values gaugesum.Sums
	// InstanceIDs are the service.instance.id resource attributes the request carried.
	InstanceIDs []string
}

// Recorder is an OTLP/gRPC backend with one endpoint per collector, so that it knows
// who exported what. It keeps every log record's identity and every metrics export.
type Recorder struct {
	mu       sync.Mutex
	servers  []*grpc.Server
	arrivals []Arrival
	exports  map[string][]GaugeExport
	delay    time.Duration
	inFlight map[string]map[string]int // records received and not yet answered, by member and shard
}

// SetDelay has every logs export wait d before it is answered, as a distant backend
// does: a collector then spends most of its time with a batch in flight.
func (r *Recorder) SetDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

// NewRecorder returns a Recorder with no endpoint yet: see Serve.
func NewRecorder() *Recorder {
	return &Recorder{exports: map[string][]GaugeExport{}, inFlight: map[string]map[string]int{}}
}

// Serve opens an endpoint for member on a free port and returns its address.
func (r *Recorder) Serve(member string) (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s := grpc.NewServer()
	plogotlp.RegisterGRPCServer(s, &logsService{r: r, member: member})
	pmetricotlp.RegisterGRPCServer(s, &metricsService{r: r, member: member})
	go func() { _ = s.Serve(lis) }()
	r.mu.Lock()
	r.servers = append(r.servers, s)
	r.mu.Unlock()
	return lis.Addr().String(), nil
}

// Close stops every endpoint.
func (r *Recorder) Close() {
	r.mu.Lock()
	servers := r.servers
	r.servers = nil
	r.mu.Unlock()
	for _, s := range servers {
		s.Stop()
	}
}

type logsService struct {
	plogotlp.UnimplementedGRPCServer
	r      *Recorder
	member string
}

// Export records the log records at once, as a backend that has them; with a delay it
// answers only later, so that a collector killed meanwhile exported what it never
// learned was taken.
func (s *logsService) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	now := time.Now()
	s.r.mu.Lock()
	delay := s.r.delay
	if s.r.inFlight[s.member] == nil {
		s.r.inFlight[s.member] = map[string]int{}
	}
	var shards []string
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				attrs := lr.Attributes()
				a := Arrival{
					Member: s.member, Index: len(s.r.arrivals), At: now,
					EventID: str(attrs, attrEventID), Agent: str(attrs, attrAgentARN),
					Shard: str(attrs, attrShardID), Sequence: str(attrs, attrSequence),
					EventTime: lr.Timestamp().AsTime(),
				}
				s.r.arrivals = append(s.r.arrivals, a)
				if !slices.Contains(shards, a.Shard) {
					shards = append(shards, a.Shard)
				}
			}
		}
	}
	for _, shard := range shards {
		s.r.inFlight[s.member][shard]++
	}
	s.r.mu.Unlock()
	defer func() {
		s.r.mu.Lock()
		for _, shard := range shards {
			s.r.inFlight[s.member][shard]--
		}
		s.r.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return plogotlp.NewExportResponse(), ctx.Err()
		}
	}
	return plogotlp.NewExportResponse(), nil
}

func str(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	return ""
}

type metricsService struct {
	pmetricotlp.UnimplementedGRPCServer
	r      *Recorder
	member string
}

func (s *metricsService) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	md := req.Metrics()
	e := GaugeExport{At: time.Now(), Values: gaugesum.GaugesWithZeros(md)}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		if v, ok := rms.At(i).Resource().Attributes().Get(AttrServiceID); ok && !slices.Contains(e.InstanceIDs, v.AsString()) {
			e.InstanceIDs = append(e.InstanceIDs, v.AsString())
		}
	}
	if len(e.Values) > 0 {
		s.r.mu.Lock()
		s.r.exports[s.member] = append(s.r.exports[s.member], e)
		s.r.mu.Unlock()
	}
	return pmetricotlp.NewExportResponse(), nil
}

// InFlight is how many logs exports of member holding records of shards the recorder
// has received and not yet answered.
func (r *Recorder) InFlight(member string, shards ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, shard := range shards {
		n += r.inFlight[member][shard]
	}
	return n
}

// Arrivals is every log record received so far, in the order received.
func (r *Recorder) Arrivals() []Arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.arrivals)
}

// Exports is member's metrics exports so far that held gauges, oldest first.
func (r *Recorder) Exports(member string) []GaugeExport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.exports[member])
}

// Missing is the EventIds of written that no member of members (any member, when
// members is empty) exported.
func (r *Recorder) Missing(written []string, members ...string) []string {
	seen := map[string]bool{}
	for _, a := range r.Arrivals() {
		if len(members) == 0 || slices.Contains(members, a.Member) {
			seen[a.EventID] = true
		}
	}
	var out []string
	for _, id := range written {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

// Repeats counts the records members exported more than once (a record is a Kinesis
// sequence number): each time after the first is one repeat.
func (r *Recorder) Repeats(members ...string) int {
	n := map[string]int{}
	repeats := 0
	for _, a := range r.Arrivals() {
		if len(members) > 0 && !slices.Contains(members, a.Member) {
			continue
		}
		key := a.Shard + "/" + a.Sequence
		if n[key] > 0 {
			repeats++
		}
		n[key]++
	}
	return repeats
}

// FirstFrom is the first arrival at or after since of a record of shard exported by a
// member other than except; ok is false when there is none yet.
func (r *Recorder) FirstFrom(shard, except string, since time.Time) (Arrival, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.arrivals {
		if a.Shard == shard && a.Member != except && !a.At.Before(since) {
			return a, true
		}
	}
	return Arrival{}, false
}

// RepeatsSince counts the records exported at or after since that a member had exported
// before: redeliveries.
func (r *Recorder) RepeatsSince(since time.Time) int {
	n := map[string]int{}
	repeats := 0
	for _, a := range r.Arrivals() {
		key := a.Shard + "/" + a.Sequence
		if n[key] > 0 && !a.At.Before(since) {
			repeats++
		}
		n[key]++
	}
	return repeats
}

// OutOfOrder lists the agents of byAgent (EventIds in the order written) whose events
// were first exported in another order, by any member.
func (r *Recorder) OutOfOrder(byAgent map[string][]string) []string {
	seen := map[string]bool{}
	got := map[string][]string{}
	for _, a := range r.Arrivals() {
		if seen[a.EventID] {
			continue
		}
		seen[a.EventID] = true
		got[a.Agent] = append(got[a.Agent], a.EventID)
	}
	var out []string
	for agent, want := range byAgent {
		if !slices.Equal(got[agent], want) {
			out = append(out, agent)
		}
	}
	sort.Strings(out)
	return out
}

// Latest is member's most recent gauge export; ok is false before its first.
func (r *Recorder) Latest(member string) (GaugeExport, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	es := r.exports[member]
	if len(es) == 0 {
		return GaugeExport{}, false
	}
	return es[len(es)-1], true
}

// Sum adds up series by series the latest gauges of members, leaving out zeros, so
// that a series one member exports as 0 and another leaves out compare equal.
func (r *Recorder) Sum(members ...string) gaugesum.Sums {
	out := gaugesum.Sums{}
	for _, m := range members {
		e, ok := r.Latest(m)
		if !ok {
			continue
		}
		for k, v := range e.Values {
			out[k] += v
		}
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// FromTwoRecords counts the EventIds members (any, when none is named) exported from
// more than one Kinesis record: an event the producer wrote twice that duplicate removal
// let through.
func (r *Recorder) FromTwoRecords(members ...string) int {
	records := map[string]map[string]bool{}
	for _, a := range r.Arrivals() {
		if len(members) > 0 && !slices.Contains(members, a.Member) {
			continue
		}
		if records[a.EventID] == nil {
			records[a.EventID] = map[string]bool{}
		}
		records[a.EventID][a.Shard+"/"+a.Sequence] = true
	}
	n := 0
	for _, recs := range records {
		if len(recs) > 1 {
			n++
		}
	}
	return n
}

// ExportedAgain counts the records of shards that member exported and that another
// member exported again at or after since: what a hand-over of those shards repeated.
func (r *Recorder) ExportedAgain(member string, shards []string, since time.Time) int {
	byMember := map[string]bool{}
	again := map[string]bool{}
	for _, a := range r.Arrivals() {
		if !slices.Contains(shards, a.Shard) {
			continue
		}
		key := a.Shard + "/" + a.Sequence
		switch {
		case a.Member == member:
			byMember[key] = true
		case !a.At.Before(since):
			again[key] = true
		}
	}
	n := 0
	for key := range again {
		if byMember[key] {
			n++
		}
	}
	return n
}
