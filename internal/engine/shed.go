package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Shedding. Under more load than purse can serve, a queue without bound turns
// every request into a slow one: with 2,000 connections charging one account, each
// waited 140-260 ms for the throughput that 64 connections got in 5-13 ms. A
// caller in a message-sending path is better served by a fast "not now" than by a
// quarter-second wait, so the engine admits money requests through a gate:
//
//   - At most MaxInFlight requests (64 by default) are in the engine at once:
//     queued for the writer, in its batch, or waiting for their batch's sync. That
//     keeps the writer's batches as full as 64 connections keep them, where its
//     throughput peaks, and few enough that an admitted request waits a few
//     milliseconds behind the others, not hundreds.
//   - A request that finds every place taken waits for one, first come first
//     served, when it can expect one within the queueing-delay target
//     (Options.MaxQueueDelay), and is refused at once with ledger.ErrOverloaded
//     when it cannot. Places free a batch at a time, when the writer answers one: a
//     request that arrives a moment before gets a place a moment later. Refusing
//     it at once instead (an earlier design admitted by the in-flight count at the
//     instant of arrival, which swung from the limit to near zero with every batch
//     answered) sent its client away for a second though a place was about to
//     free.
//   - The expected wait is Little's law on the gate: places free at MaxInFlight
//     per holding time (a moving average of how long the writer keeps a request),
//     so the k-th waiter's frees after about k × hold / MaxInFlight, and, a batch
//     at a time, after up to twice that (waitSpread). No more wait than there are
//     places, whatever the estimate: one batch answered frees at most that many.
//   - A request let in to wait keeps waiting while the writer is slow, up to
//     stallFactor times the target, as the requests already in flight do. The
//     first gate refused every waiter at the target: under the bench's flood
//     most refusals then came after a wait, and their p99 was 9-11 ms where
//     refusals on arrival take 4.5-6 ms (BENCHMARKS.md, 6c).
//
// A refusal is ledger.ErrOverloaded before the request is allocated or queued,
// so it never reaches the ledger and is never stored under an Idempotency-Key.
// Reads do not go through the engine and never wait at the gate.
type gate struct {
	wait        time.Duration // the queueing delay a request may expect; 0: no gate
	places      chan struct{} // one token per request admitted and not yet answered
	waiting     atomic.Int64  // requests waiting for a place
	refusedNow  atomic.Int64  // requests refused on arrival, ever
	refusedLate atomic.Int64  // requests refused after waiting for a place, ever
	hold        atomic.Int64  // moving average of how long a request keeps its place, ns
}

const (
	// waitSpread is how much longer than the mean a waiter's wait may be: places
	// free a batch at a time.
	waitSpread = 2
	// stallFactor bounds a wait, in targets: a request let in to wait is refused
	// after this long only when the writer stalled.
	stallFactor = 10
)

// defaultMaxInFlight is the gate's size unless Options.MaxInFlight says otherwise;
// how it was chosen is in docs/design.md, "Overload".
const defaultMaxInFlight = 64

func newGate(wait time.Duration, size int) gate {
	if wait <= 0 {
		return gate{}
	}
	if size <= 0 {
		size = defaultMaxInFlight
	}
	return gate{wait: wait, places: make(chan struct{}, size)}
}

// timers are the gate's wait timers, reused: a flood makes thousands of waits a
// second. A timer stopped before it is put back delivers nothing stale (Go 1.23).
var timers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// admit takes a place for a request, waiting for one when it is expected within
// the target. It returns ErrOverloaded when none is expected in time or none
// freed within stallFactor targets, and ctx's error when ctx ends first. A
// request admitted must call leave once, with the time admit returned: the
// writer does when it answers the request.
func (g *gate) admit(ctx context.Context) (time.Time, error) {
	select {
	case g.places <- struct{}{}:
		return time.Now(), nil
	default:
	}
	k := g.waiting.Add(1)
	if k > int64(cap(g.places)) || time.Duration(waitSpread*k*g.hold.Load()/int64(cap(g.places))) > g.wait {
		g.waiting.Add(-1)
		g.refusedNow.Add(1)
		return time.Time{}, ledger.ErrOverloaded
	}
	defer g.waiting.Add(-1)
	t := timers.Get().(*time.Timer)
	t.Reset(stallFactor * g.wait)
	defer func() {
		t.Stop()
		timers.Put(t)
	}()
	select {
	case g.places <- struct{}{}:
		return time.Now(), nil
	case <-t.C:
		g.refusedLate.Add(1)
		return time.Time{}, ledger.ErrOverloaded
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// leave frees the place of a request admitted at since (none when since is zero:
// no gate) once the writer has answered it, and folds how long it held the place
// into the average (1/16 weight: the last few dozen requests, a batch or two under
// load). Concurrent leaves may overwrite each other's update, which an estimate
// affords.
func (g *gate) leave(since time.Time) {
	if since.IsZero() {
		return
	}
	<-g.places
	d, old := int64(time.Since(since)), g.hold.Load()
	if old == 0 {
		g.hold.Store(d)
		return
	}
	g.hold.Store(old + (d-old)/16)
}

// abandon frees the place of a request admitted at since that never reached the
// writer (its caller gave up, or the engine closed): how long it held the place
// says nothing of the writer.
func (g *gate) abandon(since time.Time) {
	if !since.IsZero() {
		<-g.places
	}
}

// Refused is how many requests the engine has shed since it opened: on arrival,
// and after waiting for a place that did not free in time.
func (e *Engine) Refused() (onArrival, afterWait int64) {
	return e.shed.refusedNow.Load(), e.shed.refusedLate.Load()
}
