package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// rawControls returns the control characters in out other than the tabs and
// newlines of the layout.
func rawControls(out string) []rune {
	var found []rune
	for _, r := range out {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			found = append(found, r)
		}
	}
	return found
}

// TestCLIEscapesControlCharacters: names, usernames and audit targets holding
// control characters (a store written before purse refused them, and request
// paths an unauthenticated client chose) are printed quoted, never raw, in the
// text output; --json stays valid JSON with the exact text.
func TestCLIEscapesControlCharacters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db)
	var acc struct{ ID string }
	if err := json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "Plain", "--currency", "EUR", "--json")), &acc); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PURSE_PASSWORD", "password1")
	mustCLI(t, s, "users", "add", acc.ID, "--username", "bob", "--password", "password1")
	// An unauthenticated request to a path with an escape sequence: the audit log
	// keeps its target.
	resp, err := http.Get(s.admin + "/v1/accounts/%1b%5b2J%07")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	evilName, evilUser := "Evil\x1b]0;pwned\x07\tname", "bo\x1b[31mb"
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE accounts SET name = ? WHERE id = ?`, evilName, acc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE users SET username = ? WHERE account_id = ?`, evilUser, acc.ID); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s = startServe(t, db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"accounts", "list"}, strconv.Quote(evilName)},
		{[]string{"accounts", "get", acc.ID}, strconv.Quote(evilName)},
		{[]string{"users", "list", acc.ID}, strconv.Quote(evilUser)},
		{[]string{"audit"}, strconv.Quote("/v1/accounts/\x1b[2J\x07")},
	} {
		out := mustCLI(t, s, c.args...)
		if found := rawControls(out); len(found) > 0 {
			t.Errorf("purse %s printed raw control characters %q:\n%s", strings.Join(c.args, " "), found, out)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("purse %s: output lacks %s:\n%s", strings.Join(c.args, " "), c.want, out)
		}
	}
	var got struct{ Name string }
	out := mustCLI(t, s, "accounts", "get", acc.ID, "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Name != evilName {
		t.Errorf("--json: %v, name %q; output %s", err, got.Name, out)
	}
	if found := rawControls(out); len(found) > 0 {
		t.Errorf("--json printed raw control characters %q", found)
	}
}
