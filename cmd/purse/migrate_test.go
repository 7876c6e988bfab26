package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

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
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, s, "migrate", "--from", db, "--to", target)
	if err != nil || !strings.Contains(out, "ok: the target passes purse check") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := runCLI(t, s, "migrate", "--from", db, "--to", target); err == nil || !strings.Contains(out, "empty database") {
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
	if status != 200 || body != `{"balance":10.25,"currency":"USD"}` {
		t.Errorf("migrated user: %d %s", status, body)
	}
	// The admin token in force came along too (the flag given to the node does not
	// override a stored one).
	if r := adminReq(t, n.admin, "GET", "/v1/accounts", "", nil); r.Status != 401 {
		t.Errorf("the node's --admin-token replaced the migrated one: %d", r.Status)
	}
	tok := mustRead(t, db+".admin-token")
	auth := map[string]string{"Authorization": "Bearer " + tok}
	// The idempotency record came along: the same charge replays, it is not applied again.
	r := adminReq(t, n.admin, "POST", "/v1/accounts/"+acc.ID+"/charges", `{"amount":"2.25"}`, map[string]string{"Idempotency-Key": "m2", "Authorization": "Bearer " + tok})
	if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay on PostgreSQL: %d %s", r.Status, r.Body)
	}
	// The active hold came along with its reservation and can be captured.
	mustAdmin(t, n.admin, 200, "POST", "/v1/holds/"+h.ID+"/capture", "", map[string]string{"Idempotency-Key": "cap", "Authorization": "Bearer " + tok})
	var bal struct{ Balance, Held string }
	mustAdmin(t, n.admin, 200, "GET", "/v1/accounts/"+acc.ID+"/balance", "", auth).JSON(t, &bal)
	if bal.Balance != "9.25" || bal.Held != "0" {
		t.Errorf("after capture on PostgreSQL: %+v", bal)
	}
	n.stop(t)
	if out, err := runCLI(t, s, "check", "--db", target); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("purse check on PostgreSQL: %v %s", err, out)
	}
}
