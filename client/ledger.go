package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ChargeOptions are the optional parts of a charge.
type ChargeOptions struct {
	Reference string
	Metadata  map[string]string
	// UseFreeMessage pays with one of the account's free messages when it has one.
	UseFreeMessage bool
	// NoFallback makes a UseFreeMessage charge fail (NO_FREE_MESSAGES) instead of
	// charging money when no free message is left.
	NoFallback bool
	// ServiceType is what the charge pays for: SMS (the default), VOICE, VIBER,
	// WHATSAPP or EMAIL. Free messages are kept for SMS only.
	ServiceType    string
	IdempotencyKey string // as in TopUpOptions
}

// Charge takes amount from an account (to the platform's revenue). It fails with
// INSUFFICIENT_FUNDS or MONTHLY_LIMIT_EXCEEDED (402) and changes nothing when the
// account cannot pay.
func (c *Client) Charge(ctx context.Context, accountID, amount string, opts ChargeOptions) (Entry, error) {
	body := map[string]any{"amount": amount}
	if opts.Reference != "" {
		body["reference"] = opts.Reference
	}
	if opts.Metadata != nil {
		body["metadata"] = opts.Metadata
	}
	if opts.ServiceType != "" {
		body["serviceType"] = opts.ServiceType
	}
	if opts.UseFreeMessage {
		body["useFreeMessage"] = true
		body["fallbackToMoney"] = !opts.NoFallback
	}
	var out Entry
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/charges"), body: body, idemKey: orNewKey(opts.IdempotencyKey)}, &out)
	return out, err
}

// Refund returns amount of a charge to the account; amount "" refunds what is left
// of it. All refunds of a charge together never exceed it.
func (c *Client) Refund(ctx context.Context, accountID, chargeID, amount, idempotencyKey string) (Entry, error) {
	body := map[string]any{"chargeId": chargeID}
	if amount != "" {
		body["amount"] = amount
	}
	var out Entry
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/refunds"), body: body, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// Adjust corrects a balance by a signed amount ("-1.5" takes, "2" gives); reason is
// required and kept on the entry.
func (c *Client) Adjust(ctx context.Context, accountID, amount, reason, idempotencyKey string) (Entry, error) {
	var out Entry
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/adjustments"),
		body: map[string]any{"amount": amount, "reason": reason}, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// Hold is a reservation of funds. Status is active, captured, voided or expired.
type Hold struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Amount    string `json:"amount"`
	Captured  string `json:"captured"`
	Status    string `json:"status"`
	Reference string `json:"reference"`
	ChargeID  string `json:"chargeId,omitempty"`
	ExpiresAt string `json:"expiresAt"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// Capture is a captured hold and the entry its charge made.
type Capture struct {
	Hold  Hold  `json:"hold"`
	Entry Entry `json:"entry"`
}

// CreateHold reserves amount for at most expiresIn (whole seconds; 0 takes the
// server's default of ten minutes).
func (c *Client) CreateHold(ctx context.Context, accountID, amount string, expiresIn time.Duration, reference, idempotencyKey string) (Hold, error) {
	body := map[string]any{"amount": amount}
	if expiresIn > 0 {
		body["expiresIn"] = int64(expiresIn / time.Second)
	}
	if reference != "" {
		body["reference"] = reference
	}
	var out Hold
	err := c.do(ctx, call{method: http.MethodPost, path: accountPath(accountID, "/holds"), body: body, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// CaptureHold charges amount of a hold ("" for all of it) and releases the rest.
func (c *Client) CaptureHold(ctx context.Context, holdID, amount, idempotencyKey string) (Capture, error) {
	body := map[string]any{}
	if amount != "" {
		body["amount"] = amount
	}
	var out Capture
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/holds/" + url.PathEscape(holdID) + "/capture", body: body, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// VoidHold releases a hold without charging.
func (c *Client) VoidHold(ctx context.Context, holdID, idempotencyKey string) (Hold, error) {
	var out Hold
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/holds/" + url.PathEscape(holdID) + "/void", idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}

// GetHold reads a hold.
func (c *Client) GetHold(ctx context.Context, holdID string) (Hold, error) {
	var out Hold
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/holds/" + url.PathEscape(holdID)}, &out)
	return out, err
}

// EntryQuery selects a page of entries, newest first. Zero values mean no filter.
type EntryQuery struct {
	Limit    int
	Cursor   string
	From, To time.Time
	Kind     string
}

// EntryPage is one page of entries; NextCursor continues it.
type EntryPage struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"nextCursor"`
}

// Entries reads an account's history, newest first.
func (c *Client) Entries(ctx context.Context, accountID string, q EntryQuery) (EntryPage, error) {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	var out EntryPage
	err := c.do(ctx, call{method: http.MethodGet, path: accountPath(accountID, "/entries"), query: v}, &out)
	return out, err
}

// AccountBalanceAt reads the balance an account had at a past instant, as its
// entries record it.
func (c *Client) AccountBalanceAt(ctx context.Context, id string, at time.Time) (AccountBalance, error) {
	var out AccountBalance
	err := c.do(ctx, call{method: http.MethodGet, path: accountPath(id, "/balance"),
		query: url.Values{"at": {at.UTC().Format(time.RFC3339Nano)}}}, &out)
	return out, err
}

// BatchOp is one operation of a batch. Op is top_up, charge, refund, adjustment,
// hold, capture, void or transfer; the other fields are those of the single calls
// (a transfer's From and To those of Transfer).
type BatchOp struct {
	Op              string            `json:"op"`
	AccountID       string            `json:"accountId,omitempty"`
	From            string            `json:"from,omitempty"`
	To              string            `json:"to,omitempty"`
	Amount          string            `json:"amount,omitempty"`
	Reference       string            `json:"reference,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	UseFreeMessage  bool              `json:"useFreeMessage,omitempty"`
	FallbackToMoney *bool             `json:"fallbackToMoney,omitempty"`
	ChargeID        string            `json:"chargeId,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	HoldID          string            `json:"holdId,omitempty"`
	ServiceType     string            `json:"serviceType,omitempty"`
	ExpiresIn       int64             `json:"expiresIn,omitempty"` // seconds
}

// BatchResult is one operation's outcome: Status as the single call would answer,
// with its Entry or Hold, or its Error.
type BatchResult struct {
	Status int    `json:"status"`
	Entry  *Entry `json:"entry,omitempty"`
	Hold   *Hold  `json:"hold,omitempty"`
	Error  *struct {
		MessageID string `json:"messageId"`
		Text      string `json:"text"`
	} `json:"error,omitempty"`
}

// BatchResponse holds a result per operation; Committed is false when an atomic
// batch was rolled back.
type BatchResponse struct {
	Committed bool          `json:"committed"`
	Results   []BatchResult `json:"results"`
}

// Batch sends up to 1,000 operations in one request and one commit. With atomic
// they are applied all or none.
func (c *Client) Batch(ctx context.Context, atomic bool, ops []BatchOp, idempotencyKey string) (BatchResponse, error) {
	var out BatchResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/batch",
		body: map[string]any{"atomic": atomic, "operations": ops}, idemKey: orNewKey(idempotencyKey)}, &out)
	return out, err
}
