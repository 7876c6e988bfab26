package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

func TestSQLiteContract(t *testing.T) { Run(t, SQLite) }

func TestPostgresContract(t *testing.T) {
	PostgresURL(t)
	Run(t, Postgres)
}

// startOnPostgres runs an engine on a fresh schema, and opens a connection of the
// test's own to it.
func startOnPostgres(t *testing.T) (*env, *pgx.Conn) {
	u := FreshSchema(t)
	e := start(t, postgresAt(t, u), newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return e, conn
}

// TestPostgresAccountsAreKept: the batch tables keep no foreign key to accounts
// (migration 0006), so PostgreSQL itself refuses to delete an account, with or
// without history.
func TestPostgresAccountsAreKept(t *testing.T) {
	e, conn := startOnPostgres(t)
	id := e.account("Kept", "EUR")
	e.must(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("5")}) // also makes the platform's funding account
	e.stop()
	for _, q := range []string{`DELETE FROM accounts WHERE id = $1`, `DELETE FROM accounts WHERE id <> $1`} {
		if _, err := conn.Exec(context.Background(), q, id); err == nil || !strings.Contains(err.Error(), "never deleted") {
			t.Errorf("%s: %v, want the trigger's refusal", q, err)
		}
	}
}

// TestPostgresIdleNodeSyncsNothing: an idle node's expiry ticks (every 5 ms here)
// make nothing durable, so they write nothing: no sync row moves.
func TestPostgresIdleNodeSyncsNothing(t *testing.T) {
	e, conn := startOnPostgres(t)
	id := e.account("Busy once", "EUR")
	e.must(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("5")})
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
