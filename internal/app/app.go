// Package app is the one assembly of purse: it opens the store, the engine, the
// authenticator, the admin token, the change feed, the audit log and both HTTP
// surfaces with their instrumentation, limits and metrics, and serves them on two
// listeners. purse serve, the tests that need a running purse (through
// internal/testkit), the client's examples and bench (through purse serve) all run
// this wiring, so that what the tests exercise is what users run.
//
// Configuration arrives here already read: flags and their PURSE_* fallbacks are
// cmd/purse's; so are the checks of a flag's spelling, secret files given as flags,
// and runtime tuning (GC, GOMAXPROCS).
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/audit"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/console"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/fault"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/metrics"
	"github.com/purse-ledger/purse/internal/seed"
)

// Config is what an App is built from. The zero value of a field is purse serve's
// default unless its comment says otherwise.
type Config struct {
	// DB is the store: an SQLite file, or a postgres:// URL. The files purse keeps
	// beside an SQLite store (admin token, OAuth2 secret, admin URL, self-signed
	// certificate) are named after it.
	DB string
	// Store, when set, is an open store used instead of opening DB; the App does
	// not close it. DB may still name the SQLite file, for the files beside it.
	Store ledger.Store
	// CreateDir creates DB's directory (mode 0700) when it does not exist.
	CreateDir bool
	// IdempotencyWindow is how long the SQLite store answers a repeated
	// Idempotency-Key; 0: the store's default.
	IdempotencyWindow time.Duration
	// Log receives every log line; nil discards them.
	Log *slog.Logger
	// EventRetention is how long events are kept before they are pruned; 0:
	// DefaultEventRetention.
	EventRetention time.Duration
	// Webhooks tunes webhook delivery (tests shorten the retries); the zero
	// value is purse serve's.
	Webhooks WebhookOptions

	// AdminToken is the admin token to put in force when the store holds none
	// (purse serve checks its strength); "": the token file beside DB, made on
	// first start.
	AdminToken string
	// OAuthSecret is the secret OAuth2 signing keys are derived from; nil: the file
	// beside an SQLite DB (made on first start), or, on PostgreSQL, one the
	// database keeps.
	OAuthSecret []byte
	// SessionIdle ends an IBSSO session left unused this long; 0: auth's default.
	SessionIdle time.Duration
	// MaxQueueDelay is the writer's shedding target (engine.Options); 0 never sheds.
	MaxQueueDelay time.Duration
	// Demo seeds Infobip's documented example account (demo.go); without it, an
	// active demo account is warned about.
	Demo bool

	// Emulator makes purse a stand-in for Infobip in tests: fault rules on the
	// admin API (/v1/faults, internal/fault) and POST /v1/reset; a seed may then
	// hold fixed secrets. Never on a store that holds real money.
	Emulator bool
	// Seed, when set, is applied at start, after the demo account (internal/seed):
	// idempotently, so a restart with the same seed changes nothing. One holding
	// fixed secrets (passwords, API keys) needs Demo or Emulator.
	Seed *seed.File

	// AdminHosts are the Host names the admin listener answers besides its own
	// addresses; nil: only those.
	AdminHosts *httpkit.Hosts
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// CORS lists the origins whose pages may call the public API; nil: none.
	CORS *httpkit.CORS
	// Pprof serves /debug/pprof/ on the admin listener, behind the admin token.
	Pprof bool
	// Cmdline is what /debug/pprof/cmdline shows: the command line with its
	// secrets replaced.
	Cmdline []string

	// TLSCert and TLSKey are a PEM certificate (chain) and key for HTTPS on both
	// listeners; TLSSelfSigned makes (and keeps beside DB) a certificate for
	// localhost instead. Neither: plain HTTP.
	TLSCert, TLSKey string
	TLSSelfSigned   bool
	// ShutdownTimeout bounds how long Close lets in-flight requests finish; 0: 15s.
	ShutdownTimeout time.Duration

	// For tests: the clock of the engine and the login limits (nil: time.Now), the
	// login limits (nil: auth's), and how often idle holds are checked for expiry
	// (0: the engine's default).
	Now            func() time.Time
	AuthLimits     *auth.Limits
	ExpiryInterval time.Duration
	// CheapPasswordHashes hashes passwords with argon2id's cheapest parameters
	// (auth.Options): for pursetest's throwaway stores only, whose start-up and
	// first logins would otherwise spend tens of milliseconds each in argon2id.
	// purse serve never sets it.
	CheapPasswordHashes bool
}

// App is a purse: the store, the engine and everything that serves them. New
// builds it, Start (or Serve) serves it, Close stops it.
type App struct {
	cfg       Config
	log       *slog.Logger
	store     ledger.Store
	ownStore  bool
	eng       *engine.Engine
	auth      *auth.Authenticator
	token     *auth.AdminToken
	operators *auth.Operators
	rate      *console.Rate // the charges per minute the console's dashboard draws
	audit     *audit.Auditor
	metrics   *metrics.Metrics
	tls       *tls.Config
	stopFeed  context.CancelFunc
	events    *events    // the events' background work (events.go)
	faults    *fault.Set // with Config.Emulator
	live      live       // with Config.Emulator: the surfaces in force, swapped by a reset

	public, admin *http.Server
	serving       chan error // each listener's end, once Start has run
	removeURL     func()

	shutdownOnce sync.Once
	shutdownErr  error
	stopped      chan struct{} // closed when Shutdown has finished
	draining     chan struct{} // closed when Shutdown begins: long polls answer at once
	closeOnce    sync.Once
	closeErr     error
}

// New builds a purse from cfg: the store, the engine with its metrics, the
// authenticator, the admin token, the change feed (it waits, up to 10 s, until the
// caches are current), the demo account or the warning about one, the auditor and
// both HTTP servers. Nothing is served until Start. On an error, what was opened
// is closed again.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.DB == "" && cfg.Store == nil {
		return nil, errors.New("app: no store: set Config.DB or Config.Store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.Seed != nil {
		// Before anything is opened: a refused seed leaves no new store behind.
		if err := cfg.Seed.Check(cfg.Demo || cfg.Emulator); err != nil {
			return nil, err
		}
	}
	a := &App{cfg: cfg, log: cfg.Log, stopped: make(chan struct{}), draining: make(chan struct{})}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	// TLS first: a certificate that does not load leaves no new store behind.
	if a.tls, err = a.loadTLS(); err != nil {
		return nil, err
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.openCore(ctx); err != nil {
		return nil, err
	}
	if a.token, err = a.adminToken(ctx); err != nil {
		return nil, err
	}
	a.follow(ctx)
	a.startEvents()
	if err := a.demo(ctx); err != nil {
		return nil, err
	}
	if err := a.applySeed(ctx); err != nil {
		return nil, err
	}
	if err := a.buildServers(); err != nil {
		return nil, err
	}
	return a, nil
}

// openCore opens the engine (its hooks feed the metrics) and the authenticator
// with its OAuth2 signing key.
func (a *App) openCore(ctx context.Context) error {
	if a.metrics == nil { // once: a reset (emulator.go) opens a new engine under the same metrics
		a.metrics = metrics.New(metrics.Sources{
			QueueDepth:    func() float64 { return float64(a.eng.QueueDepth()) },
			InFlight:      func() float64 { return float64(a.eng.InFlight()) },
			CacheHits:     func() float64 { h, _ := a.auth.CacheStats(); return float64(h) },
			CacheMisses:   func() float64 { _, mi := a.auth.CacheStats(); return float64(mi) },
			ShedNow:       func() float64 { n, _ := a.eng.Refused(); return float64(n) },
			ShedAfterWait: func() float64 { _, n := a.eng.Refused(); return float64(n) },
			Now:           a.now,
		})
	}
	m := a.metrics
	if a.rate == nil {
		a.rate = &console.Rate{}
	}
	eng, err := engine.Open(ctx, a.store, engine.Options{Logger: a.log, Now: a.cfg.Now, ExpiryInterval: a.cfg.ExpiryInterval,
		OnBatch:       func(n int, d time.Duration) { m.BatchSize.Observe(float64(n)); m.CommitDuration.Observe(d.Seconds()) },
		OnRetry:       m.BatchRetries.Inc,
		OnEntries:     a.rate.Record,
		OnEvents:      func(n int) { m.EventsWritten.Add(float64(n)) },
		MaxQueueDelay: a.cfg.MaxQueueDelay,
	})
	if err != nil {
		return err
	}
	a.eng = eng
	secret, err := a.oauthSecret()
	if err != nil {
		return err
	}
	authn, err := auth.New(a.store, auth.Options{SessionIdle: a.cfg.SessionIdle, TokenSecret: secret, Limits: a.cfg.AuthLimits, Now: a.cfg.Now,
		CheapPasswordHashes: a.cfg.CheapPasswordHashes})
	if err != nil {
		return err
	}
	a.auth = authn
	if a.operators, err = auth.NewOperators(a.store, auth.Options{Limits: a.cfg.AuthLimits, Now: a.cfg.Now,
		CheapPasswordHashes: a.cfg.CheapPasswordHashes}); err != nil {
		return err
	}
	return prepareTokenKey(ctx, authn)
}

// demo seeds the demo account, or warns about an active one.
func (a *App) demo(ctx context.Context) error {
	if !a.cfg.Demo {
		return warnDemo(ctx, a.eng, a.store, a.log)
	}
	if err := seedDemo(ctx, a.eng, a.auth, a.store, a.log); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	return nil
}

// Faults are the fault rules in force, nil without Config.Emulator.
func (a *App) Faults() *fault.Set { return a.faults }

// Store is the store the App serves.
func (a *App) Store() ledger.Store { return a.store }

// Engine is the App's engine.
func (a *App) Engine() *engine.Engine { return a.eng }

// Auth is the App's authenticator.
func (a *App) Auth() *auth.Authenticator { return a.auth }

// Audit is the App's auditor (the admin audit log's writer).
func (a *App) Audit() *audit.Auditor { return a.audit }

// Servers are the public and the admin http.Server (tests call a handler
// directly; their settings are the listeners' limits).
func (a *App) Servers() (public, admin *http.Server) { return a.public, a.admin }

// Close stops serving (letting in-flight requests finish, up to
// Config.ShutdownTimeout), then writes the audit log's queue, stops the change
// feed, drains the engine and closes the store (unless Config.Store was given).
// Calling it twice is fine.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		a.Shutdown(ctx)
		if a.removeURL != nil {
			a.removeURL()
		}
		a.stopEvents() // before the auditor closes: a subscription disabled now is audited
		if a.audit != nil {
			a.audit.Close() // after the listeners stop, before the store closes
		}
		if a.stopFeed != nil {
			a.stopFeed()
		}
		if a.eng != nil {
			a.eng.Close() // drains its queue
		}
		if a.ownStore && a.store != nil {
			a.closeErr = a.store.Close()
		}
		if a.serving != nil {
			a.log.Info("stopped")
		}
	})
	return a.closeErr
}
