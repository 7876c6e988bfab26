package storetest_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// build writes a small, valid ledger and returns its path and an account id.
func build(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(ctx, st, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Do(ctx, engine.CreateAccount{Name: "c", Currency: "EUR"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Value.(ledger.Account).ID
	must := func(cmd engine.Command) any {
		r, err := eng.Do(ctx, cmd, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Value
	}
	must(engine.TopUp{AccountID: acc, Amount: 10_000_000})
	ch := must(engine.Charge{AccountID: acc, Amount: 3_000_000}).(ledger.Entry)
	must(engine.Refund{AccountID: acc, ChargeID: ch.MovementID, Amount: ptr(ledger.Amount(1_000_000))})
	must(engine.CreateHold{AccountID: acc, Amount: 2_000_000, ExpiresIn: engine.MaxHoldTTL})
	eng.Close()
	st.Close()
	return path, acc
}

func ptr[T any](v T) *T { return &v }

func run(t *testing.T, path string) *ledger.CheckReport {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := ledger.Check(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCheckFindsCorruption tampers with a valid store behind purse's back, one
// invariant at a time, and expects ledger.Check to name each break.
func TestCheckFindsCorruption(t *testing.T) {
	path, _ := build(t)
	if rep := run(t, path); !rep.OK() || rep.Entries == 0 || rep.Holds != 1 || rep.Charges != 1 {
		t.Fatalf("valid store: %+v", rep)
	}
	tests := []struct {
		name, sql, want string
	}{
		{"stored balance", `UPDATE accounts SET balance = balance + 1 WHERE kind = 'customer'`, "stored balance"},
		{"held amount", `UPDATE accounts SET held = 0 WHERE kind = 'customer'`, "active holds sum"},
		{"refund record", `DELETE FROM charge_refunds`, "refund entries sum"},
		{"overdraft", `UPDATE accounts SET balance = -5000000 WHERE kind = 'customer'`, "below -allowedMinus"},
		// The newest block is the last batch's settlement entry on the revenue account.
		{"one-sided entry", `DROP TRIGGER entry_blocks_no_delete; DELETE FROM entry_blocks WHERE first_seq = (SELECT max(first_seq) FROM entry_blocks)`, "not 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := build(t)
			db, err := sql.Open("sqlite", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			rep := run(t, p)
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), tt.want) {
				t.Errorf("problems = %q, want one saying %q", rep.Problems, tt.want)
			}
		})
	}
}

func TestEntriesAreAppendOnly(t *testing.T) {
	path, _ := build(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE entry_blocks SET n = 1`, `DELETE FROM entry_blocks`} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: err = %v, want the immutability trigger", q, err)
		}
	}
}
