package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
)

func TestSQLiteContract(t *testing.T) { Run(t, SQLite) }

func TestPostgresContract(t *testing.T) {
	PostgresURL(t)
	Run(t, Postgres)
}

// TestPostgresAccountsAreKept: the batch tables keep no foreign key to accounts
// (migration 0006), so PostgreSQL itself refuses to delete an account, with or
// without history.
func TestPostgresAccountsAreKept(t *testing.T) {
	u := FreshSchema(t)
	e := start(t, func() Store {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
	id := e.account("Kept", "EUR")
	e.must(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("5")}) // also makes the platform's funding account
	e.stop()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{`DELETE FROM accounts WHERE id = $1`, `DELETE FROM accounts WHERE id <> $1`} {
		if _, err := conn.Exec(context.Background(), q, id); err == nil || !strings.Contains(err.Error(), "never deleted") {
			t.Errorf("%s: %v, want the trigger's refusal", q, err)
		}
	}
}

// TestPostgresIdleNodeSyncsNothing: an idle node's expiry ticks (every 5 ms here)
// make nothing durable, so they write nothing: no sync row moves.
func TestPostgresIdleNodeSyncsNothing(t *testing.T) {
	u := FreshSchema(t)
	e := start(t, func() Store {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
	id := e.account("Busy once", "EUR")
	e.must(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("5")})
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	syncs := func() (n int64) {
		t.Helper()
		if err := conn.QueryRow(context.Background(), `SELECT coalesce(sum(syncs), 0) FROM sync_marks`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := syncs()
	if before == 0 {
		t.Fatal("the top-up was acknowledged without a sync")
	}
	time.Sleep(300 * time.Millisecond) // about 60 ticks
	if after := syncs(); after != before {
		t.Errorf("an idle node synced %d times in 300 ms", after-before)
	}
}
