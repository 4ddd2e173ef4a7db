package kinesisconsumer

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with jitter, bounded by Max.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	// Jitter is the randomization factor: each wait is drawn from [d*(1-Jitter), d*(1+Jitter)].
	Jitter float64
}

// DefaultBackoff is used where none is configured.
var DefaultBackoff = Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.5}

// withDefaults fills the unset parts of b from DefaultBackoff, so that no backoff
// retries in a busy loop.
func (b Backoff) withDefaults() Backoff {
	if b == (Backoff{}) {
		return DefaultBackoff
	}
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max < b.Initial {
		b.Max = max(b.Initial, DefaultBackoff.Max)
	}
	if b.Multiplier < 1 {
		b.Multiplier = DefaultBackoff.Multiplier
	}
	return b
}

// Retrier counts the failures of one operation; Next is the wait before the next try.
type Retrier struct {
	b       Backoff
	current time.Duration
}

// Start begins counting the failures of an operation.
func (b Backoff) Start() *Retrier { return &Retrier{b: b.withDefaults()} }

// Next returns the wait before the next attempt.
func (r *Retrier) Next() time.Duration {
	switch {
	case r.current == 0:
		r.current = r.b.Initial
	default:
		r.current = time.Duration(float64(r.current) * r.b.Multiplier)
	}
	if r.current > r.b.Max || r.current <= 0 {
		r.current = r.b.Max
	}
	d := float64(r.current)
	if r.b.Jitter > 0 {
		d = d * (1 - r.b.Jitter + 2*r.b.Jitter*rand.Float64())
	}
	return time.Duration(d)
}

// Reset starts over after a success.
func (r *Retrier) Reset() { r.current = 0 }

// wait sleeps for the next backoff; it returns false if ctx ended first.
func (r *Retrier) wait(ctx context.Context) bool {
	return sleep(ctx, r.Next())
}

// sleep waits d, or less if ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
