package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestSubAccountCommands: purse sub-accounts create and list, purse transfer
// (retried with one key: moved once), a shared sub-account's charge taken from
// its parent and named on the parent's entry, and accounts update --enabled.
func TestSubAccountCommands(t *testing.T) {
	a := against{t: t, stack: testkit.New(t)}
	main := strings.TrimSpace(a.must("accounts", "create", "-q", "--name", "Acme", "--currency", "EUR"))
	own := strings.TrimSpace(a.must("sub-accounts", "create", main, "-q", "--name", "Team A", "--funding", "own"))
	shared := strings.TrimSpace(a.must("sub-accounts", "create", main, "-q", "--name", "Team B", "--funding", "shared"))
	if _, _, err := a.run("sub-accounts", "create", own, "--name", "deep", "--funding", "own"); err == nil {
		t.Error("a sub-account of a sub-account was made")
	}
	a.must("top-up", main, "10")
	for i := 0; i < 2; i++ {
		out := a.must("transfer", main, own, "4", "--reference", "budget", "--idempotency-key", "tr-1")
		if !strings.Contains(out, main+" -> "+own) || !strings.Contains(out, "balance 6") {
			t.Errorf("transfer printed %q", out)
		}
	}
	if out := strings.Join(strings.Fields(a.must("accounts", "get", own)), " "); !strings.Contains(out, "balance 4 ") || !strings.Contains(out, "parent "+main) || !strings.Contains(out, "funding own") {
		t.Errorf("own after a transfer sent twice with one key:\n%s", out)
	}
	if _, _, err := a.run("transfer", own, main, "5"); err == nil {
		t.Error("a transfer beyond the payer's funds went through")
	}
	a.must("transfer", own, main, "1")
	charge := strings.Fields(a.must("charge", shared, "2"))
	if len(charge) < 6 || charge[1] != main || charge[5] != "5" || !strings.Contains(strings.Join(charge, " "), "sub-account "+shared) {
		t.Errorf("a shared sub-account's charge printed %q: want the parent's entry naming it", charge)
	}
	list := strings.Join(strings.Fields(a.must("sub-accounts", "list", main)), " ")
	if !strings.Contains(list, own+" Team A own true active 3") || !strings.Contains(list, shared+" Team B shared true active 0") {
		t.Errorf("sub-accounts list:\n%s", list)
	}
	a.must("accounts", "update", shared, "--enabled", "false")
	if _, _, err := a.run("charge", shared, "1"); err == nil {
		t.Error("a disabled sub-account was charged")
	}
	if _, _, err := a.run("accounts", "update", main, "--enabled", "false"); err == nil {
		t.Error("a main account took --enabled")
	}
	if out := a.must("entries", own, "--kind", "transfer"); strings.Count(out, " transfer ") != 2 {
		t.Errorf("own's transfers:\n%s", out)
	}
	// A batch file of transfers; a misspelt key is refused, not dropped.
	ops := filepath.Join(t.TempDir(), "ops.json")
	os.WriteFile(ops, []byte(`[{"op":"transfer","from":"`+main+`","to":"`+own+`","amount":"2"},{"op":"transfer","from":"`+own+`","to":"`+main+`","amount":"0.5"}]`), 0o600)
	if out := strings.Join(strings.Fields(a.must("batch", ops)), " "); !strings.Contains(out, "2 of 2 applied; committed: true") || !strings.Contains(out, "0 201 transfer -2 balance") {
		t.Errorf("batch of transfers: %s", out)
	}
	os.WriteFile(ops, []byte(`[{"op":"transfer","form":"`+main+`","to":"`+own+`","amount":"2"}]`), 0o600)
	if _, _, err := a.run("batch", ops); err == nil || !strings.Contains(err.Error(), "form") {
		t.Errorf("a batch file with a misspelt key: %v, want it refused naming the key", err)
	}
	for _, after := range []string{"]", "}", "[]", "x"} {
		os.WriteFile(ops, []byte(`[{"op":"transfer","from":"`+main+`","to":"`+own+`","amount":"2"}]`+after), 0o600)
		if _, _, err := a.run("batch", ops); err == nil {
			t.Errorf("a batch file with %q after its array was sent", after)
		}
	}
	// purse check proves the transfers balance and the parent/child rules hold.
	a.stack.Close()
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"check", "--db", a.stack.Path}, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}, stubServe)
	if err != nil {
		t.Fatalf("purse check: %v\n%s%s", err, out.String(), errb.String())
	}
}
