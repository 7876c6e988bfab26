package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// rows is where a batch finds the committed rows it works on, and what follows
// from who holds the truth. There are two, chosen once at Open from the store's
// Shared:
//
//   - inMemory (an exclusive store, SQLite): one process owns the file, so the
//     engine's memory is the truth. A batch reads accounts and active holds from
//     memory and asks the store only for the rest (idempotency records, charges,
//     holds no longer active).
//   - rowLocking (a shared store, PostgreSQL with several nodes): the database is
//     the truth. A batch locks every row it names, in a fixed order, and applies
//     its commands to what it read under those locks; memory is a cache.
type rows interface {
	// load reads the rows the batch names (r) into t, beyond the holds, charges
	// and idempotency records txn.load reads for both, and returns the keys (of
	// keys) whose records are still to be read.
	load(t *txn, r *refs, keys []string, requests int) ([]string, error)
	// account is the committed state of an account the batch has not changed.
	account(t *txn, id string) (*ledger.Account, bool)
	// hold is the committed state of a hold that load did not read, if known.
	hold(id string) (*ledger.Hold, bool)
	// committedHold is a hold's committed state for a reader (Engine.Hold).
	committedHold(ctx context.Context, id string) (ledger.Hold, error)
	// due adds to due the holds due at now that only the store knows of (popDue).
	due(now time.Time, due []expiry) []expiry
	// everyTick reports whether the writer runs a batch on every tick, to expire
	// the holds due calls for, even when its own heap has none due.
	everyTick() bool
	// syncFailed answers the batches of a group whose Sync failed.
	syncFailed(group []committed, err error)
}

// newRows is the strategy for store.
func newRows(e *Engine, store ledger.BatchStore) rows {
	if store.Shared() {
		return &rowLocking{e: e}
	}
	return inMemory{e: e}
}

// inMemory is the strategy of an exclusive store: memory is the truth.
type inMemory struct{ e *Engine }

// load takes the holds memory knows (active ones, and staged, every hold a batch
// still waiting for its sync changed); only the others are read. What memory says
// is taken now: a staged hold that expired leaves the overlay when its batch is
// published, and published memory keeps active holds only, so asking again later
// in this batch could find it nowhere.
func (m inMemory) load(t *txn, r *refs, keys []string, _ int) ([]string, error) {
	for id := range r.holds {
		if h, ok := m.e.headHold(id); ok {
			c := *h
			t.holdBase[id] = &c
			delete(r.holds, id)
		}
	}
	return keys, nil
}

func (m inMemory) account(_ *txn, id string) (*ledger.Account, bool) { return m.e.headAccount(id) }

func (m inMemory) hold(id string) (*ledger.Hold, bool) { return m.e.headHold(id) }

// committedHold serves active holds from memory, others from the store.
func (m inMemory) committedHold(ctx context.Context, id string) (ledger.Hold, error) {
	m.e.mu.RLock()
	h, ok := m.e.holds[id]
	var c ledger.Hold
	if ok {
		c = *h
	}
	m.e.mu.RUnlock()
	if ok {
		return c, nil
	}
	return m.e.store.Hold(ctx, id)
}

// due adds none: every hold is on this process's heap.
func (inMemory) due(_ time.Time, due []expiry) []expiry { return due }

func (inMemory) everyTick() bool { return false }

// syncFailed stops the process: the kernel may have dropped the pages it could
// not write, so neither memory nor an answer can be trusted until a restart reads
// back what the disk really holds (PostgreSQL does the same).
func (m inMemory) syncFailed(_ []committed, err error) {
	m.e.log.Error("engine: sync failed; stopping", "err", err)
	panic(fmt.Sprintf("purse: the store could not make committed batches durable: %v", err))
}

// rowLocking is the strategy of a shared store: the database is the truth.
type rowLocking struct {
	e         *Engine
	duePolled time.Time // when the store was last asked for due holds (writer's)
}

// load locks the batch's rows in a fixed order (customer accounts, platform
// accounts, holds, charges, each sorted), so two nodes' batches can never deadlock
// each other. Its first reads take one round trip (Prefetch): the accounts, the
// platform accounts of the currencies memory knows them by (an account's currency
// never changes), the idempotency records, and about as many sequence numbers as
// the batch will take. Platform accounts of accounts memory did not know take a
// second.
func (l *rowLocking) load(t *txn, r *refs, keys []string, requests int) ([]string, error) {
	owners, err := t.tx.HoldAccounts(t.ctx, sortedSet(r.holds))
	if err != nil {
		return nil, err
	}
	for _, acc := range owners {
		r.accounts[acc] = true
	}
	l.addParents(r.accounts)
	accts, sysAccts, recs, err := t.tx.Prefetch(t.ctx, sortedSet(r.accounts), sortedSet(platformIDs(l.knownCurrencies(r.accounts))), keys, 2*requests+2)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		t.stored[recs[i].Key] = &recs[i]
	}
	for i := range accts {
		t.base[accts[i].ID] = &accts[i]
		r.currencies[accts[i].Currency] = true
	}
	for i := range sysAccts {
		t.base[sysAccts[i].ID] = &sysAccts[i]
	}
	if err := l.lockParents(t); err != nil {
		return nil, err
	}
	return nil, l.lockPlatform(t, r.currencies)
}

// addParents adds the parents of the sub-accounts among accounts, as memory knows
// them (a parent never changes), so that they are locked in the same sorted
// query: a shared sub-account's charge changes its parent's row.
func (l *rowLocking) addParents(accounts map[string]bool) {
	l.e.mu.RLock()
	defer l.e.mu.RUnlock()
	for id := range accounts {
		if a, ok := l.e.accounts[id]; ok && a.ParentID != "" {
			accounts[a.ParentID] = true
		}
	}
}

// lockParents locks the parents that memory did not know of (a sub-account made
// on another node a moment ago). Out of the sorted order: a deadlock it may cause
// is detected by PostgreSQL, and the engine runs the batch again.
func (l *rowLocking) lockParents(t *txn) error {
	missing := map[string]bool{}
	for _, a := range t.base {
		if a.ParentID != "" && t.base[a.ParentID] == nil {
			missing[a.ParentID] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	more, err := t.tx.LockAccounts(t.ctx, sortedSet(missing))
	if err != nil {
		return err
	}
	for i := range more {
		t.base[more[i].ID] = &more[i]
	}
	return nil
}

// knownCurrencies are the currencies memory knows the accounts by.
func (l *rowLocking) knownCurrencies(accounts map[string]bool) map[string]bool {
	known := map[string]bool{}
	l.e.mu.RLock()
	for id := range accounts {
		if a, ok := l.e.accounts[id]; ok {
			known[a.Currency] = true
		}
	}
	l.e.mu.RUnlock()
	return known
}

// lockPlatform locks the platform accounts of currencies that Prefetch did not.
func (l *rowLocking) lockPlatform(t *txn, currencies map[string]bool) error {
	missing := map[string]bool{}
	for id := range platformIDs(currencies) {
		if t.base[id] == nil {
			missing[id] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	more, err := t.tx.LockAccounts(t.ctx, sortedSet(missing))
	if err != nil {
		return err
	}
	for i := range more {
		t.base[more[i].ID] = &more[i]
	}
	return nil
}

// platformIDs are the ids of the platform accounts of currencies.
func platformIDs(currencies map[string]bool) map[string]bool {
	sys := map[string]bool{}
	for cur := range currencies {
		sys[ledger.SystemAccountID(ledger.KindFunding, cur)] = true
		sys[ledger.SystemAccountID(ledger.KindRevenue, cur)] = true
	}
	return sys
}

// account is the row the batch read under lock.
func (l *rowLocking) account(t *txn, id string) (*ledger.Account, bool) {
	a, ok := t.base[id]
	return a, ok
}

// hold is never memory's: load read every hold the batch names under lock.
func (l *rowLocking) hold(string) (*ledger.Hold, bool) { return nil, false }

// committedHold reads the store: another node may have changed the hold.
func (l *rowLocking) committedHold(ctx context.Context, id string) (ledger.Hold, error) {
	return l.e.store.Hold(ctx, id)
}

// due asks the store for holds other nodes made, once a tick at most (the writer
// runs a batch each tick, everyTick): asking in every batch was a round trip in
// each. Until then such a hold keeps its funds reserved; a capture after its
// expiry is refused all the same (the batch checks the time).
func (l *rowLocking) due(now time.Time, due []expiry) []expiry {
	if time.Since(l.duePolled) < l.e.tick {
		return due
	}
	l.duePolled = time.Now()
	ids, err := l.e.store.DueHolds(context.Background(), now, 256)
	if err != nil {
		l.e.log.Warn("engine: due holds", "err", err)
	}
	for _, id := range ids {
		due = append(due, expiry{id: id})
	}
	return due
}

func (l *rowLocking) everyTick() bool { return true }

// syncFailed answers the group 503: a failed Sync of a shared store is a lost
// connection, and the batches' fate is unknown, as with a commit that fails in
// flight (a client retrying with its Idempotency-Key gets the stored answer if the
// batch did land). Memory is not changed: every batch reads the rows it changes
// afresh, under lock, so the next one sees what really landed.
func (l *rowLocking) syncFailed(group []committed, err error) {
	l.e.log.Error("engine: sync failed; answering the batches 503", "batches", len(group), "err", err)
	for _, g := range group {
		l.e.unstage(g.t)
		for _, r := range g.batch {
			l.e.answer(r, response{err: fmt.Errorf("%w: %v", ledger.ErrUnavailable, err)})
		}
	}
}
