// Package testkit runs purse for tests: the application internal/app assembles
// (the one purse serve runs, with its instrumentation, limits and metrics), on a
// SQLite file in a temp directory, served on loopback ports. Only _test files
// import it.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/purse-ledger/purse/pursetest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/audit"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/seed"
	"github.com/purse-ledger/purse/internal/store/sqlite"
	"github.com/purse-ledger/purse/internal/store/storetest"
)

// AdminToken is the admin bearer token of every Stack.
const AdminToken = "test-admin-token"

// Stack is a running purse without its main.
type Stack struct {
	T      testing.TB
	App    *app.App
	Audit  *audit.Auditor
	Path   string
	Store  *sqlite.Store // nil on PostgreSQL (NewPostgres); Ledger is either
	Ledger ledger.Store
	Engine *engine.Engine
	Auth   *auth.Authenticator
	Public *Server
	Admin  *Server
}

// Server is one of a stack's listeners: its base URL and the http.Server behind
// it (the fields httptest.Server has by those names).
type Server struct {
	URL    string
	Config *http.Server
}

// Options change a stack; the zero value is the default.
type Options struct {
	Now        func() time.Time // the engine's and the failure limits' clock
	AuthLimits *auth.Limits     // nil: a limit high enough never to get in a test's way
	Log        *slog.Logger     // nil: logs are discarded
	// MaxQueueDelay is the engine's shedding target (engine.Options); 0 never sheds.
	MaxQueueDelay time.Duration
	// Emulator is purse serve --emulator: fault rules and POST /v1/reset.
	Emulator bool
	// Seed is purse serve --seed's file, applied at start.
	Seed *seed.File
	// TrustedProxies is purse serve --trusted-proxies: the peers whose
	// X-Forwarded-For names the client (tests send from 127.0.0.1).
	TrustedProxies []netip.Prefix
	// Webhooks tunes webhook delivery (short retries for tests).
	Webhooks app.WebhookOptions
}

// New starts a stack on a fresh database file; it stops when the test ends.
func New(t testing.TB) *Stack {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "purse.db"), Options{})
}

// NewPostgres starts a stack on a fresh schema of the PostgreSQL server that
// PURSE_TEST_POSTGRES names (the test is skipped without it), so that a test
// written against a Stack runs on the scale-out store too.
func NewPostgres(t testing.TB) *Stack {
	t.Helper()
	return Open(t, storetest.FreshSchema(t), Options{})
}

// OnBothStores runs fn as two subtests, "sqlite" and "postgres", each on a fresh
// stack of its store. The postgres one skips when PURSE_TEST_POSTGRES is not
// set, and only it: a stack opened before t.Run would skip the SQLite half too.
func OnBothStores(t *testing.T, fn func(t *testing.T, s *Stack)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, New(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgres(t)) })
}

// Open starts a stack on the database at path (a file, or a postgres:// URL).
func Open(t testing.TB, path string, opts Options) *Stack {
	t.Helper()
	limits := opts.AuthLimits
	if limits == nil {
		limits = &auth.Limits{PerUser: 1000, UserBurst: 1000, PerIP: 1000, IPBurst: 1000}
	}
	a, err := app.New(context.Background(), app.Config{DB: path, Log: opts.Log, AdminToken: AdminToken,
		MaxQueueDelay: opts.MaxQueueDelay, Now: opts.Now, AuthLimits: limits, ExpiryInterval: 10 * time.Millisecond,
		Emulator: opts.Emulator, Seed: opts.Seed, TrustedProxies: opts.TrustedProxies, Webhooks: opts.Webhooks})
	if err != nil {
		t.Fatalf("start purse: %v", err)
	}
	pl, al := listen(t), listen(t)
	if err := a.Start(pl, al); err != nil {
		pl.Close()
		al.Close()
		a.Close()
		t.Fatal(err)
	}
	pub, adm := a.Servers()
	lite, _ := a.Store().(*sqlite.Store)
	s := &Stack{T: t, App: a, Audit: a.Audit(), Path: path, Store: lite, Ledger: a.Store(), Engine: a.Engine(), Auth: a.Auth(),
		Public: &Server{URL: "http://" + pl.Addr().String(), Config: pub},
		Admin:  &Server{URL: "http://" + al.Addr().String(), Config: adm}}
	t.Cleanup(s.Close)
	admin, public := Documents(t)
	watch(t, s.Public.URL, public)
	watch(t, s.Admin.URL, admin)
	return s
}

// listen opens a loopback listener on a free port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Close stops the servers, the engine and the store; calling it twice is fine.
func (s *Stack) Close() { s.App.Close() }

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d %q is not JSON: %v", r.Status, r.Body, err)
	}
}

// Do sends a request and reads the whole response. When url is a listener of a
// running Stack, the exchange is validated against that listener's OpenAPI
// document (openapi.go), and a mismatch fails the test.
func Do(t testing.TB, method, url string, headers map[string]string, body []byte) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	checkExchange(t, req, body, out)
	return out
}

// AdminDo sends an admin request with the admin token.
func (s *Stack) AdminDo(method, path string, body string, headers map[string]string) Response {
	s.T.Helper()
	h := map[string]string{"Authorization": "Bearer " + AdminToken}
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
	return Do(s.T, method, s.Admin.URL+path, h, b)
}

// MustAdmin sends an admin request and fails the test unless the status is want.
func (s *Stack) MustAdmin(want int, method, path, body string, headers map[string]string) Response {
	s.T.Helper()
	r := s.AdminDo(method, path, body, headers)
	if r.Status != want {
		s.T.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// CreateAccount makes an account through the admin API and returns its id.
func (s *Stack) CreateAccount(name, currency string) string {
	s.T.Helper()
	r := s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts", `{"name":"`+name+`","currency":"`+currency+`"}`, nil)
	var a struct{ ID string }
	r.JSON(s.T, &a)
	return a.ID
}

// Clock is a settable clock for tests of time rules (month boundaries, expiry):
// pursetest's, the one other people's tests get too.
type Clock = pursetest.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return pursetest.NewClock(t) }

// Balance reads an account's admin balance view.
func (s *Stack) Balance(id string) map[string]any {
	s.T.Helper()
	var b map[string]any
	s.MustAdmin(200, "GET", "/v1/accounts/"+id+"/balance", "", nil).JSON(s.T, &b)
	delete(b, "asOf")
	return b
}

// Key returns headers carrying an Idempotency-Key.
func Key(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
