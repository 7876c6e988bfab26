package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/storefiles"
	"github.com/purse-ledger/purse/internal/testkit"
)

// against runs a command against a running purse (testkit's, over loopback)
// with its admin URL and token given as flags, and stdin and the terminal as set.
type against struct {
	t     *testing.T
	stack *testkit.Stack
	stdin string
	tty   func() (string, error) // the terminal users add prompts on; nil: none
}

func (a against) run(args ...string) (string, string, error) {
	a.t.Helper()
	var out, errb bytes.Buffer
	full := append(append([]string{}, args...), "--admin-url", a.stack.Admin.URL, "--admin-token", testkit.AdminToken)
	err := Run(context.Background(), full, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(a.stdin), Getenv: func(string) string { return "" }, ReadPassword: a.tty}, stubServe)
	return out.String(), errb.String(), err
}

func (a against) must(args ...string) string {
	a.t.Helper()
	out, errOut, err := a.run(args...)
	if err != nil {
		a.t.Fatalf("purse %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TestQuietPrintsOnlyTheID: -q prints the new id alone, for a script to
// capture; top-up and charge print their entry in the same columns.
func TestQuietPrintsOnlyTheID(t *testing.T) {
	a := against{t: t, stack: testkit.New(t)}
	id := strings.TrimSuffix(a.must("accounts", "create", "-q", "--name", "Acme", "--currency", "eur"), "\n")
	if !strings.HasPrefix(id, "acc_") || strings.ContainsAny(id, " \t\n") {
		t.Fatalf("accounts create -q printed %q, want the id alone", id)
	}
	a.must("accounts", "get", id) // it is the account's id
	entry := strings.TrimSuffix(a.must("top-up", id, "10", "-q"), "\n")
	if strings.ContainsAny(entry, " \t\n") || entry == "" {
		t.Errorf("top-up -q printed %q", entry)
	}
	if out := a.must("entries", id); !strings.Contains(out, entry) {
		t.Errorf("the entry id %s is not in the account's entries:\n%s", entry, out)
	}
	topUp := strings.Fields(a.must("top-up", id, "5", "--reference", "inv-2"))
	charge := strings.Fields(a.must("charge", id, "2.5", "--reference", "sms-1"))
	// id, account, kind, amount, "balance", balance, "reference", reference
	if len(topUp) != 8 || len(charge) != 8 || topUp[1] != id || charge[1] != id || topUp[2] != "top_up" || charge[2] != "charge" ||
		topUp[4] != "balance" || charge[4] != "balance" || topUp[5] != "15" || charge[5] != "12.5" {
		t.Errorf("top-up printed %q, charge printed %q: want the same columns", topUp, charge)
	}
}

// TestUsersAddPassword: without --password, on a terminal, users add prompts
// (on stderr, without echo: ReadPassword) and asks again; two different answers
// change nothing. Without a terminal it reads one line of stdin.
func TestUsersAddPassword(t *testing.T) {
	stack := testkit.New(t)
	acc := stack.CreateAccount("Acme", "EUR")
	answers := func(a ...string) func() (string, error) {
		return func() (string, error) {
			if len(a) == 0 {
				return "", errors.New("no more input")
			}
			v := a[0]
			a = a[1:]
			return v, nil
		}
	}
	a := against{t: t, stack: stack, tty: answers("pass-word-1", "pass-word-1")}
	_, prompts, err := a.run("users", "add", acc, "--username", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if prompts != "Password for alice: Again: " {
		t.Errorf("prompts %q", prompts)
	}
	a.tty = answers("pass-word-1", "pass-word-2")
	if _, _, err := a.run("users", "add", acc, "--username", "bob"); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("two different passwords: %v", err)
	}
	a.tty = nil
	a.stdin = "from-stdin-pw\nsecond line\n"
	a.must("users", "add", acc, "--username", "carol")
	out := a.must("users", "list", acc)
	if !strings.Contains(out, "alice") || strings.Contains(out, "bob") || !strings.Contains(out, "carol") {
		t.Errorf("users: %s", out)
	}
	for user, pw := range map[string]string{"alice": "pass-word-1", "carol": "from-stdin-pw"} {
		r := testkit.Do(t, "POST", stack.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
			[]byte(`{"username":"`+user+`","password":"`+pw+`"}`))
		if r.Status != 200 {
			t.Errorf("%s cannot log in with the password given: %d %s", user, r.Status, r.Body)
		}
	}
}

// TestAdminURLFromTheStore: with no --admin-url, a command finds the server at
// the URL purse serve wrote beside the store; a refused connection says which
// address was tried, where it came from, and how to name another.
func TestAdminURLFromTheStore(t *testing.T) {
	stack := testkit.New(t)
	db := filepath.Join(t.TempDir(), "purse.db")
	runNoURL := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := Run(context.Background(), append(args, "--db", db, "--admin-token", testkit.AdminToken),
			Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, stubServe)
		return out.String(), err
	}
	remove, err := storefiles.WriteAdminURL(db, stack.Admin.URL)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(db + ".admin-url"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin URL file: %v, mode %v", err, fi.Mode())
	}
	if out, err := runNoURL("accounts", "list"); err != nil || !strings.Contains(out, "ID") {
		t.Fatalf("accounts list through DB.admin-url: %v %s", err, out)
	}
	// A server that is gone: its port refuses.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	remove()
	if _, err := os.Stat(db + ".admin-url"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the admin URL file is still there after remove: %v", err)
	}
	if _, err := storefiles.WriteAdminURL(db, dead); err != nil {
		t.Fatal(err)
	}
	_, err = runNoURL("accounts", "list")
	for _, want := range []string{dead, db + ".admin-url", "--admin-url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("refused connection: %v; want it to name %q", err, want)
		}
	}
	os.Remove(db + ".admin-url")
	_, err = runNoURL("accounts", "list", "--admin-url", dead)
	if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "--admin-url or PURSE_ADMIN_URL") {
		t.Errorf("refused connection to --admin-url: %v", err)
	}
}

// TestCustomerBalanceNeedsNoAdminToken: purse balance --url reads a customer's
// balance with the customer's credential, where no admin token is to be found.
func TestCustomerBalanceNeedsNoAdminToken(t *testing.T) {
	stack := testkit.New(t)
	a := against{t: t, stack: stack}
	acc := stack.CreateAccount("Acme", "EUR")
	a.must("top-up", acc, "7.5")
	var keyText string
	for _, line := range strings.Split(a.must("api-keys", "create", acc, "--name", "k2"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "key" {
			keyText = f[1]
		}
	}
	if keyText == "" {
		t.Fatal("api-keys create printed no key")
	}
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"balance", "--url", stack.Public.URL, "--api-key", keyText, "--db", filepath.Join(t.TempDir(), "none.db")},
		Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, stubServe)
	if err != nil || out.String() != "7.5 EUR\n" {
		t.Errorf("balance --url: %v %q %s", err, out.String(), errb.String())
	}
}
