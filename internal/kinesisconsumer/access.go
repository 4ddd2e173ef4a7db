package kinesisconsumer

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// AccessAPI is KinesisAPI with the call that describes the stream. It is its own
// interface so that fakes of KinesisAPI need not grow.
type AccessAPI interface {
	KinesisAPI
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, opts ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// CheckAccess makes one cheap call per permission reading the stream needs:
// DescribeStreamSummary, ListShards (one shard), GetShardIterator on that shard and
// GetRecords (the shard's oldest record; on a KMS-encrypted stream this is where a
// missing kms:Decrypt shows, when the shard holds a record). It returns the stream's ARN, its identity however the configuration names it.
//
// An error is an *AccessError naming the IAM action and the resource that were refused;
// IsPermanent tells a refusal, a missing stream or refused credentials (which only a
// person can fix) from throttling, 5xx answers and network errors (worth retrying).
func CheckAccess(ctx context.Context, api AccessAPI, stream StreamRef) (string, error) {
	resource := "stream " + stream.Name
	if stream.ARN != "" {
		resource = stream.ARN
	}
	fail := func(action string, err error) error {
		return classify(action, resource, regionOf(api), stream.Label(), err)
	}

	desc, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: stream.namePtr(), StreamARN: stream.arnPtr()})
	if err != nil {
		return "", fail("kinesis:DescribeStreamSummary", err)
	}
	summary := desc.StreamDescriptionSummary
	if summary == nil || aws.ToString(summary.StreamARN) == "" {
		return "", &AccessError{Action: "kinesis:DescribeStreamSummary", Resource: resource, Err: errors.New("the answer carries no stream ARN")}
	}
	arn := aws.ToString(summary.StreamARN)
	// From here on the stream is named by its ARN, as the receiver's own calls can be.
	resource = arn
	byARN := StreamRef{ARN: arn}

	shards, err := api.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: byARN.arnPtr(), MaxResults: aws.Int32(1)})
	if err != nil {
		return "", fail("kinesis:ListShards", err)
	}
	if len(shards.Shards) == 0 {
		return arn, nil // nothing to read yet, so nothing more to check
	}
	it, err := api.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN: byARN.arnPtr(),
		ShardId:   shards.Shards[0].ShardId,
		// The oldest record, not LATEST: reading a record is what needs kms:Decrypt on an
		// encrypted stream, and at LATEST there is none to read.
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return "", fail("kinesis:GetShardIterator", err)
	}
	if _, err := api.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: byARN.arnPtr(), ShardIterator: it.ShardIterator, Limit: aws.Int32(1)}); err != nil {
		if isKMSError(err) {
			key := aws.ToString(summary.KeyId)
			if key == "" {
				key = "its KMS key"
			}
			return "", classifyKMS(key, arn, err)
		}
		return "", fail("kinesis:GetRecords", err)
	}
	return arn, nil
}

// AccessError says which call on the stream failed, on what, and why.
type AccessError struct {
	// Action is the IAM action of the call, such as kinesis:GetRecords or kms:Decrypt.
	Action string
	// Resource is the stream's ARN, or "stream NAME" before the ARN is known.
	Resource string
	// Permanent is true when retrying cannot help until someone acts: access denied, a
	// stream that does not exist, refused credentials.
	Permanent bool
	Err       error

	msg string
}

func (e *AccessError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("%s on %s failed: %v", e.Action, e.Resource, e.Err)
}

func (e *AccessError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is an AccessError that retrying cannot fix.
func IsPermanent(err error) bool {
	var ae *AccessError
	return errors.As(err, &ae) && ae.Permanent
}

// Error codes that only a change of policy, credentials or configuration fixes.
var (
	deniedCodes = map[string]bool{
		"AccessDeniedException": true, "AccessDenied": true, "UnauthorizedOperation": true,
	}
	credentialCodes = map[string]bool{
		"UnrecognizedClientException": true, "InvalidClientTokenId": true, "InvalidSignatureException": true,
		"SignatureDoesNotMatch": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
		"ExpiredTokenException": true, "ExpiredToken": true, "InvalidAccessKeyId": true,
	}
	notFoundCodes = map[string]bool{"ResourceNotFoundException": true}
	// The request itself is wrong (a malformed ARN, say): the configuration must change.
	invalidCodes = map[string]bool{"InvalidArgumentException": true, "ValidationException": true}
)

// Classify turns the failure of a call other than CheckAccess's (action, such as
// kinesis:RegisterStreamConsumer, on resource) into an AccessError, which IsPermanent
// tells apart as CheckAccess's errors.
func Classify(action, resource string, err error) error {
	return classify(action, resource, "", resource, err)
}

// classify turns a failed call into an AccessError that names what was refused.
func classify(action, resource, region, label string, err error) error {
	ae := &AccessError{Action: action, Resource: resource, Err: err}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return ae // network, timeout, credentials that could not be fetched: retry
	}
	// With role_arn, the refusal may come from STS assuming the role, not from Kinesis.
	if op := innermostOperation(err); op != nil && op.ServiceID != "Kinesis" {
		ae.Action = stsAction(op)
	}
	why := apiErr.ErrorCode()
	if m := apiErr.ErrorMessage(); m != "" {
		why += ": " + m
	}
	code := apiErr.ErrorCode()
	switch {
	case deniedCodes[code]:
		ae.Permanent = true
		ae.msg = fmt.Sprintf("%s on %s is not allowed: %s", ae.Action, resource, why)
	case credentialCodes[code]:
		ae.Permanent = true
		ae.msg = fmt.Sprintf("the AWS credentials were refused calling %s on %s: %s", ae.Action, resource, why)
	case notFoundCodes[code]:
		ae.Permanent = true
		if region == "" {
			region = "(unknown)"
		}
		ae.msg = fmt.Sprintf("stream %s was not found in region %s: %s", label, region, why)
	case invalidCodes[code]:
		ae.Permanent = true
		ae.msg = fmt.Sprintf("%s on %s was refused as invalid: %s", ae.Action, resource, why)
	default:
		ae.msg = fmt.Sprintf("%s on %s failed: %s", ae.Action, resource, why)
		if status := httpStatus(err); status != 0 {
			ae.msg += fmt.Sprintf(" (HTTP %d)", status)
		}
	}
	return ae
}

func isKMSError(err error) bool {
	var (
		denied   *types.KMSAccessDeniedException
		disabled *types.KMSDisabledException
		state    *types.KMSInvalidStateException
		notFound *types.KMSNotFoundException
		optIn    *types.KMSOptInRequired
	)
	return errors.As(err, &denied) || errors.As(err, &disabled) || errors.As(err, &state) ||
		errors.As(err, &notFound) || errors.As(err, &optIn)
}

// classifyKMS names the key of an encrypted stream that GetRecords could not use.
// KMSThrottlingException is not among these: it is transient, and classify handles it.
func classifyKMS(key, streamARN string, err error) error {
	ae := &AccessError{Action: "kms:Decrypt", Resource: key, Err: err, Permanent: true}
	var apiErr smithy.APIError
	errors.As(err, &apiErr)
	why := apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	if _, denied := errors.AsType[*types.KMSAccessDeniedException](err); denied {
		ae.msg = fmt.Sprintf("kms:Decrypt on %s (the key of %s) is not allowed: %s", key, streamARN, why)
	} else {
		ae.msg = fmt.Sprintf("the KMS key %s of %s cannot be used: %s", key, streamARN, why)
	}
	return ae
}

// innermostOperation is the deepest SDK operation in err's chain: with an assumed role,
// the STS call whose failure made the Kinesis call fail.
func innermostOperation(err error) *smithy.OperationError {
	var last *smithy.OperationError
	for e := err; e != nil; {
		var op *smithy.OperationError
		if !errors.As(e, &op) {
			break
		}
		last = op
		e = op.Err
	}
	return last
}

func stsAction(op *smithy.OperationError) string {
	if op.ServiceID == "STS" {
		return "sts:" + op.OperationName
	}
	return op.ServiceID + ":" + op.OperationName
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// regionOf is the region of a Kinesis client, for naming where a stream was looked for.
func regionOf(api AccessAPI) string {
	if c, ok := api.(interface{ Options() kinesis.Options }); ok {
		return c.Options().Region
	}
	return ""
}
