package adminapi

import (
	"net/http"

	"github.com/purse-ledger/purse/internal/ledger"
)

// OAuth2 clients: created per account, the secret shown once, revocable; their
// access tokens come from the public POST /auth/1/oauth2/token.

type oauthClientJSON struct {
	ClientID     string   `json:"clientId"`
	AccountID    string   `json:"accountId"`
	Name         string   `json:"name"`
	Scopes       []string `json:"scopes"`
	ClientSecret string   `json:"clientSecret,omitempty"` // only in the response that created it
	CreatedAt    string   `json:"createdAt"`
	RevokedAt    string   `json:"revokedAt,omitempty"`
}

func toOAuthClientJSON(c ledger.APIKey, secret string) oauthClientJSON {
	out := oauthClientJSON{ClientID: c.ID, AccountID: c.AccountID, Name: c.Name, Scopes: c.Scopes, ClientSecret: secret, CreatedAt: ts(c.CreatedAt)}
	if c.RevokedAt != nil {
		out.RevokedAt = ts(*c.RevokedAt)
	}
	return out
}

func (a *API) createOAuthClient(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Name   *string  `json:"name"`
		Scopes []string `json:"scopes"`
	}
	body, err := decode(r, &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, hash, err := idempotency(r, body, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if acc.Status == ledger.StatusClosed {
		a.fail(w, r, &ledger.ConflictError{Reason: "account is closed"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	stored := func(v any) any { return toOAuthClientJSON(v.(ledger.APIKey), "") }
	live := func(v any) any { n := v.(newKey); return toOAuthClientJSON(n.key, n.clear) }
	a.direct(w, r, key, hash, http.StatusCreated, stored, live, func(idem *ledger.IdempotencyRequest) (any, error) {
		c, secret, err := a.cfg.Auth.CreateOAuthClient(r.Context(), acc.ID, deref(req.Name), req.Scopes, idem)
		return newKey{c, secret}, err
	})
}

func (a *API) listOAuthClients(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	clients, err := a.cfg.Auth.OAuthClients(r.Context(), acc.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		OAuthClients []oauthClientJSON `json:"oauthClients"`
	}{OAuthClients: []oauthClientJSON{}}
	for _, c := range clients {
		out.OAuthClients = append(out.OAuthClients, toOAuthClientJSON(c, ""))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) revokeOAuthClient(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, hash, err := idempotency(r, nil, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.direct(w, r, key, hash, http.StatusNoContent, nil, nil, func(idem *ledger.IdempotencyRequest) (any, error) {
		return nil, a.cfg.Auth.RevokeOAuthClient(r.Context(), acc.ID, r.PathValue("clientId"), idem)
	})
}
