package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/purse-ledger/purse/internal/testkit"

	"github.com/purse-ledger/purse/internal/store/storetest"
)

// TestMigrateToPostgres fills an embedded store through the API, copies it into
// PostgreSQL with purse migrate, and serves the copy: balances, credentials, holds
// and idempotency records all came along.
func TestMigrateToPostgres(t *testing.T) {
	target := storetest.FreshSchema(t)
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db, "--demo")
	var acc struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "M", "--currency", "USD", "--json")), &acc)
	mustCLI(t, s, "top-up", acc.ID, "12.5", "--idempotency-key", "m1")
	mustCLI(t, s, "charge", acc.ID, "2.25", "--idempotency-key", "m2")
	var h struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "hold", "create", acc.ID, "1", "--json")), &h)
	mustCLI(t, s, "users", "add", acc.ID, "--username", "mig", "--password", "password1")
	// Sub-accounts: their parent, funding and switch, a transfer and a shared
	// sub-account's charge naming it come along, and the copy passes check.
	own := strings.TrimSpace(mustCLI(t, s, "sub-accounts", "create", acc.ID, "-q", "--name", "own", "--funding", "own"))
	shared := strings.TrimSpace(mustCLI(t, s, "sub-accounts", "create", acc.ID, "-q", "--name", "shared", "--funding", "shared"))
	mustCLI(t, s, "transfer", acc.ID, own, "1.5", "--idempotency-key", "m3")
	mustCLI(t, s, "charge", shared, "0.25", "--idempotency-key", "m4")
	mustCLI(t, s, "accounts", "update", shared, "--enabled", "false")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, s, "migrate", "--from", db, "--to", target, "--include-demo")
	if err != nil || !strings.Contains(out, "the target passes purse check") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := runCLI(t, s, "migrate", "--from", db, "--to", target, "--include-demo"); err == nil || !strings.Contains(out, "empty database") {
		t.Errorf("second migrate into a full database: %v %s", err, out)
	}
	// The OAuth2 token secret is not in the store: the node is given the file
	// the SQLite store used, so tokens issued before the move stay valid.
	n := startNode(t, target, "--oauth-secret-file", db+".oauth-secret")
	status, body, _ := get(t, n.public+"/account/1/balance", map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="})
	if status != 200 || body != `{"balance":47.79134,"currency":"EUR"}` {
		t.Errorf("demo account on PostgreSQL: %d %s", status, body)
	}
	status, body, _ = get(t, n.public+"/account/1/balance", map[string]string{"Authorization": "Basic " + b64("mig:password1")})
	if status != 200 || body != `{"balance":8.5,"currency":"USD"}` {
		t.Errorf("migrated user: %d %s", status, body)
	}
	// The admin token in force came along too (the flag given to the node does not
	// override a stored one).
	if r := adminReq(t, n.admin, "GET", "/v1/accounts", "", nil); r.Status != 401 {
		t.Errorf("the node's --admin-token replaced the migrated one: %d", r.Status)
	}
	tok := mustRead(t, db+".admin-token")
	auth := map[string]string{"Authorization": "Bearer " + tok}
	var subs struct {
		Accounts []struct {
			ID, Parent, Funding, Balance string
			Enabled                      *bool
		}
	}
	mustAdmin(t, n.admin, 200, "GET", "/v1/accounts/"+acc.ID+"/sub-accounts", "", auth).JSON(t, &subs)
	if len(subs.Accounts) != 2 {
		t.Fatalf("sub-accounts on PostgreSQL: %+v", subs)
	}
	for _, sa := range subs.Accounts {
		wantFunding, wantEnabled, wantBalance := "own", true, "1.5"
		if sa.ID == shared {
			wantFunding, wantEnabled, wantBalance = "shared", false, "0"
		}
		if sa.Parent != acc.ID || sa.Funding != wantFunding || sa.Enabled == nil || *sa.Enabled != wantEnabled || sa.Balance != wantBalance {
			t.Errorf("sub-account on PostgreSQL: %+v", sa)
		}
	}
	if r := adminReq(t, n.admin, "GET", "/v1/accounts/"+acc.ID+"/entries?kind=charge", "", auth); !strings.Contains(string(r.Body), `"subAccountId":"`+shared+`"`) {
		t.Errorf("the shared sub-account's charge lost its name on the way: %s", r.Body)
	}
	// The idempotency record came along: the same charge replays, it is not applied again.
	r := adminReq(t, n.admin, "POST", "/v1/accounts/"+acc.ID+"/charges", `{"amount":"2.25"}`, map[string]string{"Idempotency-Key": "m2", "Authorization": "Bearer " + tok})
	if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay on PostgreSQL: %d %s", r.Status, r.Body)
	}
	// The active hold came along with its reservation and can be captured.
	mustAdmin(t, n.admin, 200, "POST", "/v1/holds/"+h.ID+"/capture", "", map[string]string{"Idempotency-Key": "cap", "Authorization": "Bearer " + tok})
	var bal struct{ Balance, Held string }
	mustAdmin(t, n.admin, 200, "GET", "/v1/accounts/"+acc.ID+"/balance", "", auth).JSON(t, &bal)
	if bal.Balance != "7.5" || bal.Held != "0" {
		t.Errorf("after capture on PostgreSQL: %+v", bal)
	}
	n.stop(t)
	if out, err := runCLI(t, s, "check", "--db", target); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("purse check on PostgreSQL: %v %s", err, out)
	}
}

// sqliteCounts counts the rows of every table of a SQLite store, from its schema;
// for entry_blocks and event_blocks it counts the entries and events in the blocks.
func sqliteCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	counts := map[string]int64{}
	for _, tbl := range tables {
		q := `SELECT count(*) FROM "` + tbl + `"`
		switch tbl {
		case "entry_blocks":
			q = `SELECT coalesce(sum(n), 0) FROM entry_blocks`
		case "event_blocks", "delivery_blocks":
			q = `SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM ` + tbl
		}
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[tbl] = n
	}
	return counts
}

func pgCount(t *testing.T, url, table string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestMigrateCopiesEveryTable fills every table of an embedded store (the test
// finds them in the schema, so a table added later fails it until the fixture
// writes a row of it), migrates, and compares each table's row count with the
// target's; an OAuth2 client then gets a Bearer token from a node on the copy.
// A source with a table or a column migrate does not know fails, and leaves the
// target empty.
func TestMigrateCopiesEveryTable(t *testing.T) {
	target := storetest.FreshSchema(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "purse.db")
	s := startServe(t, db, "--demo")
	var acc struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "Every table", "--currency", "EUR", "--json")), &acc)
	mustCLI(t, s, "users", "add", acc.ID, "--username", "every", "--password", "every-password")
	mustCLI(t, s, "api-keys", "create", acc.ID, "--name", "k")
	var oc struct{ ClientID, ClientSecret string }
	json.Unmarshal([]byte(mustCLI(t, s, "oauth-clients", "create", acc.ID, "--name", "backend", "--json")), &oc)
	mustCLI(t, s, "top-up", acc.ID, "20", "--idempotency-key", "every-1")
	var ch struct{ MovementID, ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "charge", acc.ID, "3", "--json")), &ch)
	chargeID := ch.MovementID
	if chargeID == "" {
		chargeID = ch.ID
	}
	mustCLI(t, s, "refund", acc.ID, chargeID, "1")
	mustCLI(t, s, "hold", "create", acc.ID, "2")
	mustCLI(t, s, "operators", "add", "--name", "every-op", "--role", "admin", "--password", "every-op-password")
	// A webhook whose receiver refuses connections: its failed attempt is in the log.
	var hook struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "webhooks", "create", "--url", "http://127.0.0.1:1/hook", "--json")), &hook)
	mustCLI(t, s, "top-up", acc.ID, "1", "--idempotency-key", "every-2")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(mustCLI(t, s, "webhooks", "deliveries", hook.ID), "false"); {
		if time.Now().After(deadline) {
			t.Fatal("the webhook's delivery attempt was never logged")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := testkit.Do(t, "POST", s.public+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"username":"every","password":"every-password"}`)); r.Status != 200 {
		t.Fatalf("session: %d %s", r.Status, r.Body)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	src := sqliteCounts(t, db)
	for tbl, n := range src {
		if n == 0 && tbl != "schema_migrations" {
			t.Errorf("table %s has no row in this test's source store: write one above, so that migrate is tested on it", tbl)
		}
	}
	out, err := runCLI(t, s, "migrate", "--from", db, "--to", target, "--include-demo")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	targetOf := map[string]string{"entry_blocks": "entries", "event_blocks": "events", "delivery_blocks": "deliveries"}
	for tbl, n := range src {
		if tbl == "schema_migrations" {
			continue
		}
		to := tbl
		if m, ok := targetOf[tbl]; ok {
			to = m
		}
		if got := pgCount(t, target, to); got != n {
			t.Errorf("%s: %d rows in the target, %d in the source", tbl, got, n)
		}
	}
	// The OAuth2 client came along: its customer gets a token and reads the balance.
	n := startNode(t, target, "--oauth-secret-file", db+".oauth-secret") // the secret is not in the store
	form := url.Values{"client_id": {oc.ClientID}, "client_secret": {oc.ClientSecret}, "grant_type": {"client_credentials"}}
	r := testkit.Do(t, "POST", n.public+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(r.Body, &tok); r.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("OAuth2 token on the copy: %d %s", r.Status, r.Body)
	}
	if status, body, _ := get(t, n.public+"/account/1/balance", map[string]string{"Authorization": "Bearer " + tok.AccessToken}); status != 200 || body != `{"balance":19,"currency":"EUR"}` {
		t.Errorf("Bearer balance on the copy: %d %s", status, body)
	}
	n.stop(t)

	for _, tc := range []struct{ name, ddl, wantErr string }{
		{"a table migrate does not know", `CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL); INSERT INTO webhooks VALUES ('w1', 'https://example.com')`, "table webhooks"},
		{"a column migrate does not know", `ALTER TABLE api_keys ADD COLUMN note TEXT NOT NULL DEFAULT 'x'`, "column api_keys.note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.db")
			copyFile(t, db, bad)
			sqliteExec(t, bad, tc.ddl)
			target := storetest.FreshSchema(t)
			out, err := runCLI(t, &server{admin: s.admin, db: bad}, "migrate", "--from", bad, "--to", target, "--include-demo")
			if err == nil || !strings.Contains(out, tc.wantErr) {
				t.Fatalf("migrate: %v, want an error naming %q\n%s", err, tc.wantErr, out)
			}
			if n := pgCount(t, target, "accounts"); n != 0 {
				t.Errorf("a failed migration left %d accounts in the target", n)
			}
		})
	}
}
