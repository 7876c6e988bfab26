package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/fault"
	"github.com/purse-ledger/purse/internal/seed"
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

// resetFunc is POST /v1/reset's work under Config.Emulator; nil otherwise.
func (a *App) resetFunc() func(context.Context) error {
	return nil
}
