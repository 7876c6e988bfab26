package ledger

import (
	"context"
	"strings"
	"testing"
)

// memRecords is a store's rows held in memory, for Check.
type memRecords struct {
	accounts []Account
	entries  map[string][]Entry
	holds    []Hold
}

func (m *memRecords) LoadAccounts(context.Context) ([]Account, error) { return m.accounts, nil }
func (m *memRecords) Entries(_ context.Context, id string) ([]Entry, error) {
	return m.entries[id], nil
}
func (m *memRecords) ActiveHolds(context.Context) ([]Hold, error) { return m.holds, nil }
func (m *memRecords) Charges(context.Context) ([]Charge, error)   { return nil, nil }

// subLedger is a consistent ledger: a parent that was topped up 10, transferred 4
// to its own-funded sub-account, and holds 1 for its shared sub-account.
func subLedger() *memRecords {
	m := &memRecords{entries: map[string][]Entry{}}
	m.accounts = []Account{
		{ID: "sys_funding_EUR", Kind: KindFunding, Currency: "EUR", Balance: -10, Seq: 1},
		{ID: "p", Kind: KindCustomer, Currency: "EUR", Balance: 6, Held: 1, Seq: 3},
		{ID: "own", Kind: KindCustomer, Currency: "EUR", ParentID: "p", Funding: FundingOwn, Balance: 4, Seq: 4},
		{ID: "shared", Kind: KindCustomer, Currency: "EUR", ParentID: "p", Funding: FundingShared},
	}
	m.entries["sys_funding_EUR"] = []Entry{{Seq: 1, MovementID: "settle_1", AccountID: "sys_funding_EUR", Kind: EntrySettlement, Amount: -10, BalanceAfter: -10}}
	m.entries["p"] = []Entry{
		{Seq: 2, MovementID: "m1", AccountID: "p", Kind: EntryTopUp, Amount: 10, BalanceAfter: 10},
		{Seq: 3, MovementID: "t1", AccountID: "p", Kind: EntryTransfer, Amount: -4, BalanceAfter: 6, RelatedID: "own"},
	}
	m.entries["own"] = []Entry{{Seq: 4, MovementID: "t1", AccountID: "own", Kind: EntryTransfer, Amount: 4, BalanceAfter: 4, RelatedID: "p"}}
	m.holds = []Hold{{ID: "h1", AccountID: "shared", Amount: 1, Status: HoldActive}}
	return m
}

func TestCheckSubAccounts(t *testing.T) {
	rep, err := Check(context.Background(), subLedger())
	if err != nil || !rep.OK() {
		t.Fatalf("a consistent ledger: %v %v", rep.Problems, err)
	}
	tests := []struct {
		name   string
		break_ func(m *memRecords)
		want   string
	}{
		{"a transfer's other entry missing", func(m *memRecords) {
			m.entries["own"] = nil
			m.accounts[2].Balance, m.accounts[2].Seq = 0, 0
			m.accounts[0].Balance = -6 // keeps the currency's sum at zero
			m.entries["sys_funding_EUR"][0].Amount, m.entries["sys_funding_EUR"][0].BalanceAfter = -6, -6
		}, "transfer t1: 1 entries, not 2"},
		{"a transfer that does not balance", func(m *memRecords) {
			m.entries["own"][0].Amount, m.entries["own"][0].BalanceAfter, m.accounts[2].Balance = 5, 5, 5
		}, "do not balance"},
		{"a transfer to a shared sub-account", func(m *memRecords) { m.accounts[2].Funding = FundingShared }, "not a main account and its own-funded sub-account"},
		{"a sub-account of a sub-account", func(m *memRecords) { m.accounts[3].ParentID = "own" }, "is a sub-account itself"},
		{"a shared sub-account with money", func(m *memRecords) { m.accounts[3].Held = 1 }, "shared funding, yet"},
		{"a hold not reserved on the parent", func(m *memRecords) { m.accounts[1].Held = 0 }, "account p: held 0, active holds sum to 0.000001"},
		{"an entry naming an own-funded sub-account", func(m *memRecords) { m.entries["p"][0].SubAccountID = "own" }, "not a shared sub-account of it"},
		{"a sub-account in another currency", func(m *memRecords) { m.accounts[3].Currency = "USD" }, "its parent's EUR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := subLedger()
			tt.break_(m)
			rep, err := Check(context.Background(), m)
			if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "; "), tt.want) {
				t.Errorf("problems %v (%v), want one with %q", rep.Problems, err, tt.want)
			}
		})
	}
}
