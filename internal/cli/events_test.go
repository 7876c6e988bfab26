package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAlertsAndEventsCommands: purse alerts set/get round-trips the thresholds,
// purse events lists the feed, and purse events --follow prints events as they
// commit and, interrupted, where to resume.
func TestAlertsAndEventsCommands(t *testing.T) {
	stack := testkit.New(t)
	a := against{t: t, stack: stack}
	acc := stack.CreateAccount("Acme", "EUR")
	a.must("top-up", acc, "20")
	out := a.must("alerts", "set", acc, "--low-below", "10", "--low-margin", "2", "--depleted", "--topup-below", "5", "--topup-to", "30")
	if !strings.Contains(out, "below 10, re-arm above it plus 2 (armed)") || !strings.Contains(out, "below 5, up to 30, at most 1 a UTC day (armed)") {
		t.Fatalf("alerts set printed:\n%s", out)
	}
	if _, _, err := a.run("alerts", "set", acc, "--low-below", "-1"); err == nil || !strings.Contains(err.Error(), "lowBalance.below") {
		t.Errorf("a negative threshold: %v", err)
	}
	a.must("charge", acc, "11")
	if out := a.must("alerts", "get", acc); !strings.Contains(out, "(fired)") {
		t.Errorf("alerts get after crossing:\n%s", out)
	}
	out = a.must("events", "--types", "balance.low", "--json")
	var page struct {
		Events []struct{ Type, AccountID string }
		Next   int64
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Events) != 1 || page.Events[0].AccountID != acc {
		t.Fatalf("events --json: %s (%v)", out, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var followed testkit.SyncBuffer
	done := make(chan error, 1)
	go func() {
		args := []string{"events", "--follow", "--json", "--after", "0", "--types", "entry.created", "--admin-url", stack.Admin.URL, "--admin-token", testkit.AdminToken}
		done <- Run(ctx, args, Env{Stdout: &followed, Stderr: &bytes.Buffer{}, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}, stubServe)
	}()
	time.Sleep(300 * time.Millisecond)
	a.must("charge", acc, "1")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(followed.String(), `{"sequence"`) < 3 && time.Now().Before(deadline) { // top-up, charge, charge
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := followed.String()
	if strings.Count(got, `{"sequence"`) != 3 || strings.Count(got, `"entry.created"`) != 3 {
		t.Fatalf("events --follow printed:\n%s", followed.String())
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for _, line := range lines { // JSON lines, to the last
		if !json.Valid([]byte(line)) {
			t.Errorf("events --follow --json printed a line that is not JSON: %q", line)
		}
	}
	var next struct{ Next int64 }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &next); err != nil || next.Next == 0 {
		t.Errorf("events --follow --json ended with %q, want the resume line", lines[len(lines)-1])
	}

	// An auto top-up rule's daily limit is from 1: 0 is refused, not taken for the default.
	if _, _, err := a.run("alerts", "set", acc, "--topup-below", "5", "--topup-to", "30", "--topup-max-per-day", "0"); err == nil ||
		!strings.Contains(err.Error(), "--topup-max-per-day") {
		t.Errorf("--topup-max-per-day 0: %v", err)
	}
	a.must("alerts", "set", acc, "--topup-below", "5", "--topup-to", "30", "--topup-max-per-day", "3")
	if out := a.must("alerts", "get", acc); !strings.Contains(out, "at most 3 a UTC day") {
		t.Errorf("alerts get does not show the daily limit:\n%s", out)
	}
}

// TestEventsFollowAsksAgain: purse events --follow rides out a purse that fails
// to answer (a restart, a failover: here a proxy in front answering 502 twice),
// says so on standard error, and goes on from its cursor without a gap.
func TestEventsFollowAsksAgain(t *testing.T) {
	stack := testkit.New(t)
	a := against{t: t, stack: stack}
	acc := stack.CreateAccount("Acme", "EUR")
	a.must("top-up", acc, "20")
	target, _ := url.Parse(stack.Admin.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }} // and its Host: the admin listener checks it
	var refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/events" && refused.Add(1) <= 2 {
			http.Error(w, "upstream restarting", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testkit.SyncBuffer
	done := make(chan error, 1)
	go func() {
		args := []string{"events", "--follow", "--json", "--after", "0", "--types", "entry.created", "--admin-url", front.URL, "--admin-token", testkit.AdminToken}
		done <- Run(ctx, args, Env{Stdout: &out, Stderr: &errs, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}, stubServe)
	}()
	a.must("charge", acc, "1")
	for deadline := time.Now().Add(15 * time.Second); strings.Count(out.String(), `{"sequence"`) < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `{"sequence"`); n != 2 {
		t.Errorf("%d events after two refused polls, want the top-up and the charge:\n%s", n, out.String())
	}
	if got := errs.String(); strings.Count(got, "asking again") != 2 || !strings.Contains(got, "502") {
		t.Errorf("standard error:\n%s", got)
	}
}

// TestWebhooksCommands: purse webhooks create (types repeated or comma-separated,
// the secret shown once), list, get, update, deliveries, redeliver and delete,
// against a real receiver over loopback.
func TestWebhooksCommands(t *testing.T) {
	stack := testkit.New(t)
	a := against{t: t, stack: stack}
	acc := stack.CreateAccount("Acme", "EUR")
	var got atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rcv.Close()
	var hook struct {
		ID, Secret string
		Types      []string
	}
	out := a.must("webhooks", "create", "--url", rcv.URL+"/hook", "--type", "entry.created,balance.low", "--type", "hold.created", "--account", acc, "--json")
	if err := json.Unmarshal([]byte(out), &hook); err != nil || hook.Secret == "" || strings.Join(hook.Types, " ") != "entry.created balance.low hold.created" {
		t.Fatalf("webhooks create: %s (%v)", out, err)
	}
	if out := a.must("webhooks", "get", hook.ID); strings.Contains(out, hook.Secret) || !strings.Contains(out, "entry.created,balance.low,hold.created") {
		t.Errorf("webhooks get:\n%s", out)
	}
	if out := a.must("webhooks", "list"); !strings.Contains(out, hook.ID) || strings.Contains(out, hook.Secret) {
		t.Errorf("webhooks list:\n%s", out)
	}
	// -q keeps the secret, shown only once, after the id.
	quiet := a.must("webhooks", "create", "--url", rcv.URL+"/quiet", "--type", "account.closed", "-q")
	if id, secret, ok := strings.Cut(strings.TrimSuffix(quiet, "\n"), "\t"); !ok || !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("webhooks create -q printed %q, want the id and the secret, tab-separated", quiet)
	} else {
		rotated := a.must("webhooks", "rotate-secret", id, "--keep-previous", "2h", "-q")
		if rid, newer, _ := strings.Cut(strings.TrimSpace(rotated), "\t"); rid != id || !strings.HasPrefix(newer, "whsec_") || newer == secret {
			t.Errorf("webhooks rotate-secret -q printed %q, want the id and a new secret", rotated)
		}
		if out := a.must("webhooks", "get", id); !strings.Contains(out, "previous secret") {
			t.Errorf("webhooks get after a rotation:\n%s", out)
		}
		for _, bad := range []string{"200h", "-1s", "1500ms"} {
			if _, _, err := a.run("webhooks", "rotate-secret", id, "--keep-previous", bad); err == nil || !strings.Contains(err.Error(), "--keep-previous") {
				t.Errorf("--keep-previous %s: %v", bad, err)
			}
		}
		if _, _, err := a.run("webhooks", "rotate-secret", id, "--if-fingerprint", "0000000000000000"); err == nil || !strings.Contains(err.Error(), "fingerprint") {
			t.Errorf("--if-fingerprint of another secret: %v", err)
		}
		if _, _, err := a.run("webhooks", "rotate-secret", id, "--if-fingerprint", "nope"); err == nil || !strings.Contains(err.Error(), "ifSecretFingerprint") {
			t.Errorf("--if-fingerprint nope: %v", err)
		}
		var h struct{ SecretFingerprint string }
		json.Unmarshal([]byte(a.must("webhooks", "get", id, "--json")), &h)
		if out := a.must("webhooks", "rotate-secret", id, "--if-fingerprint", h.SecretFingerprint); !strings.Contains(out, "whsec_") {
			t.Errorf("rotate-secret --if-fingerprint of the secret in force:\n%s", out)
		}
		a.must("webhooks", "delete", id)
	}
	if _, _, err := a.run("webhooks", "create", "--url", rcv.URL, "--type", "entry.created,entry.deleted"); err == nil || !strings.Contains(err.Error(), "entry.deleted") {
		t.Errorf("an unknown type: %v", err)
	}
	a.must("top-up", acc, "5")
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10 s", what)
			}
		}
	}
	waitUntil("the top-up's delivery", func() bool { return got.Load() == 1 })
	waitUntil("the delivery log", func() bool { return strings.Contains(a.must("webhooks", "deliveries", hook.ID), "200") })
	a.must("webhooks", "redeliver", hook.ID, "--after", "0")
	waitUntil("the redelivery", func() bool { return got.Load() == 2 })
	if out := a.must("webhooks", "update", hook.ID, "--disable"); !strings.Contains(out, "false") {
		t.Errorf("webhooks update --disable:\n%s", out)
	}
	a.must("webhooks", "delete", hook.ID)
	if _, _, err := a.run("webhooks", "get", hook.ID); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("webhooks get after delete: %v", err)
	}
}
