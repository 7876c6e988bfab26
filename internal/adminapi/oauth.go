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

var oauthClients = secretCredential{
	listField: "oauthClients", idParam: "clientId",
	view: func(c ledger.APIKey, secret string) any { return toOAuthClientJSON(c, secret) },
	create: func(a *API, r *http.Request, spec ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error) {
		return a.cfg.Auth.CreateOAuthClient(r.Context(), spec.AccountID, spec.Name, spec.Scopes, idem)
	},
	list: func(a *API, r *http.Request, acc string) ([]ledger.APIKey, error) {
		return a.cfg.Auth.OAuthClients(r.Context(), acc)
	},
	revoke: func(a *API, r *http.Request, acc, id string, idem *ledger.IdempotencyRequest) error {
		return a.cfg.Auth.RevokeOAuthClient(r.Context(), acc, id, idem)
	},
}

// rotateOAuthKey is POST /v1/oauth-key/rotate: a new signing key generation, so
// every outstanding OAuth2 access token is refused, on every node.
func (a *API) rotateOAuthKey(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Auth.RotateTokenKey(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
