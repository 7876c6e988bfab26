// Package check proves a store's invariants offline: the rules every commit must
// keep, re-derived from what is stored. purse check runs it, and every stress and
// crash test ends with it.
package check

import (
	"context"
	"fmt"
	"sort"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Source is the read access check needs; both stores provide it.
type Source interface {
	LoadAccounts(ctx context.Context) ([]ledger.Account, error)
	Entries(ctx context.Context, accountID string) ([]ledger.Entry, error)
	ActiveHolds(ctx context.Context) ([]ledger.Hold, error)
	Charges(ctx context.Context) ([]ledger.Charge, error)
}

// Report is the outcome of a check. OK is true when Problems is empty.
type Report struct {
	Accounts int      `json:"accounts"`
	Entries  int      `json:"entries"`
	Holds    int      `json:"activeHolds"`
	Charges  int      `json:"charges"`
	Problems []string `json:"problems"`
	// Totals per currency: the sum of every entry, which must be zero.
	Totals map[string]string `json:"totals"`
}

// OK reports whether every invariant holds.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, a ...any) {
	if len(r.Problems) < 1000 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
	}
}

// Run checks every invariant:
//   - each entry's balanceAfter is the running sum of its account's entries;
//   - each stored balance equals that sum and the last entry's balanceAfter, and
//     the account's sequence is its last entry's;
//   - the entries of each currency sum to zero (double entry);
//   - no customer account is below -allowedMinus;
//   - each account's held amount equals its active holds;
//   - no charge is refunded beyond its amount, and the refund entries of each
//     charge add up to what it records as refunded;
//   - no Idempotency-Key appears on two entries of an account.
func Run(ctx context.Context, src Source) (*Report, error) {
	r := &Report{Problems: []string{}, Totals: map[string]string{}}
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
	held := map[string]ledger.Amount{}
	for _, h := range holds {
		held[h.AccountID] += h.Amount
		if h.Amount <= 0 {
			r.problem("hold %s: amount %s is not positive", h.ID, h.Amount)
		}
	}
	charges, err := src.Charges(ctx)
	if err != nil {
		return nil, err
	}
	r.Charges = len(charges)
	refundedByEntries := map[string]ledger.Amount{}
	chargeEntries := map[string]ledger.Amount{}
	totals := map[string]ledger.Amount{}
	for _, a := range accts {
		entries, err := src.Entries(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		r.Entries += len(entries)
		var sum ledger.Amount
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
			case ledger.EntryRefund:
				refundedByEntries[e.RelatedID] += e.Amount
			case ledger.EntryCharge, ledger.EntryCapture:
				chargeEntries[e.MovementID] -= e.Amount
			}
		}
		if sum != a.Balance {
			r.problem("account %s: stored balance %s, entries sum to %s", a.ID, a.Balance, sum)
		}
		if n := len(entries); n > 0 && entries[n-1].Seq != a.Seq {
			r.problem("account %s: sequence %d, last entry %d", a.ID, a.Seq, entries[n-1].Seq)
		}
		totals[a.Currency] += sum
		if a.Kind == ledger.KindCustomer {
			floor, _ := a.AllowedMinus.Neg()
			if a.Balance < floor {
				r.problem("account %s: balance %s is below -allowedMinus (-%s)", a.ID, a.Balance, a.AllowedMinus)
			}
			if a.Held != held[a.ID] {
				r.problem("account %s: held %s, active holds sum to %s", a.ID, a.Held, held[a.ID])
			}
			if a.MonthlySpent < 0 || a.FreeMessages < 0 {
				r.problem("account %s: negative monthly spent %s or free messages %d", a.ID, a.MonthlySpent, a.FreeMessages)
			}
		}
		delete(held, a.ID)
	}
	for id := range held {
		r.problem("active holds on unknown account %s", id)
	}
	for _, c := range charges {
		if c.Refunded < 0 || c.Refunded > c.Amount {
			r.problem("charge %s: refunded %s of %s", c.ID, c.Refunded, c.Amount)
		}
		if got := refundedByEntries[c.ID]; got != c.Refunded {
			r.problem("charge %s: records %s refunded, refund entries sum to %s", c.ID, c.Refunded, got)
		}
		if got := chargeEntries[c.ID]; got != c.Amount {
			r.problem("charge %s: records amount %s, its entry took %s", c.ID, c.Amount, got)
		}
	}
	for cur, total := range totals {
		r.Totals[cur] = total.String()
		if total != 0 {
			r.problem("currency %s: entries sum to %s, not 0", cur, total)
		}
	}
	return r, nil
}
