package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// TestSeedConsole runs the console target's seeding short: the charges spread
// over the month, one hour of balance_hours per batch, the balance exact.
func TestSeedConsole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.db")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	id, err := seedConsole(path, 3000, now)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.BalanceSeries(context.Background(), id, now.Add(-31*24*time.Hour), now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var charges int64
	for _, p := range s.Points {
		charges += p.Charges
	}
	if len(s.Points) != 3 || charges != 3000 || s.Points[2].Balance.String() != "99999997" {
		t.Errorf("series %+v (%d charges)", s.Points, charges)
	}
}
