package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/store/storetest"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestPprofNeedsTokenAndHidesFlagSecrets starts real processes with the admin token
// (and, on PostgreSQL, a URL with a password) on the command line: pprof is off
// unless --pprof is given, needs the admin token when on, and its cmdline page
// shows neither secret; neither appears in the logs.
func TestPprofNeedsTokenAndHidesFlagSecrets(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "purse.db"))
	if r := testkit.Do(t, "GET", n.admin+"/debug/pprof/cmdline", nil, nil); r.Status != 404 {
		t.Errorf("pprof without --pprof: GET /debug/pprof/cmdline = %d %q, want 404", r.Status, r.Body)
	}
	secrets := []string{clusterToken}
	db := filepath.Join(t.TempDir(), "purse.db")
	if os.Getenv("PURSE_TEST_POSTGRES") != "" {
		u, err := url.Parse(storetest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "s3cret-db-password") // trust auth ignores it
		db = u.String()
		secrets = append(secrets, "s3cret-db-password")
	}
	n = startNode(t, db, "--pprof")
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1", "/debug/pprof/goroutine"} {
		if r := testkit.Do(t, "GET", n.admin+path, nil, nil); r.Status != 401 {
			t.Errorf("GET %s without the admin token: %d, want 401", path, r.Status)
		}
	}
	r := mustAdmin(t, n.admin, 200, "GET", "/debug/pprof/cmdline", "", nil)
	if !strings.Contains(string(r.Body), "--admin-token") {
		t.Errorf("cmdline %q does not show the command line", r.Body)
	}
	for _, s := range secrets {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("GET /debug/pprof/cmdline shows a secret: %q", r.Body)
		}
		if strings.Contains(n.logs.String(), s) {
			t.Errorf("the logs show a secret:\n%s", n.logs)
		}
	}
	mustAdmin(t, n.admin, 200, "GET", "/debug/pprof/goroutine?debug=1", "", nil)
}

// TestAdminRefusesForeignHost sends admin requests with Host headers a browser would
// send after DNS rebinding (a name the attacker controls, resolving to the admin
// address): they are refused even with a valid token; the listener's own address,
// the loopback names with its port and --admin-hosts names are served.
func TestAdminRefusesForeignHost(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--admin-hosts", "purse-admin.internal, ops.example:9443")
	tok := mustRead(t, s.db+".admin-token")
	u, _ := url.Parse(s.admin)
	port := u.Port()
	for _, tc := range []struct {
		host string
		want int
	}{
		{"evil.example:" + port, 421},
		{"evil.example", 421},
		{"localhost.evil.example:" + port, 421},
		{"localhost:1" + port, 421},
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"LOCALHOST:" + port, 200},
		{"[::1]:" + port, 200},
		{"purse-admin.internal", 200},
		{"purse-admin.internal:" + port, 200},
		{"ops.example:9443", 200},
		{"ops.example:" + port, 421},
	} {
		t.Run(tc.host, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.admin+"/v1/accounts", nil)
			req.Host = tc.host
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("Host %q: %d, want %d", tc.host, resp.StatusCode, tc.want)
			}
		})
	}
}

// TestSecretFiles gives the admin token and the database through files: both work,
// neither value is logged, a file others can read is warned about, and a token
// given both ways is refused.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "purse.db")
	token := "f1e-2b7c9a04d6e85f31c0a9b8e7d6c5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7" // 256 bits, as serve requires
	tokFile, dbFile := filepath.Join(dir, "token"), filepath.Join(dir, "db-url")
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dbFile, []byte(db+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// --db names another file: the URL file wins, so the store is db.
	s := startServe(t, filepath.Join(dir, "ignored.db"), "--admin-token-file", tokFile, "--db-url-file", dbFile)
	var acc struct{ ID string }
	r := testkit.Do(t, "POST", s.admin+"/v1/accounts", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}, []byte(`{"name":"f","currency":"EUR"}`))
	if r.Status != 201 {
		t.Fatalf("admin API with the token from the file: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &acc)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the store named in --db-url-file: %v", err)
	}
	logs := s.logs.String()
	if strings.Contains(logs, token) {
		t.Errorf("the logs show the admin token:\n%s", logs)
	}
	if !strings.Contains(logs, "a secret file is readable by other users") || !strings.Contains(logs, dbFile) {
		t.Errorf("no warning about the 0644 %s:\n%s", dbFile, logs)
	}
	if strings.Contains(logs, "path="+tokFile) {
		t.Errorf("a warning about the 0600 token file:\n%s", logs)
	}
	err := run(context.Background(), []string{"serve", "--db", db, "--admin-token", token, "--admin-token-file", tokFile},
		env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("--admin-token with --admin-token-file: %v", err)
	}
}

// TestMetricsLeakNothing reads /metrics (served without a token) after traffic
// that names accounts, users, keys and tokens: none of them appears, and every
// label is one of a fixed few, whose values are bounded (route patterns, not paths).
func TestMetricsLeakNothing(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	admin := strings.TrimSpace(mustRead(t, s.db+".admin-token"))
	h := map[string]string{"Authorization": "Bearer " + admin, "Content-Type": "application/json"}
	var acc struct{ ID string }
	testkit.Do(t, "POST", s.admin+"/v1/accounts", h, []byte(`{"name":"Secretive Corp","currency":"EUR"}`)).JSON(t, &acc)
	testkit.Do(t, "POST", s.admin+"/v1/accounts/"+acc.ID+"/users", h, []byte(`{"username":"leaky-user","password":"leaky-password-1"}`))
	var key struct{ ID, Key string }
	testkit.Do(t, "POST", s.admin+"/v1/accounts/"+acc.ID+"/api-keys", h, []byte(`{"name":"leaky-key"}`)).JSON(t, &key)
	testkit.Do(t, "GET", s.admin+"/v1/accounts/"+acc.ID+"/balance", h, nil)
	testkit.Do(t, "GET", s.admin+"/v1/accounts/"+acc.ID+"/nowhere/"+acc.ID, h, nil)
	testkit.Do(t, "GET", s.public+"/account/1/balance", map[string]string{"Authorization": "App " + key.Key}, nil)
	testkit.Do(t, "GET", s.public+"/account/1/balance", map[string]string{"Authorization": "Basic " + b64("leaky-user:leaky-password-1")}, nil)
	testkit.Do(t, "GET", s.public+"/account/1/balance", map[string]string{"Authorization": "Basic " + b64("leaky-user:wrong-password")}, nil)
	testkit.Do(t, "GET", s.public+"/"+acc.ID+"/leaky-user", nil, nil)
	// A webhook delivered to, so that the delivery metrics and their labels show.
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer rcv.Close()
	testkit.Do(t, "POST", s.admin+"/v1/webhooks", h, []byte(`{"url":"`+rcv.URL+`/leaky-hook","accountId":"`+acc.ID+`"}`))
	testkit.Do(t, "POST", s.admin+"/v1/accounts/"+acc.ID+"/top-ups", map[string]string{"Authorization": "Bearer " + admin,
		"Content-Type": "application/json", "Idempotency-Key": "leaky-top-up"}, []byte(`{"amount":"1","reference":"leaky-ref"}`))
	var body string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(body, "purse_webhook_deliveries_total{") || !strings.Contains(body, "purse_webhook_delivery_lag_seconds{"); {
		if time.Now().After(deadline) {
			t.Fatal("no webhook delivery on /metrics 10 s after a top-up")
		}
		time.Sleep(50 * time.Millisecond)
		_, body, _ = get(t, s.admin+"/metrics", nil)
	}
	for _, secret := range []string{acc.ID, "Secretive", "leaky", "Aladdin", key.ID, key.Key, admin, "open sesame", rcv.URL} {
		if secret != "" && strings.Contains(body, secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`([a-z_]+)="`).FindAllStringSubmatch(body, -1) {
		labels[m[1]] = true
	}
	for l := range labels {
		switch l {
		case "listener", "route", "status", "when", "outcome", "subscription", "le", "quantile", "version":
		default:
			t.Errorf("/metrics has label %q: say in the README why it leaks nothing, then allow it here", l)
		}
	}
	for _, m := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if r := m[1]; r != "other" && r != "/" && !strings.HasPrefix(r, "/account/1/") && !strings.HasPrefix(r, "/auth/1/") && !strings.Contains(r, " ") {
			t.Errorf("route label %q is neither a pattern nor a known public route", r)
		}
	}
}

// TestRequestLogShowsClientAndPrincipal: a request line names the client (behind a
// --trusted-proxies proxy, the address it forwarded for) and who the credential
// is, never the credential itself; a forwarded address from an untrusted peer is
// ignored.
func TestRequestLogShowsClientAndPrincipal(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo", "--trusted-proxies", "127.0.0.0/8, ::1/128")
	aladdin := map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
	get(t, s.public+"/account/1/total-balance", aladdin)
	admin := mustRead(t, s.db+".admin-token")
	get(t, s.admin+"/v1/accounts", map[string]string{"Authorization": "Bearer " + admin})
	eventually(t, 2*time.Second, "the request lines", func() bool {
		return strings.Contains(s.logs.String(), "path=/v1/accounts")
	})
	logs := s.logs.String()
	for _, want := range []string{
		"path=/account/1/total-balance status=200",
		"client=203.0.113.7",
		"principal=user:Aladdin",
		"principal=token:",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", admin} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs show a secret %q", secret)
		}
	}

	plain := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	get(t, plain.public+"/account/1/balance", aladdin)
	eventually(t, 2*time.Second, "the request line", func() bool { return strings.Contains(plain.logs.String(), "path=/account/1/balance") })
	if l := plain.logs.String(); strings.Contains(l, "203.0.113.7") || !strings.Contains(l, "client=127.0.0.1") {
		t.Errorf("without --trusted-proxies, X-Forwarded-For must be ignored:\n%s", l)
	}
}

// TestSecurityHeaders: every answer on both listeners says nosniff and no-store;
// an HTML page (pprof's index) carries a Content-Security-Policy that allows nothing
// to run.
func TestSecurityHeaders(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo", "--pprof")
	admin := mustRead(t, s.db+".admin-token")
	for _, tc := range []struct {
		url string
		h   map[string]string
	}{
		{s.public + "/account/1/balance", map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}},
		{s.public + "/account/1/balance", nil},
		{s.public + "/nowhere", nil},
		{s.admin + "/v1/accounts", map[string]string{"Authorization": "Bearer " + admin}},
		{s.admin + "/v1/accounts", nil},
		{s.admin + "/healthz", nil},
		{s.admin + "/debug/pprof/", map[string]string{"Authorization": "Bearer " + admin}},
	} {
		status, _, h := get(t, tc.url, tc.h)
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%d): Cache-Control %q, X-Content-Type-Options %q", tc.url, status, h.Get("Cache-Control"), h.Get("X-Content-Type-Options"))
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: HTML with Content-Security-Policy %q", tc.url, h.Get("Content-Security-Policy"))
		}
	}
	if _, _, h := get(t, s.admin+"/debug/pprof/", map[string]string{"Authorization": "Bearer " + admin}); !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("pprof's index is not HTML (%q): the CSP check above checked nothing", h.Get("Content-Type"))
	}
}

// TestCORS: off by default; with --cors-origins, a browser on an allowed origin
// gets its preflight answered and can read GET /account/1/balance (the seed
// documentation's XHR snippet); another origin gets no CORS headers.
func TestCORS(t *testing.T) {
	off := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo", "--cors-origins", "https://app.example, http://localhost:3000")
	preflight := func(base, origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", base+"/account/1/balance", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization, accept")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := preflight(s.public, "https://app.example")
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "GET") || !strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Errorf("preflight from an allowed origin: %d %v", r.StatusCode, r.Header)
	}
	aladdin := map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Origin": "https://app.example", "Accept": "application/json"}
	status, body, h := get(t, s.public+"/account/1/balance", aladdin)
	if status != 200 || body != `{"balance":47.79134,"currency":"EUR"}` || h.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("GET from an allowed origin: %d %s %v", status, body, h)
	}
	for _, tc := range []struct{ base, origin string }{{s.public, "https://evil.example"}, {off.public, "https://app.example"}} {
		if r := preflight(tc.base, tc.origin); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q", tc.origin, r.Header.Get("Access-Control-Allow-Origin"))
		}
		aladdin["Origin"] = tc.origin
		if _, _, h := get(t, tc.base+"/account/1/balance", aladdin); h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET from %s: Access-Control-Allow-Origin %q", tc.origin, h.Get("Access-Control-Allow-Origin"))
		}
	}
	if r := preflight(s.admin, "https://app.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the admin listener answers CORS")
	}
}
