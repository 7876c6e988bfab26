package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// TestEventsHiddenUntilSynced: a committed batch's events are not listed before a
// Sync makes them durable (a machine crash in between would lose them), and are
// after it; a reopened store lists what its file holds.
func TestEventsHiddenUntilSynced(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "purse.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := ledger.Event{ID: "evt_a-0", Type: ledger.EventAccountCreated, AccountID: "acc_1", At: time.Now(), Data: `{}`}
	if err := tx.Commit(ctx, &ledger.Batch{Events: []ledger.Event{ev, ev}}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.ListEvents(ctx, ledger.EventFilter{Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("before Sync: %d events, %v", len(evs), err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.ListEvents(ctx, ledger.EventFilter{Limit: 10}); err != nil || len(evs) != 2 || evs[1].Seq != evs[0].Seq+1 {
		t.Fatalf("after Sync: %+v, %v", evs, err)
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if evs, _ := s.ListEvents(ctx, ledger.EventFilter{Limit: 10}); len(evs) != 2 {
		t.Fatalf("after reopening: %d events", len(evs))
	}
}
