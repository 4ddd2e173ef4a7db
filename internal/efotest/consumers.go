package efotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A registered consumer.
type consumer struct {
	name, arn, streamARN string
	created              time.Time
	// describes is how many DescribeStreamConsumer answers named it: it turns ACTIVE
	// after Options.ActivateAfter of them, as AWS's takes a few seconds.
	describes int
}

// AWS allows 20 consumers per stream.
const maxConsumersPerStream = 20

func (s *Server) status(c *consumer) types.ConsumerStatus {
	if s.opts.ActivateAfter < 0 || c.describes > s.opts.ActivateAfter {
		return types.ConsumerStatusActive
	}
	return types.ConsumerStatusCreating
}

// consumerJSON is Consumer and ConsumerDescription as the JSON protocol writes them.
type consumerJSON struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            types.ConsumerStatus
	ConsumerCreationTimestamp epochSeconds
	StreamARN                 string `json:",omitempty"`
}

func (s *Server) consumerJSON(c *consumer, withStream bool) consumerJSON {
	j := consumerJSON{ConsumerName: c.name, ConsumerARN: c.arn, ConsumerStatus: s.status(c), ConsumerCreationTimestamp: epochSeconds(c.created)}
	if withStream {
		j.StreamARN = c.streamARN
	}
	return j
}

// epochSeconds writes a time as the JSON protocol does: seconds since the epoch, with
// milliseconds.
type epochSeconds time.Time

func (e epochSeconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(e).UnixMilli())/1000, 'f', 3, 64), nil
}

type consumerInput struct{ StreamARN, ConsumerName, ConsumerARN string }

func readInput(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func (s *Server) registerConsumer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.registers++
	s.mu.Unlock()
	var in consumerInput
	if err := readInput(r, &in); err != nil || in.StreamARN == "" || in.ConsumerName == "" {
		writeError(w, "InvalidArgumentException", "StreamARN and ConsumerName are required")
		return
	}
	// The stream must exist in the backend, as AWS checks.
	if _, err := s.backend.DescribeStreamSummary(r.Context(), &kinesis.DescribeStreamSummaryInput{StreamARN: &in.StreamARN}); err != nil {
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			writeError(w, "ResourceNotFoundException", "Stream "+in.StreamARN+" not found")
			return
		}
		writeError(w, "InternalFailure", "backend: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	count := 0
	for _, c := range s.consumers {
		if c.streamARN != in.StreamARN {
			continue
		}
		if c.name == in.ConsumerName {
			writeError(w, "ResourceInUseException", fmt.Sprintf("Consumer %s under stream %s already exists for account %s.", c.arn, streamName(c.streamARN), accountOf(c.streamARN)))
			return
		}
		count++
	}
	if count >= maxConsumersPerStream {
		writeError(w, "LimitExceededException", fmt.Sprintf("Stream %s has reached the limit of %d consumers.", in.StreamARN, maxConsumersPerStream))
		return
	}
	now := time.Now()
	c := &consumer{
		name:      in.ConsumerName,
		arn:       fmt.Sprintf("%s/consumer/%s:%d", in.StreamARN, in.ConsumerName, now.Unix()),
		streamARN: in.StreamARN,
		created:   now,
	}
	s.consumers[c.arn] = c
	j := s.consumerJSON(c, false)
	j.ConsumerStatus = types.ConsumerStatusCreating // AWS's answer to a register always is
	if s.opts.ActivateAfter < 0 {
		j.ConsumerStatus = types.ConsumerStatusActive
	}
	writeJSON(w, map[string]any{"Consumer": j})
}

// lookup finds a consumer by ARN, or by stream ARN and name; s.mu is held.
func (s *Server) lookup(in consumerInput) *consumer {
	if in.ConsumerARN != "" {
		return s.consumers[in.ConsumerARN]
	}
	for _, c := range s.consumers {
		if c.streamARN == in.StreamARN && c.name == in.ConsumerName {
			return c
		}
	}
	return nil
}

func notFoundMessage(in consumerInput) string {
	if in.ConsumerARN != "" {
		return "Consumer " + in.ConsumerARN + " not found."
	}
	return "Consumer " + in.ConsumerName + " under stream " + in.StreamARN + " not found."
}

func (s *Server) describeConsumer(w http.ResponseWriter, r *http.Request) {
	var in consumerInput
	if err := readInput(r, &in); err != nil {
		writeError(w, "InvalidArgumentException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.describes++
	if errType, ok := s.failDescribe.take(); ok {
		writeError(w, errType, injectedMessage(errType))
		return
	}
	c := s.lookup(in)
	if c == nil {
		writeError(w, "ResourceNotFoundException", notFoundMessage(in))
		return
	}
	c.describes++
	writeJSON(w, map[string]any{"ConsumerDescription": s.consumerJSON(c, true)})
}

func (s *Server) listConsumers(w http.ResponseWriter, r *http.Request) {
	var in consumerInput
	if err := readInput(r, &in); err != nil || in.StreamARN == "" {
		writeError(w, "InvalidArgumentException", "StreamARN is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []consumerJSON{}
	for _, c := range s.consumers {
		if c.streamARN == in.StreamARN {
			list = append(list, s.consumerJSON(c, false))
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ConsumerName < list[j].ConsumerName })
	writeJSON(w, map[string]any{"Consumers": list})
}

// deregisterConsumer removes the consumer at once (AWS shows it DELETING for a while);
// its open subscriptions run on to their end.
func (s *Server) deregisterConsumer(w http.ResponseWriter, r *http.Request) {
	var in consumerInput
	if err := readInput(r, &in); err != nil {
		writeError(w, "InvalidArgumentException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(in)
	if c == nil {
		writeError(w, "ResourceNotFoundException", notFoundMessage(in))
		return
	}
	delete(s.consumers, c.arn)
	writeJSON(w, struct{}{})
}

// streamName and accountOf read a stream ARN: arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.
func streamName(streamARN string) string {
	_, name, _ := strings.Cut(streamARN, ":stream/")
	return name
}

func accountOf(streamARN string) string {
	parts := strings.Split(streamARN, ":")
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}
