package engine

import (
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// CreateAccount opens a customer account (and, on first use of its currency, the
// platform's funding and revenue accounts for it). Its result is a ledger.Account.
type CreateAccount struct {
	ID       string // optional; NewID("acc") when empty
	Name     string
	Currency string
}

func (c CreateAccount) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	if c.Name == "" {
		v.Add("name", "is required")
	} else if len(c.Name) > 200 {
		v.Add("name", "is longer than 200 bytes")
	}
	if _, ok := ledger.LookupCurrency(c.Currency); !ok {
		v.Add("currency", "is not an active ISO 4217 currency code")
	}
	if err := v.Err(); err != nil {
		return nil, err
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
			t.put(ledger.Account{ID: sid, Kind: kind, Name: "platform " + string(kind) + " " + c.Currency,
				Currency: c.Currency, Status: ledger.StatusActive, CreatedAt: t.now, UpdatedAt: t.now})
		}
	}
	a := ledger.Account{ID: id, Kind: ledger.KindCustomer, Name: c.Name, Currency: c.Currency,
		Status: ledger.StatusActive, CreatedAt: t.now, UpdatedAt: t.now}
	t.put(a)
	return a, nil
}

// UpdateAccount changes an account's name or status; nil fields stay. Its result is
// the updated ledger.Account.
type UpdateAccount struct {
	ID     string
	Name   *string
	Status *ledger.AccountStatus
}

func (c UpdateAccount) apply(t *txn) (any, error) {
	cur, ok := t.account(c.ID)
	if !ok || cur.Kind != ledger.KindCustomer {
		return nil, &ledger.NotFoundError{What: "account", ID: c.ID}
	}
	a := *cur
	v := &ledger.ValidationError{}
	if c.Name != nil {
		if *c.Name == "" {
			v.Add("name", "must not be empty")
		} else if len(*c.Name) > 200 {
			v.Add("name", "is longer than 200 bytes")
		}
	}
	if c.Status != nil && !c.Status.Valid() {
		v.Add("status", "must be active, suspended or closed")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.Status != nil && *c.Status != a.Status {
		if a.Status == ledger.StatusClosed {
			return nil, &ledger.ConflictError{Reason: "account is closed; a closed account cannot be reopened"}
		}
		if *c.Status == ledger.StatusClosed && a.Balance != 0 {
			return nil, &ledger.ConflictError{Reason: fmt.Sprintf("account balance is %s, not 0; settle it before closing", a.Balance)}
		}
		a.Status = *c.Status
	}
	if c.Name != nil {
		a.Name = *c.Name
	}
	a.UpdatedAt = t.now
	t.put(a)
	return a, nil
}

// TopUp moves money from the platform's funding account into a customer account.
// Its result is a ledger.Movement.
type TopUp struct {
	AccountID      string
	Amount         ledger.Amount
	Reference      string
	IdempotencyKey string
}

func (c TopUp) apply(t *txn) (any, error) {
	if c.Amount <= 0 {
		return nil, ledger.Invalid("amount", "must be greater than 0")
	}
	if len(c.Reference) > 200 {
		return nil, ledger.Invalid("reference", "is longer than 200 bytes")
	}
	cur, ok := t.account(c.AccountID)
	if !ok || cur.Kind != ledger.KindCustomer {
		return nil, &ledger.NotFoundError{What: "account", ID: c.AccountID}
	}
	if cur.Status == ledger.StatusClosed {
		return nil, &ledger.ConflictError{Reason: "account is closed"}
	}
	bal, err := cur.Balance.Add(c.Amount)
	if err != nil {
		return nil, ledger.Invalid("amount", "would take the balance out of range")
	}
	fund := ledger.SystemAccountID(ledger.KindFunding, cur.Currency)
	fd, err := t.sysDelta[fund].Sub(c.Amount)
	if err != nil {
		return nil, ledger.Invalid("amount", "would take the platform funding account out of range")
	}
	a := *cur
	a.Balance, a.Seq, a.UpdatedAt = bal, t.nextSeq(), t.now
	t.put(a)
	t.addSys(fund, fd)
	m := ledger.Movement{ID: ledger.NewID("mov")}
	m.Entry = ledger.Entry{Seq: a.Seq, MovementID: m.ID, AccountID: a.ID, Kind: ledger.EntryTopUp,
		Amount: c.Amount, BalanceAfter: bal, Reference: c.Reference, IdempotencyKey: c.IdempotencyKey, CreatedAt: t.now}
	t.entries = append(t.entries, m.Entry)
	return m, nil
}
