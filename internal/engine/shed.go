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
//     served, up to the queueing-delay target (Options.MaxQueueDelay), and only then
//     is refused with ledger.ErrOverloaded. Places free a batch at a time, when the
//     writer answers one: a request that arrives a moment before gets a place a
//     moment later. Refusing it at once instead (an earlier design admitted by the
//     in-flight count at the instant of arrival, which swung from the limit to
//     near zero with every batch answered) sent its client away for a second
//     though a place was about to free.
//   - No more wait than there are places: one batch answered frees at most that
//     many, and a request further back would need a second batch within the wait.
//     It is refused at once, which costs its client less than a wait that ends in
//     a refusal.
//   - The wait is also the longest a refusal takes in the engine, which is why
//     the target is a couple of milliseconds (docs/design.md, "Overload").
//
// A refusal is ledger.ErrOverloaded before the request is allocated or queued,
// so it never reaches the ledger and is never stored under an Idempotency-Key.
// Reads do not go through the engine and never wait at the gate.
type gate struct {
	wait    time.Duration // the longest a request waits for a place; 0: no gate
	places  chan struct{} // one token per request admitted and not yet answered
	waiting atomic.Int64  // requests waiting for a place
	refused atomic.Int64  // requests refused, ever
}

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

// admit takes a place for a request, waiting for one up to the target. It returns
// ErrOverloaded when none freed in time, and ctx's error when ctx ends first. A
// request admitted must call leave once answered.
func (g *gate) admit(ctx context.Context) error {
	select {
	case g.places <- struct{}{}:
		return nil
	default:
	}
	// Places free a batch at a time, at most cap(places) of them: a request with
	// that many waiting ahead of it would need a second batch answered within the
	// wait, and is refused at once instead (a quick refusal costs its client less).
	if g.waiting.Add(1) > int64(cap(g.places)) {
		g.waiting.Add(-1)
		g.refused.Add(1)
		return ledger.ErrOverloaded
	}
	defer g.waiting.Add(-1)
	t := timers.Get().(*time.Timer)
	t.Reset(g.wait)
	defer func() {
		t.Stop()
		timers.Put(t)
	}()
	select {
	case g.places <- struct{}{}:
		return nil
	case <-t.C:
		g.refused.Add(1)
		return ledger.ErrOverloaded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave frees the place of an answered request.
func (g *gate) leave() { <-g.places }

// Refused is how many requests the engine has shed since it opened.
func (e *Engine) Refused() int64 { return e.shed.refused.Load() }
