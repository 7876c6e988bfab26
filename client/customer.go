package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The calls a customer makes with its own credential (Basic, IBSSO or OAuth2;
// Infobip's API key routes take no API key): its API keys over
// /settings/2/api-keys, and its audit log over /audit/1/logs.

// CustomerAPIKey is a key as Infobip's /settings/2/api-keys shows it (the
// spec's ApiKey). APIKeySecret is set only in CreateCustomerAPIKey's result.
type CustomerAPIKey struct {
	ID           string   `json:"id"`
	APIKeySecret string   `json:"apiKeySecret,omitempty"`
	AccountID    string   `json:"accountId"`
	Name         string   `json:"name"`
	AllowedIPs   []string `json:"allowedIPs"`
	ValidFrom    string   `json:"validFrom,omitempty"`
	ValidTo      string   `json:"validTo,omitempty"`
	Enabled      bool     `json:"enabled"`
	Permissions  []string `json:"permissions"`
	ScopeGuids   []string `json:"scopeGuids"`
}

// CustomerAPIKeyRequest creates or changes a key (the spec's CreateApiKeyRequest
// and UpdateApiKeyRequest). Nil fields are left out: the defaults on create, the
// key's values on update. AccountID may name one of the caller's sub-accounts.
type CustomerAPIKeyRequest struct {
	AccountID  *string   `json:"accountId,omitempty"`
	Name       *string   `json:"name,omitempty"`
	AllowedIPs *[]string `json:"allowedIPs,omitempty"`
	ValidFrom  *string   `json:"validFrom,omitempty"`
	ValidTo    *string   `json:"validTo,omitempty"`
	Enabled    *bool     `json:"enabled,omitempty"`
	ScopeGuids *[]string `json:"scopeGuids,omitempty"`
}

// CustomerAPIKeyPage is a page of keys with Infobip's paging.
type CustomerAPIKeyPage struct {
	APIKeys []CustomerAPIKey `json:"apiKeys"`
	Paging  struct {
		Page           int    `json:"page"`
		PageSize       int    `json:"pageSize"`
		OrderDirection string `json:"orderDirection"`
		OrderBy        string `json:"orderBy"`
		TotalCount     int64  `json:"totalCount"`
		TotalPages     int    `json:"totalPages"`
	} `json:"paging"`
}

// CustomerAPIKeyFilter selects keys; zero values do not filter.
type CustomerAPIKeyFilter struct {
	AccountID      string
	Name           string
	Enabled        *bool
	Page, Size     int // Size 0: 100
	OrderBy        string
	OrderDirection string
}

// CreateCustomerAPIKey makes a key (POST /settings/2/api-keys); the secret is
// in the result, once.
func (c *Client) CreateCustomerAPIKey(ctx context.Context, req CustomerAPIKeyRequest) (CustomerAPIKey, error) {
	var out CustomerAPIKey
	err := c.do(ctx, call{method: http.MethodPost, path: "/settings/2/api-keys", body: req}, &out)
	return out, err
}

// UpdateCustomerAPIKey changes a key (PUT /settings/2/api-keys/{id}).
func (c *Client) UpdateCustomerAPIKey(ctx context.Context, id string, req CustomerAPIKeyRequest) (CustomerAPIKey, error) {
	var out CustomerAPIKey
	err := c.do(ctx, call{method: http.MethodPut, path: "/settings/2/api-keys/" + url.PathEscape(id), body: req}, &out)
	return out, err
}

// CustomerAPIKeyByID reads one key (GET /settings/2/api-keys/{id}).
func (c *Client) CustomerAPIKeyByID(ctx context.Context, id string) (CustomerAPIKey, error) {
	var out CustomerAPIKey
	err := c.do(ctx, call{method: http.MethodGet, path: "/settings/2/api-keys/" + url.PathEscape(id)}, &out)
	return out, err
}

// CustomerAPIKeys lists keys (GET /settings/2/api-keys).
func (c *Client) CustomerAPIKeys(ctx context.Context, f CustomerAPIKeyFilter) (CustomerAPIKeyPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"accountId": f.AccountID, "name": f.Name, "orderBy": f.OrderBy, "orderDirection": f.OrderDirection} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Enabled != nil {
		q.Set("enabled", strconv.FormatBool(*f.Enabled))
	}
	if f.Page > 0 {
		q.Set("page", strconv.Itoa(f.Page))
	}
	if f.Size > 0 {
		q.Set("size", strconv.Itoa(f.Size))
	}
	var out CustomerAPIKeyPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/settings/2/api-keys", query: q}, &out)
	return out, err
}

// CustomerAuditRecord is one record of the customer's audit log (the spec's SearchResult).
type CustomerAuditRecord struct {
	ID          string `json:"id"`
	Timestamp   string `json:"timestamp"`
	Action      string `json:"action"`
	Item        string `json:"item"`
	Description string `json:"description"`
	IPAddress   string `json:"ipAddress"`
	Username    string `json:"username"`
}

// CustomerAuditFilter is /audit/1/logs's filters; zero values do not filter.
type CustomerAuditFilter struct {
	Action, Item, IPAddress, UserKey, Description string
	From, To                                      time.Time
	Limit                                         int // 0: the server's 10,000
}

func (f CustomerAuditFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "item": f.Item, "ipAddress": f.IPAddress, "userKey": f.UserKey, "description": f.Description} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// AuditLogs reads the caller's audit records, oldest first (GET /audit/1/logs;
// the credential needs audit-logs:read and account-management:manage).
func (c *Client) AuditLogs(ctx context.Context, f CustomerAuditFilter) ([]CustomerAuditRecord, error) {
	var out []CustomerAuditRecord
	err := c.do(ctx, call{method: http.MethodGet, path: "/audit/1/logs", query: f.query()}, &out)
	return out, err
}

// ExportAuditLogs returns the same records as CSV (GET /audit/1/logs/export).
func (c *Client) ExportAuditLogs(ctx context.Context, f CustomerAuditFilter) ([]byte, error) {
	var out []byte
	err := c.do(ctx, call{method: http.MethodGet, path: "/audit/1/logs/export", query: f.query(), accept: "text/csv"}, &out)
	return out, err
}
