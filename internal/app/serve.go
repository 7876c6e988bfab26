package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/audit"
	"github.com/purse-ledger/purse/internal/console"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/infobipapi"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/storefiles"
)

// buildServers makes the auditor and the two HTTP servers: each surface behind
// the edge (client address behind trusted proxies, security headers, CORS on the
// public one), request logs and metrics, and the listeners' limits.
func (a *App) buildServers() error {
	hosts := a.cfg.AdminHosts
	if hosts == nil {
		var err error
		if hosts, err = httpkit.ParseHosts(""); err != nil {
			return err
		}
	}
	if a.cfg.Emulator {
		a.newFaults()
	}
	pubH, admH := a.surfaces(hosts)
	observe := a.metrics.ObserveRequest
	if a.cfg.Emulator {
		// Served through the reset's switch: POST /v1/reset swaps in the surfaces
		// of a new store (emulator.go).
		a.live.set(pubH, admH)
		pubH, admH = a.live.handlers()
	}
	a.public = httpkit.NewServer(httpkit.InstrumentEdge(a.log, observe, "public", infobipapi.Route,
		httpkit.Edge{TrustedProxies: a.cfg.TrustedProxies, CORS: a.cfg.CORS}, pubH), a.log, false)
	a.admin = httpkit.NewServer(httpkit.InstrumentEdge(a.log, observe, "admin", func(*http.Request) string { return "other" },
		httpkit.Edge{TrustedProxies: a.cfg.TrustedProxies}, admH), a.log, true)
	if a.tls != nil {
		// One config each: net/http adds its HTTP/2 settings to the config it serves with.
		a.public.TLSConfig, a.admin.TLSConfig = a.tls.Clone(), a.tls.Clone()
	}
	return nil
}

// surfaces makes the auditor and the two API handlers on the App's store,
// engine and authenticator, behind the fault rules under Config.Emulator.
func (a *App) surfaces(hosts *httpkit.Hosts) (public, admin http.Handler) {
	a.audit = audit.New(a.store, a.log)
	ready := a.store.Ping
	pub := infobipapi.New(a.eng, a.auth, a.log)
	pub.Ready = ready
	pub.Accounts = subAccounts{store: a.store, eng: a.eng}
	pub.Audit, pub.AuditLog = a.audit, a.store
	adm := adminapi.New(adminapi.Config{
		Token: a.token, Engine: a.eng, Auth: a.auth, Store: a.store, Events: a.store, Webhooks: a.store, Log: a.log, Ready: ready, Metrics: a.metrics.Handler(), Audit: a.audit,
		Pprof: a.cfg.Pprof, Cmdline: a.cfg.Cmdline, Hosts: hosts, Faults: a.faults, Reset: a.resetFunc(hosts),
		Operators: a.operators, Draining: a.draining,
	})
	con := console.New(console.Config{Engine: a.eng, Store: a.store, Operators: a.operators, Auth: a.auth, Admin: adm,
		Flush: a.audit.Flush, Hosts: hosts, TLS: a.tls != nil, Log: a.log, Now: a.cfg.Now, Rate: a.rate})
	admin = withConsole(con, adm)
	if a.faults == nil {
		return pub, admin
	}
	// Inside the instrumentation: a faulted request's status is in the request
	// log and metrics like any other (a reset or cut one has none: the fault's
	// own log line and counter say what happened).
	return a.faults.Handler("public", a.publicIdentity, nil, pub),
		a.faults.Handler("admin", adminIdentity, adminapi.EmulatorRoute, admin)
}

// withConsole serves the operator console at /console on the admin listener,
// and the admin API everywhere else.
func withConsole(con, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/console" || strings.HasPrefix(p, "/console/") {
			con.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Start serves the public API on public and the admin API on admin, and returns
// once both accept requests (connections made before wait in the listeners'
// backlog). Beside an SQLite store it writes the admin listener's URL, where the
// commands find this server; Close removes it. Call it once.
func (a *App) Start(public, admin net.Listener) error {
	if !postgres.IsURL(a.cfg.DB) && a.cfg.DB != "" {
		// A PostgreSQL cluster has several nodes, and no directory of its own: the
		// commands are told one with --admin-url.
		remove, err := storefiles.WriteAdminURL(a.cfg.DB, storefiles.AdminURL(admin.Addr(), a.tls != nil))
		if err != nil {
			return err
		}
		a.removeURL = remove
	}
	a.log.Info("purse serving", "public", public.Addr().String(), "admin", admin.Addr().String(),
		"store", StoreName(a.cfg.DB), "demo", a.cfg.Demo, "emulator", a.cfg.Emulator, "tls", a.tls != nil)
	a.serving = make(chan error, 2)
	go func() { a.serving <- a.serveOn(a.public, public) }()
	go func() { a.serving <- a.serveOn(a.admin, admin) }()
	return nil
}

// serveOn serves s on l, answering what net/http itself refuses in the error
// envelope and bounding every write.
func (a *App) serveOn(s *http.Server, l net.Listener) error {
	l = httpkit.WriteDeadlines(httpkit.EnvelopeErrors(l), httpkit.WriteTimeout)
	if s.TLSConfig != nil {
		return s.ServeTLS(l, "", "")
	}
	return s.Serve(l)
}

// Wait blocks until serving ends: after Shutdown (or Close) has let the in-flight
// requests finish, with nil; or when a listener fails, with its error, once both
// servers have shut down. Call it once, after Start.
func (a *App) Wait() error {
	if a.serving == nil {
		return nil
	}
	err := <-a.serving
	if !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("listener failed", "err", err)
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		a.Shutdown(ctx)
	}
	<-a.serving
	<-a.stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Serve is Start, then Wait.
func (a *App) Serve(public, admin net.Listener) error {
	if err := a.Start(public, admin); err != nil {
		return err
	}
	return a.Wait()
}

// Shutdown stops both listeners and waits, until ctx ends, for the requests in
// flight to finish. The store, the engine and the rest stay open until Close.
// Calling it again waits for the first call's end.
func (a *App) Shutdown(ctx context.Context) error {
	a.shutdownOnce.Do(func() {
		defer close(a.stopped)
		close(a.draining)
		if a.public == nil {
			return
		}
		var errs []error
		if err := a.public.Shutdown(ctx); err != nil {
			a.log.Warn("public shutdown", "err", err)
			errs = append(errs, err)
		}
		if err := a.admin.Shutdown(ctx); err != nil {
			a.log.Warn("admin shutdown", "err", err)
			errs = append(errs, err)
		}
		a.shutdownErr = errors.Join(errs...)
	})
	<-a.stopped
	return a.shutdownErr
}
