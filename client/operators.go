package client

import (
	"context"
	"net/http"
	"net/url"
)

// Operator is a person who runs purse: the console's user, with a role
// ("viewer", "operator" or "admin"), and maybe a personal admin API token.
type Operator struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	HasToken  bool   `json:"hasToken"`
	CreatedAt string `json:"createdAt"`
}

// AddOperator makes an operator (needs an admin: the shared admin token or an
// admin's personal token).
func (c *Client) AddOperator(ctx context.Context, name, role, password string) (Operator, error) {
	var out Operator
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/operators",
		body: map[string]string{"name": name, "role": role, "password": password}}, &out)
	return out, err
}

// ListOperators lists the operators by name.
func (c *Client) ListOperators(ctx context.Context) ([]Operator, error) {
	var out struct {
		Operators []Operator `json:"operators"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/operators"}, &out)
	return out.Operators, err
}

// RemoveOperator removes an operator: their console sessions and token stop
// working at once. Removing the last admin is refused (409 CONFLICT).
func (c *Client) RemoveOperator(ctx context.Context, name string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/operators/" + url.PathEscape(name)}, nil)
}

// SetOperatorPassword replaces an operator's password.
func (c *Client) SetOperatorPassword(ctx context.Context, name, password string) error {
	return c.do(ctx, call{method: http.MethodPut, path: "/v1/operators/" + url.PathEscape(name) + "/password",
		body: map[string]string{"password": password}}, nil)
}

// IssueOperatorToken gives an operator a new personal admin API token, replacing
// theirs, and returns it: the only time it is shown. The admin API acts with the
// operator's role for it, and records the operator's name as actor.
func (c *Client) IssueOperatorToken(ctx context.Context, name string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/operators/" + url.PathEscape(name) + "/token"}, &out)
	return out.Token, err
}
