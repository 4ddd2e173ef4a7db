package kinesisconsumer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesisconsumer"
	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

const (
	accessStreamName = "connect-agent-events"
	accessStreamARN  = "arn:aws:kinesis:us-east-1:123456789012:stream/connect-agent-events"
	accessKeyID      = "arn:aws:kms:us-east-1:123456789012:key/0d3f4a1e-1111-2222-3333-444455556666"
)

// kinesisJSON answers the Kinesis JSON protocol (X-Amz-Target, application/x-amz-json-1.1)
// for one healthy, KMS-encrypted, one-shard stream, except that the action named in
// failAction answers the error failStatus/failType with AWS's message shape.
type kinesisJSON struct {
	failAction string
	failStatus int
	failType   string
	failMsg    string

	mu    sync.Mutex
	calls []string
	// bodies holds each call's request body, by action.
	bodies map[string]map[string]any
}

func (k *kinesisJSON) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	k.mu.Lock()
	k.calls = append(k.calls, action)
	if k.bodies == nil {
		k.bodies = map[string]map[string]any{}
	}
	k.bodies[action] = body
	k.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if action == k.failAction {
		w.Header().Set("X-Amzn-Errortype", k.failType+":http://internal.amazon.com/coral/com.amazonaws.kinesis.v20131202/")
		w.WriteHeader(k.failStatus)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": k.failType, "message": k.failMsg})
		return
	}
	var out any
	switch action {
	case "DescribeStreamSummary":
		out = map[string]any{"StreamDescriptionSummary": map[string]any{
			"StreamName": accessStreamName, "StreamARN": accessStreamARN, "StreamStatus": "ACTIVE",
			"RetentionPeriodHours": 24, "StreamCreationTimestamp": 1.7e9, "OpenShardCount": 1,
			"EnhancedMonitoring": []any{}, "EncryptionType": "KMS", "KeyId": accessKeyID,
		}}
	case "ListShards":
		out = map[string]any{"Shards": []any{map[string]any{
			"ShardId":             "shardId-000000000000",
			"HashKeyRange":        map[string]string{"StartingHashKey": "0", "EndingHashKey": "340282366920938463463374607431768211455"},
			"SequenceNumberRange": map[string]string{"StartingSequenceNumber": "49590338271490256608559692538361571095921575989136588802"},
		}}}
	case "GetShardIterator":
		out = map[string]any{"ShardIterator": "AAAAAAAAAAE="}
	case "GetRecords":
		out = map[string]any{"Records": []any{}, "NextShardIterator": "AAAAAAAAAAI=", "MillisBehindLatest": 0}
	default:
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException"})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (k *kinesisJSON) called() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.calls...)
}

// accessClient is a client of endpoint that tries each call once, as the receiver's does.
func accessClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func TestCheckAccessPasses(t *testing.T) {
	k := &kinesisJSON{}
	srv := httptest.NewServer(k)
	defer srv.Close()

	arn, err := kinesisconsumer.CheckAccess(context.Background(), accessClient(srv.URL), kinesisconsumer.StreamRef{Name: accessStreamName})
	require.NoError(t, err)
	assert.Equal(t, accessStreamARN, arn, "the stream's identity is its ARN")
	assert.Equal(t, []string{"DescribeStreamSummary", "ListShards", "GetShardIterator", "GetRecords"}, k.called(),
		"one call per permission the receiver needs")
	k.mu.Lock()
	defer k.mu.Unlock()
	assert.EqualValues(t, 1, k.bodies["ListShards"]["MaxResults"], "a cheap listing")
	assert.EqualValues(t, 1, k.bodies["GetRecords"]["Limit"], "a cheap read")
	assert.Equal(t, "shardId-000000000000", k.bodies["GetShardIterator"]["ShardId"], "an iterator on a listed shard")
	assert.Equal(t, accessStreamARN, k.bodies["ListShards"]["StreamARN"], "later calls name the stream by the ARN it was found under")
}

// TestCheckAccessNamesWhatIsMissing answers each call in turn with the errors AWS gives
// a caller without the permission, with refused credentials, for a missing stream, or
// when it is busy: a refusal names the IAM action and the resource and is permanent; a
// busy or failing service is transient.
func TestCheckAccessNamesWhatIsMissing(t *testing.T) {
	denied := func(action, resource string) string {
		return "User: arn:aws:sts::123456789012:assumed-role/otelcol/i-0abc is not authorized to perform: " + action +
			" on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	cases := []struct {
		name      string
		stream    kinesisconsumer.StreamRef
		action    string
		status    int
		errType   string
		msg       string
		want      []string
		permanent bool
	}{
		{
			name: "describe denied, by name", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "DescribeStreamSummary", status: 400, errType: "AccessDeniedException", msg: denied("kinesis:DescribeStreamSummary", accessStreamARN),
			want:      []string{"kinesis:DescribeStreamSummary on stream " + accessStreamName + " is not allowed: AccessDeniedException: User: arn:aws:sts"},
			permanent: true,
		},
		{
			name: "describe denied, by ARN", stream: kinesisconsumer.StreamRef{ARN: accessStreamARN},
			action: "DescribeStreamSummary", status: 400, errType: "AccessDeniedException", msg: denied("kinesis:DescribeStreamSummary", accessStreamARN),
			want:      []string{"kinesis:DescribeStreamSummary on " + accessStreamARN + " is not allowed: AccessDeniedException: "},
			permanent: true,
		},
		{
			name: "list denied", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "ListShards", status: 400, errType: "AccessDeniedException", msg: denied("kinesis:ListShards", accessStreamARN),
			want:      []string{"kinesis:ListShards on " + accessStreamARN + " is not allowed: AccessDeniedException: User:"},
			permanent: true,
		},
		{
			name: "iterator denied", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetShardIterator", status: 400, errType: "AccessDeniedException", msg: denied("kinesis:GetShardIterator", accessStreamARN),
			want:      []string{"kinesis:GetShardIterator on " + accessStreamARN + " is not allowed: AccessDeniedException: User:"},
			permanent: true,
		},
		{
			name: "read denied", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetRecords", status: 400, errType: "AccessDeniedException", msg: denied("kinesis:GetRecords", accessStreamARN),
			want:      []string{"kinesis:GetRecords on " + accessStreamARN + " is not allowed: AccessDeniedException: User:"},
			permanent: true,
		},
		{
			name: "key denied", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetRecords", status: 400, errType: "KMSAccessDeniedException",
			msg:       "User: arn:aws:sts::123456789012:assumed-role/otelcol/i-0abc is not authorized to perform: kms:Decrypt on resource: " + accessKeyID,
			want:      []string{"kms:Decrypt on " + accessKeyID + " (the key of " + accessStreamARN + ") is not allowed: KMSAccessDeniedException: User:"},
			permanent: true,
		},
		{
			name: "key disabled", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetRecords", status: 400, errType: "KMSDisabledException", msg: "The KMS key is disabled.",
			want:      []string{"the KMS key " + accessKeyID + " of " + accessStreamARN + " cannot be used: KMSDisabledException: The KMS key is disabled."},
			permanent: true,
		},
		{
			name: "credentials refused", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "DescribeStreamSummary", status: 400, errType: "UnrecognizedClientException", msg: "The security token included in the request is invalid.",
			want:      []string{"the AWS credentials were refused calling kinesis:DescribeStreamSummary on stream " + accessStreamName + ": UnrecognizedClientException: The security token included in the request is invalid."},
			permanent: true,
		},
		{
			name: "signature refused", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "DescribeStreamSummary", status: 400, errType: "InvalidSignatureException", msg: "The request signature we calculated does not match the signature you provided.",
			want:      []string{"the AWS credentials were refused", "InvalidSignatureException"},
			permanent: true,
		},
		{
			name: "stream missing", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "DescribeStreamSummary", status: 400, errType: "ResourceNotFoundException", msg: "Stream connect-agent-events under account 123456789012 not found.",
			want:      []string{"stream " + accessStreamName + " was not found in region us-east-1: ResourceNotFoundException: Stream connect-agent-events under account 123456789012 not found."},
			permanent: true,
		},
		{
			name: "throttled", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "ListShards", status: 400, errType: "LimitExceededException", msg: "Rate exceeded for stream connect-agent-events under account 123456789012.",
			want: []string{"kinesis:ListShards on " + accessStreamARN + " failed: ", "LimitExceededException"},
		},
		{
			name: "read throttled", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetRecords", status: 400, errType: "ProvisionedThroughputExceededException", msg: "Rate exceeded for shard shardId-000000000000",
			want: []string{"kinesis:GetRecords on " + accessStreamARN + " failed: ", "ProvisionedThroughputExceededException"},
		},
		{
			name: "key throttled", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetRecords", status: 400, errType: "KMSThrottlingException", msg: "Rate exceeded",
			want: []string{"kinesis:GetRecords on " + accessStreamARN + " failed: ", "KMSThrottlingException"},
		},
		{
			name: "internal failure", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "DescribeStreamSummary", status: 500, errType: "InternalFailure", msg: "We encountered an internal error. Please try again.",
			want: []string{"kinesis:DescribeStreamSummary on stream " + accessStreamName + " failed: ", "InternalFailure"},
		},
		{
			name: "unavailable", stream: kinesisconsumer.StreamRef{Name: accessStreamName},
			action: "GetShardIterator", status: 503, errType: "ServiceUnavailable", msg: "",
			want: []string{"kinesis:GetShardIterator on " + accessStreamARN + " failed: "},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := &kinesisJSON{failAction: tc.action, failStatus: tc.status, failType: tc.errType, failMsg: tc.msg}
			srv := httptest.NewServer(k)
			defer srv.Close()
			arn, err := kinesisconsumer.CheckAccess(context.Background(), accessClient(srv.URL), tc.stream)
			require.Error(t, err)
			t.Log(err)
			assert.Empty(t, arn)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, tc.permanent, kinesisconsumer.IsPermanent(err), "permanent? %v", err)
			assert.Equal(t, tc.action, k.called()[len(k.called())-1], "the check stops at the first refusal")
		})
	}
}

// TestCheckAccessNetworkErrorIsTransient: nothing answering is worth retrying.
func TestCheckAccessNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := kinesisconsumer.CheckAccess(context.Background(), accessClient(url), kinesisconsumer.StreamRef{Name: accessStreamName})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kinesis:DescribeStreamSummary on stream "+accessStreamName+" failed: ")
	assert.False(t, kinesisconsumer.IsPermanent(err))
}

// TestCheckAccessKinesisLocal runs the check against the stand-in: a stream that exists
// passes and gives its ARN; one that does not is named, with the region.
func TestCheckAccessKinesisLocal(t *testing.T) {
	srv := kinesistest.Start(t)
	srv.CreateStream(t, "access", 2)
	ctx := context.Background()
	arn, err := kinesisconsumer.CheckAccess(ctx, srv.Client, kinesisconsumer.StreamRef{Name: "access"})
	require.NoError(t, err)
	assert.Regexp(t, `^arn:aws:kinesis:us-east-1:\d{12}:stream/access$`, arn)

	byARN, err := kinesisconsumer.CheckAccess(ctx, srv.Client, kinesisconsumer.StreamRef{ARN: arn})
	require.NoError(t, err)
	assert.Equal(t, arn, byARN, "the same stream named either way has one identity")

	_, err = kinesisconsumer.CheckAccess(ctx, srv.Client, kinesisconsumer.StreamRef{Name: "no-such-stream"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream no-such-stream was not found in region us-east-1: ResourceNotFoundException")
	assert.True(t, kinesisconsumer.IsPermanent(err))
}
