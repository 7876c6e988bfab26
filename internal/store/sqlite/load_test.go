package sqlite

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/purse-ledger/purse/internal/ledger"
)

// TestLoadAccountsRoundTrip writes accounts with awkward values (a name full of
// separators, extreme amounts, no monthly limit) and reads them back exactly.
func TestLoadAccountsRoundTrip(t *testing.T) {
	s := openTemp(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 123000, time.UTC)
	want := []ledger.Account{
		{ID: "acc_a", Kind: ledger.KindCustomer, Name: "a|b||c | \x00 é\n", Currency: "EUR", Status: ledger.StatusSuspended,
			Balance: math.MinInt64, Held: 5, AllowedMinus: math.MaxInt64, MonthlyLimit: 0, HasMonthlyLimit: true, MonthlySpent: 7,
			SpentMonth: 202611, FreeMessages: 1_000_000_000, Seq: 42, Version: 3, CreatedAt: at, UpdatedAt: at.Add(time.Second)},
		{ID: "sys_funding_EUR", Kind: ledger.KindFunding, Name: "", Currency: "EUR", Status: ledger.StatusActive,
			Balance: math.MaxInt64, CreatedAt: at, UpdatedAt: at},
	}
	commitAndLoad(t, s, &ledger.Batch{Accounts: want}, want...)
}

// commitAndLoad commits b as the engine does and checks that the store then loads
// exactly want.
func commitAndLoad(t *testing.T, s *Store, b *ledger.Batch, want ...ledger.Account) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("loaded accounts differ (-got +want):\n%s", diff)
	}
}

// TestLoadAccountsHalves: the two halves LoadAccounts reads at once (by rowid)
// make every account once, in rowid order, whatever the count (none, one, odd)
// and with rowids missing (accounts deleted in the first half, or the last).
func TestLoadAccountsHalves(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	check := func(want []ledger.Account) {
		t.Helper()
		got, err := s.LoadAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, want, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("loaded accounts differ (-got +want):\n%s", diff)
		}
	}
	check(nil)
	var all []ledger.Account
	for i := range 7 {
		a := ledger.Account{ID: fmt.Sprintf("acc_%02d", i), Kind: ledger.KindCustomer, Name: "n", Currency: "EUR",
			Status: ledger.StatusActive, Balance: ledger.Amount(i), CreatedAt: at, UpdatedAt: at}
		all = append(all, a)
		commitAndLoad(t, s, &ledger.Batch{Accounts: []ledger.Account{a}, Created: map[string]bool{a.ID: true}}, all...)
	}
	for _, gone := range []string{"acc_01", "acc_02", "acc_06"} {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, gone); err != nil {
			t.Fatal(err)
		}
	}
	check([]ledger.Account{all[0], all[3], all[4], all[5]})
}

// TestCommitUpdatesAccounts writes an account again three ways: a batch that moves
// only money (the UPDATE that leaves the settings alone), one that changes every
// setting too (the full UPDATE, after the first matched no row), and one naming an
// account that is not there without marking it created (inserted). Each reads back
// exactly as committed.
func TestCommitUpdatesAccounts(t *testing.T) {
	s := openTemp(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	a := ledger.Account{ID: "acc_a", Kind: ledger.KindCustomer, Name: "a", Currency: "EUR", Status: ledger.StatusActive,
		Balance: 100, SpentMonth: 202611, CreatedAt: at, UpdatedAt: at}
	commitAndLoad(t, s, &ledger.Batch{Accounts: []ledger.Account{a}, Created: map[string]bool{a.ID: true}}, a)

	money := a
	money.Balance, money.Held, money.MonthlySpent, money.FreeMessages, money.Seq, money.Version = 40, 10, 60, 3, 7, 1
	money.UpdatedAt = at.Add(time.Second)
	commitAndLoad(t, s, &ledger.Batch{Accounts: []ledger.Account{money}}, money)

	for _, change := range []func(*ledger.Account){
		func(x *ledger.Account) { x.Status = ledger.StatusSuspended },
		func(x *ledger.Account) { x.Name = "renamed" },
		func(x *ledger.Account) { x.AllowedMinus = 500 },
		func(x *ledger.Account) { x.MonthlyLimit, x.HasMonthlyLimit = 0, true },
		func(x *ledger.Account) { x.MonthlyLimit = 900 },
		func(x *ledger.Account) { x.HasMonthlyLimit, x.MonthlyLimit = false, 0 },
	} {
		change(&money)
		money.Balance--
		money.Version++
		commitAndLoad(t, s, &ledger.Batch{Accounts: []ledger.Account{money}}, money)
	}

	b := ledger.Account{ID: "acc_b", Kind: ledger.KindCustomer, Name: "b", Currency: "EUR", Status: ledger.StatusActive,
		Balance: 5, CreatedAt: at, UpdatedAt: at}
	commitAndLoad(t, s, &ledger.Batch{Accounts: []ledger.Account{money, b}}, money, b)
}

// BenchmarkLoadAccounts reads 200,000 accounts, as start-up does (5a of the
// benchmark has a million): go test -run - -bench LoadAccounts ./internal/store/sqlite
func BenchmarkLoadAccounts(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	const n = 200_000
	if _, err := s.db.Exec(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ? - 1)
		INSERT INTO accounts (id, kind, name, currency, status, balance, seq, created_at, updated_at, spent_month, version)
		SELECT printf('acc_%07d', x), 'customer', 'bench account', 'EUR', 'active', 10000000, x, 1, 1, 202611, 1 FROM c`, n); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		accts, err := s.LoadAccounts(ctx)
		if err != nil || len(accts) != n {
			b.Fatalf("%d accounts, %v", len(accts), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/account")
}
