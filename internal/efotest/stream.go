package efotest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// streamer writes one subscription's response: records read from the backend become
// SubscribeToShardEvents, each written and flushed before the next is read, so a
// client that stops reading stops the handler in Write (HTTP/2 flow control) and
// nothing piles up here.
type streamer struct {
	s         *Server
	w         http.ResponseWriter
	rc        *http.ResponseController
	ctx       context.Context
	sub       *subscription
	streamARN string
	shard     types.Shard

	buf []byte
	// last is the sequence number empty events continue from: the last record written,
	// or where the starting position lies, once known.
	last      string
	lastEvent time.Time
	end       End
	err       string
}

// The event's JSON, as the JSON protocol writes SubscribeToShardEvent.
type eventJSON struct {
	Records                    []recordJSON
	ContinuationSequenceNumber *string `json:",omitempty"`
	MillisBehindLatest         int64
	ChildShards                []childShardJSON `json:",omitempty"`
}

type recordJSON struct {
	Data                        []byte
	SequenceNumber              string
	PartitionKey                string
	ApproximateArrivalTimestamp epochSeconds
}

type childShardJSON struct {
	ShardId      string
	ParentShards []string
	HashKeyRange struct{ StartingHashKey, EndingHashKey string }
}

func (st *streamer) run() {
	st.w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	st.w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("efotest-%d", time.Now().UnixNano()))
	st.w.WriteHeader(http.StatusOK)
	if !st.s.opts.OmitInitialResponse {
		if !st.write(eventHeaders("initial-response"), []byte("{}")) {
			return
		}
	} else if err := st.rc.Flush(); err != nil {
		st.end = EndClient
		return
	}
	st.lastEvent = time.Now()
	if st.faultDue() {
		return
	}
	iter, err := st.iterator()
	if err != nil {
		st.backendFailed(err)
		return
	}
	poll := st.s.opts.PollInterval
	for {
		out, err := st.s.backend.GetRecords(st.ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: &st.streamARN})
		if err != nil {
			st.backendFailed(err)
			return
		}
		behind := aws.ToInt64(out.MillisBehindLatest)
		closed := out.NextShardIterator == nil
		if len(out.Records) > 0 || closed {
			if !st.sendRecords(out.Records, behind, closed) {
				return
			}
		} else if time.Since(st.lastEvent) >= st.s.opts.HeartbeatInterval {
			if !st.sendEmpty() {
				return
			}
		}
		if closed {
			st.end = EndShardEnd
			return
		}
		iter = out.NextShardIterator
		wait := poll
		if len(out.Records) > 0 && behind > 0 {
			wait = 0 // behind: read on at once
		}
		if !st.sleep(wait) {
			return
		}
	}
}

// iterator is the backend's iterator for the subscription's starting position.
func (st *streamer) iterator() (*string, error) {
	in := &kinesis.GetShardIteratorInput{
		StreamARN:         &st.streamARN,
		ShardId:           &st.sub.ShardID,
		ShardIteratorType: types.ShardIteratorType(st.sub.StartingPosition),
	}
	if st.sub.SequenceNumber != "" {
		in.StartingSequenceNumber = &st.sub.SequenceNumber
	}
	if in.ShardIteratorType == types.ShardIteratorTypeAtTimestamp {
		in.Timestamp = &st.sub.Timestamp
	}
	out, err := st.s.backend.GetShardIterator(st.ctx, in)
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// sendRecords writes one GetRecords answer as events of at most MaxRecordsPerEvent
// records. The last event of a closed shard has no continuation and names the
// children.
func (st *streamer) sendRecords(records []types.Record, behind int64, closed bool) bool {
	size := st.s.opts.MaxRecordsPerEvent
	if size <= 0 {
		size = max(len(records), 1)
	}
	for start := 0; start < len(records) || (start == 0 && closed); start += size {
		chunk := records[start:min(start+size, len(records))]
		ev := eventJSON{Records: make([]recordJSON, len(chunk)), MillisBehindLatest: behind}
		for i, r := range chunk {
			ev.Records[i] = recordJSON{Data: r.Data, SequenceNumber: aws.ToString(r.SequenceNumber), PartitionKey: aws.ToString(r.PartitionKey)}
			if r.ApproximateArrivalTimestamp != nil {
				ev.Records[i].ApproximateArrivalTimestamp = epochSeconds(*r.ApproximateArrivalTimestamp)
			}
			st.last = ev.Records[i].SequenceNumber
		}
		if closed && start+size >= len(records) {
			children, err := st.children()
			if err != nil {
				st.backendFailed(err)
				return false
			}
			ev.ChildShards = children
		} else {
			ev.ContinuationSequenceNumber = aws.String(st.last)
		}
		if !st.sendEvent(&ev, len(chunk)) {
			return false
		}
	}
	return true
}

// sendEmpty is the heartbeat of a caught-up subscription.
func (st *streamer) sendEmpty() bool {
	cont, err := st.continuation()
	if err != nil {
		st.backendFailed(err)
		return false
	}
	return st.sendEvent(&eventJSON{Records: []recordJSON{}, ContinuationSequenceNumber: &cont}, 0)
}

func (st *streamer) sendEvent(ev *eventJSON, records int) bool {
	payload, err := json.Marshal(ev)
	if err != nil {
		panic(err) // the event's types all marshal
	}
	if !st.write(eventHeaders("SubscribeToShardEvent"), payload) {
		return false
	}
	st.lastEvent = time.Now()
	st.s.mu.Lock()
	st.sub.Events++
	st.sub.Records += records
	st.s.mu.Unlock()
	return !st.faultDue()
}

// write writes and flushes one message; false when the client has gone.
func (st *streamer) write(headers []header, payload []byte) bool {
	var err error
	st.buf, err = appendMessage(st.buf[:0], headers, payload)
	st.setWriting(true)
	if err == nil {
		_, err = st.w.Write(st.buf)
	}
	if err == nil {
		err = st.rc.Flush()
	}
	st.setWriting(false)
	if err != nil {
		st.end, st.err = EndClient, err.Error()
		return false
	}
	return true
}

func (st *streamer) setWriting(w bool) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	st.sub.writing = w
}

// faultDue carries out the subscription's fault once it has written its events; true
// when the subscription has ended.
func (st *streamer) faultDue() bool {
	st.s.mu.Lock()
	f, events := st.sub.fault, st.sub.Events
	st.s.mu.Unlock()
	if f == nil || events < f.after {
		return false
	}
	st.end = f.end
	switch f.end {
	case EndDropped:
		// A reset stream, as when the server's connection breaks: net/http resets an
		// HTTP/2 stream whose handler panics with ErrAbortHandler (a hijack is not
		// possible on HTTP/2).
		panic(http.ErrAbortHandler)
	case EndCorrupt:
		msg, _ := appendMessage(nil, eventHeaders("SubscribeToShardEvent"), []byte(`{"Records":[],"MillisBehindLatest":0}`))
		msg[len(msg)-1] ^= 0xff // the message CRC no longer matches
		if _, err := st.w.Write(msg); err == nil {
			_ = st.rc.Flush()
		}
	case EndException:
		payload, _ := json.Marshal(map[string]string{"message": f.exceptionType + " injected by efotest"})
		st.write(exceptionHeaders(f.exceptionType), payload)
		st.end = EndException
	}
	return true
}

// backendFailed ends the subscription as AWS does when it fails inside: with an
// InternalFailureException message. A failure because the client went is no failure.
func (st *streamer) backendFailed(err error) {
	if st.ctx.Err() != nil {
		st.end = EndClient
		return
	}
	st.end, st.err = EndBackend, err.Error()
	payload, _ := json.Marshal(map[string]string{"message": "backend: " + err.Error()})
	st.write(exceptionHeaders("InternalFailureException"), payload)
	st.end = EndBackend
}

// sleep waits d, or less if the lifetime ends first; false when the subscription has
// ended: lifetime over, client gone or server closing.
func (st *streamer) sleep(d time.Duration) bool {
	st.s.mu.Lock()
	left := time.Until(st.sub.Opened.Add(st.s.lifetime))
	st.s.mu.Unlock()
	if left <= 0 {
		st.end = EndLifetime
		return false
	}
	t := time.NewTimer(min(d, left))
	defer t.Stop()
	select {
	case <-st.ctx.Done():
		st.end = EndClient
		return false
	case <-st.s.closing:
		st.end = EndClosed
		return false
	case <-t.C:
	}
	if d >= left {
		st.end = EndLifetime
		return false
	}
	return true
}
