package eventlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Redaction modes for agent names and usernames.
const (
	RedactNone = "none"
	RedactDrop = "drop"
	RedactHash = "hash"
)

// Redactor drops or hashes the personal data of agent events: agents' first and last
// names and usernames, in the body (wherever those keys appear) and in attributes.
type Redactor struct {
	mode string
	key  []byte
}

// NewRedactor returns a Redactor; with RedactHash, values become a keyed SHA-256 (HMAC
// with salt), so the same agent keeps the same pseudonym.
func NewRedactor(mode, salt string) *Redactor {
	if mode == "" {
		mode = RedactNone
	}
	return &Redactor{mode: mode, key: []byte(salt)}
}

func personal(key string) bool {
	switch key {
	case "FirstName", "LastName", "Username":
		return true
	}
	return false
}

func (r *Redactor) active() bool { return r != nil && r.mode != RedactNone }

// hash returns the pseudonym of v.
func (r *Redactor) hash(v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return "sha256:" + hex.EncodeToString(m.Sum(nil)[:12])
}
