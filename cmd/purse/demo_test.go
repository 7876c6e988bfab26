package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/cli"
	"github.com/purse-ledger/purse/internal/store/storetest"
)

// TestDemoAccountIsOne: the account serve --demo seeds (internal/app) is the one
// purse demo remove takes out of use (internal/cli).
func TestDemoAccountIsOne(t *testing.T) {
	if got, want := app.DemoAccountID, cli.DemoAccountID; got != want {
		t.Errorf("app.DemoAccountID = %q, want cli.DemoAccountID %q", got, want)
	}
}

const demoAuth = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" // Aladdin / open sesame

// TestDemoStaysDemo follows the README in order: serve --demo, then serve for
// real, then migrate. The published demo login used to reach the production store
// without a word. Now serve warns while the demo account is active, migrate refuses
// to carry it (or its money) along, purse demo remove takes it out of use, and the
// migration then leaves it out with a ledger that still balances.
func TestDemoStaysDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db, "--demo")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startServe(t, db)
	eventually(t, 2*time.Second, "a warning about the active demo account", func() bool {
		return strings.Contains(s.logs.String(), "DEMO ACCOUNT ACTIVE")
	})
	// Real business in the same currency, so the platform accounts carry both.
	var acc struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "Real", "--currency", "EUR", "--json")), &acc)
	mustCLI(t, s, "top-up", acc.ID, "100")
	mustCLI(t, s, "charge", acc.ID, "0.5")
	mustCLI(t, s, "charge", "acc_demo", "0.79134")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	target := storetest.FreshSchema(t)
	if out, err := runCLI(t, s, "migrate", "--from", db, "--to", target); err == nil || !strings.Contains(out, "purse demo remove") {
		t.Errorf("migrate with a funded demo account: %v\n%s", err, out)
	}

	s = startServe(t, db)
	if out := mustCLI(t, s, "demo", "remove"); !strings.Contains(out, "removed") {
		t.Errorf("demo remove: %s", out)
	}
	if status, _, _ := get(t, s.public+"/account/1/balance", map[string]string{"Authorization": demoAuth}); status != 401 {
		t.Errorf("the demo login after demo remove: %d, want 401", status)
	}
	if out := mustCLI(t, s, "balance", "acc_demo"); out != "0 EUR\n" {
		t.Errorf("demo balance after demo remove: %q", out)
	}
	if out := mustCLI(t, s, "demo", "remove"); !strings.Contains(out, "removed") {
		t.Errorf("demo remove again: %s", out)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServe(t, db)
	time.Sleep(300 * time.Millisecond) // log lines are written every 100 ms
	if strings.Contains(s.logs.String(), "DEMO ACCOUNT ACTIVE") {
		t.Error("a removed demo account is still warned about")
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	out, err := runCLI(t, s, "migrate", "--from", db, "--to", target)
	if err != nil || !strings.Contains(out, "left out demo account acc_demo") {
		t.Fatalf("migrate after demo remove: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{
		`SELECT count(*) FROM accounts WHERE id = 'acc_demo'`,
		`SELECT count(*) FROM entries WHERE account_id = 'acc_demo'`,
		`SELECT count(*) FROM users WHERE username = 'Aladdin'`,
		`SELECT count(*) FROM demo_accounts`,
	} {
		var n int
		if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d %v, want 0", q, n, err)
		}
	}
	if out, err := runCLI(t, s, "check", "--db", target); err != nil {
		t.Errorf("check on the target: %v\n%s", err, out)
	}
	n := startNode(t, target, "--oauth-secret-file", db+".oauth-secret") // the secret is not in the store
	if status, _, _ := get(t, n.public+"/account/1/balance", map[string]string{"Authorization": demoAuth}); status != 401 {
		t.Errorf("the demo login on the migrated store: %d, want 401", status)
	}

	// --demo on a store whose demo account was removed starts, and says why there is no demo.
	s = startServe(t, db, "--demo")
	eventually(t, 2*time.Second, "a note that the demo account was removed", func() bool {
		return strings.Contains(s.logs.String(), "demo account was removed")
	})
}
