package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestBackfillHours: a store whose entries were written before balance_hours
// existed gets the same hours on open as the batches would have written.
func TestBackfillHours(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	eng, err := engine.Open(ctx, s, engine.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	r, err := eng.Do(ctx, engine.CreateAccount{Name: "old", Currency: "EUR"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := r.Value.(ledger.Account).ID
	for i, cmd := range []engine.Command{engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("50")},
		engine.Charge{AccountID: id, Amount: ledger.MustParseAmount("1.25")}, engine.Charge{AccountID: id, Amount: ledger.MustParseAmount("2")}} {
		at = at.Add(time.Duration(i) * 3 * time.Hour)
		if _, err := eng.Do(ctx, cmd, nil); err != nil {
			t.Fatal(err)
		}
	}
	eng.Close()
	from, to := at.Add(-48*time.Hour), at.Add(time.Hour)
	want, err := s.BalanceSeries(ctx, id, from, to, time.Hour)
	if err != nil || len(want.Points) != 3 {
		t.Fatalf("series as written: %+v %v", want, err)
	}
	// As a store from before migration 0015 looks once migrated: no hours, the work pending.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM balance_hours; INSERT INTO settings (key, value) VALUES ('balance_hours_backfill', 'pending')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.BalanceSeries(ctx, id, from, to, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("backfilled series (-got +want):\n%s", diff)
	}
	if v, _ := s.Setting(ctx, "balance_hours_backfill"); v != "" {
		t.Errorf("the backfill is still marked %q", v)
	}
}
