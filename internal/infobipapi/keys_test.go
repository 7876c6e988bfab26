package infobipapi_test

import (
	"encoding/json"

	"golang.org/x/time/rate"

	"github.com/purse-ledger/purse/internal/auth"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// customer is an account with a Basic user, on a stack.
type customer struct {
	s    *testkit.Stack
	id   string
	auth string // its Basic header
}

func newCustomer(t *testing.T, s *testkit.Stack, name string) customer {
	t.Helper()
	id := s.CreateAccount(name, "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+id+"/users", `{"username":"`+name+`","password":"password-`+name+`"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+id+"/top-ups", `{"amount":"10"}`, map[string]string{"Idempotency-Key": "seed-" + name})
	return customer{s: s, id: id, auth: basic(name, "password-"+name)}
}

// do sends a public request as the customer (its Basic login unless headers
// say otherwise).
func (c customer) do(t *testing.T, method, path, body string, headers map[string]string) testkit.Response {
	t.Helper()
	h := map[string]string{"Authorization": c.auth}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	for k, v := range headers {
		h[k] = v
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return testkit.Do(t, method, c.s.Public.URL+path, h, b)
}

type keyV2 struct {
	ID, APIKeySecret, AccountID, Name, ValidFrom, ValidTo string
	AllowedIPs, Permissions, ScopeGuids                   []string
	Enabled                                               bool
}

func (c customer) createKey(t *testing.T, body string) keyV2 {
	t.Helper()
	r := c.do(t, "POST", "/settings/2/api-keys", body, nil)
	if r.Status != 200 {
		t.Fatalf("create key %s: %d %s", body, r.Status, r.Body)
	}
	var k keyV2
	r.JSON(t, &k)
	if k.APIKeySecret == "" || k.ID == "" {
		t.Fatalf("created key without id or secret: %s", r.Body)
	}
	return k
}

func (c customer) updateKey(t *testing.T, id, body string) keyV2 {
	t.Helper()
	r := c.do(t, "PUT", "/settings/2/api-keys/"+id, body, nil)
	if r.Status != 200 {
		t.Fatalf("update key %s: %d %s", body, r.Status, r.Body)
	}
	var k keyV2
	r.JSON(t, &k)
	if k.APIKeySecret != "" {
		t.Errorf("an update showed the secret: %s", r.Body)
	}
	return k
}

func balanceWith(t *testing.T, s *testkit.Stack, header string, extra map[string]string) testkit.Response {
	t.Helper()
	h := map[string]string{"Authorization": header}
	for k, v := range extra {
		h[k] = v
	}
	return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", h, nil)
}

// TestKeyLifecycleV2: a key made over /settings/2 works from its allowed
// address, and every refusal (address, window, disabled) is a wrong key's 401,
// byte for byte, from the next request on.
func TestKeyLifecycleV2(t *testing.T) {
	s := testkit.New(t)
	c := newCustomer(t, s, "alice")
	wrong := balanceWith(t, s, "App "+strings.Repeat("0", 64), nil)
	if wrong.Status != 401 {
		t.Fatalf("wrong key: %d", wrong.Status)
	}
	k := c.createKey(t, `{"name":"ci","allowedIPs":["127.0.0.1","2001:db8::/32"],"scopeGuids":["account-management:manage"]}`)
	if k.AccountID != c.id || !k.Enabled || strings.Join(k.AllowedIPs, ",") != "127.0.0.1,2001:db8::/32" || k.ValidTo == "" {
		t.Errorf("created %+v", k)
	}
	app := "App " + k.APIKeySecret
	if r := balanceWith(t, s, app, nil); r.Status != 200 {
		t.Fatalf("key from its allowed address: %d %s", r.Status, r.Body)
	}
	refused := func(why string) {
		t.Helper()
		r := balanceWith(t, s, app, nil)
		if r.Status != 401 || string(r.Body) != string(wrong.Body) || r.Header.Get("WWW-Authenticate") != wrong.Header.Get("WWW-Authenticate") {
			t.Errorf("%s: %d %s, want a wrong key's 401 %s", why, r.Status, r.Body, wrong.Body)
		}
	}
	allowed := func(why string) {
		t.Helper()
		if r := balanceWith(t, s, app, nil); r.Status != 200 {
			t.Errorf("%s: %d %s", why, r.Status, r.Body)
		}
	}
	c.updateKey(t, k.ID, `{"enabled":false}`)
	refused("disabled")
	c.updateKey(t, k.ID, `{"enabled":true}`)
	allowed("enabled again")
	c.updateKey(t, k.ID, `{"allowedIPs":["192.0.2.0/24","::1"]}`)
	refused("from outside allowedIPs")
	c.updateKey(t, k.ID, `{"allowedIPs":[]}`)
	allowed("no address list")
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	c.updateKey(t, k.ID, `{"validFrom":"2020-01-01T00:00:00Z","validTo":"`+past+`"}`)
	refused("past its validTo")
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05")
	c.updateKey(t, k.ID, `{"validFrom":"`+future+`","validTo":"2099-01-01T00:00:00.000+0000"}`)
	refused("before its validFrom")
	got := c.updateKey(t, k.ID, `{"validFrom":"2020-01-01T00:00:00Z","name":"renamed"}`)
	allowed("inside its window")
	if got.Name != "renamed" || got.ValidTo != "2099-01-01T00:00:00Z" || got.ValidFrom != "2020-01-01T00:00:00Z" {
		t.Errorf("after updates: %+v", got)
	}
	// The admin API sees the same key with the same restrictions.
	var keys struct{ APIKeys []map[string]any }
	s.MustAdmin(200, "GET", "/v1/accounts/"+c.id+"/api-keys", "", nil).JSON(t, &keys)
	if len(keys.APIKeys) != 1 || keys.APIKeys[0]["name"] != "renamed" || keys.APIKeys[0]["validTo"] != "2099-01-01T00:00:00Z" {
		t.Errorf("admin view: %+v", keys.APIKeys)
	}
	// GET and the list never show the secret.
	r := c.do(t, "GET", "/settings/2/api-keys/"+k.ID, "", nil)
	if r.Status != 200 || strings.Contains(string(r.Body), k.APIKeySecret) {
		t.Errorf("get: %d %s", r.Status, r.Body)
	}
	r = c.do(t, "GET", "/settings/2/api-keys?apiKeySecret="+k.APIKeySecret, "", nil)
	var page struct {
		APIKeys []keyV2
		Paging  map[string]any
	}
	r.JSON(t, &page)
	if r.Status != 200 || len(page.APIKeys) != 1 || page.APIKeys[0].ID != k.ID || strings.Contains(string(r.Body), k.APIKeySecret) {
		t.Errorf("list by secret: %d %s", r.Status, r.Body)
	}
	// A suspended account's keys cannot be made or changed (403), only read.
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+c.id, `{"status":"suspended"}`, nil)
	for _, rq := range []struct{ method, path, body string }{{"POST", "/settings/2/api-keys", `{"name":"x"}`}, {"PUT", "/settings/2/api-keys/" + k.ID, `{"name":"x"}`}} {
		if r := c.do(t, rq.method, rq.path, rq.body, nil); r.Status != 403 {
			t.Errorf("%s on a suspended account: %d %s", rq.method, r.Status, r.Body)
		}
	}
	if r := c.do(t, "GET", "/settings/2/api-keys/"+k.ID, "", nil); r.Status != 200 {
		t.Errorf("GET on a suspended account: %d %s", r.Status, r.Body)
	}
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+c.id, `{"status":"active"}`, nil)
	// A revoked key is gone for the customer.
	s.MustAdmin(204, "DELETE", "/v1/accounts/"+c.id+"/api-keys/"+k.ID, "", nil)
	if r := c.do(t, "GET", "/settings/2/api-keys/"+k.ID, "", nil); r.Status != 404 {
		t.Errorf("revoked key: %d %s", r.Status, r.Body)
	}
}

// TestKeyBadInput: malformed bodies and parameters are 400 in the ApiError
// shape with the field named, and change nothing.
func TestKeyBadInput(t *testing.T) {
	s := testkit.New(t)
	c := newCustomer(t, s, "bob")
	k := c.createKey(t, `{"name":"base"}`)
	for _, tt := range []struct{ method, path, body, property string }{
		{"POST", "/settings/2/api-keys", `{"name":"x","scopeGuids":["no-such:scope"]}`, "scopes"},
		{"POST", "/settings/2/api-keys", `{"name":"x","allowedIPs":["10.0.0.1/8"]}`, "allowedIPs"},
		{"POST", "/settings/2/api-keys", `{"name":"x","allowedIPs":["not-an-ip"]}`, "allowedIPs"},
		{"POST", "/settings/2/api-keys", `{"name":"x","validFrom":"yesterday"}`, "validFrom"},
		{"POST", "/settings/2/api-keys", `{"name":"x","validFrom":"2030-01-01T00:00:00Z","validTo":"2029-01-01T00:00:00Z"}`, "validTo"},
		{"POST", "/settings/2/api-keys", `{"name":"x","permissions":["WEB_SDK"]}`, "permissions"},
		{"POST", "/settings/2/api-keys", `{"name":"x","platform":[{"applicationId":"a"}]}`, "platform"},
		{"POST", "/settings/2/api-keys", `{"allowedIPs":[]}`, "name"},
		{"POST", "/settings/2/api-keys", `{"name":"x","name":"y"}`, "name"},
		{"POST", "/settings/2/api-keys", `{"name":5}`, "body"},
		{"POST", "/settings/2/api-keys", `not json`, "body"},
		{"PUT", "/settings/2/api-keys/" + k.ID, `{"scopeGuids":[]}`, "scopeGuids"},
		{"PUT", "/settings/2/api-keys/" + k.ID, `{"accountId":"acc_elsewhere"}`, "accountId"},
		{"GET", "/settings/2/api-keys?size=101", ``, "size"},
		{"GET", "/settings/2/api-keys?page=-1", ``, "page"},
		{"GET", "/settings/2/api-keys?orderBy=secret", ``, "orderBy"},
		{"GET", "/settings/2/api-keys?enabled=maybe", ``, "enabled"},
		{"POST", "/settings/1/accounts/_/api-keys", `{"name":"x","permissions":["TFA"]}`, "permissions"},
	} {
		r := c.do(t, tt.method, tt.path, tt.body, nil)
		var e struct {
			ErrorCode  string
			Violations []struct{ Property, Violation string }
		}
		r.JSON(t, &e)
		if r.Status != 400 || e.ErrorCode != "E400" || len(e.Violations) == 0 || !strings.HasPrefix(e.Violations[0].Property, tt.property) {
			t.Errorf("%s %s %s: %d %s, want E400 on %s", tt.method, tt.path, tt.body, r.Status, r.Body, tt.property)
		}
	}
	var keys struct{ APIKeys []keyV2 }
	c.do(t, "GET", "/settings/2/api-keys", "", nil).JSON(t, &keys)
	if len(keys.APIKeys) != 1 || keys.APIKeys[0].Name != "base" || strings.Join(keys.APIKeys[0].ScopeGuids, ",") != "account-management:manage" {
		t.Errorf("a refused request changed the keys: %+v", keys.APIKeys)
	}
}

// TestScopesPerRoute: each route checks the scopes its x-scopes names. The
// SMS-only key carries sms:message:send, Infobip's scope for sending SMS
// (scopes.tsv has no "sms:send"), and an unknown scope is refused.
func TestScopesPerRoute(t *testing.T) {
	s := testkit.New(t)
	c := newCustomer(t, s, "carol")
	sms := c.createKey(t, `{"name":"sms only","scopeGuids":["sms:message:send"]}`)
	acct := c.createKey(t, `{"name":"account","scopeGuids":["account-management:manage"]}`)
	both := c.createKey(t, `{"name":"auditor","scopeGuids":["account-management:manage","audit-logs:read"]}`)
	if r := c.do(t, "POST", "/settings/2/api-keys", `{"name":"x","scopeGuids":["sms:send"]}`, nil); r.Status != 400 {
		t.Errorf("unknown scope sms:send: %d %s", r.Status, r.Body)
	}
	for _, tt := range []struct {
		key    keyV2
		path   string
		status int
		scope  string
	}{
		{sms, "/account/1/balance", 403, "account-management:manage"},
		{sms, "/account/1/total-balance", 403, "account-management:manage"},
		{acct, "/account/1/balance", 200, ""},
		{acct, "/audit/1/logs", 403, "audit-logs:read"},
		{sms, "/audit/1/logs", 403, "audit-logs:read"},
		{both, "/audit/1/logs", 200, ""},
		{both, "/audit/1/logs/export", 200, ""},
		// The key routes' security list leaves App keys out.
		{both, "/settings/2/api-keys", 403, ""},
		{both, "/settings/1/accounts/_/api-keys", 403, ""},
	} {
		r := testkit.Do(t, "GET", s.Public.URL+tt.path, map[string]string{"Authorization": "App " + tt.key.APIKeySecret}, nil)
		if r.Status != tt.status || tt.scope != "" && !strings.Contains(string(r.Body), tt.scope) {
			t.Errorf("%s with %v: %d %s, want %d naming %q", tt.path, tt.key.ScopeGuids, r.Status, r.Body, tt.status, tt.scope)
		}
	}
}

// TestOtherCustomersKeysAndAudit: a credential never reaches another customer's
// keys, accounts or audit records, and is told 404 (never 403).
func TestOtherCustomersKeysAndAudit(t *testing.T) {
	s := testkit.New(t)
	a, b := newCustomer(t, s, "anna"), newCustomer(t, s, "boris")
	ak := a.createKey(t, `{"name":"anna's"}`)
	b.createKey(t, `{"name":"boris's"}`)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/settings/2/api-keys/" + ak.ID, ""},
		{"PUT", "/settings/2/api-keys/" + ak.ID, `{"enabled":false}`},
		{"GET", "/settings/2/api-keys?accountId=" + a.id, ""},
		{"POST", "/settings/2/api-keys", `{"name":"planted","accountId":"` + a.id + `"}`},
		{"GET", "/settings/1/accounts/" + a.id + "/api-keys", ""},
		{"POST", "/settings/1/accounts/" + a.id + "/api-keys", `{"name":"planted"}`},
		{"GET", "/settings/1/accounts/" + a.id + "/api-keys/" + ak.ID, ""},
		{"PUT", "/settings/1/accounts/" + a.id + "/api-keys/" + ak.ID, `{"enabled":false}`},
		{"GET", "/settings/1/accounts/_/api-keys/" + ak.ID, ""},
		{"PUT", "/settings/1/accounts/_/api-keys/" + ak.ID, `{"name":"mine now"}`},
		{"GET", "/settings/2/api-keys/key_does_not_exist", ""},
		{"GET", "/settings/2/api-keys?accountId=acc_does_not_exist", ""},
	} {
		r := b.do(t, tt.method, tt.path, tt.body, nil)
		var e struct{ ErrorCode string }
		r.JSON(t, &e)
		if r.Status != 404 || e.ErrorCode != "E404" {
			t.Errorf("boris %s %s: %d %s, want E404", tt.method, tt.path, r.Status, r.Body)
		}
	}
	// Anna's key is untouched and still hers.
	r := a.do(t, "GET", "/settings/2/api-keys/"+ak.ID, "", nil)
	var got keyV2
	r.JSON(t, &got)
	if r.Status != 200 || got.Name != "anna's" || !got.Enabled {
		t.Errorf("anna's key after boris: %d %s", r.Status, r.Body)
	}
	// Each sees only its own audit records; the operator's never.
	waitAudit(t, a, "Create", 1)
	waitAudit(t, b, "Create", 1)
	for _, c := range []customer{a, b} {
		r := c.do(t, "GET", "/audit/1/logs", "", nil)
		var recs []map[string]any
		r.JSON(t, &recs)
		for _, rec := range recs {
			if rec["username"] != c.name(t) {
				t.Errorf("%s sees a record that is not its own: %v", c.id, rec)
			}
		}
		if len(recs) != 1 || strings.Contains(string(r.Body), "/v1/") || strings.Contains(string(r.Body), "token:") {
			t.Errorf("%s sees other records: %s", c.id, r.Body)
		}
	}
}

// name is the customer's username (its account's name in these tests).
func (c customer) name(t *testing.T) string {
	t.Helper()
	var acc struct{ Name string }
	c.s.MustAdmin(200, "GET", "/v1/accounts/"+c.id, "", nil).JSON(t, &acc)
	return acc.Name
}

// waitAudit waits until the customer sees at least n records of action (the
// auditor writes every 100 ms) and returns them all.
func waitAudit(t *testing.T, c customer, action string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		path := "/audit/1/logs"
		if action != "" {
			path += "?action=" + action
		}
		r := c.do(t, "GET", path, "", nil)
		var recs []map[string]any
		r.JSON(t, &recs)
		if r.Status == 200 && len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %s records after 5 s, want %d: %s", c.id, len(recs), action, n, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCreateKeyThrottle: the 41st create of a day is 429 with Retry-After; the
// budget is the account's (another account is not held back) and lists have
// their own 10 a second.
func TestCreateKeyThrottle(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now})
	c, other := newCustomer(t, s, "busy"), newCustomer(t, s, "calm")
	for i := 0; i < 40; i++ {
		c.createKey(t, `{"name":"k"}`)
	}
	for _, path := range []string{"/settings/2/api-keys", "/settings/1/accounts/_/api-keys"} {
		r := c.do(t, "POST", path, `{"name":"one too many"}`, nil)
		var e struct{ ErrorCode string }
		r.JSON(t, &e)
		if r.Status != 429 || e.ErrorCode != "E429" || r.Header.Get("Retry-After") == "" {
			t.Errorf("41st create at %s: %d %s (Retry-After %q)", path, r.Status, r.Body, r.Header.Get("Retry-After"))
		}
	}
	other.createKey(t, `{"name":"unaffected"}`)
	clock.Advance(37 * time.Minute) // one create comes back every 36 minutes
	c.createKey(t, `{"name":"later"}`)
	for i := 0; i < 10; i++ {
		if r := c.do(t, "GET", "/settings/2/api-keys?size=1", "", nil); r.Status != 200 {
			t.Fatalf("list %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := c.do(t, "GET", "/settings/2/api-keys?size=1", "", nil); r.Status != 429 || r.Header.Get("Retry-After") != "1" {
		t.Errorf("11th list in a second: %d %s", r.Status, r.Body)
	}
}

// TestSessionBoundToAddress: a session works only from the address that made it
// unless made unsafe; behind a trusted proxy the forwarded address counts.
func TestSessionBoundToAddress(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	c := newCustomer(t, s, "dora")
	from := func(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }
	session := func(unsafe bool, addr string) string {
		body := `{"username":"dora","password":"password-dora"}`
		if unsafe {
			body = `{"username":"dora","password":"password-dora","unsafe":true}`
		}
		r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json", "X-Forwarded-For": addr}, []byte(body))
		var tok struct{ Token string }
		r.JSON(t, &tok)
		if r.Status != 200 || tok.Token == "" {
			t.Fatalf("session: %d %s", r.Status, r.Body)
		}
		return "IBSSO " + tok.Token
	}
	bound := session(false, "198.51.100.1")
	if r := balanceWith(t, s, bound, from("198.51.100.1")); r.Status != 200 {
		t.Errorf("bound session from its address: %d %s", r.Status, r.Body)
	}
	if r := balanceWith(t, s, bound, from("198.51.100.2")); r.Status != 401 {
		t.Errorf("bound session from a second address: %d %s", r.Status, r.Body)
	}
	if r := testkit.Do(t, "DELETE", s.Public.URL+"/auth/1/session", map[string]string{"Authorization": bound, "X-Forwarded-For": "198.51.100.2"}, nil); r.Status != 401 {
		t.Errorf("bound session ended from a second address: %d %s", r.Status, r.Body)
	}
	if r := balanceWith(t, s, bound, from("198.51.100.1")); r.Status != 200 {
		t.Errorf("bound session after the refusals, from its address: %d %s", r.Status, r.Body)
	}
	free := session(true, "198.51.100.1")
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "2001:db8::7"} {
		if r := balanceWith(t, s, free, from(addr)); r.Status != 200 {
			t.Errorf("unsafe session from %s: %d %s", addr, r.Status, r.Body)
		}
	}
	if r := testkit.Do(t, "DELETE", s.Public.URL+"/auth/1/session", map[string]string{"Authorization": bound, "X-Forwarded-For": "198.51.100.1"}, nil); r.Status != 204 {
		t.Errorf("bound session ended from its address: %d %s", r.Status, r.Body)
	}
	recs := waitAudit(t, c, "Login", 2)
	if recs[0]["ipAddress"] != "198.51.100.1" || recs[0]["username"] != "dora" || recs[0]["item"] != "User" {
		t.Errorf("login record: %v", recs[0])
	}
	waitAudit(t, c, "Logout", 1)
}

// TestForwardedForOnlyFromTrustedProxies: allowedIPs and the per-address
// failure limit read X-Forwarded-For only from --trusted-proxies; from any
// other peer the header is ignored and the peer's own address counts.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	limits := func(trusted ...netip.Prefix) *testkit.Stack {
		return testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{TrustedProxies: trusted})
	}
	untrusted := limits()
	trusted := limits(netip.MustParsePrefix("127.0.0.0/8"))
	for _, tt := range []struct {
		name   string
		s      *testkit.Stack
		status int
	}{{"untrusted peer", untrusted, 401}, {"trusted proxy", trusted, 200}} {
		c := newCustomer(t, tt.s, "eve")
		k := c.createKey(t, `{"name":"office","allowedIPs":["203.0.113.0/24"]}`)
		r := balanceWith(t, tt.s, "App "+k.APIKeySecret, map[string]string{"X-Forwarded-For": "203.0.113.9"})
		if r.Status != tt.status {
			t.Errorf("%s, X-Forwarded-For inside allowedIPs: %d %s, want %d", tt.name, r.Status, r.Body, tt.status)
		}
		if r := balanceWith(t, tt.s, "App "+k.APIKeySecret, nil); r.Status != 401 {
			t.Errorf("%s, from loopback itself: %d", tt.name, r.Status)
		}
	}
}

// TestFailedLoginLimitPerForwardedAddress: the failure limit per address counts
// the forwarded client behind a trusted proxy, and the peer otherwise.
func TestFailedLoginLimitPerForwardedAddress(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		opts := testkit.Options{AuthLimits: nil}
		if trusted {
			opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}
		l := limitsFew()
		opts.AuthLimits = &l
		s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), opts)
		for i := 0; i < 3; i++ {
			balanceWith(t, s, basic(fmtUser(i), "wrong-password"), map[string]string{"X-Forwarded-For": "192.0.2.1"})
		}
		r := balanceWith(t, s, basic("someone-else", "wrong-password"), map[string]string{"X-Forwarded-For": "192.0.2.2"})
		want := 429 // untrusted: both come from 127.0.0.1, whose budget is spent
		if trusted {
			want = 401 // trusted: 192.0.2.2 has its own budget
		}
		if r.Status != want {
			t.Errorf("trusted=%v: a failure from a second forwarded address: %d, want %d", trusted, r.Status, want)
		}
	}
}

func fmtUser(i int) string { return "guess" + string(rune('a'+i)) }

// limitsFew allows 3 failed logins per address and many per user.
func limitsFew() auth.Limits {
	return auth.Limits{PerUser: 1000, UserBurst: 1000, PerIP: rate.Every(time.Hour), IPBurst: 3}
}

// TestAuditLogs: the customer's records (logins, key changes) with the spec's
// filters, as JSON and CSV, and bad filters refused.
func TestAuditLogs(t *testing.T) {
	s := testkit.New(t)
	c := newCustomer(t, s, "fay")
	testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"username":"fay","password":"password-fay"}`))
	s.MustAdmin(201, "POST", "/v1/accounts/"+c.id+"/users", `{"username":"=calc","password":"password-calc"}`, nil)
	testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"username":"=calc","password":"password-calc"}`))
	for _, user := range []string{"fay", "nobody-at-all"} { // a wrong password; an unknown user
		r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
			[]byte(`{"username":"`+user+`","password":"wrong-password"}`))
		if r.Status != 401 {
			t.Fatalf("wrong login: %d %s", r.Status, r.Body)
		}
	}
	k := c.createKey(t, `{"name":"ci"}`)
	c.updateKey(t, k.ID, `{"enabled":false}`)
	if failed := waitAudit(t, c, "Unsuccessful", 1); len(failed) != 1 || failed[0]["username"] != "fay" || failed[0]["item"] != "User" {
		t.Errorf("failed login records: %v", failed)
	}
	waitAudit(t, c, "Update", 1)
	all := waitAudit(t, c, "", 5)
	if len(all) != 5 || all[0]["action"] != "Login" || all[1]["action"] != "Login" || all[2]["action"] != "Unsuccessful" {
		t.Fatalf("records: %v", all)
	}
	all = append(all[:2], all[3:]...) // the rest of the test counts the others
	if all[2]["action"] != "Create" || all[3]["action"] != "Update" {
		t.Fatalf("records: %v", all)
	}
	for _, rec := range all[2:] {
		if rec["item"] != "ApiKey" || rec["username"] != "fay" || rec["ipAddress"] != "127.0.0.1" || !strings.Contains(rec["description"].(string), k.ID) {
			t.Errorf("key record: %v", rec)
		}
	}
	count := func(q string) int {
		r := c.do(t, "GET", "/audit/1/logs?"+q, "", nil)
		var recs []any
		r.JSON(t, &recs)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		return len(recs)
	}
	ts, _ := time.Parse(time.RFC3339Nano, all[2]["timestamp"].(string))
	for q, want := range map[string]int{
		"item=ApiKey": 2, "item=User": 3, "action=Login": 2, "ipAddress=127.0.0.1": 5, "ipAddress=10.0.0.1": 0,
		"userKey=fay": 4, "userKey=nobody": 0, "description=updated": 1, "limit=2": 2,
		"from=" + ts.Format(time.RFC3339Nano): 2, "to=" + ts.Format(time.RFC3339Nano): 3,
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d records, want %d", q, got, want)
		}
	}
	for _, q := range []string{"limit=0", "limit=10001", "action=Fly", "item=Spaceship", "from=yesterday"} {
		r := c.do(t, "GET", "/audit/1/logs?"+q, "", nil)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"messageId":"BAD_REQUEST"`) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	r := c.do(t, "GET", "/audit/1/logs/export?item=ApiKey", "", map[string]string{"Accept": "text/csv"})
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if len(lines) != 3 || lines[0] != "id,timestamp,action,item,description,ipAddress,username" || !strings.Contains(lines[1], all[2]["id"].(string)) {
		t.Errorf("export:\n%s", r.Body)
	}
	r = c.do(t, "GET", "/audit/1/logs/export?userKey=%3Dcalc", "", nil)
	if !strings.HasSuffix(strings.TrimSpace(string(r.Body)), ",'=calc") || strings.Contains(string(r.Body), ",=calc") {
		t.Errorf("a formula reached the CSV unguarded:\n%s", r.Body)
	}
	b, _ := json.Marshal(all)
	if strings.Contains(string(b), k.APIKeySecret) {
		t.Errorf("the audit log holds a key's secret")
	}
}
