package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// browser is an HTTP client with a cookie jar, as a browser on the console.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, s *testkit.Stack) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: s.Admin.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, headers map[string]string) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

func (b *browser) login(name, password string) {
	b.t.Helper()
	if st, h, body := b.do("POST", "/console/login", url.Values{"name": {name}, "password": {password}}, nil); st != http.StatusSeeOther || h.Get("Location") != "/console/" {
		b.t.Fatalf("login %s: %d %s", name, st, body)
	}
}

var (
	csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	keyRe  = regexp.MustCompile(`id="top-up-form"[\s\S]*?name="idempotency_key" value="([^"]+)"`)
)

func find(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not in the page:\n%.3000s", re, body)
	}
	return m[1]
}

func addOperator(s *testkit.Stack, name, role string) {
	s.MustAdmin(http.StatusCreated, "POST", "/v1/operators", `{"name":"`+name+`","role":"`+role+`","password":"`+name+`-password"}`, nil)
}

// TestConsoleHTTP: the console over plain HTTP, without a browser: login, a
// top-up sent twice with its form's key moves money once, CSRF (token and
// origin), the viewer's 403, confirmation before a suspension, escaping, the
// audit actor, and logout.
func TestConsoleHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "ann", "admin")
	addOperator(s, "vic", "viewer")
	id := s.CreateAccount("Shop", "EUR")
	ann := newBrowser(t, s)
	if st, h, _ := ann.do("GET", "/console/", nil, nil); st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Fatalf("logged out dashboard: %d %v", st, h)
	}
	ann.login("ann", "ann-password")
	st, h, page := ann.do("GET", "/console/accounts/"+id, nil, nil)
	if st != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("account page: %d %v", st, h)
	}
	csrf, key := find(t, csrfRe, page), find(t, keyRe, page)
	form := url.Values{"csrf": {csrf}, "idempotency_key": {key}, "amount": {"100"}}
	for i := 0; i < 2; i++ {
		if st, _, body := ann.do("POST", "/console/accounts/"+id+"/top-up", form, nil); st != http.StatusSeeOther {
			t.Fatalf("top-up %d: %d %s", i, st, body)
		}
	}
	balance := func() ledger.Amount { a, _ := s.Engine.Account(id); return a.Balance }
	if got := balance(); got != ledger.MustParseAmount("100") {
		t.Fatalf("balance after a double top-up = %s, want 100", got)
	}

	t.Run("csrf", func(t *testing.T) {
		bad := url.Values{"idempotency_key": {"k-nocsrf"}, "amount": {"5"}}
		if st, _, _ := ann.do("POST", "/console/accounts/"+id+"/top-up", bad, nil); st != http.StatusForbidden {
			t.Errorf("no token: %d", st)
		}
		cross := url.Values{"csrf": {csrf}, "idempotency_key": {"k-cross"}, "amount": {"5"}}
		if st, _, _ := ann.do("POST", "/console/accounts/"+id+"/top-up", cross, map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
			t.Errorf("cross-site: %d", st)
		}
		if st, _, _ := ann.do("POST", "/console/accounts/"+id+"/top-up", cross, map[string]string{"Origin": "https://evil.example"}); st != http.StatusForbidden {
			t.Errorf("other origin: %d", st)
		}
		if got := balance(); got != ledger.MustParseAmount("100") {
			t.Errorf("balance %s after refused posts", got)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		vic := newBrowser(t, s)
		vic.login("vic", "vic-password")
		_, _, page := vic.do("GET", "/console/accounts/"+id, nil, nil)
		if strings.Contains(page, "top-up-form") || !strings.Contains(page, "read-only") {
			t.Errorf("the viewer sees money forms")
		}
		f := url.Values{"csrf": {find(t, csrfRe, page)}, "idempotency_key": {"k-viewer"}, "amount": {"5"}}
		if st, _, _ := vic.do("POST", "/console/accounts/"+id+"/top-up", f, nil); st != http.StatusForbidden {
			t.Errorf("viewer's top-up: %d, want 403", st)
		}
		if got := balance(); got != ledger.MustParseAmount("100") {
			t.Errorf("balance %s after the viewer's post", got)
		}
	})

	t.Run("confirm suspend", func(t *testing.T) {
		f := url.Values{"csrf": {csrf}, "idempotency_key": {"k-suspend"}}
		st, _, body := ann.do("POST", "/console/accounts/"+id+"/suspend", f, nil)
		if a, _ := s.Engine.Account(id); st != 200 || !strings.Contains(body, `id="confirm"`) || a.Status != ledger.StatusActive {
			t.Fatalf("suspend without confirmation: %d, status %s", st, a.Status)
		}
		f.Set("confirm", "yes")
		if st, _, _ := ann.do("POST", "/console/accounts/"+id+"/suspend", f, nil); st != http.StatusSeeOther {
			t.Fatalf("confirmed suspend: %d", st)
		}
		if a, _ := s.Engine.Account(id); a.Status != ledger.StatusSuspended {
			t.Errorf("status %s after a confirmed suspend", a.Status)
		}
	})

	t.Run("escaping", func(t *testing.T) {
		xss := s.CreateAccount(`\u003cscript\u003ealert(1)\u003c/script\u003e`, "EUR")
		_, _, page := ann.do("GET", "/console/accounts/"+xss, nil, nil)
		if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("the name is not escaped")
		}
	})

	t.Run("audit actor", func(t *testing.T) {
		s.Audit.Flush(t.Context())
		recs, err := s.Store.ListAudit(t.Context(), ledger.AuditFilter{Limit: 10, Actor: auth.OperatorActor("ann"), Action: "POST /v1/accounts/{id}/top-ups"})
		if err != nil || len(recs) != 2 {
			t.Errorf("ann's top-ups in the audit log: %d %v", len(recs), err)
		}
	})

	t.Run("logout", func(t *testing.T) {
		if st, _, _ := ann.do("POST", "/console/logout", url.Values{"csrf": {csrf}}, nil); st != http.StatusSeeOther {
			t.Fatalf("logout: %d", st)
		}
		if st, _, _ := ann.do("GET", "/console/", nil, nil); st != http.StatusSeeOther {
			t.Errorf("after logout the dashboard answers %d", st)
		}
	})
}

// TestOperatorTokens: a personal admin API token carries its operator's role,
// and the shared token still works.
func TestOperatorTokens(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "vic", "viewer")
	id := s.CreateAccount("Shop", "EUR")
	var tok struct{ Token string }
	s.MustAdmin(http.StatusCreated, "POST", "/v1/operators/vic/token", "", nil).JSON(t, &tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token, "Content-Type": "application/json", "Idempotency-Key": "k1"}
	if r := testkit.Do(t, "GET", s.Admin.URL+"/v1/accounts/"+id, bearer, nil); r.Status != 200 {
		t.Errorf("viewer reads: %d", r.Status)
	}
	if r := testkit.Do(t, "POST", s.Admin.URL+"/v1/accounts/"+id+"/top-ups", bearer, []byte(`{"amount":"5"}`)); r.Status != 403 {
		t.Errorf("viewer tops up: %d %s", r.Status, r.Body)
	}
	if r := testkit.Do(t, "POST", s.Admin.URL+"/v1/operators", bearer, []byte(`{"name":"x","role":"admin","password":"xxxxxxxxx"}`)); r.Status != 403 {
		t.Errorf("viewer adds an operator: %d", r.Status)
	}
	s.MustAdmin(http.StatusNoContent, "DELETE", "/v1/operators/vic", "", nil)
	if r := testkit.Do(t, "GET", s.Admin.URL+"/v1/accounts/"+id, bearer, nil); r.Status != 401 {
		t.Errorf("a removed operator's token: %d", r.Status)
	}
}

// TestLoginLimits: failed logins are limited per name like the public API's.
func TestLoginLimits(t *testing.T) {
	s := testkit.Open(t, t.TempDir()+"/purse.db", testkit.Options{AuthLimits: &auth.Limits{PerUser: 0.001, UserBurst: 3, PerIP: 1000, IPBurst: 1000}})
	addOperator(s, "ann", "admin")
	b := newBrowser(t, s)
	for i := 0; i < 3; i++ {
		if st, _, _ := b.do("POST", "/console/login", url.Values{"name": {"ann"}, "password": {"wrong-password"}}, nil); st != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, st)
		}
	}
	if st, h, _ := b.do("POST", "/console/login", url.Values{"name": {"ann"}, "password": {"ann-password"}}, nil); st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("after three failures: %d", st)
	}
}
