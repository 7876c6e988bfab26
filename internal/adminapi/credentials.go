package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Credential changes write straight to the store (they move no money), each in one
// transaction with its idempotency record.

// direct runs op exactly once per Idempotency-Key. live renders this response;
// a replay renders the stored outcome, which differs only for a new API key or
// OAuth2 client, whose secret is never stored. A nil live means 204 No Content.
// Refusals here (an unknown user or key) are not kept: nothing is written with
// them.
func (a *API) direct(w http.ResponseWriter, r *http.Request, key, hash string, status int,
	live func(any) any, op func(*ledger.IdempotencyRequest) (any, error)) {
	var idem *ledger.IdempotencyRequest
	if key != "" {
		if a.replay(w, r, "admin:"+key, hash) {
			return
		}
		idem = &ledger.IdempotencyRequest{Key: "admin:" + key, RequestHash: hash}
	}
	v, err := op(idem)
	if errors.Is(err, ledger.ErrDuplicateIdempotencyKey) && a.replay(w, r, "admin:"+key, hash) {
		return // a twin request committed the same key first
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if live == nil {
		w.WriteHeader(status)
		return
	}
	a.reply(w, status, live(v))
}

// replay answers from a stored idempotency record, if there is one.
func (a *API) replay(w http.ResponseWriter, r *http.Request, key, hash string) bool {
	rec, err := a.cfg.Store.Idempotency(r.Context(), key)
	if err != nil {
		a.fail(w, r, err)
		return true
	}
	if rec == nil {
		return false
	}
	if rec.RequestHash != hash {
		a.fail(w, r, ledger.ErrIdempotencyKeyReused)
		return true
	}
	a.answerRecord(w, r, rec)
	return true
}

func userView(u ledger.User) userJSON {
	return userJSON{u.Username, u.AccountID, ts(u.CreatedAt)}
}

func (a *API) addUser(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
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
	a.direct(w, r, key, hash, http.StatusCreated, func(v any) any { return userView(v.(ledger.User)) }, func(idem *ledger.IdempotencyRequest) (any, error) {
		if acc.Status == ledger.StatusClosed { // checked after the key's replay: a stored answer stays the answer
			return nil, &ledger.ConflictError{Reason: "account is closed"}
		}
		return a.cfg.Auth.AddUser(r.Context(), acc.ID, deref(req.Username), deref(req.Password), idem)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	users, err := a.cfg.Auth.Users(r.Context(), acc.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Users []userJSON `json:"users"`
	}{Users: []userJSON{}}
	for _, u := range users {
		out.Users = append(out.Users, userJSON{u.Username, u.AccountID, ts(u.CreatedAt)})
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) removeUser(w http.ResponseWriter, r *http.Request) {
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
	a.direct(w, r, key, hash, http.StatusNoContent, nil, func(idem *ledger.IdempotencyRequest) (any, error) {
		return nil, a.cfg.Auth.RemoveUser(r.Context(), acc.ID, r.PathValue("username"), idem)
	})
}

// secretCredential is a kind of credential with a secret shown once: API keys and
// OAuth2 clients share everything on this surface but their names and JSON shape.
type secretCredential struct {
	listField string // the list's JSON field
	idParam   string // the path parameter naming one
	view      func(c ledger.APIKey, secret string) any
	create    func(a *API, r *http.Request, spec ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error)
	restricts bool // takes allowedIPs, validFrom, validTo and disabled (API keys)
	list      func(a *API, r *http.Request, accountID string) ([]ledger.APIKey, error)
	revoke    func(a *API, r *http.Request, accountID, id string, idem *ledger.IdempotencyRequest) error
}

var apiKeys = secretCredential{
	listField: "apiKeys", idParam: "keyId",
	view: func(c ledger.APIKey, secret string) any { return toAPIKeyJSON(c, secret) },
	create: func(a *API, r *http.Request, spec ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error) {
		return a.cfg.Auth.CreateKey(r.Context(), spec, idem)
	},
	restricts: true,
	list: func(a *API, r *http.Request, acc string) ([]ledger.APIKey, error) {
		return a.cfg.Auth.APIKeys(r.Context(), acc)
	},
	revoke: func(a *API, r *http.Request, acc, id string, idem *ledger.IdempotencyRequest) error {
		return a.cfg.Auth.RevokeAPIKey(r.Context(), acc, id, idem)
	},
}

type newSecret struct {
	cred   ledger.APIKey
	secret string
}

func (a *API) createSecret(kind secretCredential) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acc, err := a.customer(r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var req struct {
			Name   *string  `json:"name"`
			Scopes []string `json:"scopes"`
			keyRulesJSON
		}
		body, err := decode(r, &req)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		spec := ledger.APIKey{AccountID: acc.ID, Name: deref(req.Name), Scopes: req.Scopes}
		if err := req.keyRulesJSON.apply(&spec, kind.restricts); err != nil {
			a.fail(w, r, err)
			return
		}
		key, hash, err := idempotency(r, body, false)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		live := func(v any) any { n := v.(newSecret); return kind.view(n.cred, n.secret) }
		a.direct(w, r, key, hash, http.StatusCreated, live, func(idem *ledger.IdempotencyRequest) (any, error) {
			if acc.Status == ledger.StatusClosed { // after the key's replay, as for users
				return nil, &ledger.ConflictError{Reason: "account is closed"}
			}
			c, secret, err := kind.create(a, r, spec, idem)
			return newSecret{c, secret}, err
		})
	}
}

func (a *API) listSecrets(kind secretCredential) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acc, err := a.customer(r.PathValue("id"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		creds, err := kind.list(a, r, acc.ID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		views := make([]any, 0, len(creds))
		for _, c := range creds {
			views = append(views, kind.view(c, ""))
		}
		a.reply(w, http.StatusOK, map[string]any{kind.listField: views})
	}
}

func (a *API) revokeSecret(kind secretCredential) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
		a.direct(w, r, key, hash, http.StatusNoContent, nil, func(idem *ledger.IdempotencyRequest) (any, error) {
			return nil, kind.revoke(a, r, acc.ID, r.PathValue(kind.idParam), idem)
		})
	}
}

// keyRulesJSON are an API key's restrictions as the admin API takes them. A
// time is RFC 3339; in an update, null (or "") clears it and absence keeps it.
type keyRulesJSON struct {
	AllowedIPs *[]string       `json:"allowedIPs"`
	ValidFrom  json.RawMessage `json:"validFrom"` // raw, so that null (clear) differs from absent (keep)
	ValidTo    json.RawMessage `json:"validTo"`
	Disabled   *bool           `json:"disabled"`
}

// apply sets the restrictions given on k; restricts is false for a credential
// that takes none (an OAuth2 client), which then refuses them.
func (q keyRulesJSON) apply(k *ledger.APIKey, restricts bool) error {
	v := &ledger.ValidationError{}
	if !restricts {
		if q.AllowedIPs != nil || q.ValidFrom != nil || q.ValidTo != nil || q.Disabled != nil {
			v.Add("allowedIPs", "OAuth2 clients take no allowedIPs, validFrom, validTo or disabled; API keys do")
		}
		return v.Err()
	}
	if q.AllowedIPs != nil {
		k.AllowedIPs = *q.AllowedIPs
	}
	if q.Disabled != nil {
		k.Disabled = *q.Disabled
	}
	for _, t := range []struct {
		name string
		raw  json.RawMessage
		dst  **time.Time
	}{{"validFrom", q.ValidFrom, &k.ValidFrom}, {"validTo", q.ValidTo, &k.ValidTo}} {
		if len(t.raw) == 0 {
			continue
		}
		var s *string
		if err := json.Unmarshal(t.raw, &s); err != nil {
			v.Add(t.name, "must be an RFC 3339 time, or null")
			continue
		}
		if s == nil || *s == "" {
			*t.dst = nil
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			v.Add(t.name, "must be an RFC 3339 time such as 2026-01-01T00:00:00Z")
			continue
		}
		*t.dst = &at
	}
	return v.Err()
}

// updateAPIKey is PATCH /v1/accounts/{id}/api-keys/{keyId}: the fields given
// replace the key's (name, scopes, allowedIPs, validFrom, validTo, disabled),
// on every node at once. It answers the key as it now is.
func (a *API) updateAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Name   *string   `json:"name"`
		Scopes *[]string `json:"scopes"`
		keyRulesJSON
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
	a.direct(w, r, key, hash, http.StatusOK, func(v any) any { return toAPIKeyJSON(v.(ledger.APIKey), "") }, func(idem *ledger.IdempotencyRequest) (any, error) {
		k, err := a.cfg.Auth.APIKey(r.Context(), acc.ID, r.PathValue("keyId"))
		if err != nil {
			return nil, err
		}
		if k.RevokedAt != nil {
			return nil, &ledger.ConflictError{Reason: "api key is revoked"}
		}
		if req.Name != nil {
			k.Name = *req.Name
		}
		if req.Scopes != nil {
			k.Scopes = *req.Scopes
		}
		if err := req.keyRulesJSON.apply(&k, true); err != nil {
			return nil, err
		}
		return a.cfg.Auth.UpdateKey(r.Context(), k, idem)
	})
}
