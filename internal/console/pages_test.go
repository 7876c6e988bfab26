package console_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestPages: every page and form of the console answers as it should, bad input
// included (clear pages, never a 500).
func TestPages(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "ann", "admin")
	addOperator(s, "otto", "operator")
	a := s.CreateAccount("Alpha", "EUR")
	b := s.CreateAccount("Beta", "USD")
	s.MustAdmin(201, "POST", "/v1/accounts/"+a+"/top-ups", `{"amount":"2000"}`, testkit.Key("t1"))
	ch := s.MustAdmin(201, "POST", "/v1/accounts/"+a+"/charges", `{"amount":"12.5"}`, testkit.Key("t2"))
	var charge struct{ ID string }
	ch.JSON(t, &charge)
	ann := newBrowser(t, s)
	ann.login("ann", "ann-password")
	_, _, page := ann.do("GET", "/console/accounts/"+a, nil, nil)
	csrf := find(t, csrfRe, page)

	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/console/", 200, "Depleted accounts"},
		{"/console", 302, ""},
		{"/console/accounts", 200, "2 accounts"},
		{"/console/accounts?q=alp", 200, "1 accounts"},
		{"/console/accounts?currency=USD&sort=-balance", 200, "Beta"},
		{"/console/accounts?status=suspended", 200, "0 accounts"},
		{"/console/accounts?page=99", 200, "page 1 of 1"},
		{"/console/accounts/" + a + "?range=24h", 200, "12.5"},
		{"/console/accounts/" + a + "?range=7d", 200, `aria-current="true">7 days`},
		{"/console/accounts/" + a + "?range=custom&from=2026-01-01&to=2026-03-01", 200, "Balance over time"},
		{"/console/accounts/" + a + "?range=custom&from=x&to=y", 400, "custom range"},
		{"/console/accounts/" + a + "?range=1y", 400, "must be 24h"},
		{"/console/accounts/" + a + "?kind=nonsense", 400, "kind"},
		{"/console/accounts/" + a + "/entries?kind=charge", 200, "charge"},
		{"/console/accounts/acc_nobody", 404, "No such account"},
		{"/console/accounts/sys_revenue_EUR", 404, "No such account"},
		{"/console/audit?actor=token:", 200, "Audit log"},
		{"/console/audit?action=POST", 200, "/v1/accounts"},
		{"/console/nowhere", 404, "No such page"},
		{"/console/assets/console.js", 200, "uPlot"},
		{"/console/assets/vendor/uplot/LICENSE", 200, "MIT"},
	} {
		st, _, body := ann.do("GET", tc.path, nil, nil)
		if st != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, want %d with %q\n%.400s", tc.path, st, tc.status, tc.want, body)
		}
	}

	post := func(action string, f url.Values) (int, string) {
		t.Helper()
		f.Set("csrf", csrf)
		st, h, body := ann.do("POST", "/console/accounts/"+a+"/"+action, f, nil)
		if st == http.StatusSeeOther {
			return st, h.Get("Location")
		}
		return st, body
	}
	t.Run("forms", func(t *testing.T) {
		if st, body := post("adjust", url.Values{"idempotency_key": {"adj-1"}, "amount": {"-1500"}, "reason": {"goodwill"}}); st != 200 || !strings.Contains(body, "larger than usual") {
			t.Errorf("a large adjustment without confirmation: %d", st)
		}
		if st, _ := post("adjust", url.Values{"idempotency_key": {"adj-1"}, "amount": {"-1500"}, "reason": {"goodwill"}, "confirm": {"yes"}}); st != 303 {
			t.Errorf("confirmed adjustment: %d", st)
		}
		if st, body := post("adjust", url.Values{"idempotency_key": {"adj-2"}, "amount": {"5"}}); st != 400 || !strings.Contains(body, "reason") {
			t.Errorf("an adjustment without a reason: %d %.300s", st, body)
		}
		if st, body := post("charge", url.Values{"idempotency_key": {"c-big"}, "amount": {"100000"}}); st != 402 || !strings.Contains(body, "nsufficient") {
			t.Errorf("a charge beyond the balance: %d", st)
		}
		if st, body := post("top-up", url.Values{"idempotency_key": {"t-bad"}, "amount": {"1.0000001"}}); st != 400 || !strings.Contains(body, "amount") {
			t.Errorf("seven decimals: %d", st)
		}
		if st, _ := post("refund", url.Values{"idempotency_key": {"r-1"}, "charge_id": {charge.ID}, "amount": {"2.5"}}); st != 303 {
			t.Errorf("refund: %d", st)
		}
		if st, _ := post("explode", url.Values{}); st != 404 {
			t.Errorf("an unknown action: %d", st)
		}
		acc, _ := s.Engine.Account(a)
		if acc.Balance != ledger.MustParseAmount("490") { // 2000 - 12.5 - 1500 + 2.5
			t.Errorf("balance %s, want 490", acc.Balance)
		}
	})
	t.Run("credentials", func(t *testing.T) {
		st, body := post("api-key", url.Values{"idempotency_key": {"k-1"}, "name": {"backend"}})
		secret := regexp.MustCompile(`id="secret">([0-9a-f]{64})<`).FindStringSubmatch(body)
		if st != 201 || secret == nil {
			t.Fatalf("api key: %d %.500s", st, body)
		}
		if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": "App " + secret[1]}, nil); r.Status != 200 {
			t.Errorf("the new key reads the balance: %d", r.Status)
		}
		_, _, page := ann.do("GET", "/console/accounts/"+a, nil, nil)
		if strings.Contains(page, secret[1]) {
			t.Error("the secret is shown again")
		}
		keyID := regexp.MustCompile(`name="ref" value="([^"]+)"`).FindStringSubmatch(page)
		if keyID == nil {
			t.Fatal("no revoke form")
		}
		if st, _ := post("revoke-key", url.Values{"ref": {keyID[1]}}); st != 303 {
			t.Errorf("revoke: %d", st)
		}
		if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": "App " + secret[1]}, nil); r.Status != 401 {
			t.Errorf("the revoked key: %d", r.Status)
		}
		if st, body := post("oauth-client", url.Values{"idempotency_key": {"o-1"}, "name": {"svc"}}); st != 201 || !strings.Contains(body, `id="secret"`) {
			t.Errorf("oauth client: %d", st)
		}
		if st, _ := post("user", url.Values{"idempotency_key": {"u-1"}, "username": {"alpha-user"}, "password": {"alpha-password"}}); st != 303 {
			t.Errorf("add user: %d", st)
		}
		basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alpha-user:alpha-password"))}
		if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", basic, nil); r.Status != 200 {
			t.Errorf("the new user reads the balance: %d", r.Status)
		}
		if st, body := post("user", url.Values{"idempotency_key": {"u-2"}, "username": {"short"}, "password": {"short"}}); st != 400 || !strings.Contains(body, "password") {
			t.Errorf("a short password: %d", st)
		}
		if st, _ := post("remove-user", url.Values{"ref": {"alpha-user"}}); st != 303 {
			t.Errorf("remove user: %d", st)
		}
		if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", basic, nil); r.Status != 401 {
			t.Errorf("the removed user: %d", r.Status)
		}
	})
	t.Run("operator may not manage credentials", func(t *testing.T) {
		otto := newBrowser(t, s)
		otto.login("otto", "otto-password")
		_, _, page := otto.do("GET", "/console/accounts/"+b, nil, nil)
		if strings.Contains(page, "Create API key") || !strings.Contains(page, "top-up-form") {
			t.Error("an operator's account page: wrong forms")
		}
		f := url.Values{"csrf": {find(t, csrfRe, page)}, "idempotency_key": {"otto-k"}, "name": {"x"}}
		if st, _, _ := otto.do("POST", "/console/accounts/"+b+"/api-key", f, nil); st != 403 {
			t.Errorf("an operator's api key: %d", st)
		}
		f = url.Values{"csrf": {find(t, csrfRe, page)}, "idempotency_key": {"otto-new"}, "name": {"Gamma"}, "currency": {"gbp"}}
		if st, h, _ := otto.do("POST", "/console/accounts", f, nil); st != 303 || !strings.Contains(h.Get("Location"), "done=create") {
			t.Errorf("an operator creates an account: %d", st)
		}
	})
	t.Run("login", func(t *testing.T) {
		x := newBrowser(t, s)
		if st, _, body := x.do("POST", "/console/login", url.Values{"name": {"ann"}, "password": {"nope-nope"}}, nil); st != 401 || !strings.Contains(body, "Wrong name or password") {
			t.Errorf("wrong password: %d", st)
		}
		if st, _, _ := x.do("POST", "/console/login", url.Values{"name": {"ann"}, "password": {"ann-password"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); st != 403 {
			t.Errorf("a cross-site login: %d", st)
		}
		st, h, _ := x.do("POST", "/console/login", url.Values{"name": {"ann"}, "password": {"ann-password"}, "next": {"//evil.example/"}}, nil)
		if st != 303 || h.Get("Location") != "/console/" {
			t.Errorf("next outside the console: %d %s", st, h.Get("Location"))
		}
		c := h.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console"} {
			if !strings.Contains(c, want) {
				t.Errorf("cookie %q lacks %s", c, want)
			}
		}
	})
}
