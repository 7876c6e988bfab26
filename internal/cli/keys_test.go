package cli

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAPIKeyRulesAndAuditLogs: api-keys create takes restrictions, api-keys
// update changes them, and audit-logs reads the customer's log with a customer
// credential (no admin token), as a table or as CSV.
func TestAPIKeyRulesAndAuditLogs(t *testing.T) {
	a := against{t: t, stack: testkit.New(t)}
	id := strings.TrimSpace(a.must("accounts", "create", "-q", "--name", "Keys", "--currency", "EUR"))
	a.must("users", "add", id, "--username", "cli-user", "--password", "cli-password")
	out := a.must("api-keys", "create", id, "--name", "office", "--allowed-ip", "192.0.2.0/24", "--allowed-ip", "2001:db8::1",
		"--valid-to", "2099-01-01T00:00:00Z", "--scope", "account-management:manage", "--scope", "audit-logs:read")
	if !strings.Contains(out, "allowed ips\t192.0.2.0/24 2001:db8::1/128") && !strings.Contains(out, "192.0.2.0/24 2001:db8::1/128") {
		t.Errorf("create printed:\n%s", out)
	}
	quiet := a.must("api-keys", "create", id, "-q", "--name", "second")
	key, secret, _ := strings.Cut(strings.TrimSpace(quiet), "\t")
	if !strings.HasPrefix(key, "key_") || len(secret) < 20 { // the key, shown only once, is not lost
		t.Fatalf("api-keys create -q printed %q, want the id and the key, tab-separated", quiet)
	}
	out = a.must("api-keys", "update", id, key, "--disabled", "--valid-from", "2020-01-01T00:00:00Z")
	if !strings.Contains(out, "disabled") || !strings.Contains(out, "2020-01-01T00:00:00Z") {
		t.Errorf("update printed:\n%s", out)
	}
	out = a.must("api-keys", "update", id, key, "--enabled", "--valid-from", "none", "--json")
	if strings.Contains(out, `"disabled"`) || strings.Contains(out, "validFrom") {
		t.Errorf("update --enabled --valid-from none printed:\n%s", out)
	}
	if _, _, err := a.run("api-keys", "update", id, key, "--enabled", "--disabled"); err == nil {
		t.Errorf("--enabled with --disabled was accepted")
	}
	if _, _, err := a.run("api-keys", "update", id, key, "--valid-to", "soon"); err == nil {
		t.Errorf("--valid-to soon was accepted")
	}
	// A customer key change, then the customer's own log.
	r := testkit.Do(t, "POST", a.stack.Public.URL+"/settings/2/api-keys", map[string]string{"Authorization": "Basic " + b64("cli-user:cli-password"),
		"Content-Type": "application/json"}, []byte(`{"name":"from the API"}`))
	if r.Status != 200 {
		t.Fatalf("customer create: %d %s", r.Status, r.Body)
	}
	customer := func(args ...string) string {
		t.Helper()
		full := append([]string{"audit-logs", "--url", a.stack.Public.URL, "--username", "cli-user", "--password", "cli-password"}, args...)
		var out string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			o, errOut, err := a.run(full...)
			if err != nil {
				t.Fatalf("purse %s: %v %s", strings.Join(full, " "), err, errOut)
			}
			if out = o; strings.Contains(o, "from the API") || time.Now().After(deadline) {
				return out
			}
		}
	}
	if out := customer("--item", "ApiKey"); !strings.Contains(out, "Create\tApiKey\tcli-user\t127.0.0.1") && !strings.Contains(out, "Create") {
		t.Errorf("audit-logs printed:\n%s", out)
	}
	if out := customer("--csv"); !strings.HasPrefix(out, "id,timestamp,action,item,description,ipAddress,username\n") {
		t.Errorf("audit-logs --csv printed:\n%s", out)
	}
	if _, _, err := a.run("audit-logs", "--username", "cli-user"); err == nil {
		t.Errorf("audit-logs without --url was accepted")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestMyAPIKeys: a customer makes, lists and changes its own keys with its
// Basic login, without an admin token.
func TestMyAPIKeys(t *testing.T) {
	a := against{t: t, stack: testkit.New(t)}
	id := strings.TrimSpace(a.must("accounts", "create", "-q", "--name", "Mine", "--currency", "EUR"))
	a.must("users", "add", id, "--username", "me", "--password", "me-password")
	cust := func(args ...string) (string, error) {
		t.Helper()
		full := append(args, "--url", a.stack.Public.URL, "--username", "me", "--password", "me-password")
		var out, errb strings.Builder
		err := Run(t.Context(), full, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}, stubServe)
		return out.String() + errb.String(), err
	}
	out, err := cust("my-api-keys", "create", "--name", "laptop", "--allowed-ip", "127.0.0.1", "--scope", "account-management:manage", "-q")
	key, secret, _ := strings.Cut(strings.TrimSpace(out), "\t")
	if err != nil || !strings.HasPrefix(key, "key_") || secret == "" {
		t.Fatalf("create: %v %s", err, out)
	}
	if out, err := cust("my-api-keys", "update", key, "--enabled", "false"); err != nil || !regexp.MustCompile(`enabled\s+false`).MatchString(out) {
		t.Errorf("update: %v %s", err, out)
	}
	if out, err := cust("my-api-keys", "list"); err != nil || !strings.Contains(out, key) || !strings.Contains(out, "laptop") {
		t.Errorf("list: %v %s", err, out)
	}
	if out, err := cust("my-api-keys", "update", key, "--enabled", "maybe"); err == nil {
		t.Errorf("--enabled maybe accepted: %s", out)
	}
	if out, err := cust("my-api-keys", "list", "--account", "acc_someone_else"); err == nil || !strings.Contains(out+err.Error(), "E404") {
		t.Errorf("another account: %v %s", err, out)
	}
}
