// Package console is the operator console: server-rendered HTML on the admin
// listener at /console, for people with a role (ledger.Operator) rather than the
// shared admin token. It reads through the engine (live balances) and the store
// (history, the hourly balance series), and it changes nothing itself: every
// state change is a request to the admin API's own handler, served in-process
// for the logged-in operator (auth.WithOperator), so the console's money moves by
// the same rules, role checks, Idempotency-Keys and audit records as the API's.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

//go:embed assets templates
var files embed.FS

// Store is what the console reads from the store.
type Store interface {
	ledger.History
	ledger.Charts
	ActiveHolds(ctx context.Context) ([]ledger.Hold, error)
	// ListEvents is the events feed's read (the account page's events).
	ListEvents(ctx context.Context, f ledger.EventFilter) ([]ledger.Event, error)
}

// Config wires the console.
type Config struct {
	Engine    *engine.Engine
	Store     Store
	Operators *auth.Operators
	Auth      *auth.Authenticator // the accounts' users, API keys and OAuth2 clients
	// Admin is the admin API's handler: the console's changes are requests to it.
	Admin http.Handler
	// Flush writes the audit log's queue, so the audit page shows every action.
	Flush func(ctx context.Context) error
	Hosts *httpkit.Hosts // the admin listener's Host check; nil allows all
	TLS   bool           // cookies are Secure
	Log   *slog.Logger
	Now   func() time.Time
	// IdleTimeout ends a session unused this long, MaxAge any session this old;
	// 0: 30 minutes and 12 hours.
	IdleTimeout, MaxAge time.Duration
	// ConfirmAbove is the adjustment (either sign) above which the console asks
	// for a confirmation; 0: 1000.
	ConfirmAbove ledger.Amount
	// Rate is this node's charges per minute (the engine's OnEntries feeds it);
	// nil: the dashboard has no such chart.
	Rate *Rate
}

// Console serves /console.
type Console struct {
	cfg      Config
	mux      *http.ServeMux
	tmpl     map[string]*template.Template
	sessions *sessions
	assets   http.Handler
}

// New returns the console's handler.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	if cfg.ConfirmAbove <= 0 {
		cfg.ConfirmAbove = ledger.MustParseAmount("1000")
	}
	sub, _ := fs.Sub(files, "assets")
	c := &Console{cfg: cfg, mux: http.NewServeMux(), tmpl: parseTemplates(),
		sessions: newSessions(cfg.Now, cfg.IdleTimeout, cfg.MaxAge),
		assets:   http.StripPrefix("/console/assets/", http.FileServerFS(sub))}
	m := c.mux
	m.HandleFunc("GET /console/assets/", c.serveAsset)
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/logout", c.authed(c.logout))
	m.HandleFunc("GET /console/{$}", c.authed(c.dashboard))
	m.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusFound) })
	m.HandleFunc("GET /console/accounts", c.authed(c.accounts))
	m.HandleFunc("POST /console/accounts", c.authed(c.createAccount))
	m.HandleFunc("GET /console/accounts/{id}", c.authed(c.account))
	m.HandleFunc("GET /console/accounts/{id}/entries", c.authed(c.entriesPartial))
	m.HandleFunc("POST /console/accounts/{id}/{action}", c.authed(c.action))
	m.HandleFunc("GET /console/audit", c.authed(c.audit))
	m.HandleFunc("GET /console/operators", c.authed(c.operatorsPage))
	m.HandleFunc("POST /console/operators/{action}", c.authed(c.operatorAction))
	m.HandleFunc("GET /console/webhooks", c.authed(c.webhooksPage))
	m.HandleFunc("GET /console/webhooks/{id}", c.authed(c.webhookPage))
	m.HandleFunc("POST /console/webhooks/{action}", c.authed(c.webhookAction))
	m.HandleFunc("/console/", c.notFound)
	return c
}

// contentSecurityPolicy allows the console's own scripts, styles and fetches
// and nothing else: no inline script or style, no frames, forms only to itself.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves the console behind the admin listener's Host check.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Hosts != nil && !c.cfg.Hosts.Allowed(r) {
		http.Error(w, "The Host header names another server", http.StatusMisdirectedRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) serveAsset(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	c.assets.ServeHTTP(w, r)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusNotFound, "No such page.")
}
