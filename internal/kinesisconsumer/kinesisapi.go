package kinesisconsumer

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// KinesisAPI is the part of the Kinesis client the consumer uses; *kinesis.Client has it.
type KinesisAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// StreamRef names a stream by name or by ARN; with an ARN, calls carry the ARN, which a
// stream shared from another account through a resource policy needs.
type StreamRef struct {
	Name string
	ARN  string
}

// Label is how the stream is named in logs and record attributes.
func (s StreamRef) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ARN
}

func (s StreamRef) namePtr() *string {
	if s.ARN != "" || s.Name == "" {
		return nil
	}
	return &s.Name
}

func (s StreamRef) arnPtr() *string {
	if s.ARN == "" {
		return nil
	}
	return &s.ARN
}
