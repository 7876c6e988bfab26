// Package engine is purse's serial writer: the one place where money moves.
//
// Requests are queued; one goroutine drains the queue, applies a whole batch of
// commands to an in-memory view with every rule checked, commits the batch in ONE
// store transaction (one fsync), and only then publishes the new balances and
// acknowledges each request. Readers therefore see committed state only, from
// memory, without touching the disk. A command that fails its checks is rolled back
// inside the batch and changes nothing; a batch whose commit fails is dropped whole
// and every request in it gets ledger.ErrUnavailable.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Store is what the engine needs from persistence.
type Store interface {
	LoadAccounts(ctx context.Context) ([]ledger.Account, error)
	LastSeq(ctx context.Context) (int64, error)
	Idempotency(ctx context.Context, key string) (*ledger.IdempotencyRecord, error)
	Commit(ctx context.Context, b *ledger.Batch) error
}

// Options tunes an Engine. The zero value is usable.
type Options struct {
	MaxBatch int              // most requests per commit; default 1024
	Now      func() time.Time // clock; default time.Now
	Logger   *slog.Logger
}

// Engine owns the committed in-memory state of every account.
type Engine struct {
	store    Store
	now      func() time.Time
	log      *slog.Logger
	maxBatch int

	queue chan *request
	quit  chan struct{}
	done  chan struct{}

	closeOnce sync.Once
	mu        sync.RWMutex // guards accounts and seq, written only by the loop
	accounts  map[string]*ledger.Account
	seq       int64
}

// Command is a unit of work the engine applies inside a batch.
type Command interface {
	apply(t *txn) (any, error)
}

// Idempotency makes a command exactly-once. Key is unique per caller; RequestHash
// fingerprints the request so the same key with another request is refused. Render
// turns the command's result into the stored response, inside the batch, so the
// response is committed together with the effect.
type Idempotency struct {
	Key         string
	RequestHash string
	Render      func(result any) (status int, body []byte)
}

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

// Open loads every account's stored balance (not the entries) and starts the writer.
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
	accts, err := store.LoadAccounts(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store: store, now: opts.Now, log: opts.Logger, maxBatch: opts.MaxBatch,
		queue: make(chan *request, opts.MaxBatch*4), quit: make(chan struct{}), done: make(chan struct{}),
		accounts: make(map[string]*ledger.Account, len(accts)), seq: seq,
	}
	for i := range accts {
		a := accts[i]
		e.accounts[a.ID] = &a
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

func (e *Engine) loop() {
	defer close(e.done)
	batch := make([]*request, 0, e.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-e.queue:
			batch = append(batch, r)
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

// run applies, commits and acknowledges one batch.
func (e *Engine) run(batch []*request) {
	e.mu.RLock()
	seq := e.seq
	e.mu.RUnlock()
	t := &txn{e: e, now: e.now().UTC(), seq: seq, changed: map[string]*ledger.Account{}, idem: map[string]*ledger.IdempotencyRecord{}, sysDelta: map[string]ledger.Amount{}}
	resps := make([]response, len(batch))
	for i, r := range batch {
		resps[i] = t.serve(r)
	}
	if err := t.settleSystem(); err != nil {
		// Only an overflow of a platform account can get here; refuse the whole batch.
		e.log.Error("engine: settle platform accounts", "err", err)
		e.fail(batch, resps, err)
		return
	}
	b := t.batch()
	if !b.Empty() {
		if err := e.store.Commit(context.Background(), b); err != nil {
			e.log.Error("engine: commit failed; batch dropped", "requests", len(batch), "err", err)
			e.fail(batch, resps, fmt.Errorf("%w: %v", ledger.ErrUnavailable, err))
			return
		}
	}
	e.mu.Lock()
	for id, a := range t.changed {
		e.accounts[id] = a
	}
	e.seq = t.seq
	e.mu.Unlock()
	for i, r := range batch {
		r.resp <- resps[i]
	}
}

func (e *Engine) fail(batch []*request, resps []response, err error) {
	for i, r := range batch {
		if resps[i].err != nil {
			r.resp <- resps[i] // a rule failure stays what it was
			continue
		}
		r.resp <- response{err: err}
	}
}

// txn is the in-memory view of one batch: accounts it changed (copies), entries
// and idempotency records it will write, and the undo log that rolls a failed
// command back.
type txn struct {
	e        *Engine
	now      time.Time
	seq      int64
	changed  map[string]*ledger.Account
	entries  []ledger.Entry
	records  []ledger.IdempotencyRecord
	idem     map[string]*ledger.IdempotencyRecord
	sysDelta map[string]ledger.Amount
	undo     []undoStep
	sysUndo  []sysUndoStep
}

type sysUndoStep struct {
	id   string
	prev ledger.Amount
}

type undoStep struct {
	id   string
	prev *ledger.Account // nil: the account was not in changed before
	had  bool
}

type savepoint struct {
	undo, sysUndo, entries, records int
	seq                             int64
}

func (t *txn) savepoint() savepoint {
	return savepoint{len(t.undo), len(t.sysUndo), len(t.entries), len(t.records), t.seq}
}

func (t *txn) rollback(sp savepoint) {
	for i := len(t.undo) - 1; i >= sp.undo; i-- {
		u := t.undo[i]
		if u.had {
			t.changed[u.id] = u.prev
		} else {
			delete(t.changed, u.id)
		}
	}
	t.undo = t.undo[:sp.undo]
	for i := len(t.sysUndo) - 1; i >= sp.sysUndo; i-- {
		t.sysDelta[t.sysUndo[i].id] = t.sysUndo[i].prev
	}
	t.sysUndo = t.sysUndo[:sp.sysUndo]
	t.seq = sp.seq
	t.entries = t.entries[:sp.entries]
	for _, r := range t.records[sp.records:] {
		delete(t.idem, r.Key)
	}
	t.records = t.records[:sp.records]
}

// account returns the batch's current view of an account.
func (t *txn) account(id string) (*ledger.Account, bool) {
	if a, ok := t.changed[id]; ok {
		return a, true
	}
	t.e.mu.RLock()
	a, ok := t.e.accounts[id]
	t.e.mu.RUnlock()
	return a, ok
}

// put replaces an account in the batch's view, recording how to undo it.
func (t *txn) put(a ledger.Account) {
	prev, had := t.changed[a.ID]
	t.undo = append(t.undo, undoStep{id: a.ID, prev: prev, had: had})
	t.changed[a.ID] = &a
}

// addSys sets the batch's pending change to a platform account, recording how to undo it.
func (t *txn) addSys(id string, delta ledger.Amount) {
	t.sysUndo = append(t.sysUndo, sysUndoStep{id: id, prev: t.sysDelta[id]})
	t.sysDelta[id] = delta
}

func (t *txn) nextSeq() int64 {
	t.seq++
	return t.seq
}

func (t *txn) serve(r *request) response {
	if r.idem != nil {
		rec, ok := t.idem[r.idem.Key]
		if !ok {
			var err error
			rec, err = t.e.store.Idempotency(context.Background(), r.idem.Key)
			if err != nil {
				return response{err: fmt.Errorf("%w: %v", ledger.ErrUnavailable, err)}
			}
		}
		if rec != nil {
			if rec.RequestHash != r.idem.RequestHash {
				return response{err: ledger.ErrIdempotencyKeyReused}
			}
			return response{res: Result{Replay: rec}}
		}
	}
	sp := t.savepoint()
	v, err := r.cmd.apply(t)
	if err != nil {
		t.rollback(sp)
		return response{err: err}
	}
	if r.idem != nil {
		status, body := r.idem.Render(v)
		rec := ledger.IdempotencyRecord{Key: r.idem.Key, RequestHash: r.idem.RequestHash, Status: status, Body: body, CreatedAt: t.now}
		t.records = append(t.records, rec)
		t.idem[rec.Key] = &t.records[len(t.records)-1]
	}
	return response{res: Result{Value: v}}
}

// settleSystem credits or debits each platform account once for the whole batch:
// the revenue account is the hottest row there is, and one entry per batch keeps
// every currency's entries summing to zero without touching it per request.
func (t *txn) settleSystem() error {
	ids := make([]string, 0, len(t.sysDelta))
	for id, d := range t.sysDelta {
		if d != 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		a, ok := t.account(id)
		if !ok {
			return fmt.Errorf("platform account %s missing", id)
		}
		bal, err := a.Balance.Add(t.sysDelta[id])
		if err != nil {
			return err
		}
		c := *a
		c.Balance, c.UpdatedAt, c.Seq = bal, t.now, t.nextSeq()
		t.put(c)
		t.entries = append(t.entries, ledger.Entry{
			Seq: c.Seq, MovementID: fmt.Sprintf("settle_%d", c.Seq), AccountID: id, Kind: ledger.EntrySettlement,
			Amount: t.sysDelta[id], BalanceAfter: bal, CreatedAt: t.now,
		})
	}
	return nil
}

func (t *txn) batch() *ledger.Batch {
	b := &ledger.Batch{Entries: t.entries, Idempotency: t.records}
	ids := make([]string, 0, len(t.changed))
	for id := range t.changed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		b.Accounts = append(b.Accounts, *t.changed[id])
	}
	return b
}
