package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
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
	if !strings.Contains(out, "below 10, re-arm above it plus 2 (armed)") || !strings.Contains(out, "below 5, up to 30 (armed)") {
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
	if strings.Count(got, `{"sequence"`) != 3 || strings.Count(got, `"entry.created"`) != 3 || !strings.Contains(got, `"next": `) {
		t.Fatalf("events --follow printed:\n%s", followed.String())
	}
}
