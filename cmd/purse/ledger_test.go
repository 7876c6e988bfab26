package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLILedger drives every ledger command through run, then stops purse and
// runs purse check on the file.
func TestCLILedger(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db)
	var acc struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "Ledger", "--currency", "EUR", "--json")), &acc)
	mustCLI(t, s, "top-up", acc.ID, "10")
	var ch struct{ ID, Amount, BalanceAfter string }
	json.Unmarshal([]byte(mustCLI(t, s, "charge", acc.ID, "2.5", "--reference", "sms-1", "--meta", "to=+385", "--idempotency-key", "c1", "--json")), &ch)
	if ch.Amount != "-2.5" || ch.BalanceAfter != "7.5" {
		t.Fatalf("charge: %+v", ch)
	}
	if out, err := runCLI(t, s, "charge", acc.ID, "100"); err == nil || !strings.Contains(out, "INSUFFICIENT_FUNDS") {
		t.Errorf("overdraft: %v %s", err, out)
	}
	if out := mustCLI(t, s, "refund", acc.ID, ch.ID, "1"); !strings.Contains(out, "refund") || !strings.Contains(out, "balance 8.5") {
		t.Errorf("refund: %s", out)
	}
	if out := mustCLI(t, s, "adjust", acc.ID, "-0.5", "--reason", "correction"); !strings.Contains(out, "balance 8") {
		t.Errorf("adjust: %s", out)
	}
	var h struct{ ID, Status string }
	json.Unmarshal([]byte(mustCLI(t, s, "hold", "create", acc.ID, "3", "--expires-in", "1m", "--json")), &h)
	if h.Status != "active" {
		t.Fatalf("hold: %+v", h)
	}
	if out := mustCLI(t, s, "balance", acc.ID); out != "8 EUR (available 5, held 3)\n" {
		t.Errorf("balance with hold: %q", out)
	}
	if out := mustCLI(t, s, "hold", "capture", h.ID, "2"); !strings.Contains(out, "captured") || !strings.Contains(out, "balance 6") {
		t.Errorf("capture: %s", out)
	}
	if out := mustCLI(t, s, "hold", "get", h.ID); !strings.Contains(out, "captured") {
		t.Errorf("hold get: %s", out)
	}
	var h2 struct{ ID string }
	json.Unmarshal([]byte(mustCLI(t, s, "hold", "create", acc.ID, "1", "--json")), &h2)
	if out := mustCLI(t, s, "hold", "void", h2.ID); !strings.Contains(out, "voided") {
		t.Errorf("void: %s", out)
	}
	mustCLI(t, s, "accounts", "update", acc.ID, "--allowed-minus", "1", "--monthly-limit", "50", "--free-messages", "2")
	if out := mustCLI(t, s, "charge", acc.ID, "0.1", "--free-message", "--no-fallback"); !strings.Contains(out, "free message") {
		t.Errorf("free charge: %s", out)
	}
	out := mustCLI(t, s, "entries", acc.ID, "--all")
	for _, kind := range []string{"top_up", "charge", "refund", "adjustment", "capture"} {
		if !strings.Contains(out, kind) {
			t.Errorf("entries lack %s:\n%s", kind, out)
		}
	}
	var page struct {
		Entries []struct {
			Sequence     int64
			BalanceAfter string
			CreatedAt    string
		}
	}
	json.Unmarshal([]byte(mustCLI(t, s, "entries", acc.ID, "--kind", "refund", "--json")), &page)
	if len(page.Entries) != 1 {
		t.Fatalf("refund entries: %+v", page)
	}
	at := page.Entries[0].CreatedAt
	if out := mustCLI(t, s, "balance", acc.ID, "--at", at); !strings.HasPrefix(out, page.Entries[0].BalanceAfter+" EUR") {
		t.Errorf("balance --at %s: %q, want %s", at, out, page.Entries[0].BalanceAfter)
	}
	ops := filepath.Join(t.TempDir(), "ops.json")
	os.WriteFile(ops, []byte(`[{"op":"charge","accountId":"`+acc.ID+`","amount":"0.25"},{"op":"top_up","accountId":"`+acc.ID+`","amount":"1"}]`), 0o600)
	if out := mustCLI(t, s, "batch", ops); !strings.Contains(out, "2 of 2 applied; committed: true") {
		t.Errorf("batch: %s", out)
	}
	var oc struct{ ClientID, ClientSecret string }
	json.Unmarshal([]byte(mustCLI(t, s, "oauth-clients", "create", acc.ID, "--name", "svc", "--json")), &oc)
	if oc.ClientID == "" || oc.ClientSecret == "" {
		t.Fatalf("oauth-clients create: %+v", oc)
	}
	if out := mustCLI(t, s, "oauth-clients", "list", acc.ID); !strings.Contains(out, oc.ClientID) {
		t.Errorf("oauth-clients list: %s", out)
	}
	mustCLI(t, s, "oauth-clients", "revoke", acc.ID, oc.ClientID)
	if out := mustCLI(t, s, "audit", "--limit", "2"); !strings.Contains(out, "oauth-clients") || !strings.Contains(out, "next page") {
		t.Errorf("audit: %s", out)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, s, "check"); err != nil || !strings.Contains(out, "ok: every invariant holds") {
		t.Errorf("purse check: %v\n%s", err, out)
	}
}
