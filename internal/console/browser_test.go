package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// The console in Debian's real Chromium, headless, driven by chromedp. Outside
// CI a machine without chromium skips these tests and says how to install it;
// under CI=true they fail instead (.ci/run installs it).

func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("PURSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI needs it for the console's browser tests (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed: apt-get install -y chromium (or set PURSE_CHROMIUM to its path) to run the console's browser tests")
	return ""
}

// newChrome starts a fresh headless Chromium with its own profile.
func newChrome(t *testing.T) context.Context {
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%v (at %s: %.600s)", err, loc, body)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, `(document.querySelector(`+fmt.Sprintf("%q", sel)+`) || {textContent: ""}).textContent.trim()`)
}

func browserLogin(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#name")))
	submit(t, ctx, map[string]string{"#name": name, "#password": password}, "#login")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#who")))
}

// submit fills a form's fields and sends it with its button, then waits for the
// next page to load.
func submit(t *testing.T, ctx context.Context, fields map[string]string, button string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{}
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	eval[bool](t, ctx, `window.__oldPage = true`)
	do(t, ctx, append(steps, chromedp.Click(chromedp.CSS(button)))...)
	waitNewPage(t, ctx)
}

// waitNewPage waits until the page marked with __oldPage is replaced and loaded.
func waitNewPage(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		done, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.__oldPage === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no new page after the form was sent")
}

func waitLoaded(t *testing.T, ctx context.Context) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	if os.Getenv("PURSE_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testkit.ModuleRoot(t), "docs", "console")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowser: the Show list of issue 19, in a real browser.
func TestBrowser(t *testing.T) {
	// The chart's account gets entries on three days (the clock moves), before
	// anybody logs in: a session lives on the same clock.
	now := time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)
	clock := testkit.NewClock(now.Add(-72 * time.Hour))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now})
	addOperator(s, "ann", "admin")
	addOperator(s, "vic", "viewer")
	chart := s.CreateAccount("Chart Ltd", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+chart+"/top-ups", `{"amount":"500"}`, testkit.Key("c1"))
	clock.Set(now.Add(-24 * time.Hour))
	s.MustAdmin(201, "POST", "/v1/accounts/"+chart+"/charges", `{"amount":"120.5"}`, testkit.Key("c2"))
	clock.Set(now)
	s.MustAdmin(201, "POST", "/v1/accounts/"+chart+"/charges", `{"amount":"80"}`, testkit.Key("c3"))
	empty := s.CreateAccount("Empty Co", "USD")
	_ = empty
	xss := s.CreateAccount(`\u003cscript\u003ealert(1)\u003c/script\u003e`, "EUR")
	base := s.Admin.URL

	ctx := newChrome(t)
	browserLogin(t, ctx, base, "ann", "ann-password")

	var id string
	t.Run("top up and charge", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#new-name")))
		submit(t, ctx, map[string]string{"#new-name": "Browser Shop", "#new-currency": "EUR"}, "#create")
		id = text(t, ctx, "#account-id")
		submit(t, ctx, map[string]string{"#top-up-amount": "100"}, "#top-up-submit")
		for i := 0; i < 2; i++ {
			submit(t, ctx, map[string]string{"#charge-amount": "30"}, "#charge-submit")
		}
		if got := text(t, ctx, "#balance-value"); got != "40 EUR" {
			t.Errorf("balance reads %q, want 40 EUR", got)
		}
	})

	t.Run("chart points", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+chart+"?range=30d"), chromedp.WaitVisible(chromedp.CSS("#balance-chart canvas")))
		// The opening balance, then one point per hour with entries: three.
		drawn := eval[string](t, ctx, `document.getElementById("balance-chart").getAttribute("data-drawn")`)
		if drawn != "4" {
			t.Errorf("the chart drew %q points, want 4", drawn)
		}
		screenshot(t, ctx, "account.png")
	})

	t.Run("double submit", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#top-up-amount")))
		// The same rendered form sent twice (what a double click or a resubmit
		// sends), then once more by a double click on its button.
		n := eval[int](t, ctx, `(async () => { const f = new FormData(document.getElementById("top-up-form")); f.set("amount", "7");
			const p = new URLSearchParams(f); let ok = 0;
			for (let i = 0; i < 2; i++) { const r = await fetch(document.getElementById("top-up-form").action, {method: "POST", body: p, redirect: "manual"}); if (r.type === "opaqueredirect" || r.ok) ok++; }
			return ok; })()`, chromedp.EvalAwaitPromise)
		if n != 2 {
			t.Fatalf("%d of the two posts were answered", n)
		}
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#top-up-amount")),
			chromedp.SetValue(chromedp.CSS("#top-up-amount"), "3"))
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.DoubleClick(chromedp.CSS("#top-up-submit")))
		waitNewPage(t, ctx)
		if got := topUps(t, s, id); got != "100 7 3" {
			t.Errorf("top-ups %q, want 100 7 3: one each", got)
		}
		if got := text(t, ctx, "#balance-value"); got != "50 EUR" {
			t.Errorf("balance reads %q, want 50 EUR", got)
		}
	})

	t.Run("sub-account", func(t *testing.T) {
		// Create an own-funded sub-account of the shop (50 EUR), transfer 10 to
		// it, and read both balances: on the parent's page, its list and the
		// sub-account's own page.
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#sub-name")))
		submit(t, ctx, map[string]string{"#sub-name": "Browser Team", "#sub-funding": "own"}, "#sub-account-submit")
		if got := text(t, ctx, "#sub-accounts-table tbody"); !strings.Contains(got, "Browser Team") || !strings.Contains(got, "own") {
			t.Fatalf("the new sub-account is not listed: %q", got)
		}
		submit(t, ctx, map[string]string{"#transfer-amount": "10", "#transfer-direction": "out"}, "#transfer-submit")
		if got := text(t, ctx, "#balance-value"); got != "40 EUR" {
			t.Errorf("parent's balance reads %q, want 40 EUR", got)
		}
		row := text(t, ctx, "#sub-accounts-table tbody tr")
		if !strings.Contains(row, "Browser Team") || !strings.Contains(row, "10 EUR") {
			t.Errorf("the sub-account's row reads %q, want its 10 EUR", row)
		}
		screenshot(t, ctx, "sub-accounts.png")
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.Click(chromedp.CSS("#sub-accounts-table tbody a")))
		waitNewPage(t, ctx)
		if got := text(t, ctx, "#balance-value"); got != "10 EUR" {
			t.Errorf("the sub-account's balance reads %q, want 10 EUR", got)
		}
		if got := text(t, ctx, "#parent-link"); got != "Browser Shop" {
			t.Errorf("the sub-account's parent reads %q", got)
		}
		if b := balance(s, id); b != ledger.MustParseAmount("40") {
			t.Errorf("the parent's balance in the engine: %s", b)
		}
	})

	t.Run("entries filter in place", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#kind")))
		eval[bool](t, ctx, `window.__samePage = true`)
		do(t, ctx, chromedp.SetValue(chromedp.CSS("#kind"), "charge"), chromedp.Click(chromedp.CSS("#entries button")))
		// htmx swaps the table (no new page: the marker stays); only charges are left.
		var kinds string
		for i := 0; i < 100; i++ {
			kinds = eval[string](t, ctx, `[...document.querySelectorAll("#entries tbody tr td:nth-child(3)")].map(td => td.textContent).join(" ")`)
			if kinds == "charge charge" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if kinds != "charge charge" || !eval[bool](t, ctx, `window.__samePage === true`) {
			t.Errorf("after the filter: kinds %q, same page %v", kinds, eval[bool](t, ctx, `window.__samePage === true`))
		}
	})

	t.Run("low-balance alert", func(t *testing.T) {
		// The shop has 40: a threshold of 30, a charge of 15, and the dashboard
		// lists it below its threshold.
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id+"#alerts"), chromedp.WaitVisible(chromedp.CSS("#alert-low-below")))
		submit(t, ctx, map[string]string{"#alert-low-below": "30", "#alert-low-margin": "5"}, "#alerts-submit")
		if got := text(t, ctx, "#alert-low-state"); got != "armed" {
			t.Fatalf("after setting the threshold its state reads %q, want armed", got)
		}
		submit(t, ctx, map[string]string{"#charge-amount": "15"}, "#charge-submit")
		if got := text(t, ctx, "#alert-low-state"); got != "fired" {
			t.Errorf("after the charge below it the state reads %q, want fired", got)
		}
		if got := text(t, ctx, "#events-table tbody"); !strings.Contains(got, "balance.low") {
			t.Errorf("the account's events do not show balance.low: %q", got)
		}
		do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#totals")))
		if got := text(t, ctx, "#low-balance"); !strings.Contains(got, "Browser Shop") || !strings.Contains(got, "threshold 30") {
			t.Errorf("the dashboard's low-balance list reads %q", got)
		}
	})

	t.Run("escaping", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+xss), chromedp.WaitVisible(chromedp.CSS("#account-name")))
		if got := text(t, ctx, "#account-name"); got != "<script>alert(1)</script>" {
			t.Errorf("the name reads %q", got)
		}
		if eval[bool](t, ctx, `[...document.scripts].some(s => s.textContent.includes("alert(1)"))`) {
			t.Error("the name became a script")
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#totals")))
		if !strings.Contains(text(t, ctx, "#depleted"), "Empty Co") {
			t.Error("the empty account is not listed as depleted")
		}
		// c3, the two charges of 30 and the alert's 15: this hour's charges, on a chart of 60 minutes.
		if got := text(t, ctx, "#rate-summary"); !strings.HasPrefix(got, "4 charges in the last hour") {
			t.Errorf("rate summary %q", got)
		}
		if drawn := eval[string](t, ctx, `document.getElementById("rate-chart").getAttribute("data-drawn")`); drawn != "60" {
			t.Errorf("the rate chart drew %q points, want 60", drawn)
		}
		screenshot(t, ctx, "dashboard.png")
	})

	t.Run("cross-site post", func(t *testing.T) {
		before := balance(s, id)
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<form id="f" method="post" action="%s/console/accounts/%s/top-up"><input name="amount" value="1000"><input name="idempotency_key" value="evil"></form>
				<script>document.getElementById("f").submit()</script>`, base, id)
		}))
		defer evil.Close()
		// localhost, not 127.0.0.1: another site for the browser.
		do(t, ctx, chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(eval[string](t, ctx, `location.href`), "/console/") {
			time.Sleep(50 * time.Millisecond)
		}
		waitLoaded(t, ctx)
		if got := balance(s, id); got != before {
			t.Errorf("a cross-site post moved money: %s -> %s", before, got)
		}
		body := text(t, ctx, "body")
		if !strings.Contains(body, "Refused") && !strings.Contains(body, "session has ended") {
			t.Errorf("the cross-site post was answered with %q", body)
		}
	})

	t.Run("operators", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#operators-link")))
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.Click(chromedp.CSS("#operators-link")))
		waitNewPage(t, ctx)
		if got := text(t, ctx, "#operators tbody"); !strings.Contains(got, "ann (you)") || !strings.Contains(got, "vic") {
			t.Errorf("the operators list reads %q", got)
		}
		screenshot(t, ctx, "operators.png")
	})

	t.Run("webhooks", func(t *testing.T) {
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		defer rcv.Close()
		do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#webhooks-link")))
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.Click(chromedp.CSS("#webhooks-link")))
		waitNewPage(t, ctx)
		do(t, ctx, chromedp.Click(chromedp.CSS(`input[value="balance.low"]`)), chromedp.Click(chromedp.CSS(`input[value="topup.requested"]`)))
		submit(t, ctx, map[string]string{"#webhook-url": rcv.URL + "/purse", "#webhook-account": id}, "#webhook-submit")
		secret := text(t, ctx, "#webhook-secret")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("the secret reads %q", secret)
		}
		if got := text(t, ctx, "#webhooks tbody"); !strings.Contains(got, "balance.low topup.requested") || !strings.Contains(got, "enabled") {
			t.Errorf("the list reads %q", got)
		}
		screenshot(t, ctx, "webhooks.png")
		do(t, ctx, chromedp.Navigate(base+"/console/webhooks"), chromedp.WaitVisible(chromedp.CSS("#webhooks")))
		if eval[bool](t, ctx, `document.body.textContent.includes("whsec_")`) {
			t.Error("the secret is shown again")
		}

		// Rotating it from its own page: a confirmation, then the new secret once.
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.Click(chromedp.CSS(`#webhooks tbody a[href^="/console/webhooks/whk_"]`)))
		waitNewPage(t, ctx)
		before := text(t, ctx, "#webhook-fingerprint")
		submit(t, ctx, map[string]string{"#rotate-keep": "2"}, "#rotate-submit")
		submit(t, ctx, nil, "#confirm")
		rotated := text(t, ctx, "#webhook-secret")
		if !strings.HasPrefix(rotated, "whsec_") || rotated == secret || text(t, ctx, "#webhook-fingerprint") == before {
			t.Errorf("after the rotation the secret reads %q (was %q), the fingerprint %q (was %q)", rotated, secret, text(t, ctx, "#webhook-fingerprint"), before)
		}
		if got := text(t, ctx, "#webhook-previous-secret"); !strings.HasPrefix(got, "signs too until ") {
			t.Errorf("the old secret's end reads %q", got)
		}
	})

	t.Run("logout", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#logout")))
		eval[bool](t, ctx, `window.__oldPage = true`)
		do(t, ctx, chromedp.Click(chromedp.CSS("#logout")))
		waitNewPage(t, ctx)
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#login")))
	})

	t.Run("viewer", func(t *testing.T) {
		browserLogin(t, ctx, base, "vic", "vic-password")
		do(t, ctx, chromedp.Navigate(base+"/console/accounts/"+id), chromedp.WaitVisible(chromedp.CSS("#read-only")))
		if eval[bool](t, ctx, `document.querySelector("#actions form") !== null`) {
			t.Error("the viewer sees a money form")
		}
		if eval[bool](t, ctx, `document.getElementById("operators-link") !== null`) {
			t.Error("the viewer sees the Operators link")
		}
		before := balance(s, id)
		status := eval[int](t, ctx, `(async () => { const p = new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value, idempotency_key: "viewer-1", amount: "5"});
			const r = await fetch("/console/accounts/`+id+`/top-up", {method: "POST", body: p}); return r.status; })()`, chromedp.EvalAwaitPromise)
		if status != http.StatusForbidden || balance(s, id) != before {
			t.Errorf("the viewer's post: %d, balance %s -> %s", status, before, balance(s, id))
		}
	})
}

func balance(s *testkit.Stack, id string) ledger.Amount {
	a, _ := s.Engine.Account(id)
	return a.Balance
}

// topUps lists an account's top-ups, oldest first.
func topUps(t *testing.T, s *testkit.Stack, id string) string {
	es, err := s.Store.ListEntries(t.Context(), id, ledger.EntryFilter{Kind: ledger.EntryTopUp, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Amount.String())
	}
	return strings.Join(out, " ")
}

var _ = engine.TopUp{}
