package app

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/fault"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/seed"
	"github.com/purse-ledger/purse/internal/store/postgres"
)

// newFaults makes the fault rules of Config.Emulator, logged and counted.
func (a *App) newFaults() {
	m := a.metrics
	a.faults = fault.NewSet(fault.Options{Now: a.cfg.Now, Log: a.log,
		OnInject: func(listener, action string) { m.FaultsInjected.WithLabelValues(listener, action).Inc() }})
}

// publicIdentity is the account and credential a public request claims, for
// fault rules that match on them. It verifies no password (a rule matches the
// login a request names, right or wrong) so that it costs no argon2id run and
// counts no failed login: a Basic header names its user, an App key is looked
// up by its hash; an IBSSO session or an OAuth2 token is checked as the API
// would.
func (a *App) publicIdentity(r *http.Request) (account, credential string) {
	header := r.Header.Get("Authorization")
	cred, err := auth.ParseAuthorization(header)
	if err != nil {
		return "", ""
	}
	ctx := r.Context()
	switch cred.Scheme {
	case auth.SchemeBasic:
		u, err := a.store.UserByName(ctx, cred.Username)
		if err != nil {
			return "", cred.Username
		}
		return u.AccountID, u.Username
	case auth.SchemeApp:
		k, err := a.store.APIKeyByHash(ctx, auth.HashAPIKey(cred.Token))
		if err != nil || k.RevokedAt != nil {
			return "", ""
		}
		return k.AccountID, k.ID
	}
	p, err := a.auth.Authenticate(ctx, header, "")
	if err != nil {
		return "", ""
	}
	return p.AccountID, p.Subject
}

// adminIdentity is the account an admin request acts on: the {id} of
// /v1/accounts/{id}/...; the admin token is no customer's credential.
func adminIdentity(r *http.Request) (account, credential string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/accounts/")
	if !ok {
		return "", ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, ""
}

// applySeed applies Config.Seed, if any.
func (a *App) applySeed(ctx context.Context) error {
	if a.cfg.Seed == nil {
		return nil
	}
	_, err := seed.Apply(ctx, a.cfg.Seed, a.eng, a.auth, a.store, a.log)
	return err
}

// live is the pair of surfaces an emulator serves, behind a gate: requests hold
// it shared, a reset exclusively, so a reset waits for the requests in flight
// and the requests after it see only the new store.
type live struct {
	gate          sync.RWMutex
	public, admin atomic.Pointer[http.Handler]
}

func (l *live) set(public, admin http.Handler) {
	l.public.Store(&public)
	l.admin.Store(&admin)
}

// handlers are the listeners' handlers: whatever surfaces are in force. POST
// /v1/reset passes the gate without holding it (it takes it exclusively itself).
func (l *live) handlers() (public, admin http.Handler) {
	serve := func(p *atomic.Pointer[http.Handler], exempt func(*http.Request) bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt == nil || !exempt(r) {
				l.gate.RLock()
				defer l.gate.RUnlock()
			}
			(*p.Load()).ServeHTTP(w, r)
		})
	}
	return serve(&l.public, nil), serve(&l.admin, func(r *http.Request) bool { return r.URL.Path == "/v1/reset" })
}

// resetFunc is POST /v1/reset's work under Config.Emulator; nil otherwise.
func (a *App) resetFunc(hosts *httpkit.Hosts) func(context.Context) error {
	if !a.cfg.Emulator {
		return nil
	}
	return func(ctx context.Context) error { return a.reset(ctx, hosts) }
}

// errResetStore is a reset's refusal on a store it cannot empty.
var errResetStore = &ledger.ConflictError{Reason: "reset empties the SQLite store purse serve opened; " +
	"this emulator serves a PostgreSQL database or a store it was given, which it does not delete"}

// reset empties the store and applies the seed again: it waits for the requests
// in flight, closes the engine and the store, deletes the SQLite files (the
// admin token and OAuth2 secret files beside them stay), opens everything again
// as New does and swaps the new surfaces in. A failure half-way leaves the
// emulator answering 503s: restart it.
func (a *App) reset(ctx context.Context, hosts *httpkit.Hosts) error {
	if !a.ownStore || postgres.IsURL(a.cfg.DB) {
		return errResetStore
	}
	a.live.gate.Lock()
	defer a.live.gate.Unlock()
	a.stopEvents() // its deliverers use the engine and the store closed here
	a.audit.Close()
	a.stopFeed()
	a.eng.Close()
	if err := a.store.Close(); err != nil {
		return err
	}
	for _, f := range []string{a.cfg.DB, a.cfg.DB + "-wal", a.cfg.DB + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := a.openStore(ctx); err != nil {
		return err
	}
	if err := a.openCore(ctx); err != nil {
		return err
	}
	var err error
	if a.token, err = a.adminToken(ctx); err != nil {
		return err
	}
	a.follow(ctx)
	a.startEvents()
	if err := a.demo(ctx); err != nil {
		return err
	}
	if err := a.applySeed(ctx); err != nil {
		return err
	}
	a.live.set(a.surfaces(hosts))
	a.log.Warn("emulator reset: the store holds the seed again, and nothing else")
	return nil
}
