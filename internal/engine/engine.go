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
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Store is what the engine needs from persistence.
type Store interface {
	LoadAccounts(ctx context.Context) ([]ledger.Account, error)
	ActiveHolds(ctx context.Context) ([]ledger.Hold, error)
	LastSeq(ctx context.Context) (int64, error)
	Idempotency(ctx context.Context, key string) (*ledger.IdempotencyRecord, error)
	Hold(ctx context.Context, id string) (ledger.Hold, error)
	Charge(ctx context.Context, id string) (ledger.Charge, error)
	MovementKind(ctx context.Context, movementID string) (ledger.EntryKind, string, error)
	Commit(ctx context.Context, b *ledger.Batch) error
}

// Options tunes an Engine. The zero value is usable.
type Options struct {
	MaxBatch int              // most requests per commit; default 1024
	Now      func() time.Time // clock; default time.Now (tests inject their own)
	Logger   *slog.Logger
	// ExpiryInterval is how often idle holds are checked for expiry; default 50ms.
	ExpiryInterval time.Duration
}

// Engine owns the committed in-memory state of every account and active hold.
type Engine struct {
	store    Store
	now      func() time.Time
	log      *slog.Logger
	maxBatch int
	tick     time.Duration

	queue chan *request
	quit  chan struct{}
	done  chan struct{}

	closeOnce sync.Once
	mu        sync.RWMutex // guards accounts, holds and seq; written only by the loop
	accounts  map[string]*ledger.Account
	holds     map[string]*ledger.Hold // active holds only
	seq       int64

	expiries expiryHeap // loop-owned
}

// Command is a unit of work the engine applies inside a batch.
type Command interface {
	apply(t *txn) (any, error)
}

// Idempotency makes a command exactly-once; the engine renders and stores its
// response inside the batch, so it commits together with the effect.
type Idempotency = ledger.IdempotencyRequest

// Result is what Do returns: the command's value, or, when the idempotency key was
// seen before with the same request, the stored response to send again.
type Result struct {
	Value  any
	Replay *ledger.IdempotencyRecord
}

type request struct {
	cmd  Command
	idem *Idempotency
	resp chan response
}

type response struct {
	res Result
	err error
}

// Open loads every account's stored balance (not the entries) and the active holds,
// and starts the writer.
func Open(ctx context.Context, store Store, opts Options) (*Engine, error) {
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
	seq, err := store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store: store, now: opts.Now, log: opts.Logger, maxBatch: opts.MaxBatch, tick: opts.ExpiryInterval,
		queue: make(chan *request, opts.MaxBatch*4), quit: make(chan struct{}), done: make(chan struct{}),
		accounts: make(map[string]*ledger.Account, len(accts)), holds: make(map[string]*ledger.Hold, len(holds)), seq: seq,
	}
	for i := range accts {
		a := accts[i]
		e.accounts[a.ID] = &a
	}
	for i := range holds {
		h := holds[i]
		e.holds[h.ID] = &h
		heap.Push(&e.expiries, expiry{at: h.ExpiresAt, id: h.ID})
	}
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

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.now() }

// Do queues a command and waits until its batch is committed (or fails). If ctx
// ends first Do returns ctx.Err(), but the command may still commit: callers that
// must know use an Idempotency key and retry.
func (e *Engine) Do(ctx context.Context, cmd Command, idem *Idempotency) (Result, error) {
	r := &request{cmd: cmd, idem: idem, resp: make(chan response, 1)}
	select {
	case <-e.quit:
		return Result{}, ErrClosed
	default:
	}
	select {
	case e.queue <- r:
	case <-e.quit:
		return Result{}, ErrClosed
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case resp := <-r.resp:
		return resp.res, resp.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
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

// Balance returns an account's committed balance and currency without copying the
// whole account: the public read path.
func (e *Engine) Balance(id string) (ledger.Amount, string, ledger.AccountStatus, bool) {
	e.mu.RLock()
	a, ok := e.accounts[id]
	if !ok {
		e.mu.RUnlock()
		return 0, "", "", false
	}
	bal, cur, st := a.Balance, a.Currency, a.Status
	e.mu.RUnlock()
	return bal, cur, st, true
}

// Hold returns a hold's committed state: active holds from memory, others from the store.
func (e *Engine) Hold(ctx context.Context, id string) (ledger.Hold, error) {
	e.mu.RLock()
	h, ok := e.holds[id]
	var c ledger.Hold
	if ok {
		c = *h
	}
	e.mu.RUnlock()
	if ok {
		return c, nil
	}
	return e.store.Hold(ctx, id)
}

func (e *Engine) loop() {
	defer close(e.done)
	ticker := time.NewTicker(e.tick)
	defer ticker.Stop()
	batch := make([]*request, 0, e.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-e.queue:
			batch = append(batch, r)
		case <-ticker.C:
			if e.expiries.Len() > 0 && !e.expiries[0].at.After(e.now()) {
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
	fill:
		for len(batch) < e.maxBatch {
			select {
			case r := <-e.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		e.run(batch)
	}
}

// run applies, commits and acknowledges one batch, after expiring the holds due.
func (e *Engine) run(batch []*request) {
	e.mu.RLock()
	seq := e.seq
	e.mu.RUnlock()
	t := newTxn(e, seq)
	due := e.expireDue(t)
	resps := make([]response, len(batch))
	for i, r := range batch {
		resps[i] = t.serve(r)
	}
	if err := t.settleSystem(); err != nil {
		// Only an overflow of a platform account can get here; refuse the whole batch.
		e.log.Error("engine: settle platform accounts", "err", err)
		e.fail(batch, resps, due, err)
		return
	}
	b := t.batch()
	if !b.Empty() {
		if err := e.store.Commit(context.Background(), b); err != nil {
			e.log.Error("engine: commit failed; batch dropped", "requests", len(batch), "err", err)
			e.fail(batch, resps, due, fmt.Errorf("%w: %v", ledger.ErrUnavailable, err))
			return
		}
	}
	e.publish(t)
	for i, r := range batch {
		r.resp <- resps[i]
	}
}

func (e *Engine) publish(t *txn) {
	e.mu.Lock()
	for id, a := range t.accounts {
		e.accounts[id] = a
	}
	for id, h := range t.holds {
		if h.Status == ledger.HoldActive {
			if _, known := e.holds[id]; !known {
				heap.Push(&e.expiries, expiry{at: h.ExpiresAt, id: id})
			}
			e.holds[id] = h
		} else {
			delete(e.holds, id)
		}
	}
	e.seq = t.seq
	e.mu.Unlock()
}

func (e *Engine) fail(batch []*request, resps []response, due []expiry, err error) {
	for _, x := range due {
		heap.Push(&e.expiries, x) // try again with the next batch
	}
	for i, r := range batch {
		if resps[i].err != nil {
			r.resp <- resps[i] // a rule failure stays what it was
			continue
		}
		r.resp <- response{err: err}
	}
}

// expireDue expires, inside t, every active hold whose time has come, and returns
// the heap items it consumed.
func (e *Engine) expireDue(t *txn) []expiry {
	var due []expiry
	for e.expiries.Len() > 0 && !e.expiries[0].at.After(t.now) {
		x := heap.Pop(&e.expiries).(expiry)
		e.mu.RLock()
		h, ok := e.holds[x.id]
		e.mu.RUnlock()
		if !ok || !h.ExpiresAt.Equal(x.at) {
			continue // captured or voided since: a stale heap item
		}
		due = append(due, x)
		sp := t.savepoint()
		if err := t.release(*h, ledger.HoldExpired); err != nil {
			t.rollback(sp)
			e.log.Error("engine: expire hold", "hold", h.ID, "err", err)
		}
	}
	return due
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
