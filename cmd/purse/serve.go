package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/infobipapi"
	"github.com/purse-ledger/purse/internal/metrics"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

type serveConfig struct {
	db, listen, adminListen, adminToken string
	tlsCert, tlsKey                     string
	tlsSelfSigned                       bool
	demo                                bool
	logFormat, logLevel                 string
	shutdownTimeout, sessionIdle        time.Duration
	idempotencyWindow                   time.Duration
	maxQueueDelay                       time.Duration
}

// defaultMaxQueueDelay is the writer's queueing-delay target (engine/shed.go); how
// it was chosen is in docs/design.md, "Overload".
const defaultMaxQueueDelay = 5 * time.Millisecond

func serve(ctx context.Context, args []string, e env) error {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.db, "db", envOr(e, "PURSE_DB", "purse.db"), "SQLite database file, or a postgres:// URL (env PURSE_DB)")
	fs.StringVar(&c.listen, "listen", envOr(e, "PURSE_LISTEN", ":8080"), "public Infobip-compatible listener (env PURSE_LISTEN)")
	fs.StringVar(&c.adminListen, "admin-listen", envOr(e, "PURSE_ADMIN_LISTEN", "127.0.0.1:8081"), "admin listener (env PURSE_ADMIN_LISTEN)")
	fs.StringVar(&c.adminToken, "admin-token", envOr(e, "PURSE_ADMIN_TOKEN", ""), "admin bearer token (env PURSE_ADMIN_TOKEN); default: a random one kept in DB.admin-token")
	fs.StringVar(&c.tlsCert, "tls-cert", envOr(e, "PURSE_TLS_CERT", ""), "PEM certificate (chain) for HTTPS on both listeners (env PURSE_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", envOr(e, "PURSE_TLS_KEY", ""), "PEM private key for --tls-cert (env PURSE_TLS_KEY)")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", false, "HTTPS with a self-signed certificate for localhost, kept in DB.tls.pem (and DB.tls.key) for clients to trust (local use)")
	fs.BoolVar(&c.demo, "demo", envOr(e, "PURSE_DEMO", "") == "true", "seed Infobip's documented example account: Aladdin / open sesame, 47.79134 EUR (env PURSE_DEMO=true)")
	fs.StringVar(&c.logFormat, "log-format", envOr(e, "PURSE_LOG_FORMAT", "json"), "log format: json or text (env PURSE_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", envOr(e, "PURSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env PURSE_LOG_LEVEL)")
	fs.DurationVar(&c.sessionIdle, "session-idle", envDuration(e, "PURSE_SESSION_IDLE", auth.DefaultSessionIdle), "an IBSSO session ends after this long unused (env PURSE_SESSION_IDLE)")
	fs.DurationVar(&c.idempotencyWindow, "idempotency-window", envDuration(e, "PURSE_IDEMPOTENCY_WINDOW", sqlite.DefaultIdempotencyWindow),
		"the embedded store answers a repeated Idempotency-Key for this long, then forgets it (env PURSE_IDEMPOTENCY_WINDOW; PostgreSQL keeps keys)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish on SIGINT/SIGTERM")
	fs.DurationVar(&c.maxQueueDelay, "max-queue-delay", defaultMaxQueueDelay,
		"shed a money request with 503 and Retry-After when the writer's queue has stood longer than this and the request would wait longer; 0 never sheds (env PURSE_MAX_QUEUE_DELAY)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := maxQueueDelayFromEnv(fs, e, &c.maxQueueDelay); err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments, got %q", pos)
	}
	// Log lines are buffered and written every 100 ms: a request must not wait on a
	// write system call for its log line.
	lw := httpkit.NewLogWriter(e.stderr, 100*time.Millisecond)
	defer lw.Close()
	log, err := newLogger(env{stderr: lw}, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	if err := runServer(ctx, c, log, e); err != nil {
		log.Error("serve", "err", err)
		return err
	}
	return nil
}

// maxQueueDelayFromEnv applies PURSE_MAX_QUEUE_DELAY unless the flag was given,
// and refuses what is not a duration of 0 or more: a typo must not silently keep
// (or drop) the protection against overload.
func maxQueueDelayFromEnv(fs *flag.FlagSet, e env, d *time.Duration) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "max-queue-delay" })
	if v := envOr(e, "PURSE_MAX_QUEUE_DELAY", ""); v != "" && !given {
		parsed, err := time.ParseDuration(v)
		if err != nil {
			return usagef("PURSE_MAX_QUEUE_DELAY %q: want a duration such as 5ms, or 0 to never shed", v)
		}
		*d = parsed
	}
	if *d < 0 {
		return usagef("--max-queue-delay %s: want a duration of 0 or more (0 never sheds)", *d)
	}
	return nil
}

// envDuration is a duration flag default from the environment.
func envDuration(e env, name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envOr(e, name, "")); err == nil && d > 0 {
		return d
	}
	return def
}

func newLogger(e env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(httpkit.NewJSONHandler(e.stderr, lv)), nil
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want json or text", format)
}

// backend is everything serve needs of a store; both stores are one.
type backend interface {
	engine.Store
	auth.Store
	adminapi.Reader
	adminapi.SettingStore
	adminapi.AuditStore
	LastSeq(ctx context.Context) (int64, error)
	Close() error
}

// openStore opens PostgreSQL for a postgres:// URL and the SQLite file otherwise.
func openStore(ctx context.Context, db string, opts ...sqlite.Option) (backend, *postgres.Store, error) {
	if postgres.IsURL(db) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		pg, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, nil, err
		}
		return pg, pg, nil
	}
	st, err := sqlite.Open(ctx, db, opts...)
	if err != nil {
		if errors.Is(err, sqlite.ErrLocked) {
			return nil, nil, fmt.Errorf("%w; stop the other purse serve first", err)
		}
		return nil, nil, err
	}
	return st, nil, nil
}

func runServer(ctx context.Context, c serveConfig, log *slog.Logger, e env) error {
	debug.SetGCPercent(gcLoading) // tuneGC (gc.go) takes over once serving
	store, pg, err := openStore(ctx, c.db, sqlite.WithIdempotencyWindow(c.idempotencyWindow))
	if err != nil {
		return err
	}
	defer store.Close()
	var eng *engine.Engine
	var authn *auth.Authenticator
	m := metrics.New(
		func() float64 { return float64(eng.QueueDepth()) },
		func() float64 { h, _ := authn.CacheStats(); return float64(h) },
		func() float64 { _, mi := authn.CacheStats(); return float64(mi) })
	eng, err = engine.Open(ctx, store, engine.Options{Logger: log,
		OnBatch:       func(n int, d time.Duration) { m.BatchSize.Observe(float64(n)); m.CommitDuration.Observe(d.Seconds()) },
		OnRetry:       m.BatchRetries.Inc,
		MaxQueueDelay: c.maxQueueDelay,
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	gcCtx, stopGC := context.WithCancel(ctx)
	defer stopGC()
	go tuneGC(gcCtx)
	authn, err = auth.New(store, auth.Options{SessionIdle: c.sessionIdle})
	if err != nil {
		return err
	}
	observe := m.ObserveRequest
	token, err := adminToken(ctx, c, store, log)
	if err != nil {
		return err
	}
	ready := func(ctx context.Context) error { _, err := store.LastSeq(ctx); return err }
	if pg != nil {
		// Another node's writes reach this one through the change feed; until it
		// is connected (and after it drops) this node answers 503 rather than
		// serve a balance it cannot vouch for.
		eng.SetStale(true)
		fctx, stopFeed := context.WithCancel(context.Background())
		defer stopFeed()
		go pg.Follow(fctx, feedHandlers(pg, eng, authn, token, log), log)
		ready = pg.Ping
		waitFresh(ctx, eng, 10*time.Second)
	}
	if c.demo {
		if err := seedDemo(ctx, eng, authn, log); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	}

	auditor := adminapi.NewAuditor(store, log)
	defer auditor.Close() // after the listeners stop, before the store closes
	public := httpkit.NewServer(httpkit.Instrument(log, observe, "public", infobipapi.Route, infobipapi.New(eng, authn, log)), log, false)
	admin := httpkit.NewServer(httpkit.Instrument(log, observe, "admin", func(*http.Request) string { return "other" }, adminapi.New(adminapi.Config{
		Token: token, Engine: eng, Auth: authn, Store: store, Log: log, Ready: ready, Metrics: m.Handler(), Audit: auditor,
	})), log, true)
	tlsCfg, err := listenerTLS(c, log)
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		// One config each: net/http adds its HTTP/2 settings to the config it serves with.
		public.TLSConfig, admin.TLSConfig = tlsCfg.Clone(), tlsCfg.Clone()
	}
	pl, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("public listener: %w", err)
	}
	al, err := net.Listen("tcp", c.adminListen)
	if err != nil {
		pl.Close()
		return fmt.Errorf("admin listener: %w", err)
	}
	log.Info("purse serving", "public", pl.Addr().String(), "admin", al.Addr().String(), "store", storeName(c.db), "demo", c.demo, "tls", tlsCfg != nil)
	errc := make(chan error, 2)
	serveOn := func(s *http.Server, l net.Listener) error {
		l = httpkit.WriteDeadlines(l, httpkit.WriteTimeout)
		if s.TLSConfig != nil {
			return s.ServeTLS(l, "", "")
		}
		return s.Serve(l)
	}
	go func() { errc <- serveOn(public, pl) }()
	go func() { errc <- serveOn(admin, al) }()
	if e.ready != nil {
		e.ready(pl.Addr().String(), al.Addr().String())
	}
	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests", "timeout", c.shutdownTimeout)
	case serveErr = <-errc:
		log.Error("listener failed", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := public.Shutdown(sctx); err != nil {
		log.Warn("public shutdown", "err", err)
	}
	if err := admin.Shutdown(sctx); err != nil {
		log.Warn("admin shutdown", "err", err)
	}
	// Deferred: the engine drains its queue, then the store closes.
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// listenerTLS loads --tls-cert/--tls-key, or makes the --tls-self-signed
// certificate; nil means plain HTTP.
func listenerTLS(c serveConfig, log *slog.Logger) (*tls.Config, error) {
	switch {
	case c.tlsSelfSigned && (c.tlsCert != "" || c.tlsKey != ""):
		return nil, usagef("--tls-self-signed and --tls-cert/--tls-key exclude each other")
	case c.tlsSelfSigned:
		path := tlsCertPath(c.db)
		cert, fingerprint, err := httpkit.SelfSigned(path, strings.TrimSuffix(path, ".pem")+".key")
		if err != nil {
			return nil, err
		}
		log.Info("self-signed TLS certificate for localhost", "file", path, "sha256", fingerprint)
		return httpkit.TLSConfig(cert), nil
	case c.tlsCert != "" || c.tlsKey != "":
		if c.tlsCert == "" || c.tlsKey == "" {
			return nil, usagef("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		return httpkit.TLSConfig(cert), nil
	}
	return nil, nil
}

// tlsCertPath is where --tls-self-signed writes its certificate: beside the database.
func tlsCertPath(db string) string {
	if postgres.IsURL(db) {
		return "purse-tls.pem"
	}
	return db + ".tls.pem"
}

// storeName is the --db value fit for a log line: a URL without its password.
func storeName(db string) string {
	if !postgres.IsURL(db) {
		return db
	}
	if u, err := url.Parse(db); err == nil {
		return u.Redacted()
	}
	return "postgres"
}

func waitFresh(ctx context.Context, eng *engine.Engine, max time.Duration) {
	deadline := time.Now().Add(max)
	for eng.Fresh() != nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// feedHandlers applies the other nodes' changes to this node's caches.
func feedHandlers(pg *postgres.Store, eng *engine.Engine, authn *auth.Authenticator, token *adminapi.Token, log *slog.Logger) postgres.Handlers {
	return postgres.Handlers{
		Accounts: func(ids []string) {
			accts, err := pg.AccountsByID(context.Background(), ids)
			if err != nil {
				log.Warn("refresh accounts", "err", err)
				eng.SetStale(true) // the feed will reconnect and reload
				return
			}
			eng.Refresh(accts)
		},
		Credentials: authn.Invalidate,
		Token: func() {
			if err := token.Reload(context.Background()); err != nil {
				log.Warn("reload admin token", "err", err)
			}
		},
		Lost: func() {
			eng.SetStale(true)
			authn.Invalidate()
		},
		Reload: func(ctx context.Context) error {
			accts, err := pg.LoadAccounts(ctx)
			if err != nil {
				return err
			}
			holds, err := pg.ActiveHolds(ctx)
			if err != nil {
				return err
			}
			eng.Refresh(accts)
			eng.RefreshHolds(holds)
			authn.Invalidate()
			return token.Reload(ctx)
		},
		Resynced: func() { eng.SetStale(false) },
	}
}

// adminToken puts an admin token in force: the store's when it has one; else
// --admin-token, else the token file beside the database (made on first start).
func adminToken(ctx context.Context, c serveConfig, store backend, log *slog.Logger) (*adminapi.Token, error) {
	initial := c.adminToken
	if initial == "" {
		stored, err := store.Setting(ctx, adminapi.TokenSettingKey)
		if err != nil {
			return nil, err
		}
		if stored == "" {
			path := adminTokenPath(c.db)
			if initial, err = loadOrCreateToken(path); err != nil {
				return nil, err
			}
			log.Info("admin token file", "path", path)
		}
	}
	tok, inForce, err := adminapi.NewToken(ctx, store, initial)
	if err != nil {
		return nil, err
	}
	if c.adminToken != "" && !inForce {
		log.Warn("--admin-token is not the admin token in force: the store already holds one (rotated or set first); " +
			"use that one, or reset it with purse admin-token reset")
	}
	return tok, nil
}

// adminTokenPath is where serve keeps the generated admin token, and where the
// management commands look for it: beside the database (in the working directory,
// as purse-admin-token, for a PostgreSQL URL).
func adminTokenPath(db string) string {
	if postgres.IsURL(db) {
		return "purse-admin-token"
	}
	return db + ".admin-token"
}

func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("admin token file %s is empty; delete it to make a new token", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}
