package engine

import (
	"sync/atomic"
	"time"
)

// Shedding. Under more load than the writer can commit, a queue without bound
// turns every request into a slow one: with 2,000 connections charging one
// account, each waited 140-260 ms for the same throughput that 64 connections got
// in 5-13 ms. A caller in a message-sending path is better served by a fast "not
// now" than by a quarter-second wait, so the engine bounds the work it admits by
// queueing delay, after CoDel (Nichols and Jacobson, 2012), adapted to a writer
// that takes the whole queue at once:
//
//   - The signal is the sojourn of the oldest request of each batch: how long the
//     request at the head of the queue waited for the writer. A burst that drains
//     is a good queue; a queue whose head has waited more than the target in every
//     batch for shedInterval is a standing one, and only then does shedding start.
//   - While shedding, a request is refused at once, before it is queued, when the
//     requests already queued would take the writer longer than the target: their
//     number times the writer's cycle per request (a moving average over the busy
//     cycles, fixed costs included). So the next batch is about the target long,
//     and an admitted request waits about the target for the writer, then its own
//     batch. A queue shorter than shedFloor is never shed.
//   - Shedding stops when the writer finds the queue empty: the overload is over.
//
// A refusal is ledger.ErrOverloaded before anything is allocated or queued, so it
// never reaches the ledger and is never stored under an Idempotency-Key. Reads do
// not go through the writer and are never shed.
type shedder struct {
	target time.Duration // 0: never shed
	on     atomic.Bool   // the queue has stood above the target for shedInterval
	cost   atomic.Int64  // the writer's cycle per request, ns (moving average)

	// Owned by the writer's loop.
	aboveSince time.Time // the first of the batches in a row whose head waited past the target
	lastTake   time.Time // when the previous batch's head was taken
	lastN      int       // that batch's size (0: unknown)
	costF      float64
}

// shedInterval is how long the head's sojourn must stay above the target before
// requests are shed: CoDel's interval. A burst shorter than that is served whole.
const shedInterval = 100 * time.Millisecond

// shedFloor is a queue never shed: a batch the writer commits in about a
// millisecond (BENCHMARKS.md, target 2: batches of ~20 at 25,000 charges/s).
// Refusing below it would lose throughput and save no latency; and when a batch's
// fixed cost alone (commit, sync) is past the target, the floor keeps the writer
// committing batches of it instead of shedding everything (the estimate of cost
// per request grows as batches shrink).
const shedFloor = 64

// refuse reports whether a request arriving behind queued others is to be shed.
func (s *shedder) refuse(queued int) bool {
	if queued < shedFloor || !s.on.Load() {
		return false
	}
	return time.Duration(int64(queued+1)*s.cost.Load()) > s.target
}

// taken is told of each batch's head request, queued at at; busy says the writer
// found it waiting rather than waiting for it.
func (s *shedder) taken(at time.Time, busy bool) {
	now := time.Now()
	if !busy {
		s.aboveSince, s.lastTake, s.lastN = time.Time{}, now, 0
		s.on.Store(false)
		return
	}
	if s.lastN > 0 { // the writer worked all the while since the previous head
		per := float64(now.Sub(s.lastTake)) / float64(s.lastN)
		s.costF += (per - s.costF) / 8
		s.cost.Store(int64(s.costF))
	}
	s.lastTake = now
	switch sojourn := now.Sub(at); {
	case sojourn <= s.target:
		s.aboveSince = time.Time{}
	case s.aboveSince.IsZero():
		s.aboveSince = now
	case now.Sub(s.aboveSince) >= shedInterval:
		s.on.Store(true)
	}
}

// batch is told the size of the batch whose head taken was told of.
func (s *shedder) batch(n int) { s.lastN = n }

// Shedding reports whether the engine sheds requests now (metrics).
func (e *Engine) Shedding() bool { return e.shed.on.Load() }
