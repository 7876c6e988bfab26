package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// txn is the in-memory view of one batch: the rows it read (from memory, or under
// lock from a shared store), copies of what it changed, the entries and idempotency
// records it will write, and an undo log that rolls a failed command back to its
// savepoint.
type txn struct {
	e     *Engine
	ctx   context.Context
	tx    ledger.BatchTx
	now   time.Time
	seq   int64 // provisional sequences count down from -1; assignSeqs maps them
	wrote bool  // the batch committed something (an empty one rolls back)

	base       map[string]*ledger.Account // accounts read under lock (rowLocking)
	holdBase   map[string]*ledger.Hold    // holds read from the store
	chargeBase map[string]*ledger.Charge  // charges read from the store

	accounts map[string]*ledger.Account // changed in this batch
	holds    map[string]*ledger.Hold
	charges  map[string]*ledger.Charge
	created  map[string]bool

	entries  []ledger.Entry
	stored   map[string]*ledger.IdempotencyRecord // committed before this batch
	pending  map[string]*pendingRecord            // made by this batch, rendered at the end
	order    []*pendingRecord
	sysDelta map[string]ledger.Amount
	sysBase  map[string]ledger.Amount // platform accounts' balances before the batch (addSys)
	undo     []func()
	remapSeq func(int64) int64

	alertEvents []func(*eventBuilder) // thresholds crossed (alerts.go), written after the other events
	hasEvents   bool                  // the batch wrote events (readers waiting for them are woken)
	emitted     []Emit                // events of their own (Emit)
}

// pendingRecord is a business answer this batch gives under an idempotency key:
// the command's value or its final refusal, made an outcome once sequences are
// final (assignSeqs).
type pendingRecord struct {
	idem    *Idempotency
	cmd     Command
	value   any
	err     error
	outcome *ledger.Outcome
}

func newTxn(e *Engine, ctx context.Context, tx ledger.BatchTx) *txn {
	// Stores keep times to the microsecond; so does the batch, so that an answer
	// and what is read back later (entries, a replayed outcome) show one instant.
	return &txn{e: e, ctx: ctx, tx: tx, now: e.now().UTC().Truncate(time.Microsecond),
		base: map[string]*ledger.Account{}, holdBase: map[string]*ledger.Hold{}, chargeBase: map[string]*ledger.Charge{},
		accounts: map[string]*ledger.Account{}, holds: map[string]*ledger.Hold{}, charges: map[string]*ledger.Charge{},
		created: map[string]bool{}, stored: map[string]*ledger.IdempotencyRecord{}, pending: map[string]*pendingRecord{},
		sysDelta: map[string]ledger.Amount{}, sysBase: map[string]ledger.Amount{}}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// load reads every row the batch names, in one query per kind: what its store's
// strategy reads (rows.go: nothing but the holds memory knows, or every account
// under lock), then the holds, charges and idempotency records left.
func (t *txn) load(batch []*request, due []expiry) error {
	r := &refs{accounts: map[string]bool{}, currencies: map[string]bool{}, holds: map[string]bool{}, charges: map[string]string{}}
	var keys []string
	for _, req := range batch {
		req.cmd.refs(r)
		if req.idem != nil {
			keys = append(keys, req.idem.Key)
		}
	}
	for _, x := range due {
		r.holds[x.id] = true
	}
	keys, err := t.e.rows.load(t, r, keys, len(batch))
	if err != nil {
		return err
	}
	if err := t.loadHolds(r.holds); err != nil {
		return err
	}
	if err := t.loadCharges(r.charges); err != nil {
		return err
	}
	return t.loadKeys(keys)
}

// loadHolds locks the holds named.
func (t *txn) loadHolds(ids map[string]bool) error {
	if len(ids) == 0 {
		return nil
	}
	holds, err := t.tx.LockHolds(t.ctx, sortedSet(ids))
	if err != nil {
		return err
	}
	for i := range holds {
		t.holdBase[holds[i].ID] = &holds[i]
	}
	return nil
}

// loadCharges locks the charges named, each with the account named with it.
func (t *txn) loadCharges(named map[string]string) error {
	if len(named) == 0 {
		return nil
	}
	ids := sortedKeys(named)
	chargeRefs := make([]ledger.ChargeRef, len(ids))
	for i, id := range ids {
		chargeRefs[i] = ledger.ChargeRef{ID: id, AccountID: named[id]}
	}
	charges, err := t.tx.LockCharges(t.ctx, chargeRefs)
	if err != nil {
		return err
	}
	for i := range charges {
		t.chargeBase[charges[i].ID] = &charges[i]
	}
	return nil
}

// loadKeys reads the idempotency records of keys.
func (t *txn) loadKeys(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	recs, err := t.tx.Idempotency(t.ctx, keys)
	if err != nil {
		return err
	}
	for i := range recs {
		t.stored[recs[i].Key] = &recs[i]
	}
	return nil
}

type savepoint struct {
	undo, entries, order int
	seq                  int64
}

func (t *txn) savepoint() savepoint {
	return savepoint{len(t.undo), len(t.entries), len(t.order), t.seq}
}

func (t *txn) rollback(sp savepoint) {
	for i := len(t.undo) - 1; i >= sp.undo; i-- {
		t.undo[i]()
	}
	t.undo = t.undo[:sp.undo]
	t.entries = t.entries[:sp.entries]
	for _, p := range t.order[sp.order:] {
		delete(t.pending, p.idem.Key)
	}
	t.order = t.order[:sp.order]
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
	return t.e.rows.account(t, id)
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

// put stores a changed account; each put of an account in a batch is one version.
func (t *txn) put(a ledger.Account) {
	remember(t, t.accounts, a.ID)
	if _, again := t.accounts[a.ID]; !again {
		a.Version++
	}
	a.UpdatedAt = t.now
	t.accounts[a.ID] = &a
}

// create stores an account this batch makes.
func (t *txn) create(a ledger.Account) {
	remember(t, t.created, a.ID)
	t.created[a.ID] = true
	t.put(a)
}

// hold returns the batch's view of a hold.
func (t *txn) hold(id string) (ledger.Hold, error) {
	if h, ok := t.holds[id]; ok {
		return *h, nil
	}
	if h, ok := t.holdBase[id]; ok {
		return *h, nil
	}
	if h, ok := t.e.rows.hold(id); ok {
		return *h, nil
	}
	return ledger.Hold{}, &ledger.NotFoundError{What: "hold", ID: id}
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
	if c, ok := t.chargeBase[id]; ok {
		return *c, nil
	}
	return ledger.Charge{}, &ledger.NotFoundError{What: "charge", ID: id}
}

func (t *txn) putCharge(c ledger.Charge) {
	remember(t, t.charges, c.ID)
	t.charges[c.ID] = &c
}

// addSys adds to the batch's pending change of a platform account, or refuses
// with ErrAmountOutOfRange when the account's committed balance plus that change
// would leave the range of an Amount. settleSystem books exactly that sum against
// exactly that balance (nothing else changes a platform account inside a batch),
// so the settlement cannot overflow: an overflow fails the one request that
// causes it, never the batch.
func (t *txn) addSys(kind ledger.AccountKind, currency string, delta ledger.Amount) error {
	id := ledger.SystemAccountID(kind, currency)
	base, ok := t.sysBase[id]
	if !ok {
		a, found := t.account(id)
		if !found {
			return fmt.Errorf("platform account %s missing", id)
		}
		base = a.Balance
		t.sysBase[id] = base // an account lookup (two locks) once per batch, not per request
	}
	v, err := t.sysDelta[id].Add(delta)
	if err == nil {
		_, err = base.Add(v)
	}
	if err != nil {
		return ledger.Refuse(ledger.ErrAmountOutOfRange, "the platform's %s account for %s would leave the range of an amount (±%s)", kind, currency, maxAmount)
	}
	remember(t, t.sysDelta, id)
	t.sysDelta[id] = v
	return nil
}

// maxAmount is the largest Amount, for refusals' details.
const maxAmount = ledger.Amount(math.MaxInt64)

// nextSeq hands out a provisional sequence number (negative); assignSeqs replaces
// them by the store's, in the same order, once the batch knows how many it needs.
func (t *txn) nextSeq() int64 {
	t.seq--
	return t.seq
}

// move books one customer-side entry and its platform counterpart: delta to the
// customer, -delta to the platform account of kind counter.
func (t *txn) move(a *ledger.Account, kind ledger.EntryKind, delta ledger.Amount, counter ledger.AccountKind, e ledger.Entry) (ledger.Entry, error) {
	bal, err := a.Balance.Add(delta)
	if err != nil {
		return e, ledger.Refuse(ledger.ErrAmountOutOfRange, "the balance %s would leave the range of an amount (±%s)", a.Balance, maxAmount)
	}
	neg, err := delta.Neg()
	if err != nil {
		return e, ledger.Invalid("amount", "is out of range")
	}
	if err := t.addSys(counter, a.Currency, neg); err != nil {
		return e, err
	}
	a.Balance, a.Seq = bal, t.nextSeq()
	if e.MovementID == "" {
		e.MovementID = ledger.NewIDAt("mov", t.now) // a store finds the entry by its time
	}
	e.Seq, e.AccountID, e.Kind, e.Amount, e.BalanceAfter, e.CreatedAt = a.Seq, a.ID, kind, delta, bal, t.now
	t.entries = append(t.entries, e)
	return e, nil
}

func (t *txn) serve(r *request) response {
	if r.idem != nil {
		if rec, ok := t.stored[r.idem.Key]; ok {
			if rec.RequestHash != r.idem.RequestHash {
				return response{err: ledger.ErrIdempotencyKeyReused}
			}
			return replay(rec)
		}
		if p, ok := t.pending[r.idem.Key]; ok {
			if p.idem.RequestHash != r.idem.RequestHash {
				return response{err: ledger.ErrIdempotencyKeyReused}
			}
			return response{replayOf: p} // answered with p's outcome once it is made
		}
	}
	sp := t.savepoint()
	v, err := r.cmd.apply(t)
	if err != nil {
		t.rollback(sp)
		if _, final := ledger.Final(err); !final || r.idem == nil {
			return response{err: err}
		}
		// A refusal is as final as a success: kept, so that a retry after the
		// funds (or the hold, or the charge) changed cannot succeed.
		v = nil
	}
	if r.idem == nil {
		return response{res: Result{Value: v}}
	}
	p := &pendingRecord{idem: r.idem, cmd: r.cmd, value: v, err: err}
	t.pending[r.idem.Key] = p
	t.order = append(t.order, p)
	return response{own: p}
}

// replay answers from a record an earlier batch committed.
func replay(rec *ledger.IdempotencyRecord) response {
	if !codec.IsOutcome(rec) {
		return response{res: Result{Legacy: rec, Replayed: true}}
	}
	o, version, err := codec.DecodeOutcome(rec.Body)
	if err != nil {
		return response{err: fmt.Errorf("idempotency key %q: %w", rec.Key, err)}
	}
	return response{res: Result{Outcome: &o, Replayed: true, Version: version}}
}

// outcome is what p answered, with final sequences.
func (t *txn) outcome(p *pendingRecord) *ledger.Outcome {
	o := &ledger.Outcome{Op: p.cmd.op()}
	if p.err != nil {
		f, _ := ledger.Final(p.err)
		o.Refusal = &f
		return o
	}
	setResult(o, t.remapResult(p.value))
	return o
}

// OutcomeOf is the outcome of a command of op that succeeded with result v.
func OutcomeOf(op ledger.Op, v any) *ledger.Outcome {
	o := &ledger.Outcome{Op: op}
	setResult(o, v)
	return o
}

// setResult puts a command's result into its outcome.
func setResult(o *ledger.Outcome, v any) {
	switch x := v.(type) {
	case ledger.Entry:
		o.Entry = &x
	case ledger.Hold:
		o.Hold = &x
	case ledger.Account:
		o.Account = &x
	case CaptureResult:
		o.Hold, o.Entry = &x.Hold, &x.Entry
	case TransferResult:
		o.Entry = &x.From
	case BatchResult:
		b := &ledger.BatchOutcome{Committed: x.Committed, Results: make([]ledger.Outcome, len(x.Values))}
		for i := range x.Values {
			r := &b.Results[i]
			r.Op = x.Ops[i]
			if x.Errs[i] != nil {
				f := ledger.RefusalOf(x.Errs[i])
				r.Refusal = &f
				continue
			}
			setResult(r, x.Values[i])
		}
		o.Batch = b
	}
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
		if err != nil { // addSys checked this very sum: a broken invariant, not a request's fault
			return fmt.Errorf("platform account %s: settlement out of range despite addSys: %w", id, err)
		}
		c := *a
		c.Balance, c.Seq = bal, t.nextSeq()
		t.put(c)
		t.entries = append(t.entries, ledger.Entry{
			Seq: c.Seq, MovementID: "settle", AccountID: id, Kind: ledger.EntrySettlement,
			Amount: t.sysDelta[id], BalanceAfter: bal, CreatedAt: t.now,
		})
	}
	return nil
}

// batch gathers what the store must write (idempotency records come later, once
// sequences are final).
func (t *txn) batch() *ledger.Batch {
	b := &ledger.Batch{Entries: t.entries, Created: t.created}
	for _, id := range sortedKeys(t.accounts) {
		b.Accounts = append(b.Accounts, *t.accounts[id])
	}
	for _, id := range sortedKeys(t.holds) {
		b.Holds = append(b.Holds, *t.holds[id])
	}
	// Only refunded charges: a new charge is its entry. Unsorted: they are written,
	// never locked, in this order (sorting a thousand charges' ids cost a tenth of
	// the writer's time when every new charge was written too).
	for _, c := range t.charges {
		if c.Refunded > 0 {
			b.Charges = append(b.Charges, *c)
		}
	}
	if len(t.order) > 0 {
		b.Idempotency = make([]ledger.IdempotencyRecord, 0, len(t.order)) // filled by assignSeqs
	}
	return b
}

// assignSeqs replaces provisional sequences by the store's, then makes the
// idempotency records, whose outcomes show the final sequences.
func (t *txn) assignSeqs(b *ledger.Batch) error {
	n := -t.seq
	var seqs []int64
	if n > 0 {
		var err error
		if seqs, err = t.tx.ReserveSeqs(t.ctx, int(n)); err != nil {
			return err
		}
	}
	remap := func(s int64) int64 {
		if s < 0 {
			return seqs[-s-1]
		}
		return s
	}
	for i := range b.Entries {
		b.Entries[i].Seq = remap(b.Entries[i].Seq)
		if b.Entries[i].Kind == ledger.EntrySettlement {
			b.Entries[i].MovementID = fmt.Sprintf("settle_%d", b.Entries[i].Seq)
		}
	}
	for i := range b.Accounts {
		b.Accounts[i].Seq = remap(b.Accounts[i].Seq)
	}
	for _, a := range t.accounts {
		a.Seq = remap(a.Seq)
	}
	t.remapSeq = remap
	for _, p := range t.order {
		p.outcome = t.outcome(p)
		b.Idempotency = append(b.Idempotency, *codec.Record(p.idem, p.outcome, t.now))
	}
	return nil
}

// remapResult gives a command's result its final sequence numbers.
func (t *txn) remapResult(v any) any {
	if t.remapSeq == nil {
		return v
	}
	switch r := v.(type) {
	case ledger.Entry:
		r.Seq = t.remapSeq(r.Seq)
		return r
	case CaptureResult:
		r.Entry.Seq = t.remapSeq(r.Entry.Seq)
		return r
	case TransferResult:
		r.From.Seq, r.To.Seq = t.remapSeq(r.From.Seq), t.remapSeq(r.To.Seq)
		return r
	case BatchResult:
		vals := make([]any, len(r.Values))
		for i, x := range r.Values {
			vals[i] = t.remapResult(x)
		}
		r.Values = vals
		return r
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
