// Package awstest holds AWS stand-ins that the npm stand-ins lack, for tests: an STS that
// issues distinct credentials per role, and a proxy that records which access key signed
// each request before passing it on.
package awstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// STS answers AssumeRole like AWS STS, on loopback, with credentials derived from the
// role's ARN: each role gets keys of its own, so a test can tell which role signed a
// request. Point the AWS SDK at it with AWS_ENDPOINT_URL_STS=URL.
type STS struct {
	// URL is the endpoint.
	URL string

	mu    sync.Mutex
	calls []AssumeRoleCall
}

// AssumeRoleCall is one AssumeRole request the fake answered.
type AssumeRoleCall struct {
	RoleARN     string
	ExternalID  string
	SessionName string
	// Signature is who asked, and for which region the request was signed.
	Signature Signature
}

// StartSTS runs an STS fake for the test.
func StartSTS(t testing.TB) *STS {
	t.Helper()
	s := &STS{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AccessKeyID is the access key ID of the credentials issued for roleARN.
func (s *STS) AccessKeyID(roleARN string) string {
	return "ASIA" + strings.ToUpper(digest("key", roleARN)[:16])
}

// SecretAccessKey is the secret key issued for roleARN.
func (s *STS) SecretAccessKey(roleARN string) string {
	return "STS-SECRET-" + digest("secret", roleARN)
}

// SessionToken is the session token issued for roleARN.
func (s *STS) SessionToken(roleARN string) string { return "STS-SESSION-" + digest("token", roleARN) }

// Calls returns the AssumeRole requests answered so far.
func (s *STS) Calls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.calls...)
}

func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRole" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	role := r.Form.Get("RoleArn")
	sig, _ := ParseSignature(r.Header.Get("Authorization"))
	s.mu.Lock()
	s.calls = append(s.calls, AssumeRoleCall{
		RoleARN: role, ExternalID: r.Form.Get("ExternalId"), SessionName: r.Form.Get("RoleSessionName"), Signature: sig,
	})
	s.mu.Unlock()
	account := "123456789012"
	if parts := strings.Split(role, ":"); len(parts) == 6 {
		account = parts[4]
	}
	roleName := role[strings.LastIndex(role, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn>
      <AssumedRoleId>AROAFAKE:%s</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, s.AccessKeyID(role), s.SecretAccessKey(role), s.SessionToken(role),
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339), account, roleName, r.Form.Get("RoleSessionName"), r.Form.Get("RoleSessionName"))
}

func digest(kind, s string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + s))
	return hex.EncodeToString(sum[:])
}
