package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Account is a customer account as the admin API shows it. MonthlyLimit is nil
// when the account has none.
type Account struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Currency     string  `json:"currency"`
	Status       string  `json:"status"`
	Balance      string  `json:"balance"`
	AllowedMinus string  `json:"allowedMinus"`
	MonthlyLimit *string `json:"monthlyLimit"`
	FreeMessages int64   `json:"freeMessages"`
	CreatedAt    string  `json:"createdAt"`
	UpdatedAt    string  `json:"updatedAt"`
	// A sub-account's parent, funding ("own" or "shared") and the parent's
	// switch; empty (Enabled nil) on a main account.
	Parent  string `json:"parent,omitempty"`
	Funding string `json:"funding,omitempty"`
	Enabled *bool  `json:"enabled,omitempty"`
}

// AccountPage is one page of ListAccounts; pass NextCursor to get the next one.
type AccountPage struct {
	Accounts   []Account `json:"accounts"`
	NextCursor string    `json:"nextCursor"`
}

// AccountUpdate changes an account; nil fields stay as they are.
type AccountUpdate struct {
	Name         *string `json:"name,omitempty"`
	Status       *string `json:"status,omitempty"`       // active, suspended or closed
	AllowedMinus *string `json:"allowedMinus,omitempty"` // how far below zero it may go
	MonthlyLimit *string `json:"-"`                      // most charged per UTC month
	// ClearMonthlyLimit removes the monthly limit (sent as "monthlyLimit": null).
	ClearMonthlyLimit bool   `json:"-"`
	FreeMessages      *int64 `json:"freeMessages,omitempty"`
	Enabled           *bool  `json:"enabled,omitempty"` // a sub-account's parent switch
}

func (u AccountUpdate) body() map[string]any {
	m := map[string]any{}
	if u.Enabled != nil {
		m["enabled"] = *u.Enabled
	}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Status != nil {
		m["status"] = *u.Status
	}
	if u.AllowedMinus != nil {
		m["allowedMinus"] = *u.AllowedMinus
	}
	if u.ClearMonthlyLimit {
		m["monthlyLimit"] = nil
	} else if u.MonthlyLimit != nil {
		m["monthlyLimit"] = *u.MonthlyLimit
	}
	if u.FreeMessages != nil {
		m["freeMessages"] = *u.FreeMessages
	}
	return m
}

// AccountBalance is the admin view of an account's committed balance. A balance
// read with AccountBalanceAt carries only AccountID, Balance, Currency, AsOf and
// Sequence.
type AccountBalance struct {
	AccountID    string  `json:"accountId"`
	Balance      string  `json:"balance"`
	Available    string  `json:"available,omitempty"`
	Held         string  `json:"held,omitempty"`
	AllowedMinus string  `json:"allowedMinus,omitempty"`
	MonthlyLimit *string `json:"monthlyLimit,omitempty"`
	MonthlySpent string  `json:"monthlySpent,omitempty"`
	FreeMessages int64   `json:"freeMessages,omitempty"`
	Currency     string  `json:"currency"`
	Status       string  `json:"status,omitempty"`
	Sequence     int64   `json:"sequence"`
	AsOf         string  `json:"asOf"`
}

// User is a Basic-auth login of an account.
type User struct {
	Username  string `json:"username"`
	AccountID string `json:"accountId"`
	CreatedAt string `json:"createdAt"`
}

// APIKey is an `App` key. Key is set only in CreateAPIKey's result. AllowedIPs,
// ValidFrom, ValidTo and Disabled are empty for a key without restrictions.
type APIKey struct {
	ID         string   `json:"id"`
	AccountID  string   `json:"accountId"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	AllowedIPs []string `json:"allowedIPs,omitempty"`
	ValidFrom  string   `json:"validFrom,omitempty"`
	ValidTo    string   `json:"validTo,omitempty"`
	Disabled   bool     `json:"disabled,omitempty"`
	Key        string   `json:"key,omitempty"`
	CreatedAt  string   `json:"createdAt"`
	RevokedAt  string   `json:"revokedAt,omitempty"`
}

// APIKeyRules are an API key's restrictions as the admin API takes them. In
// CreateAPIKeyWith, nil fields are no restriction; in UpdateAPIKey, nil fields
// keep the key's value, and an empty string clears a time.
type APIKeyRules struct {
	AllowedIPs *[]string // addresses and CIDR ranges, IPv4 and IPv6
	ValidFrom  *string   // RFC 3339
	ValidTo    *string   // RFC 3339
	Disabled   *bool
}

func (r APIKeyRules) body(b map[string]any) {
	if r.AllowedIPs != nil {
		b["allowedIPs"] = *r.AllowedIPs
	}
	for name, v := range map[string]*string{"validFrom": r.ValidFrom, "validTo": r.ValidTo} {
		switch {
		case v == nil:
		case *v == "":
			b[name] = nil
		default:
			b[name] = *v
		}
	}
	if r.Disabled != nil {
		b["disabled"] = *r.Disabled
	}
}

// Entry is one immutable entry of an account's history, and the result of every
// money movement. ID is the movement's id (a charge's is what a refund names).
// Amount is signed from the account's side: a charge is negative.
type Entry struct {
	ID             string            `json:"id"`
	Sequence       int64             `json:"sequence"`
	AccountID      string            `json:"accountId"`
	Kind           string            `json:"kind"` // top_up, charge, capture, refund, adjustment, transfer
	Amount         string            `json:"amount"`
	BalanceAfter   string            `json:"balanceAfter"`
	Reference      string            `json:"reference"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	ChargeID       string            `json:"chargeId,omitempty"`
	HoldID         string            `json:"holdId,omitempty"`
	FreeMessage    bool              `json:"freeMessage,omitempty"`
	IdempotencyKey string            `json:"idempotencyKey,omitempty"`
	CreatedAt      string            `json:"createdAt"`
	SubAccountID   string            `json:"subAccountId,omitempty"`   // the shared sub-account that spent it
	CounterpartyID string            `json:"counterpartyId,omitempty"` // on transfers: the other account
}

// CreateAccount opens a customer account in an ISO 4217 currency.
func (c *Client) CreateAccount(ctx context.Context, name, currency string) (Account, error) {
	var out Account
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts", body: map[string]string{"name": name, "currency": currency}}, &out)
	return out, err
}

// CreateSubAccount opens a sub-account of parent, in the parent's currency, with
// funding "own" (its own balance, moved with Transfer) or "shared" (it spends its
// parent's balance and limits).
func (c *Client) CreateSubAccount(ctx context.Context, parent, name, funding string) (Account, error) {
	var out Account
	body := map[string]string{"name": name, "parent": parent, "funding": funding}
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts", body: body}, &out)
	return out, err
}

// ListSubAccounts returns the sub-accounts of an account, in id order.
func (c *Client) ListSubAccounts(ctx context.Context, id string) ([]Account, error) {
	var out AccountPage
	err := c.do(ctx, call{method: http.MethodGet, path: accountPath(id, "/sub-accounts")}, &out)
	return out.Accounts, err
}

// Transfer is a transfer between an account and its own-funded sub-account.
type Transfer struct {
	ID               string `json:"id"`
	From             string `json:"from"`
	To               string `json:"to"`
	Amount           string `json:"amount"`
	Reference        string `json:"reference"`
	Sequence         int64  `json:"sequence"`
	FromBalanceAfter string `json:"fromBalanceAfter"`
	CreatedAt        string `json:"createdAt"`
}

// Transfer moves amount from one account to the other, a main account and its
// own-funded sub-account in either direction, exactly once under
// idempotencyKey ("" makes one for this call and its retries).
func (c *Client) Transfer(ctx context.Context, from, to, amount, reference, idempotencyKey string) (Transfer, error) {
	body := map[string]string{"from": from, "to": to, "amount": amount}
	if reference != "" {
		body["reference"] = reference
	}
	var out Transfer
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/transfers", body: body, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// ListAccounts returns one page of accounts; cursor "" starts at the first, limit 0
// takes the server's default.
func (c *Client) ListAccounts(ctx context.Context, cursor string, limit int) (AccountPage, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out AccountPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts", query: q}, &out)
	return out, err
}

// GetAccount returns one account.
func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var out Account
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts/" + url.PathEscape(id)}, &out)
	return out, err
}

// UpdateAccount renames an account or changes its status.
func (c *Client) UpdateAccount(ctx context.Context, id string, u AccountUpdate) (Account, error) {
	var out Account
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/accounts/" + url.PathEscape(id), body: u.body()}, &out)
	return out, err
}

// AccountBalance reads an account's balance through the admin API.
func (c *Client) AccountBalance(ctx context.Context, id string) (AccountBalance, error) {
	var out AccountBalance
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts/" + url.PathEscape(id) + "/balance"}, &out)
	return out, err
}

// AddUser creates a Basic-auth user for an account.
func (c *Client) AddUser(ctx context.Context, accountID, username, password string) (User, error) {
	var out User
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts/" + url.PathEscape(accountID) + "/users",
		body: map[string]string{"username": username, "password": password}}, &out)
	return out, err
}

// ListUsers lists an account's users.
func (c *Client) ListUsers(ctx context.Context, accountID string) ([]User, error) {
	var out struct {
		Users []User `json:"users"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts/" + url.PathEscape(accountID) + "/users"}, &out)
	return out.Users, err
}

// RemoveUser deletes a user; its logins are refused at once.
func (c *Client) RemoveUser(ctx context.Context, accountID, username string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/accounts/" + url.PathEscape(accountID) + "/users/" + url.PathEscape(username)}, nil)
}

// CreateAPIKey creates an API key; the clear key is in the result's Key, once.
// nil scopes means account-management:manage.
func (c *Client) CreateAPIKey(ctx context.Context, accountID, name string, scopes []string) (APIKey, error) {
	body := map[string]any{"name": name}
	if scopes != nil {
		body["scopes"] = scopes
	}
	var out APIKey
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts/" + url.PathEscape(accountID) + "/api-keys", body: body}, &out)
	return out, err
}

// CreateAPIKeyWith creates an API key with restrictions (allowed addresses,
// validity, disabled); the clear key is in the result's Key, once.
func (c *Client) CreateAPIKeyWith(ctx context.Context, accountID, name string, scopes []string, rules APIKeyRules) (APIKey, error) {
	body := map[string]any{"name": name}
	if scopes != nil {
		body["scopes"] = scopes
	}
	rules.body(body)
	var out APIKey
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts/" + url.PathEscape(accountID) + "/api-keys", body: body}, &out)
	return out, err
}

// UpdateAPIKey changes a key: the name and scopes when not empty, and the rules
// given. It takes effect on every node at once.
func (c *Client) UpdateAPIKey(ctx context.Context, accountID, keyID, name string, scopes []string, rules APIKeyRules) (APIKey, error) {
	body := map[string]any{}
	if name != "" {
		body["name"] = name
	}
	if scopes != nil {
		body["scopes"] = scopes
	}
	rules.body(body)
	var out APIKey
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/accounts/" + url.PathEscape(accountID) + "/api-keys/" + url.PathEscape(keyID), body: body}, &out)
	return out, err
}

// ListAPIKeys lists an account's keys, without their clear text.
func (c *Client) ListAPIKeys(ctx context.Context, accountID string) ([]APIKey, error) {
	var out struct {
		APIKeys []APIKey `json:"apiKeys"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts/" + url.PathEscape(accountID) + "/api-keys"}, &out)
	return out.APIKeys, err
}

// RevokeAPIKey revokes a key; it is refused at once.
func (c *Client) RevokeAPIKey(ctx context.Context, accountID, keyID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/accounts/" + url.PathEscape(accountID) + "/api-keys/" + url.PathEscape(keyID)}, nil)
}

// TopUpOptions are the optional parts of a top-up.
type TopUpOptions struct {
	Reference string
	Metadata  map[string]string
	// IdempotencyKey makes the top-up exactly-once across retries and restarts; when
	// empty, a random key is made for this call (and reused by its own retries).
	IdempotencyKey string
}

func orNewKey(k string) string {
	if k == "" {
		return NewIdempotencyKey()
	}
	return k
}

func accountPath(id, rest string) string { return "/v1/accounts/" + url.PathEscape(id) + rest }

// TopUp adds amount (a decimal string such as "47.79134") to an account.
func (c *Client) TopUp(ctx context.Context, accountID, amount string, opts TopUpOptions) (Entry, error) {
	body := map[string]any{"amount": amount}
	if opts.Reference != "" {
		body["reference"] = opts.Reference
	}
	if opts.Metadata != nil {
		body["metadata"] = opts.Metadata
	}
	var out Entry
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/top-ups"), body: body, idemKey: orNewKey(opts.IdempotencyKey)}, &out)
	return out, err
}

// RotateAdminToken puts a new admin token in force on every node and returns it;
// the client keeps using it from then on.
func (c *Client) RotateAdminToken(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/admin-token/rotate"}, &out); err != nil {
		return "", err
	}
	c.authz = "Bearer " + out.Token
	return out.Token, nil
}

// RotateOAuthKey replaces the key OAuth2 access tokens are signed with, on every
// node: every token issued so far is refused from then on, and OAuth2 clients get
// new ones with their client credentials.
func (c *Client) RotateOAuthKey(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/oauth-key/rotate"}, nil)
}

// AuditRecord is one admin action: who (a token fingerprint), what, on what, from
// where, when, and the resulting status.
type AuditRecord struct {
	Sequence int64  `json:"sequence"`
	At       string `json:"at"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	Target   string `json:"target"`
	Remote   string `json:"remote"`
	Status   int    `json:"status"`
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Records    []AuditRecord `json:"records"`
	NextCursor string        `json:"nextCursor"`
}

// Audit reads the audit log, newest first.
func (c *Client) Audit(ctx context.Context, cursor string, limit int) (AuditPage, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out AuditPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/audit", query: q}, &out)
	return out, err
}

// OAuthClient is an OAuth2 client of an account. ClientSecret is set only in
// CreateOAuthClient's result.
type OAuthClient struct {
	ClientID     string   `json:"clientId"`
	AccountID    string   `json:"accountId"`
	Name         string   `json:"name"`
	Scopes       []string `json:"scopes"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	CreatedAt    string   `json:"createdAt"`
	RevokedAt    string   `json:"revokedAt,omitempty"`
}

// CreateOAuthClient creates an OAuth2 client; its secret is in the result, once.
// nil scopes means account-management:manage.
func (c *Client) CreateOAuthClient(ctx context.Context, accountID, name string, scopes []string) (OAuthClient, error) {
	body := map[string]any{"name": name}
	if scopes != nil {
		body["scopes"] = scopes
	}
	var out OAuthClient
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/oauth-clients"), body: body}, &out)
	return out, err
}

// ListOAuthClients lists an account's OAuth2 clients, without secrets.
func (c *Client) ListOAuthClients(ctx context.Context, accountID string) ([]OAuthClient, error) {
	var out struct {
		OAuthClients []OAuthClient `json:"oauthClients"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: accountPath(accountID, "/oauth-clients")}, &out)
	return out.OAuthClients, err
}

// RevokeOAuthClient revokes a client; its tokens are refused at once.
func (c *Client) RevokeOAuthClient(ctx context.Context, accountID, clientID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: accountPath(accountID, "/oauth-clients/"+url.PathEscape(clientID))}, nil)
}
