package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// TestPostgresChargesMoveToRefunds: migration 0007 keeps what a store made before
// it knew: a charge's refunded amount moves from its charges row to
// charge_refunds, and what is left to refund is still what it was.
func TestPostgresChargesMoveToRefunds(t *testing.T) {
	u := FreshSchema(t)
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	open := postgresAt(t, u)
	e := start(t, open, clock)
	a := e.account("Before", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: ledger.MustParseAmount("10")})
	ch := e.must(engine.Charge{AccountID: a, Amount: ledger.MustParseAmount("4")}).(ledger.Entry)
	plain := e.must(engine.Charge{AccountID: a, Amount: ledger.MustParseAmount("2")}).(ledger.Entry)
	e.stop()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// The tables as version 0006 left them, with 1 of the first charge refunded.
	for _, q := range []string{
		`DROP TABLE charge_refunds`,
		`DELETE FROM schema_migrations WHERE version = 7`,
		`CREATE TABLE charges (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, amount BIGINT NOT NULL,
			refunded BIGINT NOT NULL DEFAULT 0 CHECK (refunded <= amount), free_message BOOLEAN NOT NULL DEFAULT false,
			created_at BIGINT NOT NULL)`,
		`INSERT INTO charges SELECT movement_id, account_id, -amount, CASE WHEN movement_id = '` + ch.MovementID + `' THEN 1000000 ELSE 0 END,
			free_message, created_at FROM entries WHERE kind = 'charge'`,
		`UPDATE accounts SET balance = balance + 1000000 WHERE id = '` + a + `'`,
		`UPDATE accounts SET balance = balance - 1000000 WHERE kind = 'revenue'`,
	} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e = start(t, open, clock)
	var gone bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass('charges') IS NULL`).Scan(&gone); err != nil || !gone {
		t.Fatalf("charges table still there (%v)", err)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM charge_refunds`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows in charge_refunds (%v), want the one refunded charge", n, err)
	}
	e.refused(engine.Refund{AccountID: a, ChargeID: ch.MovementID, Amount: ptr(ledger.MustParseAmount("3.000001"))}, ledger.ErrRefundExceedsCharge)
	e.must(engine.Refund{AccountID: a, ChargeID: ch.MovementID})
	e.must(engine.Refund{AccountID: a, ChargeID: plain.MovementID})
	if got := e.balance(a); got != ledger.MustParseAmount("10") {
		t.Errorf("balance %s after refunding both charges, want 10", got)
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

// TestPostgresSubAccountsTwoNodes: two nodes on one database charge a parent, its
// shared sub-account and its own-funded one, and transfer between them, at once:
// the row-locking engine locks a shared sub-account's parent with it, so every
// account ends exact and check passes.
func TestPostgresSubAccountsTwoNodes(t *testing.T) {
	u := FreshSchema(t)
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	open := postgresAt(t, u)
	e1 := start(t, open, clock)
	main := e1.account("main", "EUR")
	shared := e1.sub(main, "shared", ledger.FundingShared)
	own := e1.sub(main, "own", ledger.FundingOwn)
	e1.must(engine.TopUp{AccountID: main, Amount: amt("50")})
	e1.must(engine.Transfer{From: main, To: own, Amount: amt("20")})
	e2 := start(t, open, clock)
	ok := ConcurrentSubAccountLoad(t, []*engine.Engine{e1.eng, e2.eng}, main, shared, own)
	if ok.main+ok.shared+ok.moved == 0 || ok.own == 0 {
		t.Fatalf("nothing accepted: %+v", ok)
	}
	e1.stop()
	e2.stop()
	e := start(t, open, clock)
	if got, want := e.balance(main), amt("30")-ok.main-ok.shared-ok.moved; got != want {
		t.Errorf("main %s, want %s", got, want)
	}
	if got, want := e.balance(own), amt("20")-ok.own+ok.moved; got != want {
		t.Errorf("own %s, want %s", got, want)
	}
	e.check()
}

// TestPostgresLastAdminTwoNodes: two nodes each remove one of the two admins at
// the same moment; one removal wins and one admin is left, every round.
func TestPostgresLastAdminTwoNodes(t *testing.T) {
	u := FreshSchema(t)
	open := postgresAt(t, u)
	nodes := []Store{open(), open()}
	for _, n := range nodes {
		defer n.Close()
	}
	ctx := context.Background()
	admin := func(name string) {
		if err := nodes[0].InsertOperator(ctx, ledger.Operator{Name: name, Role: ledger.RoleAdmin, PasswordHash: "$argon2id$x", CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	survivor := "first"
	admin(survivor)
	for round := 0; round < 20; round++ {
		names := []string{survivor, fmt.Sprintf("admin%d", round)}
		admin(names[1])
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = nodes[i].DeleteOperator(ctx, names[i]) }()
		}
		wg.Wait()
		var removed, refused int
		for _, err := range errs {
			switch {
			case err == nil:
				removed++
			case errors.Is(err, ledger.ErrConflict):
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		ops, err := nodes[1].ListOperators(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if removed != 1 || refused != 1 || len(ops) != 1 || ops[0].Role != ledger.RoleAdmin {
			t.Fatalf("round %d: %d removed, %d refused, left %+v", round, removed, refused, ops)
		}
		survivor = ops[0].Name
	}
}

// TestPostgresFeedReloadsAfterAFailedRead: a node that cannot read the accounts
// a change names does not go on without them, stale until the connection
// happens to drop: the feed drops at once (Lost), reconnects, and reloads
// every cache (Reload, then Resynced).
func TestPostgresFeedReloadsAfterAFailedRead(t *testing.T) {
	e, _ := startOnPostgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var calls []string
	note := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
	failed := false
	h := ledger.ChangeHandlers{
		Accounts: func([]string) error {
			mu.Lock()
			defer mu.Unlock()
			if !failed {
				failed = true
				calls = append(calls, "accounts failed")
				return errors.New("the read failed")
			}
			return nil
		},
		Credentials: func() {}, Token: func() {},
		Lost:     func() { note("lost") },
		Reload:   func(context.Context) error { note("reload"); return nil },
		Resynced: func() { note("resynced") },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.store.Follow(ctx, h, slog.New(slog.DiscardHandler))
	}()
	seen := func(want string) bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(strings.Join(calls, ", "), want)
	}
	for deadline := time.Now().Add(10 * time.Second); !seen("resynced"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Follow never reported the caches current")
		}
	}
	e.account("changed", "EUR") // its commit notifies the feed
	want := "reload, resynced, accounts failed, lost, reload, resynced"
	for deadline := time.Now().Add(10 * time.Second); !seen(want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("calls %v, want them to begin %s", calls, want)
		}
	}
	cancel()
	<-done
}
