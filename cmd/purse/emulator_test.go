package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIFaults: purse faults add, list and clear against purse serve
// --emulator; the documented 503 rule answers the documentation's balance
// request with 503 and Retry-After, then ends.
func TestCLIFaults(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--emulator", "--demo")
	id := strings.TrimSpace(mustCLI(t, s, "faults", "add", "error", "--status", "503", "--route", "/account/1/balance", "--times", "1", "-q"))
	if id != "flt_1" {
		t.Fatalf("faults add -q printed %q, want flt_1", id)
	}
	if out := mustCLI(t, s, "faults", "list"); !strings.Contains(out, "flt_1") || !strings.Contains(out, "error 503 SERVICE_UNAVAILABLE retry-after=1") || !strings.Contains(out, "1 left") {
		t.Errorf("faults list:\n%s", out)
	}
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", s.public+"/account/1/balance", nil)
		req.SetBasicAuth("Aladdin", "open sesame")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(); r.StatusCode != 503 || r.Header.Get("Retry-After") != "1" {
		t.Errorf("balance under the rule: %d Retry-After %q, want 503 and 1", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := get(); r.StatusCode != 200 {
		t.Errorf("balance after the rule's one time: %d, want 200", r.StatusCode)
	}
	mustCLI(t, s, "faults", "add", "delay", "--delay", "10ms")
	if out := mustCLI(t, s, "faults", "clear"); out != "1 fault rule(s) removed\n" {
		t.Errorf("faults clear: %q", out)
	}
	if out, err := runCLI(t, s, "faults", "add", "explode"); err == nil || !strings.Contains(out, "action must be one of") {
		t.Errorf("faults add explode: %v %s", err, out)
	}
}

// TestServeSeedSecrets: purse serve --seed with a file holding passwords refuses
// to start without --demo or --emulator, saying why, and starts with --emulator.
func TestServeSeedSecrets(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--seed", "../../docs/examples/seed.json"},
		env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "allowed only with --demo or --emulator") {
		t.Errorf("serve --seed with secrets, no --emulator: %v, want the refusal", err)
	}
	s := startServe(t, db, "--emulator", "--seed", "../../docs/examples/seed.json")
	if out := mustCLI(t, s, "balance", "acc_shop"); !strings.HasPrefix(out, "10 EUR") {
		t.Errorf("purse balance acc_shop: %q, want 10 EUR", out)
	}
}
