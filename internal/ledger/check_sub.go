package ledger

import "sort"

// payers maps each shared sub-account to its parent, whose funds its holds reserve.
func payers(accts []Account) map[string]string {
	m := map[string]string{}
	for _, a := range accts {
		if a.Funding == FundingShared {
			m[a.ID] = a.ParentID
		}
	}
	return m
}

// subAccounts checks what sub-accounts promise: a parent that is a main customer
// account of the same currency, a funding mode on sub-accounts only, no money of
// a shared sub-account's own, entries that name a shared sub-account only on its
// parent, and transfers that balance.
func (r *CheckReport) subAccounts(accts []Account, seen movements) {
	byID := make(map[string]*Account, len(accts))
	for i := range accts {
		byID[accts[i].ID] = &accts[i]
	}
	for i := range accts {
		r.subAccount(&accts[i], byID)
	}
	seqs := make([]int64, 0, len(seen.bySub))
	for seq := range seen.bySub {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		e := seen.bySub[seq]
		sub := byID[e.SubAccountID]
		if sub == nil || sub.Funding != FundingShared || sub.ParentID != e.AccountID {
			r.problem("entry %d of account %s names %s, which is not a shared sub-account of it", e.Seq, e.AccountID, e.SubAccountID)
		}
	}
	ids := make([]string, 0, len(seen.transfers))
	for id := range seen.transfers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r.transfer(id, seen.transfers[id], byID)
	}
}

func (r *CheckReport) subAccount(a *Account, byID map[string]*Account) {
	if a.ParentID == "" {
		if a.Funding != "" || a.Disabled {
			r.problem("account %s: a main account with funding %q or disabled", a.ID, a.Funding)
		}
		return
	}
	p := byID[a.ParentID]
	switch {
	case p == nil || p.Kind != KindCustomer || a.Kind != KindCustomer:
		r.problem("account %s: parent %s is not a customer account", a.ID, a.ParentID)
	case p.ParentID != "":
		r.problem("account %s: parent %s is a sub-account itself", a.ID, a.ParentID)
	case p.Currency != a.Currency:
		r.problem("account %s: currency %s, its parent's %s", a.ID, a.Currency, p.Currency)
	case !a.Funding.Valid():
		r.problem("account %s: funding %q", a.ID, a.Funding)
	case a.Funding == FundingShared && (a.Balance != 0 || a.Held != 0 || a.Seq != 0):
		r.problem("account %s: shared funding, yet a balance %s, held %s or entries of its own", a.ID, a.Balance, a.Held)
	}
}

// transfer checks one transfer's entries: two, mirror images, between a main
// account and its own-funded sub-account.
func (r *CheckReport) transfer(id string, es []Entry, byID map[string]*Account) {
	if len(es) != 2 {
		r.problem("transfer %s: %d entries, not 2", id, len(es))
		return
	}
	a, b := es[0], es[1]
	if sum, err := a.Amount.Add(b.Amount); err != nil || sum != 0 || a.Amount == 0 {
		r.problem("transfer %s: entries of %s and %s do not balance", id, a.Amount, b.Amount)
	}
	if a.RelatedID != b.AccountID || b.RelatedID != a.AccountID {
		r.problem("transfer %s: its entries do not name each other's accounts", id)
		return
	}
	x, y := byID[a.AccountID], byID[b.AccountID]
	if x == nil || y == nil {
		r.problem("transfer %s: an unknown account", id)
		return
	}
	sub, main := x, y
	if y.ParentID == x.ID {
		sub, main = y, x
	}
	if sub.ParentID != main.ID || sub.Funding != FundingOwn {
		r.problem("transfer %s: between %s and %s, not a main account and its own-funded sub-account", id, a.AccountID, b.AccountID)
	}
}
