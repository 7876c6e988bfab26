package sqlite

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// walFrames is how many frames the -wal file has room for (its size: SQLite
// reuses the file from its start after a restart and never shrinks it).
func walFrames(t *testing.T, s *Store) int {
	t.Helper()
	st, err := os.Stat(s.path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Size() / (4096 + 24)) // a frame is a page and its 24-byte header
}

// commitMany commits at least n one-account batches on the writer connection, as
// the engine does, for at least 1.5 s (so that the checkpointer runs many times),
// and returns how many it committed and in how long.
func commitMany(t *testing.T, s *Store, n int) (commits int, took time.Duration) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	start := time.Now()
	i := 0
	for ; i < n || time.Since(start) < 1500*time.Millisecond; i++ {
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := ledger.Account{ID: "acc_wal", Kind: ledger.KindCustomer, Currency: "EUR", Status: ledger.StatusActive,
			Balance: ledger.Amount(i), Seq: int64(i), Version: int64(i), CreatedAt: at, UpdatedAt: at}
		if err := tx.Commit(ctx, &ledger.Batch{Accounts: []ledger.Account{a}}); err != nil {
			t.Fatal(err)
		}
	}
	return i, time.Since(start)
}

// TestCheckpointerKeepsWALSmall: the writer connection does not checkpoint by
// itself, so without the checkpointer a steady stream of batches grows the WAL
// without end (the control half); with it, the WAL is copied into the database and
// restarted, and stays near checkpointFrames frames however much is written: past
// them by what the writer commits between two of the checkpointer's passes, not by
// what it commits in all.
func TestCheckpointerKeepsWALSmall(t *testing.T) {
	const commits = 6 * checkpointFrames // at least one frame each
	ctx := context.Background()
	control := openTemp(t)
	if _, err := control.writerConn(ctx); err != nil {
		t.Fatal(err)
	}
	control.stopCheckpointer()
	n, _ := commitMany(t, control, commits)
	written := walFrames(t, control)
	if written < n {
		t.Fatalf("without the checkpointer the WAL has room for %d frames after %d commits: "+
			"the writer connection checkpointed by itself", written, n)
	}
	perCommit := float64(written) / float64(n)

	s := openTemp(t)
	n, took := commitMany(t, s, commits)
	// What the writer appends in one checkpointer interval at the rate just measured;
	// the WAL may hold that much beyond checkpointFrames a few times over (a pass
	// that found fewer frames, the locked pass, the batch that restarts the WAL).
	perTick := perCommit * float64(n) * float64(checkpointEvery) / float64(took)
	bound := 2*checkpointFrames + int(4*perTick)
	if got := walFrames(t, s); got > bound || got >= n {
		t.Fatalf("with the checkpointer the WAL grew to %d frames after %d commits (want <= %d: %.0f frames a pass)", got, n, bound, perTick)
	}
	var balance int64
	if err := s.db.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = 'acc_wal'`).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	if balance < commits-1 {
		t.Fatalf("balance %d after %d commits", balance, commits)
	}
}
