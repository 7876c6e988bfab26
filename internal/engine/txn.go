package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// txn is the in-memory view of one batch: copies of the accounts, holds and charges
// it changed, the entries and idempotency records it will write, and an undo log
// that rolls a failed command back to its savepoint.
type txn struct {
	e        *Engine
	ctx      context.Context
	now      time.Time
	seq      int64
	accounts map[string]*ledger.Account
	holds    map[string]*ledger.Hold
	charges  map[string]*ledger.Charge
	entries  []ledger.Entry
	records  []ledger.IdempotencyRecord
	idem     map[string]*ledger.IdempotencyRecord
	sysDelta map[string]ledger.Amount
	undo     []func()
}

func newTxn(e *Engine, seq int64) *txn {
	return &txn{e: e, ctx: context.Background(), now: e.now().UTC(), seq: seq,
		accounts: map[string]*ledger.Account{}, holds: map[string]*ledger.Hold{}, charges: map[string]*ledger.Charge{},
		idem: map[string]*ledger.IdempotencyRecord{}, sysDelta: map[string]ledger.Amount{}}
}

type savepoint struct {
	undo, entries, records int
	seq                    int64
}

func (t *txn) savepoint() savepoint {
	return savepoint{len(t.undo), len(t.entries), len(t.records), t.seq}
}

func (t *txn) rollback(sp savepoint) {
	for i := len(t.undo) - 1; i >= sp.undo; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:sp.undo]
	t.entries = t.entries[:sp.entries]
	for _, r := range t.records[sp.records:] {
		delete(t.idem, r.Key)
	}
	t.records = t.records[:sp.records]
	t.seq = sp.seq
}

// remember records how to restore one key of a map to what it holds now.
func remember[V any](t *txn, m map[string]V, id string) {
	prev, had := m[id]
	t.undo = append(t.undo, func() {
		if had {
			m[id] = prev
		} else {
			delete(m, id)
		}
	})
}

// account returns the batch's current view of an account (do not modify it).
func (t *txn) account(id string) (*ledger.Account, bool) {
	if a, ok := t.accounts[id]; ok {
		return a, true
	}
	t.e.mu.RLock()
	a, ok := t.e.accounts[id]
	t.e.mu.RUnlock()
	return a, ok
}

// customer returns a copy of a customer account to change and put back.
func (t *txn) customer(id string) (ledger.Account, error) {
	a, ok := t.account(id)
	if !ok || a.Kind != ledger.KindCustomer {
		return ledger.Account{}, &ledger.NotFoundError{What: "account", ID: id}
	}
	c := *a
	if c.SpentMonth != ledger.MonthOf(t.now) { // a new month starts from zero
		c.SpentMonth, c.MonthlySpent = ledger.MonthOf(t.now), 0
	}
	return c, nil
}

func (t *txn) put(a ledger.Account) {
	remember(t, t.accounts, a.ID)
	a.UpdatedAt = t.now
	t.accounts[a.ID] = &a
}

// hold returns the batch's view of a hold: changed here, active in memory, or stored.
func (t *txn) hold(id string) (ledger.Hold, error) {
	if h, ok := t.holds[id]; ok {
		return *h, nil
	}
	t.e.mu.RLock()
	h, ok := t.e.holds[id]
	t.e.mu.RUnlock()
	if ok {
		return *h, nil
	}
	return t.e.store.Hold(t.ctx, id)
}

func (t *txn) putHold(h ledger.Hold) {
	remember(t, t.holds, h.ID)
	h.UpdatedAt = t.now
	t.holds[h.ID] = &h
}

func (t *txn) charge(id string) (ledger.Charge, error) {
	if c, ok := t.charges[id]; ok {
		return *c, nil
	}
	return t.e.store.Charge(t.ctx, id)
}

func (t *txn) putCharge(c ledger.Charge) {
	remember(t, t.charges, c.ID)
	t.charges[c.ID] = &c
}

// addSys adds to the batch's pending change of a platform account.
func (t *txn) addSys(id string, delta ledger.Amount) error {
	v, err := t.sysDelta[id].Add(delta)
	if err != nil {
		return ledger.Invalid("amount", "would take a platform account out of range")
	}
	remember(t, t.sysDelta, id)
	t.sysDelta[id] = v
	return nil
}

func (t *txn) nextSeq() int64 {
	t.seq++
	return t.seq
}

// move books one customer-side entry and its platform counterpart: delta to the
// customer, -delta to the platform account of kind counter.
func (t *txn) move(a *ledger.Account, kind ledger.EntryKind, delta ledger.Amount, counter ledger.AccountKind, e ledger.Entry) (ledger.Entry, error) {
	bal, err := a.Balance.Add(delta)
	if err != nil {
		return e, ledger.Invalid("amount", "would take the balance out of range")
	}
	neg, err := delta.Neg()
	if err != nil {
		return e, ledger.Invalid("amount", "is out of range")
	}
	if err := t.addSys(ledger.SystemAccountID(counter, a.Currency), neg); err != nil {
		return e, err
	}
	a.Balance, a.Seq = bal, t.nextSeq()
	if e.MovementID == "" {
		e.MovementID = ledger.NewID("mov")
	}
	e.Seq, e.AccountID, e.Kind, e.Amount, e.BalanceAfter, e.CreatedAt = a.Seq, a.ID, kind, delta, bal, t.now
	t.entries = append(t.entries, e)
	return e, nil
}

func (t *txn) serve(r *request) response {
	if r.idem != nil {
		rec, ok := t.idem[r.idem.Key]
		if !ok {
			var err error
			rec, err = t.e.store.Idempotency(t.ctx, r.idem.Key)
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
		rec := r.idem.Record(v, t.now)
		t.records = append(t.records, *rec)
		t.idem[rec.Key] = rec
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
		c.Balance, c.Seq = bal, t.nextSeq()
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
	for _, id := range sortedKeys(t.accounts) {
		b.Accounts = append(b.Accounts, *t.accounts[id])
	}
	for _, id := range sortedKeys(t.holds) {
		b.Holds = append(b.Holds, *t.holds[id])
	}
	for _, id := range sortedKeys(t.charges) {
		b.Charges = append(b.Charges, *t.charges[id])
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
