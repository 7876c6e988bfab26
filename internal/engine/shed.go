package engine

import (
	"sync/atomic"
	"time"
)

// Shedding. Under more load than purse can serve, a queue without bound turns
// every request into a slow one: with 2,000 connections charging one account, each
// waited 140-260 ms for the throughput that 64 connections got in 5-13 ms. A
// caller in a message-sending path is better served by a fast "not now" than by a
// quarter-second wait, so the engine bounds the work it admits by the queueing
// delay it implies, after CoDel (Nichols and Jacobson, 2012):
//
//   - The delay is estimated by Little's law: the requests in flight in the engine
//     (admitted and not yet answered) divided by the rate at which it answers them.
//     Not the writer's queue alone: on a machine whose processors are the
//     bottleneck (HTTP work, not the writer, is most of a charge's cost), requests
//     wait for a processor on their way to and from the writer while its queue
//     stays short; with 2,000 clients the writer took batches of one with 800
//     requests in flight.
//   - A delay past the target for shedInterval is a standing queue, and only then
//     does shedding start; a burst that drains sooner is served whole. Shedding
//     stops once it has refused nothing for shedInterval: while it sheds, the
//     requests in flight sit at the limit and the delay at the target, so neither
//     tells whether the overload is over (stopping on them let 2,000 requests in
//     at once, several times a second).
//   - While shedding, a request is refused at once, before it is queued, when the
//     requests in flight are as many as the target's worth at the measured rate
//     (never fewer than shedFloor), so admitted requests keep about the target.
//
// A refusal is ledger.ErrOverloaded before anything is allocated or queued, so it
// never reaches the ledger and is never stored under an Idempotency-Key. Reads do
// not go through the engine and are never shed.
type shedder struct {
	target   time.Duration // 0: never shed
	on       atomic.Bool   // the delay has stood above the target for shedInterval
	inflight atomic.Int64  // requests admitted and not yet answered
	answered atomic.Int64  // requests answered, ever
	limit    atomic.Int64  // requests in flight admitted while shedding
	refused  atomic.Int64  // requests shed, ever

	// Owned by the writer's loop.
	window     time.Time // when the current rate window began
	answeredAt int64     // answered, then
	rate       float64   // answers a second (moving average)
	aboveSince time.Time // the first of the windows in a row whose delay was past the target
	refusedAt  int64     // refused, when shedding last refused a request
	idleSince  time.Time // when shedding was last seen refusing
}

// Tuning. A window of 25 ms gives the rate from ~300 answers at the writer's
// peak; the interval is CoDel's.
const (
	shedWindow   = 25 * time.Millisecond
	shedInterval = 100 * time.Millisecond
	// shedFloor is a number of requests in flight never shed: what 64 connections
	// keep in flight at the writer's peak (BENCHMARKS.md, target 2: 25,000
	// charges/s, a few ms each). Below it shedding would cost throughput and save
	// no latency, and it keeps the estimate's rate measured on a busy engine.
	shedFloor = 64
)

// refuse reports whether a request arriving now is to be shed.
func (s *shedder) refuse() bool {
	if s.on.Load() && s.inflight.Load() >= s.limit.Load() {
		s.refused.Add(1)
		return true
	}
	return false
}

// observe is called by the writer before each batch: it measures the rate of
// answers and decides whether to shed.
func (s *shedder) observe() {
	now := time.Now()
	if s.window.IsZero() {
		s.window, s.answeredAt = now, s.answered.Load()
		return
	}
	elapsed := now.Sub(s.window)
	if elapsed < shedWindow {
		return
	}
	answered := s.answered.Load()
	r := float64(answered-s.answeredAt) / elapsed.Seconds()
	s.window, s.answeredAt = now, answered
	if s.rate == 0 {
		s.rate = r
	} else {
		s.rate += (r - s.rate) / 4
	}
	if s.rate <= 0 {
		return
	}
	s.limit.Store(max(shedFloor, int64(s.rate*s.target.Seconds())))
	if s.on.Load() {
		// While shedding, the requests in flight stay at the limit, and the delay
		// at the target: it says nothing. That refusals go on says the overload does.
		if refused := s.refused.Load(); refused != s.refusedAt {
			s.refusedAt, s.idleSince = refused, now
		} else if now.Sub(s.idleSince) >= shedInterval {
			s.on.Store(false)
			s.aboveSince = time.Time{}
		}
		return
	}
	inflight := s.inflight.Load()
	delay := time.Duration(float64(inflight) / s.rate * float64(time.Second))
	switch {
	case delay <= s.target || inflight < shedFloor:
		s.aboveSince = time.Time{}
	case s.aboveSince.IsZero():
		s.aboveSince = now
	case now.Sub(s.aboveSince) >= shedInterval:
		s.on.Store(true)
		s.refusedAt, s.idleSince = s.refused.Load(), now
	}
}

// Shedding reports whether the engine sheds requests now (metrics).
func (e *Engine) Shedding() bool { return e.shed.on.Load() }
