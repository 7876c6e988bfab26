package client

import (
	"context"
	"net/http"
	"net/url"
)

// FaultSpec is a fault rule to put in force on a purse serve --emulator (see
// docs/emulator.md). Empty match fields match anything; Action is one of delay,
// error, reset, cut, slow. Durations are Go durations such as "250ms".
type FaultSpec struct {
	Listener   string `json:"listener,omitempty"`   // public or admin; "": both
	Route      string `json:"route,omitempty"`      // "/account/1/balance", "/v1/accounts/{id}/charges", "/v1/accounts/"
	Method     string `json:"method,omitempty"`     // GET, POST, ...
	Account    string `json:"account,omitempty"`    // the account the request acts on
	Credential string `json:"credential,omitempty"` // Basic username, API key id or OAuth2 client id

	Action     string `json:"action"`
	Delay      string `json:"delay,omitempty"`      // delay: the wait; slow: the pause between chunks
	Jitter     string `json:"jitter,omitempty"`     // delay: a random extra wait up to this
	Status     int    `json:"status,omitempty"`     // error: 400-599 (default 500)
	MessageID  string `json:"messageId,omitempty"`  // error: the envelope's messageId
	Text       string `json:"text,omitempty"`       // error: the envelope's text
	RetryAfter int    `json:"retryAfter,omitempty"` // error: Retry-After seconds (429 and 503: default 1)
	CutAfter   int    `json:"cutAfter,omitempty"`   // cut: body bytes sent before the close (default half)
	ChunkBytes int    `json:"chunkBytes,omitempty"` // slow: bytes per chunk (default 1)

	Probability *float64 `json:"probability,omitempty"` // (0, 1]; default 1
	Seed        *int64   `json:"seed,omitempty"`        // seeds the draws; default random (shown in the rule)
	Times       int      `json:"times,omitempty"`       // the next N matching requests; 0: no limit
	TTL         string   `json:"ttl,omitempty"`         // default 10m, at most 24h
}

// Fault is a fault rule in force: its spec with the defaults filled in, and its
// state.
type Fault struct {
	ID string `json:"id"`
	FaultSpec
	Fired     int    `json:"fired"`
	Remaining *int   `json:"remaining,omitempty"` // with Times: how many are left
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
}

// AddFault puts a fault rule in force (purse serve --emulator only; otherwise a
// 404 NOT_FOUND *Error).
func (c *Client) AddFault(ctx context.Context, spec FaultSpec) (Fault, error) {
	var out Fault
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/faults", body: spec}, &out)
	return out, err
}

// ListFaults returns the fault rules in force, in the order they are tried.
func (c *Client) ListFaults(ctx context.Context) ([]Fault, error) {
	var out struct {
		Faults []Fault `json:"faults"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/faults"}, &out)
	return out.Faults, err
}

// RemoveFault ends one fault rule.
func (c *Client) RemoveFault(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/faults/" + url.PathEscape(id)}, nil)
}

// ClearFaults ends every fault rule and returns how many there were.
func (c *Client) ClearFaults(ctx context.Context) (int, error) {
	var out struct {
		Removed int `json:"removed"`
	}
	err := c.do(ctx, call{method: http.MethodDelete, path: "/v1/faults"}, &out)
	return out.Removed, err
}

// Reset puts an emulator's store back to the seed it started with (empty
// without one) and ends every fault rule.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/reset"}, nil)
}
