package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Account is a customer account as the admin API shows it.
type Account struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Balance   string `json:"balance"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// AccountPage is one page of ListAccounts; pass NextCursor to get the next one.
type AccountPage struct {
	Accounts   []Account `json:"accounts"`
	NextCursor string    `json:"nextCursor"`
}

// AccountUpdate changes an account; nil fields stay as they are.
type AccountUpdate struct {
	Name   *string `json:"name,omitempty"`
	Status *string `json:"status,omitempty"` // active, suspended or closed
}

// AccountBalance is the admin view of an account's committed balance.
type AccountBalance struct {
	AccountID string `json:"accountId"`
	Balance   string `json:"balance"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
	Sequence  int64  `json:"sequence"`
	AsOf      string `json:"asOf"`
}

// User is a Basic-auth login of an account.
type User struct {
	Username  string `json:"username"`
	AccountID string `json:"accountId"`
	CreatedAt string `json:"createdAt"`
}

// APIKey is an `App` key. Key is set only in CreateAPIKey's result.
type APIKey struct {
	ID        string   `json:"id"`
	AccountID string   `json:"accountId"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Key       string   `json:"key,omitempty"`
	CreatedAt string   `json:"createdAt"`
	RevokedAt string   `json:"revokedAt,omitempty"`
}

// Movement is the result of a money movement such as a top-up.
type Movement struct {
	ID           string `json:"id"`
	AccountID    string `json:"accountId"`
	Kind         string `json:"kind"`
	Amount       string `json:"amount"`
	BalanceAfter string `json:"balanceAfter"`
	Reference    string `json:"reference"`
	Sequence     int64  `json:"sequence"`
	CreatedAt    string `json:"createdAt"`
}

// CreateAccount opens a customer account in an ISO 4217 currency.
func (c *Client) CreateAccount(ctx context.Context, name, currency string) (Account, error) {
	var out Account
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts", body: map[string]string{"name": name, "currency": currency}}, &out)
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
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/accounts/" + url.PathEscape(id), body: u}, &out)
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
	// IdempotencyKey makes the top-up exactly-once across retries and restarts; when
	// empty, a random key is made for this call (and reused by its own retries).
	IdempotencyKey string
}

// TopUp adds amount (a decimal string such as "47.79134") to an account.
func (c *Client) TopUp(ctx context.Context, accountID, amount string, opts TopUpOptions) (Movement, error) {
	key := opts.IdempotencyKey
	if key == "" {
		key = NewIdempotencyKey()
	}
	body := map[string]string{"amount": amount}
	if opts.Reference != "" {
		body["reference"] = opts.Reference
	}
	var out Movement
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts/" + url.PathEscape(accountID) + "/top-ups", body: body, idemKey: key}, &out)
	return out, err
}
