package eventlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Redaction modes for agent names and usernames.
const (
	RedactNone = "none"
	RedactDrop = "drop"
	RedactHash = "hash"
)

// Redactor drops or hashes the personal data of agent events, in the body and in
// attributes: every value under a FirstName, LastName or Username key wherever it
// appears, the names of hierarchy groups (AgentHierarchyGroups.LevelN.Name), and, if
// asked, agent ARNs (AgentARN), which Connect's API resolves to a person.
type Redactor struct {
	mode     string
	key      []byte
	agentARN bool
}

// NewRedactor returns a Redactor; with RedactHash, values become a keyed SHA-256 (HMAC
// with salt), so the same agent keeps the same pseudonym.
func NewRedactor(mode, salt string) *Redactor {
	if mode == "" {
		mode = RedactNone
	}
	return &Redactor{mode: mode, key: []byte(salt)}
}

// HashingAgentARN has r hash agent ARNs too, in hash mode only: the aws.connect.agent.arn
// attribute, every AgentARN in the body, and the ARNs of agents' own queues. It returns r.
func (r *Redactor) HashingAgentARN(on bool) *Redactor {
	r.agentARN = on
	return r
}

// personal reports whether the value of key, in the object that is the value of
// parentKey, itself the value of grandparentKey, is personal data.
func (r *Redactor) personal(key, parentKey, grandparentKey string) bool {
	switch key {
	case "FirstName", "LastName", "Username":
		return true
	case "AgentARN":
		return r.HashesAgentARN()
	case "Name": // a hierarchy group's; other names (status, queue, profile) are not personal
		return grandparentKey == "AgentHierarchyGroups" && isHierarchyLevel(parentKey)
	}
	return false
}

// IsAgentARN reports whether s is the ARN of an agent, or of an agent's own queue
// (arn:aws:connect:REGION:ACCOUNT:instance/ID/queue/agent/AGENT_ID): both name a person.
func IsAgentARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Contains(s, "/agent/")
}

func isHierarchyLevel(k string) bool {
	return len(k) == 6 && k[:5] == "Level" && k[5] >= '1' && k[5] <= '5'
}

// Active reports whether personal data is dropped or hashed; a nil Redactor is not.
func (r *Redactor) Active() bool { return r != nil && r.mode != RedactNone }

// Mode is RedactNone, RedactDrop or RedactHash.
func (r *Redactor) Mode() string {
	if r == nil {
		return RedactNone
	}
	return r.mode
}

// HashesAgentARN reports whether agent ARNs are hashed too.
func (r *Redactor) HashesAgentARN() bool { return r != nil && r.mode == RedactHash && r.agentARN }

// Hash returns the pseudonym of v.
func (r *Redactor) Hash(v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return "sha256:" + hex.EncodeToString(m.Sum(nil)[:12])
}
