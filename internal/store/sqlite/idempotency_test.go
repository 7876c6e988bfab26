package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

func commitRecords(t *testing.T, s *Store, b *ledger.Batch) error {
	t.Helper()
	tx, err := s.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tx.Commit(context.Background(), b)
}

func records(at time.Time, keys ...string) []ledger.IdempotencyRecord {
	out := make([]ledger.IdempotencyRecord, len(keys))
	for i, k := range keys {
		out[i] = ledger.IdempotencyRecord{Key: k, RequestHash: "h-" + k, Status: 201, Body: []byte(`{"k":"` + k + `"}`), CreatedAt: at}
	}
	return out
}

// found returns which of keys have a record, checking each record is its key's own.
func found(t *testing.T, s *Store, keys ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, k := range keys {
		rec, err := s.Idempotency(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			if rec.Key != k || rec.RequestHash != "h-"+k || string(rec.Body) != `{"k":"`+k+`"}` {
				t.Fatalf("lookup of %q returned the record of %q", k, rec.Key)
			}
			out[k] = true
		}
	}
	return out
}

func rowCount(t *testing.T, s *Store) int {
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM idempotency`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIdempotencyKeysSurviveReopen: the in-memory index is rebuilt from the log.
func TestIdempotencyKeysSurviveReopen(t *testing.T) {
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprintf("collide=%v", collide), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "p.db")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			s.keys.collide = collide
			at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(at, "a", "b", "c")}); err != nil {
				t.Fatal(err)
			}
			if got := found(t, s, "a", "b", "c", "d"); len(got) != 3 || got["d"] {
				t.Fatalf("before reopen found %v, want a, b, c", got)
			}
			s.Close()
			s, err = Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.keys.collide = collide
			if collide { // re-index under the colliding hash
				if err := s.loadKeys(ctx); err != nil {
					t.Fatal(err)
				}
				s.keys.collide = true
			}
			if got := found(t, s, "a", "b", "c", "d"); len(got) != 3 || got["d"] {
				t.Fatalf("after reopen found %v, want a, b, c", got)
			}
			if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(at, "d")}); err != nil {
				t.Fatal(err)
			}
			if got := found(t, s, "a", "b", "c", "d"); len(got) != 4 {
				t.Fatalf("found %v, want a, b, c, d", got)
			}
		})
	}
}

// TestIdempotencyWindow: records older than the window (measured from the newest
// commit) are deleted and forgotten; younger ones stay.
func TestIdempotencyWindow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i, k := range []string{"old1", "old2", "mid"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(at, k)}); err != nil {
			t.Fatal(err)
		}
	}
	// 25 h after old2: old1 and old2 are out of the 24 h window, mid is not.
	if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(t0.Add(25*time.Hour+time.Minute), "new")}); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "old1", "old2", "mid", "new"); got["old1"] || got["old2"] || !got["mid"] || !got["new"] {
		t.Fatalf("found %v, want mid and new only", got)
	}
	if n := rowCount(t, s); n != 2 {
		t.Fatalf("%d records on disk, want 2", n)
	}
	s.Close()

	// Start-up measures the window from the newest record, not the wall clock.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "mid", "new"); len(got) != 2 {
		t.Fatalf("after reopen found %v, want mid and new", got)
	}
	s.Close()

	// A shorter window forgets at start-up what is older than it (mid is 23 h 1 min
	// older than new); the next commit deletes what fell out of it.
	s, err = Open(ctx, path, WithIdempotencyWindow(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := found(t, s, "mid", "new"); got["mid"] || !got["new"] {
		t.Fatalf("with a 1 h window found %v, want new only", got)
	}
	if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(t0.Add(27*time.Hour), "newer")}); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "new", "newer"); got["new"] || !got["newer"] {
		t.Fatalf("found %v, want newer only", got)
	}
	if n := rowCount(t, s); n != 1 {
		t.Fatalf("%d records on disk, want 1", n)
	}
}

// TestIdempotencyFailedCommitForgetsKeys: a batch that fails to commit leaves no
// key behind, so the same key can be used by the next batch.
func TestIdempotencyFailedCommitForgetsKeys(t *testing.T) {
	s := openTemp(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	bad := &ledger.Batch{
		// An entry of an account that does not exist: the foreign key fails the commit.
		Entries:     []ledger.Entry{{Seq: 1, MovementID: "mov_x", AccountID: "acc_missing", Kind: ledger.EntryCharge, CreatedAt: at}},
		Idempotency: records(at, "k"),
	}
	if err := commitRecords(t, s, bad); err == nil {
		t.Fatal("a batch with an entry of a missing account committed")
	}
	if got := found(t, s, "k"); got["k"] {
		t.Fatal("the failed batch's key is still known")
	}
	if err := commitRecords(t, s, &ledger.Batch{Idempotency: records(at, "k")}); err != nil {
		t.Fatal(err)
	}
	if got := found(t, s, "k"); !got["k"] {
		t.Fatal("the key committed after the failure is not found")
	}
	if n := rowCount(t, s); n != 1 {
		t.Fatalf("%d records on disk, want 1", n)
	}
}
