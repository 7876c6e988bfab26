package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LowBalance is a low-balance threshold: balance.low fires when available falls
// below Below, and balance.recovered once it is above Below + Margin again.
type LowBalance struct {
	Below  string `json:"below"`
	Margin string `json:"margin,omitempty"`
}

// AutoTopUp is an auto top-up rule: topup.requested, carrying the amount that
// brings available to TopUpTo, when available falls below Below; at most
// MaxPerDay a UTC day (0: 1). Answer it with TopUp under the event's ID as the
// Idempotency-Key, so that a duplicate delivery never tops up twice.
type AutoTopUp struct {
	Below     string `json:"below"`
	TopUpTo   string `json:"topUpTo"`
	MaxPerDay int    `json:"maxPerDay,omitempty"`
}

// AlertSettings are an account's thresholds; nil or false: off.
type AlertSettings struct {
	LowBalance   *LowBalance `json:"lowBalance"`
	Depleted     bool        `json:"depleted"`     // balance.depleted at available <= 0
	MonthlyLimit bool        `json:"monthlyLimit"` // monthly_limit.reached at 80 % and 100 %
	AutoTopUp    *AutoTopUp  `json:"autoTopUp"`
}

// AlertState is where each threshold stands: "off", "armed" or "fired";
// MonthlyLimit is the highest variant fired this month (0, 80 or 100).
type AlertState struct {
	LowBalance   string `json:"lowBalance"`
	Depleted     string `json:"depleted"`
	MonthlyLimit int    `json:"monthlyLimit"`
	AutoTopUp    string `json:"autoTopUp"`
	TopUpsToday  int    `json:"topUpsToday"`
}

// Alerts are an account's thresholds and their state.
type Alerts struct {
	AccountID string `json:"accountId"`
	AlertSettings
	State AlertState `json:"state"`
}

// GetAlerts reads an account's thresholds and their state.
func (c *Client) GetAlerts(ctx context.Context, accountID string) (Alerts, error) {
	var out Alerts
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts/" + url.PathEscape(accountID) + "/alerts"}, &out)
	return out, err
}

// SetAlerts replaces an account's thresholds. One whose settings are unchanged
// keeps its state; a new one is armed, and fires at once if the account is
// already past it.
func (c *Client) SetAlerts(ctx context.Context, accountID string, s AlertSettings) (Alerts, error) {
	var out Alerts
	err := c.do(ctx, call{method: http.MethodPut, path: "/v1/accounts/" + url.PathEscape(accountID) + "/alerts", body: s}, &out)
	return out, err
}

// Event is one thing that happened in purse (docs/events.md): Data is its JSON
// object (the entry, the hold, the account, the threshold crossed). ID is
// stable: a webhook's webhook-id, and the Idempotency-Key to answer a
// topup.requested with.
type Event struct {
	Sequence  int64           `json:"sequence"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	AccountID string          `json:"accountId"`
	ParentID  string          `json:"parentId,omitempty"`
	At        string          `json:"at"`
	Data      json.RawMessage `json:"data"`
}

// EventQuery selects events after a cursor.
type EventQuery struct {
	After    int64    // the last sequence seen; 0: from the oldest kept
	Types    []string // none: every type
	Account  string   // "": every account
	Children bool     // with Account: its sub-accounts' events too
	Limit    int      // 0: the server's default (100)
	// Wait makes the call a long poll: with no event to return, the server waits
	// up to this long (at most 25 s) for one.
	Wait time.Duration
}

// EventPage is what Events returns: pass Next as the next query's After.
type EventPage struct {
	Events []Event `json:"events"`
	Next   int64   `json:"next"`
}

// Events reads the events feed: the events after q.After, oldest first. The
// cursor survives restarts and failover: resuming after the last sequence seen
// misses nothing.
func (c *Client) Events(ctx context.Context, q EventQuery) (EventPage, error) {
	v := url.Values{"after": {strconv.FormatInt(q.After, 10)}}
	if len(q.Types) > 0 {
		v.Set("types", strings.Join(q.Types, ","))
	}
	if q.Account != "" {
		v.Set("account", q.Account)
	}
	if q.Children {
		v.Set("children", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Wait > 0 {
		v.Set("wait", q.Wait.String())
	}
	var out EventPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/events", query: v}, &out)
	return out, err
}
