// Package engine is purse's serial writer: the one place where money moves.
//
// Requests are queued; one goroutine drains the queue, applies a whole batch of
// commands to an in-memory view with every rule checked, commits the batch in ONE
// store transaction (one fsync), and only then publishes the new state and
// acknowledges each request. Readers therefore see committed state only, from
// memory, without touching the disk. A command that fails its checks is rolled back
// inside the batch and changes nothing; a batch whose commit fails is dropped whole
// and every request in it gets ledger.ErrUnavailable.
//
// Because everything is applied in one order by one goroutine, races resolve one
// way only: a capture and an expiry (or a void) of the same hold are two steps in
// that order, and the second sees what the first did.
package engine

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Options tunes an Engine. The zero value is usable.
type Options struct {
	MaxBatch int              // most requests per commit; default 1024
	Now      func() time.Time // clock; default time.Now (tests inject their own)
	Logger   *slog.Logger
	// ExpiryInterval is how often idle holds are checked for expiry; default 50ms.
	ExpiryInterval time.Duration
	// OnBatch, when set, learns each committed batch's size and commit time;
	// OnRetry each batch run again after losing a race (metrics).
	OnBatch func(requests int, commit time.Duration)
	OnRetry func()
	// OnEntries, when set, sees each committed batch's entries (the console's
	// charges per minute); it runs in the writer, so it must be quick.
	OnEntries func(entries []ledger.Entry)
	// OnEvents, when set, learns how many events each committed batch wrote.
	OnEvents func(n int)
	// MaxQueueDelay is the queueing delay a request may expect for a place among
	// the requests in flight: one that cannot is shed at once with
	// ledger.ErrOverloaded, and one let in to wait is shed after ten times it (see
	// shed.go); 0 never sheds, and admits without bound.
	MaxQueueDelay time.Duration
	// MaxInFlight is how many requests the engine holds at once when MaxQueueDelay
	// is set; default 64.
	MaxInFlight int
}

// Engine owns the committed in-memory state of every account and active hold.
type Engine struct {
	store    ledger.BatchStore
	rows     rows // where batches find their rows: memory, or the store under lock (rows.go)
	opts     Options
	now      func() time.Time
	log      *slog.Logger
	maxBatch int
	tick     time.Duration

	queue chan *request
	quit  chan struct{}
	done  chan struct{}

	closeOnce sync.Once
	mu        sync.RWMutex // guards accounts and holds; written by the loop and Refresh
	accounts  map[string]*ledger.Account
	holds     map[string]*ledger.Hold // active holds only
	stale     atomic.Bool             // a shared cache that lost its change feed

	expiries expiryHeap // loop-owned

	shed gate // admission bounded by queueing delay (shed.go)

	// Pipelining (pipeline.go): committed batches wait in pipe for syncLoop; the
	// writer sees their changes through the staged overlay.
	pipe           chan committed
	synced         chan struct{}
	stagedMu       sync.Mutex
	stagedAccounts map[string]*ledger.Account
	stagedHolds    map[string]*ledger.Hold

	eventsMu  sync.Mutex
	eventsNew chan struct{} // closed (and replaced) when a batch with events is published

	born   time.Time    // the clock Saturated reads, monotonic (not opts.Now, which tests move)
	fullAt atomic.Int64 // nanoseconds after born of the last full batch's start, plus one; 0: none yet
}

// Command is a unit of work the engine applies inside a batch.
type Command interface {
	apply(t *txn) (any, error)
	refs(r *refs)
	op() ledger.Op // what its outcome says it did
}

// refs are the rows a batch names before it runs, so a shared store can lock them.
type refs struct {
	accounts, currencies, holds map[string]bool
	charges                     map[string]string // charge id -> the account named with it
}

func (r *refs) account(id string) { r.accounts[id] = true }

// Idempotency makes a command exactly-once: its first business answer, a success
// or a refusal by the ledger's rules, is kept as a ledger.Outcome in the same
// commit as its effect, and every later request with the key is answered from it.
type Idempotency = ledger.IdempotencyRequest

// Result is what Do returns.
//
// Without an Idempotency, Value is the command's result and a refusal is Do's
// error. With one, a business answer comes as Outcome instead (a refusal
// included, with a nil error), as stored: Replayed says it was stored by an
// earlier request and Version which format it was stored in (0: this purse's own,
// fresh). Errors that stored nothing (validation, a reused key, an unavailable
// store) are still Do's error. Legacy is a record stored before outcomes existed,
// to be sent as it is.
type Result struct {
	Value    any
	Outcome  *ledger.Outcome
	Replayed bool
	Version  int
	Legacy   *ledger.IdempotencyRecord
}

type request struct {
	cmd      Command
	idem     *Idempotency
	resp     chan response
	admitted time.Time // when the gate let it in (shed.go); zero when there is no gate
}

type response struct {
	res      Result
	err      error
	own      *pendingRecord // this request's business answer, kept under its key
	replayOf *pendingRecord // a twin of an earlier request in the same batch
}

// Open loads every account's stored balance (not the entries) and the active holds,
// and starts the writer.
func Open(ctx context.Context, store ledger.BatchStore, opts Options) (*Engine, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ExpiryInterval <= 0 {
		opts.ExpiryInterval = 50 * time.Millisecond
	}
	accts, err := store.LoadAccounts(ctx)
	if err != nil {
		return nil, err
	}
	holds, err := store.ActiveHolds(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store: store, opts: opts, now: opts.Now, log: opts.Logger, maxBatch: opts.MaxBatch, tick: opts.ExpiryInterval,
		queue: make(chan *request, opts.MaxBatch*4), quit: make(chan struct{}), done: make(chan struct{}),
		accounts: make(map[string]*ledger.Account, len(accts)), holds: make(map[string]*ledger.Hold, len(holds)),
		shed: newGate(opts.MaxQueueDelay, opts.MaxInFlight),
		pipe: make(chan committed, maxInFlight), synced: make(chan struct{}),
		stagedAccounts: map[string]*ledger.Account{}, stagedHolds: map[string]*ledger.Hold{},
		born: time.Now(),
	}
	e.rows = newRows(e, store)
	for i := range accts {
		e.accounts[accts[i].ID] = &accts[i] // the slice is the accounts' home: no copy each
	}
	for i := range holds {
		h := holds[i]
		e.holds[h.ID] = &h
		heap.Push(&e.expiries, expiry{at: h.ExpiresAt, id: h.ID})
	}
	go e.syncLoop()
	go e.loop()
	return e, nil
}

// ErrClosed is returned for requests made after Close.
var ErrClosed = errors.New("engine closed")

// Close stops accepting requests, finishes the queued ones, and waits for the writer.
func (e *Engine) Close() {
	e.closeOnce.Do(func() { close(e.quit) })
	<-e.done
}

// QueueDepth is how many requests wait for the writer.
func (e *Engine) QueueDepth() int { return len(e.queue) }

// InFlight is how many requests hold a place at the overload gate (shed.go):
// queued, in a batch, or waiting for their batch's sync. 0 without a gate.
func (e *Engine) InFlight() int { return len(e.shed.places) }

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.now() }

// Do queues a command and waits until its batch is committed (or fails). If ctx
// ends first Do returns ctx.Err(), but the command may still commit: callers that
// must know use an Idempotency key and retry.
func (e *Engine) Do(ctx context.Context, cmd Command, idem *Idempotency) (Result, error) {
	select {
	case <-e.quit:
		return Result{}, ErrClosed
	default:
	}
	var admitted time.Time
	if e.shed.wait > 0 {
		var err error
		if admitted, err = e.shed.admit(ctx); err != nil {
			return Result{}, err // before the request is allocated: a refusal must be cheap
		}
	}
	r := &request{cmd: cmd, idem: idem, resp: make(chan response, 1), admitted: admitted}
	select {
	case e.queue <- r:
	case <-e.quit:
		e.shed.abandon(admitted)
		return Result{}, ErrClosed
	case <-ctx.Done():
		e.shed.abandon(admitted)
		return Result{}, ctx.Err()
	}
	// Queued, the request keeps its place at the gate until the writer answers it
	// (answer), also when the caller gives up waiting (ctx): it is still in the
	// engine, and may still commit.
	select {
	case resp := <-r.resp:
		return resp.res, resp.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-e.done:
		return e.orphaned(r)
	}
}

// orphaned answers a request whose writer has stopped: answered before it
// stopped, or queued as it stopped (Do's send raced Close's quit) and never taken.
// Every request the writer took is answered before done is closed.
func (e *Engine) orphaned(r *request) (Result, error) {
	select {
	case resp := <-r.resp:
		return resp.res, resp.err
	default:
		e.shed.abandon(r.admitted)
		return Result{}, ErrClosed
	}
}

// answer gives a queued request its response and frees its place at the gate.
// The writer frees it, not the request's goroutine once that runs: under a flood
// that ran milliseconds later, and the requests waiting at the gate waited for
// places already empty.
func (e *Engine) answer(r *request, resp response) {
	e.shed.leave(r.admitted)
	r.resp <- resp
}

// ErrStale is returned by reads while a shared cache cannot know it is current.
var ErrStale = fmt.Errorf("%w: this node lost the store's change feed", ledger.ErrUnavailable)

// Fresh reports whether memory may be served: always for an exclusive store; for a
// shared one, while the change feed from the other nodes is connected.
func (e *Engine) Fresh() error {
	if e.stale.Load() {
		return ErrStale
	}
	return nil
}

// SetStale marks a shared cache as unusable (the change feed dropped) or usable
// again (after a full reload).
func (e *Engine) SetStale(v bool) { e.stale.Store(v) }

// Refresh replaces cached accounts by the given committed rows when they are newer:
// how writes made on other nodes reach this one.
func (e *Engine) Refresh(accts []ledger.Account) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range accts {
		a := accts[i]
		if cur, ok := e.accounts[a.ID]; !ok || a.Version > cur.Version {
			e.accounts[a.ID] = &a
		}
	}
}

// RefreshHolds replaces the cached active holds of a shared store by the stored set.
func (e *Engine) RefreshHolds(holds []ledger.Hold) {
	m := make(map[string]*ledger.Hold, len(holds))
	for i := range holds {
		h := holds[i]
		m[h.ID] = &h
	}
	e.mu.Lock()
	e.holds = m
	e.mu.Unlock()
}

// Account returns a copy of the committed state of an account.
func (e *Engine) Account(id string) (ledger.Account, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	a, ok := e.accounts[id]
	if !ok {
		return ledger.Account{}, false
	}
	return *a, true
}

// Balance returns the committed balance and currency an account's credentials
// read, without copying the whole account: the public read path. A shared
// sub-account reads the balance it draws on, its parent's, and is as active as
// the parent while it is active itself (docs/subaccounts.md). disabled is the
// parent's switch of a sub-account.
func (e *Engine) Balance(id string) (bal ledger.Amount, cur string, st ledger.AccountStatus, disabled, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	a, ok := e.accounts[id]
	if !ok {
		return 0, "", "", false, false
	}
	bal, cur, st, disabled = a.Balance, a.Currency, a.Status, a.Disabled
	if a.Funding == ledger.FundingShared {
		if p, found := e.accounts[a.ParentID]; found {
			bal = p.Balance
			if st == ledger.StatusActive {
				st = p.Status
			}
		}
	}
	return bal, cur, st, disabled, true
}

// Hold returns a hold's committed state: active holds from memory, others (and, on
// a shared store, all) from the store.
func (e *Engine) Hold(ctx context.Context, id string) (ledger.Hold, error) {
	return e.rows.committedHold(ctx, id)
}

func (e *Engine) loop() {
	defer close(e.done)
	defer func() { // every committed batch is synced and answered before Close returns
		close(e.pipe)
		<-e.synced
	}()
	ticker := time.NewTicker(e.tick)
	defer ticker.Stop()
	batch := make([]*request, 0, e.maxBatch)
	previous := 0 // requests in the previous batch: how busy the writer is
	for {
		batch = batch[:0]
		select {
		case r := <-e.queue:
			batch = append(batch, r)
		case <-ticker.C:
			if e.expiries.Len() > 0 && !e.expiries[0].at.After(e.now()) || e.rows.everyTick() {
				e.run(nil)
			}
			continue
		case <-e.quit:
			// Serve what is already queued, then stop.
			for {
				select {
				case r := <-e.queue:
					e.run([]*request{r})
				default:
					return
				}
			}
		}
		batch = e.drain(batch)
		if d := gatherWait(previous, len(batch)); d > 0 {
			time.Sleep(d)
			batch = e.drain(batch)
		}
		previous = len(batch)
		if operations(batch) >= gatherAfter {
			e.fullAt.Store(int64(time.Since(e.born)) + 1)
		}
		e.run(batch)
	}
}

// Saturated reports whether the writer ran a full batch (gatherAfter operations
// or more, a /v1/batch request's each counted) in the last saturatedFor:
// requests arrive faster than it answers them one at a time, and the processor
// time it gets is what the charges get. Background work yields to it (webhook
// deliveries: their lanes slow down, and catch up when the peak has passed).
func (e *Engine) Saturated() bool {
	at := e.fullAt.Load()
	return at != 0 && time.Since(e.born)-time.Duration(at-1) < saturatedFor
}

// operations counts a batch's money operations: a Batch command's each, any
// other command one. Three bulk requests of a thousand charges are a full batch.
func operations(batch []*request) int {
	n := 0
	for _, r := range batch {
		if b, ok := r.cmd.(Batch); ok {
			n += len(b.Ops)
		} else {
			n++
		}
	}
	return n
}

// saturatedFor is how long a full batch counts as the writer being saturated:
// a few batches' time, so that a pause between two bursts does not end it, nor
// a lull of a few milliseconds after a peak keep it.
const saturatedFor = 20 * time.Millisecond

// drain adds what is queued to batch, up to the largest batch.
func (e *Engine) drain(batch []*request) []*request {
	for len(batch) < e.maxBatch {
		select {
		case r := <-e.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// Gathering. Much of a batch's cost is the batch's, not its requests': the
// transaction, the pages its commit writes, the fsync, the handoffs between
// goroutines. When the previous batch held at least gatherAfter requests, the
// writer is busy, and it waits gatherFor before it takes the queue, so the
// requests arriving meanwhile share the commit. The wait is shorter than a batch's
// commit and fsync, which a request arriving under such a load waits for anyway;
// a request that finds the writer idle (the previous batch small) never waits.
// Measured on target 2 of the benchmark (64 connections charging one account,
// purse started afresh for each run, with and without alternately): more charges a
// second in 10 of 11 pairs (-12% to +21%, median +4%), batches of ~17 requests
// instead of ~15; the charge p99 at half the peak rate (4b) 7.6 ms, as before.
const (
	gatherAfter = 8
	gatherFor   = 100 * time.Microsecond
	gatherUpTo  = 64 // a batch already this large does not wait
)

// gatherWait is how long the writer waits for more requests before a batch that
// has queued requests so far, after a batch of previous requests.
func gatherWait(previous, queued int) time.Duration {
	if previous >= gatherAfter && queued < gatherUpTo {
		return gatherFor
	}
	return 0
}

// run applies, commits and acknowledges one batch, after expiring the holds due.
// A batch that lost a race with another node (shared store) is run again from
// scratch; a batch whose commit fails otherwise is dropped whole.
func (e *Engine) run(batch []*request) {
	due := e.popDue()
	var err error
	for attempt := 0; ; attempt++ {
		var t *txn
		var resps []response
		t, resps, err = e.attempt(batch, due)
		if err == nil {
			e.track(t)
			if len(batch) == 0 && !t.wrote {
				// A tick that found nothing to expire: nothing to make durable or
				// answer (a sync here would be a write and a flush each tick). What
				// it read is left to the change feed: published, it could show
				// another node's batch before that batch is durable.
				return
			}
			e.stage(t)
			// The loop reuses batch's array for the next batch: keep a copy.
			e.pipe <- committed{t: t, batch: append([]*request(nil), batch...), resps: resps}
			return
		}
		if !errors.Is(err, ledger.ErrRetry) || attempt >= 8 {
			break
		}
		if e.opts.OnRetry != nil {
			e.opts.OnRetry()
		}
		time.Sleep(time.Duration(1+rand.IntN(5<<attempt)) * time.Millisecond)
	}
	e.log.Error("engine: batch dropped", "requests", len(batch), "err", err)
	for _, x := range due {
		heap.Push(&e.expiries, x) // try again with the next batch
	}
	for _, r := range batch {
		e.answer(r, response{err: fmt.Errorf("%w: %v", ledger.ErrUnavailable, err)})
	}
}

// attempt runs one try of a batch inside one store transaction.
func (e *Engine) attempt(batch []*request, due []expiry) (t *txn, resps []response, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := e.store.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback(ctx)
		}
	}()
	t = newTxn(e, ctx, tx)
	if err := t.load(batch, due); err != nil {
		return nil, nil, err
	}
	t.expire(due)
	if resps, err = t.serveAll(batch); err != nil {
		return nil, nil, err
	}
	if err := t.commit(len(batch)); err != nil {
		return nil, nil, err
	}
	committed = true
	t.final(resps)
	return t, resps, nil
}

// expire releases the holds that are due and still active, each on its own
// savepoint: one that fails is logged and left for the next batch.
func (t *txn) expire(due []expiry) {
	for _, x := range due {
		if h, err := t.hold(x.id); err == nil && h.Status == ledger.HoldActive && !h.ExpiresAt.After(t.now) {
			sp := t.savepoint()
			if err := t.release(h, ledger.HoldExpired); err != nil {
				t.rollback(sp)
				t.e.log.Error("engine: expire hold", "hold", h.ID, "err", err)
			}
		}
	}
}

// serveAll applies every request of the batch; a store that became unavailable
// fails the whole batch.
func (t *txn) serveAll(batch []*request) ([]response, error) {
	resps := make([]response, len(batch))
	for i, r := range batch {
		resps[i] = t.serve(r)
		if resps[i].err != nil && errors.Is(resps[i].err, ledger.ErrUnavailable) {
			return nil, resps[i].err
		}
	}
	return resps, nil
}

// commit settles the platform accounts and commits the batch (or rolls back one
// that has nothing to write).
func (t *txn) commit(requests int) error {
	t.evaluateAlerts()
	if err := t.settleSystem(); err != nil {
		return err
	}
	b := t.batch()
	if b.Empty() && len(t.order) == 0 && len(t.emitted) == 0 { // refusals alone still write their records
		t.tx.Rollback(t.ctx)
		return nil
	}
	if err := t.assignSeqs(b); err != nil {
		return err
	}
	b.Events = t.events(b)
	t.hasEvents = len(b.Events) > 0
	start := time.Now()
	if err := t.tx.Commit(t.ctx, b); err != nil {
		return err
	}
	t.wrote = true
	if t.e.opts.OnEvents != nil && len(b.Events) > 0 {
		t.e.opts.OnEvents(len(b.Events))
	}
	if t.e.opts.OnBatch != nil {
		t.e.opts.OnBatch(requests, time.Since(start))
	}
	if t.e.opts.OnEntries != nil && len(b.Entries) > 0 {
		t.e.opts.OnEntries(b.Entries)
	}
	return nil
}

// final gives the batch's answers their final sequence numbers and outcomes.
func (t *txn) final(resps []response) {
	for i := range resps {
		if p := resps[i].own; p != nil {
			resps[i].res = Result{Value: t.remapResult(p.value), Outcome: p.outcome}
		} else if resps[i].err == nil && resps[i].res.Value != nil {
			resps[i].res.Value = t.remapResult(resps[i].res.Value)
		}
	}
}

// publish makes a batch's changes what readers see (the expiry heap is track's).
func (e *Engine) publish(t *txn) {
	e.mu.Lock()
	for id, a := range t.base { // fresh rows read under lock (a shared store; none otherwise)
		if cur, ok := e.accounts[id]; !ok || a.Version > cur.Version {
			e.accounts[id] = a
		}
	}
	for id, a := range t.accounts {
		// On a shared store the change feed may have put a newer row here since
		// this batch committed (another node's change, read after it): keep that.
		if cur, ok := e.accounts[id]; !ok || a.Version >= cur.Version {
			e.accounts[id] = a
		}
	}
	for id, h := range t.holds {
		if h.Status == ledger.HoldActive {
			e.holds[id] = h
		} else {
			delete(e.holds, id)
		}
	}
	e.mu.Unlock()
}

// popDue takes the holds whose expiry has come off the heap; stale items (holds
// captured or voided since) are dropped.
func (e *Engine) popDue() []expiry {
	now := e.now()
	var due []expiry
	for e.expiries.Len() > 0 && !e.expiries[0].at.After(now) {
		x := heap.Pop(&e.expiries).(expiry)
		h, ok := e.headHold(x.id)
		if ok && h.Status == ledger.HoldActive && h.ExpiresAt.Equal(x.at) {
			due = append(due, x)
		}
	}
	return e.rows.due(now, due) // and, on a shared store, the holds other nodes made
}

type expiry struct {
	at time.Time
	id string
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
