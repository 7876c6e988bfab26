package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/purse-ledger/purse/internal/codec"
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

// TestConvertEvents: a store written by the build with an events table (migration
// 0014) keeps every event on upgrade, sequence, id and all, in blocks; the table is
// gone, and new events go on after the newest.
func TestConvertEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, account_id TEXT NOT NULL,
		parent_id TEXT NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var want []ledger.Event
	for i := int64(1); i <= 2600; i++ {
		seq := i
		if i > 1500 {
			seq += 7 // a gap: a run of consecutive sequences ends there
		}
		e := ledger.Event{Seq: seq, ID: fmt.Sprintf("evt_b-%d", i), Type: ledger.EventEntryCreated, AccountID: fmt.Sprintf("acc_%d", i%3),
			At: at.Add(time.Duration(i) * time.Millisecond), Data: fmt.Sprintf(`{"n":%d}`, i)}
		if i%2 == 0 {
			e.ParentID = "acc_p"
		}
		want = append(want, e)
		if _, err := s.db.Exec(`INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.ID, string(e.Type), e.AccountID, e.ParentID,
			micros(e.At), e.Data); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.ListEvents(ctx, ledger.EventFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("events after conversion (-got +want):\n%s", diff)
	}
	var tables int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'events'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("events table left: %d, %v", tables, err)
	}
	// A filtered read from the middle of a block.
	sub, err := s.ListEvents(ctx, ledger.EventFilter{After: 1499, AccountID: "acc_p", WithChildren: true, Limit: 3})
	if err != nil || len(sub) != 3 || sub[0].Seq != 1500 || sub[1].Seq != 1509 || sub[2].Seq != 1511 {
		t.Fatalf("filtered: %+v, %v", sub, err)
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, &ledger.Batch{Events: []ledger.Event{{ID: "evt_c-0", Type: ledger.EventAccountCreated, AccountID: "acc_1", At: at, Data: `{}`}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.ListEvents(ctx, ledger.EventFilter{After: 2607, Limit: 10}); err != nil || len(evs) != 1 || evs[0].Seq != 2608 {
		t.Fatalf("after conversion, a new event: %+v, %v", evs, err)
	}
}

// TestEventBlockCorruptRefused: a damaged block is an error to its reader, never
// a panic nor a part of it, and the blocks before it still read.
func TestEventBlockCorruptRefused(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for i := range 2 {
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev := ledger.Event{ID: fmt.Sprintf("evt_a-%d", i), Type: ledger.EventAccountCreated, AccountID: "acc_1", At: time.Now(), Data: `{}`}
		if err := tx.Commit(ctx, &ledger.Batch{Events: []ledger.Event{ev, ev}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE event_blocks SET data = substr(data, 1, length(data) - 1) WHERE first_seq = 3`); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.ListEvents(ctx, ledger.EventFilter{Limit: 10}); !errors.Is(err, codec.ErrBadEventBlock) || evs != nil {
		t.Fatalf("corrupt block read: %+v, %v", evs, err)
	}
	if evs, err := s.ListEvents(ctx, ledger.EventFilter{Limit: 2}); err != nil || len(evs) != 2 {
		t.Fatalf("the block before: %+v, %v", evs, err)
	}
}

// TestConvertDeliveries: a store written by the build with a deliveries table
// (migration 0018) keeps every log line on upgrade, sequence and all, in blocks
// of one subscription's consecutive lines; the table is gone, and a new save's
// lines are numbered after the newest.
func TestConvertDeliveries(t *testing.T) {
	defer func(was int) { oldDeliveriesPage = was }(oldDeliveriesPage)
	oldDeliveriesPage = 300
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`CREATE TABLE deliveries (seq INTEGER PRIMARY KEY, subscription_id TEXT NOT NULL, event_id TEXT NOT NULL,
		event_seq INTEGER NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL, status INTEGER NOT NULL, latency_us INTEGER NOT NULL,
		ok INTEGER NOT NULL, snippet TEXT NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	want := map[string][]ledger.Delivery{}
	for i := int64(1); i <= 2500; i++ {
		id := []string{"whk_a", "whk_b"}[(i/1100)%2] // runs of one subscription, then the other
		seq := i
		if i > 1200 {
			seq += 3 // a gap
		}
		when := at.Add(time.Duration(i) * time.Millisecond)
		if i >= 2400 {
			when = when.Add(2 * time.Hour) // a quiet spell: more than a block's span
		}
		d := ledger.Delivery{Seq: seq, SubscriptionID: id, EventID: fmt.Sprintf("evt_b-%d", i), EventSeq: i, Attempt: int(i%4) + 1,
			At: when, Status: 200, Latency: time.Duration(i) * time.Microsecond, OK: i%5 != 0, Snippet: "ok"}
		want[id] = append([]ledger.Delivery{d}, want[id]...) // newest first, as listed
		if _, err := s.db.Exec(`INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Seq, d.SubscriptionID, d.EventID, d.EventSeq,
			d.Attempt, micros(d.At), d.Status, d.Latency.Microseconds(), d.OK, d.Snippet); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, w := range want {
		got, err := s.ListDeliveries(ctx, id, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, w); diff != "" {
			t.Fatalf("%s after conversion (-got +want):\n%s", id, diff)
		}
	}
	var tables int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("deliveries table left: %d, %v", tables, err)
	}
	// a's 1-1000 and 1001-1099 (1,000 lines at most), b's 1100-1200 and 1204-2202
	// (the gap), a's 2203-2402 and 2403-2503 (the quiet spell); runs carried
	// across reads of 300 rows.
	if got, want := deliveryBlocks(t, s), "1-1000 whk_a, 1001-1099 whk_a, 1100-1200 whk_b, 1204-2202 whk_b, 2203-2402 whk_a, 2403-2503 whk_a"; got != want {
		t.Errorf("blocks %s, want %s", got, want)
	}
	sub := ledger.Subscription{ID: "whk_a", URL: "https://example.com/h", Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if held, err := s.LeaseSubscription(ctx, "whk_a", "n1", at, at.Add(time.Hour)); !held || err != nil {
		t.Fatalf("lease: %v %v", held, err)
	}
	if err := s.SaveDelivery(ctx, "n1", sub, []ledger.Delivery{{SubscriptionID: "whk_a", EventID: "evt_c-0", At: at, Status: 200, OK: true}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListDeliveries(ctx, "whk_a", 0, 1); err != nil || len(got) != 1 || got[0].Seq != 2504 || got[0].EventID != "evt_c-0" {
		t.Fatalf("after conversion, a new line: %+v, %v", got, err)
	}
	// Pruning is bounded by lines: the oldest blocks until 1,500 lines are seen.
	if n, err := s.PruneDeliveries(ctx, at.Add(time.Hour), 1500); err != nil || n != 2199 {
		t.Errorf("pruned %d lines (%v), want 2199: the blocks up to 2202", n, err)
	}
	if got, want := deliveryBlocks(t, s), "2203-2402 whk_a, 2403-2503 whk_a, 2504-2504 whk_a"; got != want {
		t.Errorf("after the prune, blocks %s, want %s", got, want)
	}
	// The lines before the quiet spell go with the next prune (and the new line,
	// stamped at), those after it stay.
	if n, err := s.PruneDeliveries(ctx, at.Add(time.Hour), 1500); err != nil || n != 201 {
		t.Errorf("pruned %d lines (%v), want 201: 2203-2402 and 2504", n, err)
	}
	if got, want := deliveryBlocks(t, s), "2403-2503 whk_a"; got != want {
		t.Errorf("after the second prune, blocks %s, want %s", got, want)
	}
}

// deliveryBlocks lists the delivery log's blocks: "first-last subscription, ...".
func deliveryBlocks(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.db.Query(`SELECT first_seq, last_seq, subscription_id FROM delivery_blocks ORDER BY first_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var first, last int64
		var sub string
		if err := rows.Scan(&first, &last, &sub); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d-%d %s", first, last, sub))
	}
	return strings.Join(out, ", ")
}
