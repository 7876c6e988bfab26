package client

import (
	"context"
	"net/http"
	"net/url"
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
