package engine

import (
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Sub-accounts (docs/subaccounts.md). A sub-account is a customer account with a
// parent, one level deep, in its parent's currency. It pays in one of two ways:
//
//   - own: it has its own balance, limits and free messages; money moves between it
//     and its parent only by a Transfer (two entries of one movement, one commit).
//   - shared: its charges and holds draw on its parent's balance, limits and free
//     messages. The entries are the parent's and name the sub-account
//     (Entry.SubAccountID); its holds are its own (Hold.AccountID) but reserve the
//     parent's funds (the parent's Held).
//
// Disabled is the parent's switch and refuses the sub-account's charges and new
// holds with ErrAccountNotActive, a final answer like any other refusal.

// parent checks a CreateAccount's parent and funding, and returns the parent (nil
// for a main account). Problems with the fields go to v; a parent that is not
// there, or not a main account, is an answer of its own.
func (c CreateAccount) parent(t *txn, v *ledger.ValidationError) (*ledger.Account, error) {
	if c.Parent == "" {
		if c.Funding != "" {
			v.Add("funding", "is only for a sub-account (with parent)")
		}
		return nil, nil
	}
	if !c.Funding.Valid() {
		v.Add("funding", "must be own or shared")
	}
	if c.ID != "" && c.ID == c.Parent {
		v.Add("parent", "must be another account")
		return nil, nil
	}
	p, err := t.customer(c.Parent)
	if err != nil {
		return nil, err
	}
	switch {
	case p.IsSub():
		return nil, &ledger.ConflictError{Reason: fmt.Sprintf("account %s is a sub-account; sub-accounts are one level deep", p.ID)}
	case p.Status == ledger.StatusClosed:
		return nil, &ledger.ConflictError{Reason: fmt.Sprintf("account %s is closed", p.ID)}
	}
	return &p, nil
}

// spender returns the account whose money a charge or hold of account id takes
// (a copy to change and put back: the account itself, or a shared sub-account's
// parent) and the sub-account to name on the entry ("" when it is the account
// itself). A disabled or inactive sub-account is refused here, before its parent's
// funds are looked at.
func (t *txn) spender(id string) (ledger.Account, string, error) {
	a, err := t.customer(id)
	if err != nil {
		return a, "", err
	}
	if a.Disabled {
		return a, "", ledger.Refuse(ledger.ErrAccountNotActive, "sub-account %s is disabled", a.ID)
	}
	if a.Funding != ledger.FundingShared {
		return a, "", nil
	}
	if a.Status != ledger.StatusActive {
		return a, "", ledger.Refuse(ledger.ErrAccountNotActive, "account is %s", a.Status)
	}
	p, err := t.customer(a.ParentID)
	return p, a.ID, err
}

// funder is spender without the checks: the account that pays for what account id
// already holds (a capture, a release).
func (t *txn) funder(id string) (ledger.Account, string, error) {
	a, err := t.customer(id)
	if err != nil || a.Funding != ledger.FundingShared {
		return a, "", err
	}
	p, err := t.customer(a.ParentID)
	return p, a.ID, err
}

// holder returns a copy of an account that may hold money of its own (a top-up,
// an adjustment): open, and not a shared sub-account, whose money is its parent's.
func (t *txn) holder(id string) (ledger.Account, error) {
	a, err := t.customer(id)
	switch {
	case err != nil:
		return a, err
	case a.Status == ledger.StatusClosed:
		return a, &ledger.ConflictError{Reason: "account is closed"}
	case a.Funding == ledger.FundingShared:
		return a, &ledger.ConflictError{Reason: fmt.Sprintf("sub-account %s draws on its parent's balance (shared funding) and holds no money of its own; move money on %s", a.ID, a.ParentID)}
	}
	return a, nil
}

// Transfer moves money between a main account and its own-funded sub-account, in
// either direction: the payer's debit and the payee's credit are two entries of
// one movement in one commit, with no platform account in between. The payer's
// available funds (balance, allowed minus, holds) bound it; the monthly limit does
// not, since a transfer is not spending (the sub-account's own charges count
// against its own limit). Its result is a TransferResult.
type Transfer struct {
	From, To       string
	Amount         ledger.Amount
	Reference      string
	IdempotencyKey string
}

// TransferResult is a transfer's two entries; the payer's is its outcome's entry
// (the payee's side is its mirror: RelatedID names the payee).
type TransferResult struct {
	From, To ledger.Entry
}

func (c Transfer) apply(t *txn) (any, error) {
	v := &ledger.ValidationError{}
	checkPositive(v, "amount", c.Amount)
	checkText(v, "reference", c.Reference, false)
	if c.From == "" {
		v.Add("from", "is required")
	}
	if c.To == "" {
		v.Add("to", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	from, err := t.customer(c.From)
	if err != nil {
		return nil, err
	}
	to, err := t.customer(c.To)
	if err != nil {
		return nil, err
	}
	if err := transferable(&from, &to); err != nil {
		return nil, err
	}
	if avail := from.Available(); c.Amount > avail {
		return nil, ledger.Refuse(ledger.ErrInsufficientFunds, "available %s, asked %s", avail, c.Amount)
	}
	return t.transfer(&from, &to, c)
}

// transferable checks that from and to are a main account and its own-funded
// sub-account, both open.
func transferable(from, to *ledger.Account) error {
	sub, main := from, to
	if to.ParentID == from.ID {
		sub, main = to, from
	}
	switch {
	case sub.ParentID != main.ID:
		return &ledger.ConflictError{Reason: "a transfer moves money between an account and its own sub-account"}
	case sub.Funding != ledger.FundingOwn:
		return &ledger.ConflictError{Reason: fmt.Sprintf("sub-account %s draws on its parent's balance (shared funding); it has no money of its own to transfer", sub.ID)}
	case from.Status == ledger.StatusClosed || to.Status == ledger.StatusClosed:
		return &ledger.ConflictError{Reason: "account is closed"}
	}
	return nil
}

// transfer books the two entries.
func (t *txn) transfer(from, to *ledger.Account, c Transfer) (any, error) {
	fromBal, err1 := from.Balance.Sub(c.Amount)
	toBal, err2 := to.Balance.Add(c.Amount)
	if err1 != nil || err2 != nil {
		return nil, ledger.Refuse(ledger.ErrAmountOutOfRange, "a balance would leave the range of an amount (±%s)", maxAmount)
	}
	mov := ledger.NewIDAt("mov", t.now)
	from.Balance, from.Seq = fromBal, t.nextSeq()
	to.Balance, to.Seq = toBal, t.nextSeq()
	out := ledger.Entry{Seq: from.Seq, MovementID: mov, AccountID: from.ID, Kind: ledger.EntryTransfer, Amount: -c.Amount,
		BalanceAfter: fromBal, Reference: c.Reference, RelatedID: to.ID, IdempotencyKey: c.IdempotencyKey, CreatedAt: t.now}
	in := out
	in.Seq, in.AccountID, in.Amount, in.BalanceAfter, in.RelatedID = to.Seq, to.ID, c.Amount, toBal, from.ID
	t.entries = append(t.entries, out, in)
	t.put(*from)
	t.put(*to)
	return TransferResult{From: out, To: in}, nil
}

func (c Transfer) op() ledger.Op { return ledger.OpTransfer }

func (c Transfer) refs(r *refs) {
	r.account(c.From)
	r.account(c.To)
}

// UpdateSubAccount is a main account's change to one of its sub-accounts (Infobip's
// PUT /settings/1/accounts/{accountKey}): its name and whether it is enabled. With
// Owner set, a sub-account of another account is not found (existence does not
// leak); the operator leaves Owner empty. Its result is the ledger.Account.
type UpdateSubAccount struct {
	ID      string
	Owner   string
	Name    *string
	Enabled *bool
}

func (c UpdateSubAccount) apply(t *txn) (any, error) {
	a, err := t.customer(c.ID)
	if err != nil || (c.Owner != "" && a.ParentID != c.Owner) {
		return nil, &ledger.NotFoundError{What: "account", ID: c.ID}
	}
	v := &ledger.ValidationError{}
	if c.Name != nil {
		checkText(v, "name", *c.Name, true)
	}
	if c.Enabled != nil && !a.IsSub() {
		v.Add("enabled", "is only for a sub-account")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if a.Status == ledger.StatusClosed {
		return nil, &ledger.ConflictError{Reason: "account is closed; a closed account cannot change"}
	}
	if c.Name != nil {
		a.Name = *c.Name
	}
	if c.Enabled != nil {
		a.Disabled = !*c.Enabled
	}
	t.put(a)
	return *t.accounts[a.ID], nil
}

func (c UpdateSubAccount) op() ledger.Op { return ledger.OpUpdateSubAccount }

func (c UpdateSubAccount) refs(r *refs) { r.account(c.ID) }
