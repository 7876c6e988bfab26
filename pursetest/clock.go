package pursetest

import (
	"sync"
	"time"
)

// Clock is a clock a test sets, for WithClock: move it past a hold's expiry or
// into the next month and purse sees the time it shows.
//
//	clock := pursetest.NewClock(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
//	srv := pursetest.New(t, pursetest.WithClock(clock.Now))
//	clock.Advance(2 * time.Hour) // February: the monthly limit starts again
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
