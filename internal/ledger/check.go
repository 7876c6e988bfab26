package ledger

import (
	"context"
	"fmt"
	"sort"
)

// CheckReport is the outcome of Check. OK is true when Problems is empty.
type CheckReport struct {
	Accounts int      `json:"accounts"`
	Entries  int      `json:"entries"`
	Holds    int      `json:"activeHolds"`
	Charges  int      `json:"charges"`
	Problems []string `json:"problems"`
	// Totals per currency: the sum of every entry, which must be zero.
	Totals map[string]string `json:"totals"`
}

// OK reports whether every invariant holds.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) problem(format string, a ...any) {
	if len(r.Problems) < 1000 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
	}
}

// Check proves a store's invariants offline: the rules every commit must keep,
// re-derived from what is stored. purse check runs it, and every stress and crash
// test ends with it. It lives with the rules (not in the command that runs it) so
// that the store contract suite (storetest) can prove them of both stores:
//   - each entry's balanceAfter is the running sum of its account's entries;
//   - each stored balance equals that sum and the last entry's balanceAfter, and
//     the account's sequence is its last entry's;
//   - the entries of each currency sum to zero (double entry);
//   - no customer account is below -allowedMinus;
//   - each account's held amount equals its active holds;
//   - no charge is refunded beyond its amount, and the refund entries of each
//     charge add up to what it records as refunded;
//   - no Idempotency-Key appears on two entries of an account;
//   - sub-accounts hold together (check_sub.go): each transfer is two entries of
//     one movement that mirror each other between a main account and its
//     own-funded sub-account, and parents, funding and the entries that name a
//     shared sub-account agree.
func Check(ctx context.Context, src Records) (*CheckReport, error) {
	r := &CheckReport{Problems: []string{}, Totals: map[string]string{}}
	accts, err := src.LoadAccounts(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(accts, func(i, j int) bool { return accts[i].ID < accts[j].ID })
	r.Accounts = len(accts)
	holds, err := src.ActiveHolds(ctx)
	if err != nil {
		return nil, err
	}
	r.Holds = len(holds)
	held := r.holds(holds, payers(accts))
	charges, err := src.Charges(ctx)
	if err != nil {
		return nil, err
	}
	r.Charges = len(charges)
	seen := movements{refunded: map[string]Amount{}, charged: map[string]Amount{}, transfers: map[string][]Entry{}, bySub: map[int64]Entry{}}
	totals := map[string]Amount{}
	for _, a := range accts {
		entries, err := src.Entries(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		r.Entries += len(entries)
		sum := r.entries(a, entries, seen)
		totals[a.Currency] += sum
		r.account(a, entries, sum, held[a.ID])
		delete(held, a.ID)
	}
	for id := range held {
		r.problem("active holds on unknown account %s", id)
	}
	r.charges(charges, seen)
	r.subAccounts(accts, seen)
	for cur, total := range totals {
		r.Totals[cur] = total.String()
		if total != 0 {
			r.problem("currency %s: entries sum to %s, not 0", cur, total)
		}
	}
	return r, nil
}

// movements are what the entries say of charges: refunded, by the charge's id,
// and charged, by movement id; and the transfers' entries and the entries that
// name a sub-account.
type movements struct {
	refunded, charged map[string]Amount
	transfers         map[string][]Entry
	bySub             map[int64]Entry // by sequence (a map: movements is passed by value)
}

// holds sums the active holds by the account whose funds they reserve (payer:
// a shared sub-account's parent).
func (r *CheckReport) holds(holds []Hold, payer map[string]string) map[string]Amount {
	held := map[string]Amount{}
	for _, h := range holds {
		id := h.AccountID
		if p, ok := payer[id]; ok {
			id = p
		}
		held[id] += h.Amount
		if h.Amount <= 0 {
			r.problem("hold %s: amount %s is not positive", h.ID, h.Amount)
		}
	}
	return held
}

// entries checks an account's entries, oldest first, and returns their sum.
func (r *CheckReport) entries(a Account, entries []Entry, seen movements) Amount {
	var sum Amount
	keys := map[string]int64{}
	for _, e := range entries {
		next, err := sum.Add(e.Amount)
		if err != nil {
			r.problem("account %s: entries overflow at sequence %d", a.ID, e.Seq)
		}
		sum = next
		if e.BalanceAfter != sum {
			r.problem("account %s: entry %d records balance %s, running sum is %s", a.ID, e.Seq, e.BalanceAfter, sum)
		}
		if e.IdempotencyKey != "" {
			if prev, dup := keys[e.IdempotencyKey]; dup {
				r.problem("account %s: idempotency key %q on entries %d and %d", a.ID, e.IdempotencyKey, prev, e.Seq)
			}
			keys[e.IdempotencyKey] = e.Seq
		}
		switch e.Kind {
		case EntryRefund:
			seen.refunded[e.RelatedID] += e.Amount
		case EntryCharge, EntryCapture:
			seen.charged[e.MovementID] -= e.Amount
		case EntryTransfer:
			seen.transfers[e.MovementID] = append(seen.transfers[e.MovementID], e)
		}
		if e.SubAccountID != "" {
			seen.bySub[e.Seq] = e
		}
	}
	return sum
}

// account checks an account's stored state against its entries (and their sum)
// and its active holds.
func (r *CheckReport) account(a Account, entries []Entry, sum, held Amount) {
	if sum != a.Balance {
		r.problem("account %s: stored balance %s, entries sum to %s", a.ID, a.Balance, sum)
	}
	if n := len(entries); n > 0 && entries[n-1].Seq != a.Seq {
		r.problem("account %s: sequence %d, last entry %d", a.ID, a.Seq, entries[n-1].Seq)
	}
	if a.Kind != KindCustomer {
		return
	}
	floor, _ := a.AllowedMinus.Neg()
	if a.Balance < floor {
		r.problem("account %s: balance %s is below -allowedMinus (-%s)", a.ID, a.Balance, a.AllowedMinus)
	}
	if a.Held != held {
		r.problem("account %s: held %s, active holds sum to %s", a.ID, a.Held, held)
	}
	if a.MonthlySpent < 0 || a.FreeMessages < 0 {
		r.problem("account %s: negative monthly spent %s or free messages %d", a.ID, a.MonthlySpent, a.FreeMessages)
	}
}

// charges checks each charge against its entry and its refunds' entries.
func (r *CheckReport) charges(charges []Charge, seen movements) {
	for _, c := range charges {
		if c.Refunded < 0 || c.Refunded > c.Amount {
			r.problem("charge %s: refunded %s of %s", c.ID, c.Refunded, c.Amount)
		}
		if got := seen.refunded[c.ID]; got != c.Refunded {
			r.problem("charge %s: records %s refunded, refund entries sum to %s", c.ID, c.Refunded, got)
		}
		if got := seen.charged[c.ID]; got != c.Amount {
			r.problem("charge %s: records amount %s, its entry took %s", c.ID, c.Amount, got)
		}
	}
}
