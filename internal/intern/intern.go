// Package intern keeps one copy of each string that repeats across many entries of a
// state (status, queue, channel and instance names), bounded in number and in bytes.
package intern

import "strings"

// Strings shares copies of strings. It is not safe for concurrent use: its owner's lock
// guards it.
type Strings struct {
	strs               map[string]string
	bytes              int // the bytes of strs' strings
	maxCount, maxBytes int
}

// New returns a Strings that shares at most maxCount strings of maxBytes in all; past
// either bound a string is handed back as its own copy, so nothing is lost but sharing.
func New(maxCount, maxBytes int) *Strings {
	return &Strings{strs: map[string]string{}, maxCount: maxCount, maxBytes: maxBytes}
}

// Get returns the shared copy of v, which may point into a decoder's buffer.
func (s *Strings) Get(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := s.strs[v]; ok {
		return c
	}
	c := strings.Clone(v)
	if len(s.strs) < s.maxCount && s.bytes+len(c) <= s.maxBytes {
		s.strs[c] = c
		s.bytes += len(c)
	}
	return c
}

// Bytes is the size of the strings shared.
func (s *Strings) Bytes() int { return s.bytes }
