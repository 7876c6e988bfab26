package auth

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound failed authentications, per username and per client address. Only
// failures spend the allowance, and a credential already verified is served from
// the cache without looking at it: an attacker hammering one username (or from one
// address) blocks guesses there, never the account's valid API keys or logins that
// are already in use.
type Limits struct {
	PerUser   rate.Limit // failures refilled per second, per username
	UserBurst int
	PerIP     rate.Limit // failures refilled per second, per client address
	IPBurst   int
}

// DefaultLimits: 10 failed logins per username, then one every 6 s; 30 failures
// per address, then one every 2 s.
var DefaultLimits = Limits{PerUser: rate.Every(6 * time.Second), UserBurst: 10, PerIP: rate.Every(2 * time.Second), IPBurst: 30}

// ErrTooManyAttempts matches a TooManyAttemptsError.
var ErrTooManyAttempts = errors.New("auth: too many failed attempts")

// TooManyAttemptsError says when to try again.
type TooManyAttemptsError struct{ RetryAfter time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed attempts; retry after %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyAttempts) hold.
func (e *TooManyAttemptsError) Is(target error) bool { return target == ErrTooManyAttempts }

// RetryAfterSeconds is the Retry-After header value: whole seconds, at least 1.
func (e *TooManyAttemptsError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// failures is a set of token buckets by key; a key absent has a full bucket.
type failures struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

const maxTracked = 100_000

func newFailures(limit rate.Limit, burst int, now func() time.Time) *failures {
	return &failures{limit: limit, burst: burst, now: now, m: map[string]*rate.Limiter{}}
}

// wait reports how long key must wait before its next attempt (0: it may try now).
func (f *failures) wait(key string) time.Duration {
	if f == nil || key == "" || f.burst <= 0 {
		return 0
	}
	f.mu.Lock()
	l, ok := f.m[key]
	f.mu.Unlock()
	if !ok {
		return 0
	}
	now := f.now()
	if l.TokensAt(now) >= 1 {
		return 0
	}
	r := l.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// fail spends one attempt of key.
func (f *failures) fail(key string) {
	if f == nil || key == "" || f.burst <= 0 {
		return
	}
	now := f.now()
	f.mu.Lock()
	l, ok := f.m[key]
	if !ok {
		if len(f.m) >= maxTracked {
			for k, x := range f.m { // forget keys whose allowance is whole again
				if x.TokensAt(now) >= float64(f.burst) {
					delete(f.m, k)
				}
			}
		}
		l = rate.NewLimiter(f.limit, f.burst)
		f.m[key] = l
	}
	f.mu.Unlock()
	l.AllowN(now, 1)
}
