package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

func open(t *testing.T, path string) (*sqlite.Store, *engine.Engine) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(context.Background(), st, engine.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return st, eng
}

func createAccount(t *testing.T, eng *engine.Engine, currency string) string {
	t.Helper()
	res, err := eng.Do(context.Background(), engine.CreateAccount{Name: "a", Currency: currency}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Value.(ledger.Account).ID
}

// checkInvariants proves, from the store alone, that every stored balance is the
// sum of its entries and the balance recorded on its last entry, and that each
// currency's entries sum to zero.
func checkInvariants(t *testing.T, st *sqlite.Store) map[string]ledger.Amount {
	t.Helper()
	accts, err := st.LoadAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	perCurrency := map[string]ledger.Amount{}
	balances := map[string]ledger.Amount{}
	for _, a := range accts {
		entries, err := st.Entries(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sum ledger.Amount
		for _, e := range entries {
			sum += e.Amount
			if e.BalanceAfter != sum {
				t.Errorf("%s entry %d: balanceAfter %s, running sum %s", a.ID, e.Seq, e.BalanceAfter, sum)
			}
		}
		if sum != a.Balance {
			t.Errorf("%s: stored balance %s, entries sum to %s", a.ID, a.Balance, sum)
		}
		if n := len(entries); n > 0 && entries[n-1].Seq != a.Seq {
			t.Errorf("%s: seq %d, last entry %d", a.ID, a.Seq, entries[n-1].Seq)
		}
		perCurrency[a.Currency] += sum
		balances[a.ID] = a.Balance
	}
	for cur, s := range perCurrency {
		if s != 0 {
			t.Errorf("%s entries sum to %s, want 0", cur, s)
		}
	}
	return balances
}

func TestConcurrentTopUpsAreExactAndDoubleEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	st, eng := open(t, path)
	accts := []string{createAccount(t, eng, "EUR"), createAccount(t, eng, "EUR"), createAccount(t, eng, "USD")}
	const workers, each = 16, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				acc := accts[(w+i)%len(accts)]
				amt := ledger.Amount(1 + (w*each+i)%7) // micro-units, so sums are exact
				if _, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: amt}, nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	want := map[string]ledger.Amount{}
	for w := 0; w < workers; w++ {
		for i := 0; i < each; i++ {
			want[accts[(w+i)%len(accts)]] += ledger.Amount(1 + (w*each+i)%7)
		}
	}
	for _, id := range accts {
		a, _ := eng.Account(id)
		if a.Balance != want[id] {
			t.Errorf("%s: in-memory balance %d, want %d", id, a.Balance, want[id])
		}
	}
	eng.Close()
	stored := checkInvariants(t, st)
	for _, id := range accts {
		if stored[id] != want[id] {
			t.Errorf("%s: stored balance %d, want %d", id, stored[id], want[id])
		}
	}
	st.Close()
	// Start-up loads stored balances and resumes the sequence.
	st2, eng2 := open(t, path)
	defer st2.Close()
	defer eng2.Close()
	for _, id := range accts {
		if a, _ := eng2.Account(id); a.Balance != want[id] {
			t.Errorf("after reopen %s = %d, want %d", id, a.Balance, want[id])
		}
	}
	if _, err := eng2.Do(context.Background(), engine.TopUp{AccountID: accts[0], Amount: 1}, nil); err != nil {
		t.Fatal(err)
	}
	eng2.Close()
	checkInvariants(t, st2)
}

func TestFailedCommitChangesNothing(t *testing.T) {
	st, eng := open(t, filepath.Join(t.TempDir(), "p.db"))
	defer eng.Close()
	acc := createAccount(t, eng, "EUR")
	if _, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 5}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close() // every later commit fails
	_, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 7}, nil)
	if !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if a, _ := eng.Account(acc); a.Balance != 5 {
		t.Errorf("balance = %d after a failed commit, want 5", a.Balance)
	}
}

func TestRuleFailureInABatchLeavesTheRestIntact(t *testing.T) {
	st, eng := open(t, filepath.Join(t.TempDir(), "p.db"))
	defer st.Close()
	acc := createAccount(t, eng, "EUR")
	// Interleave valid top-ups with ones that fail validation; many land in one batch.
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			amt := ledger.Amount(1)
			if i%2 == 1 {
				amt = ledger.Amount(-1)
			}
			_, errs[i] = eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: amt, Reference: fmt.Sprint(i)}, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var v *ledger.ValidationError
		if (i%2 == 1) != errors.As(err, &v) {
			t.Errorf("request %d: err = %v", i, err)
		}
	}
	eng.Close()
	if got := checkInvariants(t, st)[acc]; got != 100 {
		t.Errorf("balance = %d, want 100", got)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	st, eng := open(t, path)
	defer st.Close()
	defer eng.Close()
	if _, err := sqlite.Open(context.Background(), path); !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
}
