package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

const maxText = 200 // bytes in a name, reference or reason

// checkText checks a name, reference or reason: its length here, its characters
// by ledger.CheckText, the rule every stored text follows.
func checkText(v *ledger.ValidationError, field, s string, required bool) {
	switch {
	case required && s == "":
		v.Add(field, "is required")
	case len(s) > maxText:
		v.Add(field, fmt.Sprintf("is longer than %d bytes", maxText))
	default:
		if err := ledger.CheckText(s); err != nil {
			v.Add(field, err.Error())
		}
	}
}

func checkPositive(v *ledger.ValidationError, field string, a ledger.Amount) {
	if a <= 0 {
		v.Add(field, "must be greater than 0")
	}
}

// CreateAccount opens a customer account (and, on first use of its currency, the
// platform's funding and revenue accounts for it). Its result is a ledger.Account.
type CreateAccount struct {
	ID       string // optional; NewID("acc") when empty
	Name     string
	Currency string // a sub-account's is its parent's ("" takes it)
	// Parent makes a sub-account of that main account, paid as Funding says
	// (subaccounts.go).
	Parent  string
	Funding ledger.FundingMode
}

func (c CreateAccount) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	checkText(v, "name", c.Name, true)
	parent, err := c.parent(t, v)
	if err != nil {
		return nil, err
	}
	if parent != nil && c.Currency == "" {
		c.Currency = parent.Currency
	}
	if _, ok := ledger.LookupCurrency(c.Currency); !ok {
		v.Add("currency", "is not an active ISO 4217 currency code (upper case, such as EUR)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if parent != nil && parent.Currency != c.Currency {
		return nil, &ledger.ConflictError{Reason: fmt.Sprintf("a sub-account has its parent's currency %s", parent.Currency)}
	}
	id := c.ID
	if id == "" {
		id = ledger.NewID("acc")
	}
	if _, ok := t.account(id); ok {
		return nil, &ledger.ConflictError{Reason: fmt.Sprintf("account %q exists", id)}
	}
	for _, kind := range []ledger.AccountKind{ledger.KindFunding, ledger.KindRevenue} {
		sid := ledger.SystemAccountID(kind, c.Currency)
		if _, ok := t.account(sid); !ok {
			t.create(ledger.Account{ID: sid, Kind: kind, Name: "platform " + string(kind) + " " + c.Currency,
				Currency: c.Currency, Status: ledger.StatusActive, CreatedAt: t.now})
		}
	}
	a := ledger.Account{ID: id, Kind: ledger.KindCustomer, Name: c.Name, Currency: c.Currency,
		Status: ledger.StatusActive, SpentMonth: ledger.MonthOf(t.now), CreatedAt: t.now,
		ParentID: c.Parent, Funding: c.Funding}
	t.create(a)
	return *t.accounts[id], nil
}

func (c CreateAccount) op() ledger.Op { return ledger.OpCreateAccount }

func (c CreateAccount) refs(r *refs) {
	if c.ID != "" {
		r.account(c.ID)
	}
	if c.Parent != "" {
		r.account(c.Parent)
	}
	if c.Currency != "" {
		r.currencies[c.Currency] = true
	}
}

// UpdateAccount changes an account's settings; nil fields stay as they are. Its
// result is the updated ledger.Account.
type UpdateAccount struct {
	ID                string
	Name              *string
	Status            *ledger.AccountStatus
	AllowedMinus      *ledger.Amount
	MonthlyLimit      *ledger.Amount
	ClearMonthlyLimit bool
	FreeMessages      *int64
	Enabled           *bool // a sub-account's parent switch (UpdateSubAccount)
}

// MaxFreeMessages bounds a grant of free messages.
const MaxFreeMessages = 1_000_000_000

func (c UpdateAccount) apply(t *txn) (any, error) {
	a, err := t.customer(c.ID)
	if err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := c.validateFor(a); err != nil {
		return nil, err
	}
	if err := c.allowed(a); err != nil {
		return nil, err
	}
	c.set(&a)
	t.put(a)
	return *t.accounts[a.ID], nil
}

// validate checks the fields on their own.
func (c UpdateAccount) validate() error {
	v := &ledger.ValidationError{}
	if c.Name != nil {
		checkText(v, "name", *c.Name, true)
	}
	if c.Status != nil && !c.Status.Valid() {
		v.Add("status", "must be active, suspended or closed")
	}
	if c.AllowedMinus != nil && *c.AllowedMinus < 0 {
		v.Add("allowedMinus", "must not be negative")
	}
	if c.MonthlyLimit != nil && *c.MonthlyLimit < 0 {
		v.Add("monthlyLimit", "must not be negative")
	}
	if c.FreeMessages != nil && (*c.FreeMessages < 0 || *c.FreeMessages > MaxFreeMessages) {
		v.Add("freeMessages", fmt.Sprintf("must be a whole number from 0 to %d", MaxFreeMessages))
	}
	return v.Err()
}

// validateFor checks the fields that depend on the account: enabled is a
// sub-account's only.
func (c UpdateAccount) validateFor(a ledger.Account) error {
	if c.Enabled != nil && !a.IsSub() {
		return ledger.Invalid("enabled", "is only for a sub-account")
	}
	return nil
}

// allowed checks the change against the account's state.
func (c UpdateAccount) allowed(a ledger.Account) error {
	if a.Status == ledger.StatusClosed {
		return &ledger.ConflictError{Reason: "account is closed; a closed account cannot change"}
	}
	if a.Funding == ledger.FundingShared && (c.AllowedMinus != nil || c.MonthlyLimit != nil || c.ClearMonthlyLimit || c.FreeMessages != nil) {
		return &ledger.ConflictError{Reason: "a shared sub-account draws on its parent's limits and free messages; change them on the parent"}
	}
	if c.Status != nil && *c.Status == ledger.StatusClosed && (a.Balance != 0 || a.Held != 0) {
		return &ledger.ConflictError{Reason: fmt.Sprintf("account holds %s with %s on hold; settle it before closing", a.Balance, a.Held)}
	}
	if c.AllowedMinus != nil {
		if floor, _ := c.AllowedMinus.Neg(); a.Balance < floor {
			return &ledger.ConflictError{Reason: fmt.Sprintf("balance %s is already below -%s", a.Balance, *c.AllowedMinus)}
		}
	}
	return nil
}

// set applies the fields given to a.
func (c UpdateAccount) set(a *ledger.Account) {
	if c.AllowedMinus != nil {
		a.AllowedMinus = *c.AllowedMinus
	}
	if c.Status != nil {
		a.Status = *c.Status
	}
	if c.Name != nil {
		a.Name = *c.Name
	}
	if c.ClearMonthlyLimit {
		a.MonthlyLimit, a.HasMonthlyLimit = 0, false
	} else if c.MonthlyLimit != nil {
		a.MonthlyLimit, a.HasMonthlyLimit = *c.MonthlyLimit, true
	}
	if c.FreeMessages != nil {
		a.FreeMessages = *c.FreeMessages
	}
	if c.Enabled != nil {
		a.Disabled = !*c.Enabled
	}
}

func (c UpdateAccount) op() ledger.Op { return ledger.OpUpdateAccount }

func (c UpdateAccount) refs(r *refs) { r.account(c.ID) }

// TopUp moves money from the platform's funding account into a customer account.
// Suspended accounts may be topped up; closed ones may not. Its result is a
// ledger.Entry (the customer side).
type TopUp struct {
	AccountID      string
	Amount         ledger.Amount
	Reference      string
	Metadata       map[string]string
	IdempotencyKey string
}

func (c TopUp) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	checkPositive(v, "amount", c.Amount)
	checkText(v, "reference", c.Reference, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := ledger.ValidateMetadata(c.Metadata); err != nil {
		return nil, err
	}
	a, err := t.holder(c.AccountID)
	if err != nil {
		return nil, err
	}
	e, err := t.move(&a, ledger.EntryTopUp, c.Amount, ledger.KindFunding,
		ledger.Entry{Reference: c.Reference, Metadata: c.Metadata, IdempotencyKey: c.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	t.put(a)
	return e, nil
}

func (c TopUp) op() ledger.Op { return ledger.OpTopUp }

func (c TopUp) refs(r *refs) { r.account(c.AccountID) }

// spend checks that an active account may take amt now (funds and monthly limit).
func (t *txn) spend(a *ledger.Account, amt ledger.Amount) error {
	if a.Status != ledger.StatusActive {
		return ledger.Refuse(ledger.ErrAccountNotActive, "account is %s", a.Status)
	}
	if avail := a.Available(); amt > avail {
		return ledger.Refuse(ledger.ErrInsufficientFunds, "available %s, asked %s", avail, amt)
	}
	if room, ok := a.MonthlyRoom(t.now); ok && amt > room {
		if room < 0 {
			room = 0
		}
		return ledger.Refuse(ledger.ErrMonthlyLimitExceeded, "%s left of the monthly limit %s, asked %s", room, a.MonthlyLimit, amt)
	}
	return nil
}

// addSpent counts amt into the month's spending. Without a monthly limit nothing
// else bounds it (charges and top-ups can alternate), so it is checked like a
// balance: past the range of an Amount the charge is refused, not wrapped.
func (t *txn) addSpent(a *ledger.Account, amt ledger.Amount) error {
	v, err := a.MonthlySpent.Add(amt)
	if err != nil {
		return ledger.Refuse(ledger.ErrAmountOutOfRange, "this month's spending %s would leave the range of an amount (±%s)", a.MonthlySpent, maxAmount)
	}
	a.MonthlySpent = v
	return nil
}

// Charge moves money from a customer to the platform's revenue account, or uses one
// of the account's free messages instead. Its result is a ledger.Entry.
type Charge struct {
	AccountID      string
	Amount         ledger.Amount
	Reference      string
	Metadata       map[string]string
	UseFreeMessage bool
	// FallbackToMoney: with UseFreeMessage and none left, charge Amount instead of
	// failing with ErrNoFreeMessages.
	FallbackToMoney bool
	// ServiceType is what the charge pays for (ledger.ServiceTypes; "" is SMS): a
	// free message comes from that type's counter, and only SMS has one.
	ServiceType    string
	IdempotencyKey string
}

func (c Charge) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	checkPositive(v, "amount", c.Amount)
	checkText(v, "reference", c.Reference, false)
	if c.ServiceType != "" && !ledger.ValidServiceType(c.ServiceType) {
		v.Add("serviceType", "must be one of "+strings.Join(ledger.ServiceTypes, ", "))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := ledger.ValidateMetadata(c.Metadata); err != nil {
		return nil, err
	}
	a, sub, err := t.spender(c.AccountID)
	if err != nil {
		return nil, err
	}
	proto := ledger.Entry{Reference: c.Reference, Metadata: c.Metadata, IdempotencyKey: c.IdempotencyKey, SubAccountID: sub}
	if c.UseFreeMessage {
		if a.Status != ledger.StatusActive {
			return nil, ledger.Refuse(ledger.ErrAccountNotActive, "account is %s", a.Status)
		}
		if a.FreeMessages > 0 && (c.ServiceType == "" || c.ServiceType == ledger.ServiceSMS) {
			a.FreeMessages--
			proto.FreeMessage = true
			e, err := t.move(&a, ledger.EntryCharge, 0, ledger.KindRevenue, proto)
			if err != nil {
				return nil, err
			}
			t.put(a)
			t.putCharge(ledger.Charge{ID: e.MovementID, AccountID: a.ID, FreeMessage: true, CreatedAt: t.now})
			return e, nil
		}
		if !c.FallbackToMoney {
			return nil, ledger.Refuse(ledger.ErrNoFreeMessages, "the account has no %s free messages left", serviceOf(c.ServiceType))
		}
	}
	if err := t.spend(&a, c.Amount); err != nil {
		return nil, err
	}
	e, err := t.move(&a, ledger.EntryCharge, -c.Amount, ledger.KindRevenue, proto)
	if err != nil {
		return nil, err
	}
	if err := t.addSpent(&a, c.Amount); err != nil {
		return nil, err
	}
	t.put(a)
	t.putCharge(ledger.Charge{ID: e.MovementID, AccountID: a.ID, Amount: c.Amount, CreatedAt: t.now})
	return e, nil
}

func serviceOf(t string) string {
	if t == "" {
		return ledger.ServiceSMS
	}
	return t
}

func (c Charge) op() ledger.Op { return ledger.OpCharge }

func (c Charge) refs(r *refs) { r.account(c.AccountID) }

// Refund returns all or part of a charge (or capture) from revenue to the customer.
// All refunds of a charge together never exceed it. Its result is a ledger.Entry.
type Refund struct {
	AccountID      string
	ChargeID       string
	Amount         *ledger.Amount // nil: what is left of the charge
	Reference      string
	IdempotencyKey string
}

func (c Refund) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	if c.ChargeID == "" {
		v.Add("chargeId", "is required")
	}
	if c.Amount != nil {
		checkPositive(v, "amount", *c.Amount)
	}
	checkText(v, "reference", c.Reference, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := t.customer(c.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Status == ledger.StatusClosed {
		return nil, &ledger.ConflictError{Reason: "account is closed"}
	}
	ch, err := t.charge(c.ChargeID)
	if errors.Is(err, ledger.ErrNotFound) {
		kind, owner, kerr := t.e.store.MovementKind(t.ctx, a.ID, c.ChargeID)
		if kerr != nil && !errors.Is(kerr, ledger.ErrNotFound) {
			// Not an answer about the charge: a 404 would be kept under the key for
			// good, so the request fails as unavailable and may be retried.
			return nil, fmt.Errorf("%w: %v", ledger.ErrUnavailable, kerr)
		}
		if kerr == nil && owner == a.ID {
			return nil, ledger.Refuse(ledger.ErrNotACharge, "movement %s is a %s", c.ChargeID, kind)
		}
		return nil, &ledger.NotFoundError{What: "charge", ID: c.ChargeID}
	}
	if err != nil {
		return nil, err
	}
	if ch.AccountID != a.ID {
		return nil, &ledger.NotFoundError{What: "charge", ID: c.ChargeID}
	}
	left := ch.Amount - ch.Refunded
	amt := left
	if c.Amount != nil {
		amt = *c.Amount
	}
	if amt > left || amt <= 0 {
		return nil, ledger.Refuse(ledger.ErrRefundExceedsCharge, "%s of the charge's %s is left to refund, asked %s", left, ch.Amount, amt)
	}
	e, err := t.move(&a, ledger.EntryRefund, amt, ledger.KindRevenue,
		ledger.Entry{Reference: c.Reference, RelatedID: ch.ID, IdempotencyKey: c.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	if ledger.MonthOf(ch.CreatedAt) == a.SpentMonth { // a refund gives back this month's room
		a.MonthlySpent -= min(amt, a.MonthlySpent)
	}
	ch.Refunded += amt
	t.put(a)
	t.putCharge(ch)
	return e, nil
}

func (c Refund) op() ledger.Op { return ledger.OpRefund }

func (c Refund) refs(r *refs) {
	r.account(c.AccountID)
	if c.ChargeID != "" {
		r.charges[c.ChargeID] = c.AccountID
	}
}

// Adjust is an operator's correction of either sign, booked against the platform's
// funding account. A debit may not take the account past its available funds. Its
// result is a ledger.Entry.
type Adjust struct {
	AccountID      string
	Amount         ledger.Amount
	Reason         string
	IdempotencyKey string
}

func (c Adjust) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	if c.Amount == 0 {
		v.Add("amount", "must not be 0")
	}
	checkText(v, "reason", c.Reason, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := t.holder(c.AccountID)
	if err != nil {
		return nil, err
	}
	if c.Amount < 0 {
		debit, err := c.Amount.Neg()
		if err != nil {
			return nil, ledger.Invalid("amount", "is out of range")
		}
		if avail := a.Available(); debit > avail {
			return nil, ledger.Refuse(ledger.ErrInsufficientFunds, "available %s, adjustment takes %s", avail, debit)
		}
	}
	e, err := t.move(&a, ledger.EntryAdjustment, c.Amount, ledger.KindFunding,
		ledger.Entry{Reference: c.Reason, IdempotencyKey: c.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	t.put(a)
	return e, nil
}

func (c Adjust) op() ledger.Op { return ledger.OpAdjust }

func (c Adjust) refs(r *refs) { r.account(c.AccountID) }

// Bounds on a hold's lifetime.
const (
	MinHoldTTL = time.Second
	MaxHoldTTL = 30 * 24 * time.Hour
)

// CreateHold reserves funds for work in flight until captured, voided or expired.
// Its result is a ledger.Hold.
type CreateHold struct {
	AccountID string
	Amount    ledger.Amount
	ExpiresIn time.Duration
	Reference string
}

func (c CreateHold) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	checkPositive(v, "amount", c.Amount)
	if c.ExpiresIn < MinHoldTTL || c.ExpiresIn > MaxHoldTTL {
		v.Add("expiresIn", fmt.Sprintf("must be from %s to %s", MinHoldTTL, MaxHoldTTL))
	}
	checkText(v, "reference", c.Reference, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, _, err := t.spender(c.AccountID)
	if err != nil {
		return nil, err
	}
	if err := t.spend(&a, c.Amount); err != nil {
		return nil, err
	}
	// A shared sub-account's hold is its own (AccountID), and reserves its
	// parent's funds (a.Held): capture and release find the parent the same way.
	a.Held += c.Amount
	h := ledger.Hold{ID: ledger.NewID("hold"), AccountID: c.AccountID, Amount: c.Amount, Status: ledger.HoldActive,
		Reference: c.Reference, ExpiresAt: t.now.Add(c.ExpiresIn), CreatedAt: t.now}
	t.put(a)
	t.putHold(h)
	h.UpdatedAt = t.now
	return h, nil
}

func (c CreateHold) op() ledger.Op { return ledger.OpHold }

func (c CreateHold) refs(r *refs) { r.account(c.AccountID) }

// usable returns the hold if it can still be captured or voided.
func (t *txn) usable(id string) (ledger.Hold, error) {
	h, err := t.hold(id)
	if err != nil {
		return h, err
	}
	switch h.Status {
	case ledger.HoldCaptured:
		return h, ledger.Refuse(ledger.ErrHoldCaptured, "hold %s captured %s", h.ID, h.Captured)
	case ledger.HoldVoided:
		return h, ledger.Refuse(ledger.ErrHoldVoided, "hold %s", h.ID)
	case ledger.HoldExpired:
		return h, ledger.Refuse(ledger.ErrHoldExpired, "hold %s expired at %s", h.ID, h.ExpiresAt.Format(time.RFC3339Nano))
	}
	if !t.now.Before(h.ExpiresAt) {
		return h, ledger.Refuse(ledger.ErrHoldExpired, "hold %s expired at %s", h.ID, h.ExpiresAt.Format(time.RFC3339Nano))
	}
	return h, nil
}

// CaptureHold charges all or part of a hold and releases the rest. Its result is a
// CaptureResult.
type CaptureHold struct {
	HoldID         string
	Amount         *ledger.Amount // nil: the whole hold
	IdempotencyKey string
}

// CaptureResult is a captured hold and the charge entry the capture made.
type CaptureResult struct {
	Hold  ledger.Hold
	Entry ledger.Entry
}

func (c CaptureHold) apply(t *txn) (any, error) {
	h, err := t.usable(c.HoldID)
	if err != nil {
		return nil, err
	}
	amt := h.Amount
	if c.Amount != nil {
		amt = *c.Amount
	}
	if amt <= 0 {
		return nil, ledger.Invalid("amount", "must be greater than 0 (void the hold to release it all)")
	}
	if amt > h.Amount {
		return nil, ledger.Invalid("amount", fmt.Sprintf("exceeds the hold's %s", h.Amount))
	}
	a, sub, err := t.funder(h.AccountID)
	if err != nil {
		return nil, err
	}
	a.Held -= h.Amount
	e, err := t.move(&a, ledger.EntryCapture, -amt, ledger.KindRevenue,
		ledger.Entry{Reference: h.Reference, RelatedID: h.ID, IdempotencyKey: c.IdempotencyKey, SubAccountID: sub})
	if err != nil {
		return nil, err
	}
	if err := t.addSpent(&a, amt); err != nil {
		return nil, err
	}
	t.put(a)
	h.Status, h.Captured, h.ChargeID = ledger.HoldCaptured, amt, e.MovementID
	t.putHold(h)
	t.putCharge(ledger.Charge{ID: e.MovementID, AccountID: a.ID, Amount: amt, CreatedAt: t.now})
	h.UpdatedAt = t.now
	return CaptureResult{Hold: h, Entry: e}, nil
}

func (c CaptureHold) op() ledger.Op { return ledger.OpCapture }

func (c CaptureHold) refs(r *refs) { r.holds[c.HoldID] = true }

// VoidHold releases a hold without charging. Its result is the voided ledger.Hold.
type VoidHold struct {
	HoldID string
}

func (c VoidHold) apply(t *txn) (any, error) {
	h, err := t.usable(c.HoldID)
	if err != nil {
		return nil, err
	}
	if err := t.release(h, ledger.HoldVoided); err != nil {
		return nil, err
	}
	h.Status, h.UpdatedAt = ledger.HoldVoided, t.now
	return h, nil
}

func (c VoidHold) op() ledger.Op { return ledger.OpVoid }

func (c VoidHold) refs(r *refs) { r.holds[c.HoldID] = true }

// release ends an active hold without a charge (void or expiry).
func (t *txn) release(h ledger.Hold, status ledger.HoldStatus) error {
	a, _, err := t.funder(h.AccountID)
	if err != nil {
		return err
	}
	a.Held -= h.Amount
	t.put(a)
	h.Status = status
	t.putHold(h)
	return nil
}

// MaxBatchOps bounds the operations of one Batch.
const MaxBatchOps = 1000

// Batch applies many money operations as one request: each in turn with its own
// savepoint, or, when Atomic, all or none. Its result is a BatchResult.
type Batch struct {
	Ops    []Command
	Atomic bool
}

// BatchResult holds one outcome per operation; Committed is false when an atomic
// batch was rolled back (then every Err is set: the failures' own, and
// ErrBatchAborted for the rest).
type BatchResult struct {
	Ops       []ledger.Op // what each operation was
	Values    []any
	Errs      []error
	Committed bool
}

// ErrBatchAborted marks the operations of an atomic batch undone by another's failure.
var ErrBatchAborted = ledger.ErrBatchAborted

func (c Batch) apply(t *txn) (any, error) {
	if len(c.Ops) == 0 || len(c.Ops) > MaxBatchOps {
		return nil, ledger.Invalid("operations", fmt.Sprintf("must hold 1 to %d operations", MaxBatchOps))
	}
	res := BatchResult{Ops: make([]ledger.Op, len(c.Ops)), Values: make([]any, len(c.Ops)), Errs: make([]error, len(c.Ops)), Committed: true}
	for i, op := range c.Ops {
		res.Ops[i] = op.op()
	}
	start := t.savepoint()
	failed := false
	for i, op := range c.Ops {
		sp := t.savepoint()
		v, err := op.apply(t)
		if err != nil {
			t.rollback(sp)
			res.Errs[i], failed = err, true
			continue
		}
		res.Values[i] = v
	}
	if c.Atomic && failed {
		t.rollback(start)
		for i := range res.Errs {
			if res.Errs[i] == nil {
				res.Errs[i], res.Values[i] = ErrBatchAborted, nil
			}
		}
		res.Committed = false
	}
	return res, nil
}

func (c Batch) op() ledger.Op { return ledger.OpBatch }

func (c Batch) refs(r *refs) {
	for _, op := range c.Ops {
		op.refs(r)
	}
}
