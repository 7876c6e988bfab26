package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/cli"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/seed"
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
	emulator                            bool
	seed                                string
	logFormat, logLevel                 string
	shutdownTimeout, sessionIdle        time.Duration
	idempotencyWindow                   time.Duration
	eventRetention                      time.Duration
	webhookLease                        time.Duration
	maxQueueDelay                       time.Duration
}

// defaultMaxQueueDelay is the writer's queueing-delay target (engine/shed.go); how
// it was chosen is in docs/design.md, "Overload".
const defaultMaxQueueDelay = 2 * time.Millisecond

// serveFlags declares serve's flags into c; a PURSE_* value that does not parse
// is kept in envErr (flags.go).
func serveFlags(fs *flag.FlagSet, c *serveConfig, envErr *envErrs, e env) {
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
	fs.BoolVar(&c.emulator, "emulator", envErr.bool(e, "PURSE_EMULATOR", false),
		"a stand-in for Infobip in tests: fault rules on the admin API (/v1/faults) and POST /v1/reset; never on a store with real money (env PURSE_EMULATOR=true)")
	fs.StringVar(&c.seed, "seed", envOr(e, "PURSE_SEED", ""),
		"a JSON seed file applied at start, idempotently: accounts, limits, balances, users, API keys (docs/emulator.md); passwords and keys in it need --demo or --emulator (env PURSE_SEED)")
	fs.BoolVar(&c.create, "create", envErr.bool(e, "PURSE_CREATE", false), "create the database's directory (mode 0700) when it does not exist (env PURSE_CREATE)")
	fs.StringVar(&c.logFormat, "log-format", envOr(e, "PURSE_LOG_FORMAT", "json"), "log format: json or text (env PURSE_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", envOr(e, "PURSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env PURSE_LOG_LEVEL)")
	fs.DurationVar(&c.sessionIdle, "session-idle", envErr.duration(e, "PURSE_SESSION_IDLE", auth.DefaultSessionIdle), "an IBSSO session ends after this long unused (env PURSE_SESSION_IDLE)")
	fs.DurationVar(&c.idempotencyWindow, "idempotency-window", envErr.duration(e, "PURSE_IDEMPOTENCY_WINDOW", sqlite.DefaultIdempotencyWindow),
		"the embedded store answers a repeated Idempotency-Key for this long, then forgets it (env PURSE_IDEMPOTENCY_WINDOW; PostgreSQL keeps keys)")
	fs.DurationVar(&c.eventRetention, "event-retention", envErr.duration(e, "PURSE_EVENT_RETENTION", app.DefaultEventRetention),
		"events (the webhooks' and the events feed's) are kept this long, then pruned; the ledger is never pruned (env PURSE_EVENT_RETENTION)")
	fs.DurationVar(&c.webhookLease, "webhook-lease", envErr.duration(e, "PURSE_WEBHOOK_LEASE", 30*time.Second),
		"a node delivers a webhook subscription while it holds its lease, renewed every third of this; another node takes over a dead node's subscriptions this long after (env PURSE_WEBHOOK_LEASE)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", envErr.duration(e, "PURSE_SHUTDOWN_TIMEOUT", 15*time.Second),
		"how long in-flight requests may take to finish on SIGINT/SIGTERM (env PURSE_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.maxQueueDelay, "max-queue-delay", envErr.duration(e, "PURSE_MAX_QUEUE_DELAY", defaultMaxQueueDelay),
		"the wait a money request may expect for a place among those in flight; one that cannot expect a place sooner is shed at once with 503 and Retry-After; 0 never sheds (env PURSE_MAX_QUEUE_DELAY)")
}

// serve runs purse serve with the flags serveFlags read: it checks them, turns
// them into an app.Config, and runs the app (internal/app builds everything). A
// start-up error is returned, not logged: main prints it once.
func serve(ctx context.Context, c serveConfig, envErr envErrs, e env) error {
	if err := envErr.err(); err != nil {
		return err
	}
	if c.maxQueueDelay < 0 { // 0 is meaningful: never shed
		return usagef("--max-queue-delay %s: want a duration of 0 or more (0 never sheds; flag, or PURSE_MAX_QUEUE_DELAY)", c.maxQueueDelay)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--session-idle", c.sessionIdle}, {"--idempotency-window", c.idempotencyWindow}, {"--shutdown-timeout", c.shutdownTimeout},
		{"--event-retention", c.eventRetention}, {"--webhook-lease", c.webhookLease}} {
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
	cfg, err := c.appConfig(log)
	if err != nil {
		return err
	}
	return serveApp(ctx, cfg, c, e)
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

// appConfig is the app.Config the flags describe. The edge's settings and secret
// files are read here, before anything is opened: a start that fails on them
// leaves no new store or token file behind.
func (c serveConfig) appConfig(log *slog.Logger) (app.Config, error) {
	cfg := app.Config{DB: c.db, CreateDir: c.create, IdempotencyWindow: c.idempotencyWindow, Log: log,
		AdminToken: c.adminToken, SessionIdle: c.sessionIdle, MaxQueueDelay: c.maxQueueDelay, Demo: c.demo, Emulator: c.emulator,
		Pprof: c.pprof, Cmdline: redactArgs(os.Args), ShutdownTimeout: c.shutdownTimeout, EventRetention: c.eventRetention,
		Webhooks: app.WebhookOptions{Lease: c.webhookLease},
		TLSCert:  c.tlsCert, TLSKey: c.tlsKey, TLSSelfSigned: c.tlsSelfSigned}
	var err error
	if cfg.AdminHosts, err = httpkit.ParseHosts(c.adminHosts); err != nil {
		return cfg, usagef("--admin-hosts: %v", err)
	}
	if cfg.TrustedProxies, err = httpkit.ParsePrefixes(c.trustedProxies); err != nil {
		return cfg, usagef("--trusted-proxies: %v", err)
	}
	if cfg.CORS, err = httpkit.ParseCORS(c.corsOrigins); err != nil {
		return cfg, usagef("--cors-origins: %v", err)
	}
	switch {
	case c.tlsSelfSigned && (c.tlsCert != "" || c.tlsKey != ""):
		return cfg, usagef("--tls-self-signed and --tls-cert/--tls-key exclude each other")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return cfg, usagef("--tls-cert and --tls-key go together")
	}
	if c.seed != "" { // before the store exists: a bad seed leaves nothing behind
		if cfg.Seed, err = seed.Load(c.seed); err != nil {
			return cfg, err
		}
	}
	if c.oauthSecretFile != "" { // before the store exists: a bad file leaves nothing behind
		if cfg.OAuthSecret, err = readOAuthSecret(c.oauthSecretFile, log); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// serveApp listens on both addresses, builds the app and serves until ctx ends (SIGINT,
// SIGTERM), then lets in-flight requests finish for up to --shutdown-timeout.
func serveApp(ctx context.Context, cfg app.Config, c serveConfig, e env) error {
	debug.SetGCPercent(gcLoading) // tuneGC (gc.go) takes over once the store is loaded
	// The listeners before the store: connections wait in the backlog until
	// serving begins, and a port in use leaves no new store behind.
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
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close() // the engine drains its queue, then the store closes
	gcCtx, stopGC := context.WithCancel(ctx)
	defer stopGC()
	go tuneGC(gcCtx)
	if err := a.Start(pl, al); err != nil {
		return err
	}
	if e.ready != nil {
		e.ready(pl.Addr().String(), al.Addr().String())
	}
	stop := context.AfterFunc(ctx, func() {
		cfg.Log.Info("shutting down: finishing in-flight requests", "timeout", c.shutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
		defer cancel()
		a.Shutdown(sctx)
	})
	defer stop()
	return a.Wait()
}

// secretFlags are the flags whose values purse never shows: /debug/pprof/cmdline
// shows the command line through redactArgs.
var secretFlags = map[string]func(string) string{
	"admin-token": func(string) string { return "xxxxx" },
	"db":          app.StoreName,
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
	return cli.ReadSecretFile(path, flagName, func(mode os.FileMode) {
		log.Warn("a secret file is readable by other users", "flag", flagName, "path", path, "mode", mode.String(), "fix", "chmod 600 "+path)
	})
}

// readOAuthSecret reads --oauth-secret-file, which must hold at least
// auth.MinTokenSecret bytes.
func readOAuthSecret(path string, log *slog.Logger) ([]byte, error) {
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
