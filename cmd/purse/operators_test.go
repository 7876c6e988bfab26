package main

import (
	"strings"
	"testing"
)

// TestOperatorsCLI: the first admin is made from the command line, over the
// admin API with the shared token; list, a personal token, passwd and remove
// (but not of the last admin).
func TestOperatorsCLI(t *testing.T) {
	s := startServe(t, t.TempDir()+"/purse.db")
	if out := mustCLI(t, s, "operators", "add", "--name", "ann", "--role", "admin", "--password", "ann-password"); !strings.Contains(out, "operator ann added, role admin") {
		t.Errorf("add: %s", out)
	}
	if out, err := runCLI(t, s, "operators", "add", "--name", "bob", "--role", "chief", "--password", "bob-password"); err == nil {
		t.Errorf("an unknown role was accepted: %s", out)
	}
	tok := mustCLI(t, s, "operators", "token", "ann")
	if !strings.Contains(tok, " op_") {
		t.Errorf("token: %s", tok)
	}
	mustCLI(t, s, "operators", "passwd", "ann", "--password", "ann-password-2")
	if out := mustCLI(t, s, "operators", "list"); !strings.Contains(out, "ann") || !strings.Contains(out, "admin") || !strings.Contains(out, "yes") {
		t.Errorf("list: %s", out)
	}
	if out, err := runCLI(t, s, "operators", "remove", "ann"); err == nil || !strings.Contains(out, "last admin") {
		t.Errorf("the last admin was removed: %s %v", out, err)
	}
	mustCLI(t, s, "operators", "add", "--name", "ada", "--role", "admin", "--password", "ada-password")
	mustCLI(t, s, "operators", "remove", "ann")
	if out := mustCLI(t, s, "operators", "list"); strings.Contains(out, "ann") {
		t.Errorf("after remove: %s", out)
	}
}
