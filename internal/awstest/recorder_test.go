package awstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSignature(t *testing.T) {
	sig, ok := ParseSignature("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261202/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	assert.True(t, ok)
	assert.Equal(t, Signature{AccessKeyID: "ASIAEXAMPLE", Region: "eu-west-1", Service: "dynamodb"}, sig)

	for _, h := range []string{
		"",
		"Basic dXNlcjpwYXNz",
		"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261202/eu-west-1/dynamodb, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261202/eu-west-1/dynamodb/other_request",
	} {
		_, ok := ParseSignature(h)
		assert.False(t, ok, h)
	}
}

func TestSTSKeysDifferByRole(t *testing.T) {
	s := &STS{}
	a, b := "arn:aws:iam::111111111111:role/a", "arn:aws:iam::111111111111:role/b"
	assert.NotEqual(t, s.AccessKeyID(a), s.AccessKeyID(b))
	assert.Equal(t, s.AccessKeyID(a), s.AccessKeyID(a), "the same role gets the same key")
	assert.Regexp(t, `^ASIA[0-9A-F]{16}$`, s.AccessKeyID(a))
	assert.NotEqual(t, s.SecretAccessKey(a), s.SecretAccessKey(b))
	assert.NotEqual(t, s.SessionToken(a), s.SessionToken(b))
}
