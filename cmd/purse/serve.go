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
	dbURLFile, adminTokenFile           string
	oauthSecretFile                     string
	adminHosts                          string
	trustedProxies, corsOrigins         string
	pprof                               bool
	tlsCert, tlsKey                     string
	tlsSelfSigned                       bool
	demo, create                        bool
	logFormat, logLevel                 string
	shutdownTimeout, sessionIdle        time.Duration
	idempotencyWindow                   time.Duration
	maxQueueDelay                       time.Duration
}

// defaultMaxQueueDelay is the writer's queueing-delay target (engine/shed.go); how
// it was chosen is in docs/design.md, "Overload".
const defaultMaxQueueDelay = 2 * time.Millisecond

func serve(ctx context.Context, args []string, e env) error {
	var c serveConfig
	var envErr envErrs // flags.go
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.db, "db", envOr(e, "PURSE_DB", "purse.db"), "SQLite database file, or a postgres:// URL (env PURSE_DB)")
	fs.StringVar(&c.listen, "listen", envOr(e, "PURSE_LISTEN", ":8080"), "public Infobip-compatible listener (env PURSE_LISTEN)")
	fs.StringVar(&c.adminListen, "admin-listen", envOr(e, "PURSE_ADMIN_LISTEN", "127.0.0.1:8081"), "admin listener (env PURSE_ADMIN_LISTEN)")
	fs.StringVar(&c.dbURLFile, "db-url-file", envOr(e, "PURSE_DB_URL_FILE", ""), "read --db from this file (env PURSE_DB_URL_FILE): a postgres:// URL with its password stays out of the process list")
	fs.StringVar(&c.adminToken, "admin-token", envOr(e, "PURSE_ADMIN_TOKEN", ""), "admin bearer token (env PURSE_ADMIN_TOKEN; prefer --admin-token-file); default: a random one kept in DB.admin-token")
	fs.StringVar(&c.adminTokenFile, "admin-token-file", envOr(e, "PURSE_ADMIN_TOKEN_FILE", ""), "read the admin bearer token from this file, mode 0600 (env PURSE_ADMIN_TOKEN_FILE)")
	fs.StringVar(&c.oauthSecretFile, "oauth-secret-file", envOr(e, "PURSE_OAUTH_SECRET_FILE", ""),
		"the secret OAuth2 token keys are derived from, at least 32 bytes, mode 0600; the same file on every node (env PURSE_OAUTH_SECRET_FILE); default: DB.oauth-secret, made on first start (SQLite)")
	fs.StringVar(&c.adminHosts, "admin-hosts", envOr(e, "PURSE_ADMIN_HOSTS", ""), "comma-separated names (name or name:port) the admin listener answers besides its own address and localhost (env PURSE_ADMIN_HOSTS)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", envOr(e, "PURSE_TRUSTED_PROXIES", ""),
		"comma-separated CIDRs of proxies whose X-Forwarded-For names the client, for logs, login limits and the audit log (env PURSE_TRUSTED_PROXIES)")
	fs.StringVar(&c.corsOrigins, "cors-origins", envOr(e, "PURSE_CORS_ORIGINS", ""),
		"comma-separated origins (https://app.example) whose browser pages may call the public API; * for any; default none (env PURSE_CORS_ORIGINS)")
	fs.BoolVar(&c.pprof, "pprof", envErr.bool(e, "PURSE_PPROF", false), "serve /debug/pprof/ on the admin listener, behind the admin token (env PURSE_PPROF=true)")
	fs.StringVar(&c.tlsCert, "tls-cert", envOr(e, "PURSE_TLS_CERT", ""), "PEM certificate (chain) for HTTPS on both listeners (env PURSE_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", envOr(e, "PURSE_TLS_KEY", ""), "PEM private key for --tls-cert (env PURSE_TLS_KEY)")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", false, "HTTPS with a self-signed certificate for localhost, kept in DB.tls.pem (and DB.tls.key) for clients to trust (local use)")
	fs.BoolVar(&c.demo, "demo", envErr.bool(e, "PURSE_DEMO", false), "seed Infobip's documented example account: Aladdin / open sesame, 47.79134 EUR (env PURSE_DEMO=true)")
	fs.BoolVar(&c.create, "create", envErr.bool(e, "PURSE_CREATE", false), "create the database's directory (mode 0700) when it does not exist (env PURSE_CREATE)")
	fs.StringVar(&c.logFormat, "log-format", envOr(e, "PURSE_LOG_FORMAT", "json"), "log format: json or text (env PURSE_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", envOr(e, "PURSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env PURSE_LOG_LEVEL)")
	fs.DurationVar(&c.sessionIdle, "session-idle", envErr.duration(e, "PURSE_SESSION_IDLE", auth.DefaultSessionIdle), "an IBSSO session ends after this long unused (env PURSE_SESSION_IDLE)")
	fs.DurationVar(&c.idempotencyWindow, "idempotency-window", envErr.duration(e, "PURSE_IDEMPOTENCY_WINDOW", sqlite.DefaultIdempotencyWindow),
		"the embedded store answers a repeated Idempotency-Key for this long, then forgets it (env PURSE_IDEMPOTENCY_WINDOW; PostgreSQL keeps keys)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", envErr.duration(e, "PURSE_SHUTDOWN_TIMEOUT", 15*time.Second),
		"how long in-flight requests may take to finish on SIGINT/SIGTERM (env PURSE_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.maxQueueDelay, "max-queue-delay", defaultMaxQueueDelay,
		"how long a money request waits for a place among those in flight before it is shed with 503 and Retry-After; 0 never sheds (env PURSE_MAX_QUEUE_DELAY)")
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
	if err := envErr.err(); err != nil {
		return err
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--session-idle", c.sessionIdle}, {"--idempotency-window", c.idempotencyWindow}, {"--shutdown-timeout", c.shutdownTimeout}} {
		if err := positive(d.flag, d.v); err != nil {
			return err
		}
	}
	if c.adminToken != "" {
		if err := checkAdminToken(c.adminToken); err != nil {
			return err
		}
	}
	// Log lines are buffered and written every 100 ms: a request must not wait on a
	// write system call for its log line.
	lw := httpkit.NewLogWriter(e.stderr, 100*time.Millisecond)
	defer lw.Close()
	log, err := newLogger(env{stderr: lw}, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	if err := c.readSecretFiles(log); err != nil {
		return err
	}
	if c.adminTokenFile != "" {
		if err := checkAdminToken(c.adminToken); err != nil {
			return fmt.Errorf("--admin-token-file: %w", err)
		}
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
			return usagef("PURSE_MAX_QUEUE_DELAY %q: want a duration such as 2ms, or 0 to never shed", v)
		}
		*d = parsed
	}
	if *d < 0 {
		return usagef("--max-queue-delay %s: want a duration of 0 or more (0 never sheds)", *d)
	}
	return nil
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
	demoStore // demo.go
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
	switch {
	case errors.Is(err, sqlite.ErrLocked):
		return nil, nil, fmt.Errorf("%w; stop the other purse serve first", err)
	case errors.Is(err, sqlite.ErrNoDirectory):
		return nil, nil, fmt.Errorf("%w; create it, or give purse serve --create", err)
	case err != nil:
		return nil, nil, err
	}
	return st, nil, nil
}

func runServer(ctx context.Context, c serveConfig, log *slog.Logger, e env) error {
	debug.SetGCPercent(gcLoading) // tuneGC (gc.go) takes over once serving
	// The edge's settings and the listeners first: a start that fails on them
	// leaves no new store or token file behind. Connections wait in the backlog
	// until serving begins.
	hosts, err := httpkit.ParseHosts(c.adminHosts)
	if err != nil {
		return usagef("--admin-hosts: %v", err)
	}
	proxies, err := httpkit.ParsePrefixes(c.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	cors, err := httpkit.ParseCORS(c.corsOrigins)
	if err != nil {
		return usagef("--cors-origins: %v", err)
	}
	pl, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("public listener: %w", err)
	}
	defer pl.Close()
	al, err := net.Listen("tcp", c.adminListen)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	defer al.Close()
	tlsCfg, err := listenerTLS(c, log)
	if err != nil {
		return err
	}
	opts := []sqlite.Option{sqlite.WithIdempotencyWindow(c.idempotencyWindow)}
	if c.create {
		opts = append(opts, sqlite.CreateDir())
	}
	store, pg, err := openStore(ctx, c.db, opts...)
	if err != nil {
		return err
	}
	defer store.Close()
	if st, ok := store.(*sqlite.Store); ok {
		for _, problem := range st.Exposed() {
			log.Warn("store files are open to other local users: they hold password hashes and the ledger", "problem", problem)
		}
	}
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
	secret, err := oauthSecret(c, log)
	if err != nil {
		return err
	}
	authn, err = auth.New(store, auth.Options{SessionIdle: c.sessionIdle, TokenSecret: secret})
	if err != nil {
		return err
	}
	if err := authn.PrepareTokenKey(ctx); err != nil {
		if errors.Is(err, auth.ErrTokenSecretMismatch) {
			return fmt.Errorf("%w: give every node the same --oauth-secret-file (after purse migrate, the SQLite store's DB.oauth-secret); "+
				"to replace the secret on purpose, stop every node, run purse oauth-key reset --db URL (outstanding OAuth2 tokens are then refused), and start them with the new file or none", err)
		}
		return fmt.Errorf("OAuth2 signing key: %w", err)
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
		if err := seedDemo(ctx, eng, authn, store, log); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	} else if err := warnDemo(ctx, eng, store, log); err != nil {
		return err
	}

	auditor := adminapi.NewAuditor(store, log)
	defer auditor.Close() // after the listeners stop, before the store closes
	pub := infobipapi.New(eng, authn, log)
	pub.Ready = ready
	public := httpkit.NewServer(httpkit.InstrumentEdge(log, observe, "public", infobipapi.Route,
		httpkit.Edge{TrustedProxies: proxies, CORS: cors}, pub), log, false)
	admin := httpkit.NewServer(httpkit.InstrumentEdge(log, observe, "admin", func(*http.Request) string { return "other" },
		httpkit.Edge{TrustedProxies: proxies}, adminapi.New(adminapi.Config{
			Token: token, Engine: eng, Auth: authn, Store: store, Log: log, Ready: ready, Metrics: m.Handler(), Audit: auditor,
			Pprof: c.pprof, Cmdline: redactArgs(os.Args), Hosts: hosts,
		})), log, true)
	if tlsCfg != nil {
		// One config each: net/http adds its HTTP/2 settings to the config it serves with.
		public.TLSConfig, admin.TLSConfig = tlsCfg.Clone(), tlsCfg.Clone()
	}
	log.Info("purse serving", "public", pl.Addr().String(), "admin", al.Addr().String(), "store", storeName(c.db), "demo", c.demo, "tls", tlsCfg != nil)
	errc := make(chan error, 2)
	serveOn := func(s *http.Server, l net.Listener) error {
		l = httpkit.WriteDeadlines(httpkit.EnvelopeErrors(l), httpkit.WriteTimeout)
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

// storeName is the --db value fit for a log line or a page: a URL without its
// password, in the user part or in the query.
func storeName(db string) string {
	if !postgres.IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// secretFlags are the flags whose values purse never shows: /debug/pprof/cmdline
// shows the command line through redactArgs.
var secretFlags = map[string]func(string) string{
	"admin-token": func(string) string { return "xxxxx" },
	"db":          storeName,
	"password":    func(string) string { return "xxxxx" },
}

// redactArgs is args with the value of every secret flag replaced, in both the
// "--flag value" and the "--flag=value" form.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 1; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		redact, secret := secretFlags[name]
		if !secret {
			continue
		}
		if hasValue {
			out[i] = a[:len(a)-len(value)] + redact(value)
		} else if i+1 < len(out) {
			out[i+1] = redact(out[i+1])
			i++
		}
	}
	return out
}

// readSecretFiles puts --db-url-file and --admin-token-file in place of --db and
// --admin-token. A file others can read gets a warning: the point of the file is
// that no other local user sees the secret (a flag is in every process listing).
func (c *serveConfig) readSecretFiles(log *slog.Logger) error {
	if c.dbURLFile != "" {
		v, err := readSecretFile(c.dbURLFile, "--db-url-file", log)
		if err != nil {
			return err
		}
		c.db = v
	}
	if c.adminTokenFile != "" {
		if c.adminToken != "" {
			return usagef("--admin-token (or PURSE_ADMIN_TOKEN) and --admin-token-file (or PURSE_ADMIN_TOKEN_FILE) exclude each other")
		}
		v, err := readSecretFile(c.adminTokenFile, "--admin-token-file", log)
		if err != nil {
			return err
		}
		c.adminToken = v
	}
	return nil
}

// readSecretFile reads a one-line secret, warning when the file is open to others.
func readSecretFile(path, flagName string, log *slog.Logger) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	if fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("a secret file is readable by other users", "flag", flagName, "path", path, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", flagName, path)
	}
	return v, nil
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
		Token: func() { // a setting changed: the admin token or the OAuth2 key generation
			authn.DropTokenKey()
			if err := token.Reload(context.Background()); err != nil {
				log.Warn("reload admin token", "err", err)
			}
		},
		Lost: func() {
			eng.SetStale(true)
			authn.Invalidate()
			authn.DropTokenKey()
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
			authn.DropTokenKey()
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

// oauthSecret is the secret OAuth2 signing keys are derived from: --oauth-secret-file,
// else (SQLite) the file beside the database, made on first start. On PostgreSQL
// without the flag it is nil: the nodes then share a secret kept in the database,
// because a file each node made for itself would differ between them.
func oauthSecret(c serveConfig, log *slog.Logger) ([]byte, error) {
	path := c.oauthSecretFile
	if path != "" {
		v, err := readSecretFile(path, "--oauth-secret-file", log)
		if err != nil {
			return nil, err
		}
		if len(v) < auth.MinTokenSecret {
			return nil, usagef("--oauth-secret-file %s holds %d bytes; at least %d are needed (make one with: openssl rand -hex 32 > %s; chmod 600 %s)",
				path, len(v), auth.MinTokenSecret, path, path)
		}
		return []byte(v), nil
	}
	if postgres.IsURL(c.db) {
		log.Warn("OAuth2 token secret kept in the database: every dump of it can sign tokens; give every node the same --oauth-secret-file")
		return nil, nil
	}
	path = oauthSecretPath(c.db)
	v, err := loadOrCreateSecret(path, "OAuth2 token secret")
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("a secret file is readable by other users", "path", path, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+path)
	}
	return []byte(v), nil
}

// oauthSecretPath is where serve keeps the OAuth2 token secret of an SQLite store:
// beside it, outside the database file, so a copy of the database cannot sign tokens.
func oauthSecretPath(db string) string { return db + ".oauth-secret" }

func loadOrCreateToken(path string) (string, error) { return loadOrCreateSecret(path, "admin token") }

// loadOrCreateSecret reads a secret file, or makes it (0600, 32 random bytes in hex)
// when there is none.
func loadOrCreateSecret(path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("%s file %s is empty; delete it to make a new one", what, path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}
