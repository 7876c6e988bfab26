package infobipapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle names a route's x-throttling-info.
type throttle int

const (
	throttleNone throttle = iota
	// throttleCreate and throttleUpdate: 40 a day per account (the spec's create
	// and update of API keys; the deprecated v1 routes share the budgets, since
	// they make and change the same keys).
	throttleCreate
	throttleUpdate
	// throttleList: 10 a second per account (listing and reading API keys).
	throttleList
)

// throttles are the limits, as token buckets: a burst of the whole allowance,
// refilled evenly (40 a day is one every 36 minutes after the first 40). They
// are kept per node, in memory: on several nodes an account may get the
// allowance once per node, which is what such a throttle is for (a client
// looping by mistake), not a quota anyone is billed by.
var throttles = map[throttle]struct {
	every time.Duration
	burst int
}{
	throttleCreate: {24 * time.Hour / 40, 40},
	throttleUpdate: {24 * time.Hour / 40, 40},
	throttleList:   {time.Second / 10, 10},
}

type limiterKey struct {
	t       throttle
	account string
}

// limiters are the throttles' buckets by route kind and account.
type limiters struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[limiterKey]*rate.Limiter
}

// maxLimiters bounds the buckets kept; past it the full ones are forgotten.
const maxLimiters = 100_000

func newLimiters(now func() time.Time) *limiters {
	return &limiters{now: now, m: map[limiterKey]*rate.Limiter{}}
}

// wait spends one request of t for account, or says how long to wait.
func (l *limiters) wait(t throttle, account string) time.Duration {
	spec, ok := throttles[t]
	if !ok {
		return 0
	}
	now := l.now()
	k := limiterKey{t, account}
	l.mu.Lock()
	lim, ok := l.m[k]
	if !ok {
		if len(l.m) >= maxLimiters {
			for key, x := range l.m {
				if x.TokensAt(now) >= float64(x.Burst()) {
					delete(l.m, key)
				}
			}
		}
		lim = rate.NewLimiter(rate.Every(spec.every), spec.burst)
		l.m[k] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}
