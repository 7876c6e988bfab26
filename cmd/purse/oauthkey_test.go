package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/store/storetest"
	"github.com/purse-ledger/purse/internal/testkit"
)

// oauthFixture is an account with an OAuth2 client on a running purse.
type oauthFixture struct {
	t                       *testing.T
	public, admin, token    string
	account, client, secret string
}

func newOAuthFixture(t *testing.T, public, admin, adminToken string) *oauthFixture {
	t.Helper()
	f := &oauthFixture{t: t, public: public, admin: admin, token: adminToken}
	h := map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}
	var acc struct{ ID string }
	testkit.Do(t, "POST", admin+"/v1/accounts", h, []byte(`{"name":"O","currency":"EUR"}`)).JSON(t, &acc)
	var oc struct{ ClientID, ClientSecret string }
	r := testkit.Do(t, "POST", admin+"/v1/accounts/"+acc.ID+"/oauth-clients", h, []byte(`{"name":"backend"}`))
	if r.Status != 201 {
		t.Fatalf("oauth client: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &oc)
	f.account, f.client, f.secret = acc.ID, oc.ClientID, oc.ClientSecret
	return f
}

// issue gets an access token from the public listener at base.
func (f *oauthFixture) issue(base string) string {
	f.t.Helper()
	form := url.Values{"client_id": {f.client}, "client_secret": {f.secret}, "grant_type": {"client_credentials"}}
	r := testkit.Do(f.t, "POST", base+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.Body, &tok); r.Status != 200 || err != nil || tok.AccessToken == "" {
		f.t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return tok.AccessToken
}

// balance reads the balance at base with an access token; it returns the status.
func (f *oauthFixture) balance(base, token string) int {
	f.t.Helper()
	return testkit.Do(f.t, "GET", base+"/account/1/balance", map[string]string{"Authorization": "Bearer " + token}, nil).Status
}

// forge signs the payload of a real token, with a later expiry, under key.
func forge(real string, key []byte) string {
	body, _, _ := strings.Cut(real, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(body)
	parts := strings.Split(string(payload), "|")
	parts[len(parts)-1] = strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10)
	p := strings.Join(parts, "|")
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestTokenForgedFromDBCopyRefused copies a live store's files, as another local
// user or a backup could, and signs tokens with every value kept in its settings:
// none reads the balance. (Before #17 the signing key was one of them, and a forged
// token read the balance with 200.)
func TestTokenForgedFromDBCopyRefused(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"))
	f := newOAuthFixture(t, s.public, s.admin, mustRead(t, s.db+".admin-token"))
	real := f.issue(s.public)
	if got := f.balance(s.public, real); got != 200 {
		t.Fatalf("a real token: %d", got)
	}
	if got := f.balance(s.public, forge(real, []byte("not the key"))); got != 401 {
		t.Fatalf("forge is broken: a token signed with a wrong key got %d", got)
	}
	copyDir := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(s.db + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, "copy.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(copyDir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT key, value FROM settings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		for _, key := range [][]byte{[]byte(v), hexOrNil(v)} {
			if key == nil {
				continue
			}
			n++
			if got := f.balance(s.public, forge(real, key)); got != 401 {
				t.Errorf("a token signed with settings.%s from a copy of the store: %d, want 401", k, got)
			}
		}
	}
	if n == 0 {
		t.Fatal("the copy holds no settings: the test copied nothing")
	}
}

func hexOrNil(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// TestOAuthKeyRotate rotates the signing key with the CLI: outstanding tokens are
// refused at once, new ones work, and the rotation is in the audit log.
func TestOAuthKeyRotate(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"))
	f := newOAuthFixture(t, s.public, s.admin, mustRead(t, s.db+".admin-token"))
	old := f.issue(s.public)
	if got := f.balance(s.public, old); got != 200 {
		t.Fatalf("before rotation: %d", got)
	}
	out := mustCLI(t, s, "oauth-key", "rotate")
	if !strings.Contains(out, "rotated") {
		t.Errorf("purse oauth-key rotate printed %q", out)
	}
	if got := f.balance(s.public, old); got != 401 {
		t.Errorf("a token issued before the rotation: %d, want 401", got)
	}
	if got := f.balance(s.public, f.issue(s.public)); got != 200 {
		t.Errorf("a token issued after the rotation: %d, want 200", got)
	}
	if out := mustCLI(t, s, "audit"); !strings.Contains(out, "POST /v1/oauth-key/rotate") {
		t.Errorf("the audit log lacks the rotation:\n%s", out)
	}
	// Restarted, purse keeps the rotated key: the new token still works.
	tok := f.issue(s.public)
	s.stop()
	s = startServe(t, s.db)
	if got := f.balance(s.public, tok); got != 200 {
		t.Errorf("after a restart, a token issued before it: %d, want 200", got)
	}
}

// TestOAuthKeyAcrossNodes runs two nodes on one PostgreSQL store with the same
// --oauth-secret-file: a token one issues works on the other; a rotation on one is
// refused by both; a node given another secret, or none, refuses to start; and
// nothing in the database signs a token.
func TestOAuthKeyAcrossNodes(t *testing.T) {
	db := storetest.FreshSchema(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "oauth-secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef-shared\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startNode(t, db, "--oauth-secret-file", secret)
	b := startNode(t, db, "--oauth-secret-file", secret)
	f := newOAuthFixture(t, a.public, a.admin, clusterToken)
	tok := f.issue(a.public)
	eventually(t, 2*time.Second, "node B accepts node A's token", func() bool { return f.balance(b.public, tok) == 200 })
	mustAdmin(t, a.admin, 204, "POST", "/v1/oauth-key/rotate", "", nil)
	if got := f.balance(a.public, tok); got != 401 {
		t.Errorf("node A after its rotation: %d, want 401", got)
	}
	d := eventually(t, 2*time.Second, "node B refuses the old token", func() bool { return f.balance(b.public, tok) == 401 })
	t.Logf("the rotation reached node B in %v", d)
	fresh := f.issue(b.public)
	if got := f.balance(a.public, fresh); got != 200 {
		t.Errorf("a token from node B after the rotation, on node A: %d", got)
	}

	other := filepath.Join(dir, "other-secret")
	os.WriteFile(other, []byte("another-secret-another-secret-another-secret\n"), 0o600)
	for _, extra := range [][]string{{"--oauth-secret-file", other}, nil} {
		args := append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--admin-token", clusterToken}, extra...)
		err := run(context.Background(), args, env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), "the same --oauth-secret-file") {
			t.Errorf("a node started with %q: %v, want a refusal naming --oauth-secret-file", extra, err)
		}
	}

	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT key, value FROM settings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		for _, key := range [][]byte{[]byte(v), hexOrNil(v)} {
			if key != nil && f.balance(a.public, forge(fresh, key)) != 401 {
				t.Errorf("a token signed with settings.%s from the database was accepted", k)
			}
		}
	}
}
