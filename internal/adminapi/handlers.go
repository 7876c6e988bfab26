package adminapi

import (
	"net/http"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Wire types: the JSON the admin API speaks. Amounts are decimal strings.

type accountJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Balance   string `json:"balance"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toAccountJSON(a ledger.Account) accountJSON {
	return accountJSON{ID: a.ID, Name: a.Name, Currency: a.Currency, Status: string(a.Status), Balance: a.Balance.String(),
		CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt)}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

type movementJSON struct {
	ID           string `json:"id"`
	AccountID    string `json:"accountId"`
	Kind         string `json:"kind"`
	Amount       string `json:"amount"`
	BalanceAfter string `json:"balanceAfter"`
	Reference    string `json:"reference"`
	Sequence     int64  `json:"sequence"`
	CreatedAt    string `json:"createdAt"`
}

func toMovementJSON(m ledger.Movement) movementJSON {
	e := m.Entry
	return movementJSON{ID: m.ID, AccountID: e.AccountID, Kind: string(e.Kind), Amount: e.Amount.String(),
		BalanceAfter: e.BalanceAfter.String(), Reference: e.Reference, Sequence: e.Seq, CreatedAt: ts(e.CreatedAt)}
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     *string `json:"name"`
		Currency *string `json:"currency"`
	}
	body, err := decode(r, &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := &ledger.ValidationError{}
	if req.Name == nil {
		v.Add("name", "is required")
	}
	if req.Currency == nil {
		v.Add("currency", "is required, an ISO 4217 code such as EUR")
	}
	key, hash, err := idempotency(r, body, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.CreateAccount{Name: *req.Name, Currency: *req.Currency}, key, hash, http.StatusCreated,
		func(v any) any { return toAccountJSON(v.(ledger.Account)) })
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	after, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	accts, err := a.cfg.Accounts.ListAccounts(r.Context(), after, limit+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Accounts   []accountJSON `json:"accounts"`
		NextCursor string        `json:"nextCursor,omitempty"`
	}{Accounts: []accountJSON{}}
	if len(accts) > limit {
		accts = accts[:limit]
		out.NextCursor = cursorAfter(accts[limit-1].ID)
	}
	for _, acc := range accts {
		// The engine's copy is the committed balance; the stored row may trail it by one commit.
		if live, ok := a.cfg.Engine.Account(acc.ID); ok {
			acc = live
		}
		out.Accounts = append(out.Accounts, toAccountJSON(acc))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, toAccountJSON(acc))
}

func (a *API) patchAccount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   *string `json:"name"`
		Status *string `json:"status"`
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
	if req.Name == nil && req.Status == nil {
		a.fail(w, r, ledger.Invalid("body", "names no field to change (name, status)"))
		return
	}
	cmd := engine.UpdateAccount{ID: r.PathValue("id"), Name: req.Name}
	if req.Status != nil {
		st := ledger.AccountStatus(*req.Status)
		cmd.Status = &st
	}
	a.do(w, r, cmd, key, hash, http.StatusOK, func(v any) any { return toAccountJSON(v.(ledger.Account)) })
}

func (a *API) getBalance(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, struct {
		AccountID string `json:"accountId"`
		Balance   string `json:"balance"`
		Currency  string `json:"currency"`
		Status    string `json:"status"`
		Sequence  int64  `json:"sequence"`
		AsOf      string `json:"asOf"`
	}{acc.ID, acc.Balance.String(), acc.Currency, string(acc.Status), acc.Seq, ts(time.Now())})
}

func (a *API) topUp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.customer(id); err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Amount    *string `json:"amount"`
		Reference string  `json:"reference"`
	}
	body, err := decode(r, &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, hash, err := idempotency(r, body, true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	amt, err := parseAmount("amount", req.Amount)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.TopUp{AccountID: id, Amount: amt, Reference: req.Reference, IdempotencyKey: key}, key, hash, http.StatusCreated,
		func(v any) any { return toMovementJSON(v.(ledger.Movement)) })
}

type userJSON struct {
	Username  string `json:"username"`
	AccountID string `json:"accountId"`
	CreatedAt string `json:"createdAt"`
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
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if acc.Status == ledger.StatusClosed {
		a.fail(w, r, &ledger.ConflictError{Reason: "account is closed"})
		return
	}
	u, err := a.cfg.Auth.AddUser(r.Context(), acc.ID, deref(req.Username), deref(req.Password))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusCreated, userJSON{u.Username, u.AccountID, ts(u.CreatedAt)})
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
	if err := a.cfg.Auth.RemoveUser(r.Context(), acc.ID, r.PathValue("username")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type apiKeyJSON struct {
	ID        string   `json:"id"`
	AccountID string   `json:"accountId"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Key       string   `json:"key,omitempty"` // only in the response that created it
	CreatedAt string   `json:"createdAt"`
	RevokedAt string   `json:"revokedAt,omitempty"`
}

func toAPIKeyJSON(k ledger.APIKey, clear string) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, AccountID: k.AccountID, Name: k.Name, Scopes: k.Scopes, Key: clear, CreatedAt: ts(k.CreatedAt)}
	if k.RevokedAt != nil {
		out.RevokedAt = ts(*k.RevokedAt)
	}
	return out
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Name   *string  `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if acc.Status == ledger.StatusClosed {
		a.fail(w, r, &ledger.ConflictError{Reason: "account is closed"})
		return
	}
	k, clear, err := a.cfg.Auth.CreateAPIKey(r.Context(), acc.ID, deref(req.Name), req.Scopes)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusCreated, toAPIKeyJSON(k, clear))
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	keys, err := a.cfg.Auth.APIKeys(r.Context(), acc.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		APIKeys []apiKeyJSON `json:"apiKeys"`
	}{APIKeys: []apiKeyJSON{}}
	for _, k := range keys {
		out.APIKeys = append(out.APIKeys, toAPIKeyJSON(k, ""))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.cfg.Auth.RevokeAPIKey(r.Context(), acc.ID, r.PathValue("keyId")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
