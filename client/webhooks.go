package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook is a webhook subscription. Secret is set only in CreateWebhook's and
// RotateWebhookSecret's answers: keep it, it is never shown again.
type Webhook struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Types          []string `json:"types"`
	AccountID      string   `json:"accountId,omitempty"`
	WithChildren   bool     `json:"withChildren"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason,omitempty"`
	After          int64    `json:"after"`
	Attempts       int      `json:"attempts"`
	FailingSince   string   `json:"failingSince,omitempty"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	Secret         string   `json:"secret,omitempty"`
	// SecretFingerprint names the secret in force without revealing it (the
	// first 16 hex digits of its SHA-256).
	SecretFingerprint string `json:"secretFingerprint"`
	// PreviousSecretUntil is when the secret the last rotation replaced stops
	// signing deliveries beside the new one ("" when none does).
	PreviousSecretUntil string `json:"previousSecretUntil,omitempty"`
}

// WebhookRotation is how RotateWebhookSecret rotates. Its zero value is the
// server's default: the old secret signs beside the new one for a day.
type WebhookRotation struct {
	// KeepPrevious is how long the old secret signs deliveries beside the new
	// one, rounded up to whole seconds, at most 7 days (0: the server's day).
	KeepPrevious time.Duration
	// EndPrevious ends the old secret at once, whatever KeepPrevious says: after
	// a leak.
	EndPrevious bool
	// IfSecretFingerprint, when set, rotates only if the secret in force is
	// still the one with this fingerprint (Webhook.SecretFingerprint); another
	// is a 409 (*Error, MessageID "CONFLICT"), and nothing changes.
	IfSecretFingerprint string
}

// WebhookSettings create or change a subscription; nil fields stay as they are
// (on creation: every type, every account, enabled).
type WebhookSettings struct {
	URL          *string   `json:"url,omitempty"`
	Types        *[]string `json:"types,omitempty"`
	AccountID    *string   `json:"accountId,omitempty"`
	WithChildren *bool     `json:"withChildren,omitempty"`
	Enabled      *bool     `json:"enabled,omitempty"`
}

// Delivery is one attempt to deliver an event to a webhook.
type Delivery struct {
	Sequence      int64  `json:"sequence"`
	EventID       string `json:"eventId"`
	EventSequence int64  `json:"eventSequence"`
	Attempt       int    `json:"attempt"`
	At            string `json:"at"`
	Status        int    `json:"status"`
	LatencyMs     int64  `json:"latencyMs"`
	OK            bool   `json:"ok"`
	Response      string `json:"response"`
}

// DeliveryPage is one page of a webhook's delivery log, newest first.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	NextCursor string     `json:"nextCursor"`
}

// CreateWebhook subscribes url to events; the answer carries the signing secret,
// once.
func (c *Client) CreateWebhook(ctx context.Context, s WebhookSettings) (Webhook, error) {
	var out Webhook
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks", body: s}, &out)
	return out, err
}

// ListWebhooks lists the subscriptions (without secrets).
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var out struct {
		Webhooks []Webhook `json:"webhooks"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks"}, &out)
	return out.Webhooks, err
}

// GetWebhook reads a subscription, with its delivery state.
func (c *Client) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + url.PathEscape(id)}, &out)
	return out, err
}

// UpdateWebhook changes a subscription; enabling a disabled one resumes its
// delivery where it stopped.
func (c *Client) UpdateWebhook(ctx context.Context, id string, s WebhookSettings) (Webhook, error) {
	var out Webhook
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/webhooks/" + url.PathEscape(id), body: s}, &out)
	return out, err
}

// DeleteWebhook removes a subscription and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/webhooks/" + url.PathEscape(id)}, nil)
}

// RedeliverWebhook delivers again every event after the sequence after.
func (c *Client) RedeliverWebhook(ctx context.Context, id string, after int64) (Webhook, error) {
	var out Webhook
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + url.PathEscape(id) + "/redeliver",
		body: map[string]int64{"after": after}}, &out)
	return out, err
}

// RotateWebhookSecret gives a subscription a new signing secret, in the answer
// once. Deliveries are signed with the old one too for rot.KeepPrevious, so that
// the receiver can take up the new one meanwhile: VerifyWebhook accepts a
// delivery that either secret signed.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string, rot WebhookRotation) (Webhook, error) {
	if rot.KeepPrevious < 0 {
		return Webhook{}, errors.New("client: WebhookRotation.KeepPrevious is negative")
	}
	body := map[string]any{}
	switch {
	case rot.EndPrevious:
		body["keepPreviousFor"] = 0
	case rot.KeepPrevious > 0:
		body["keepPreviousFor"] = int64((rot.KeepPrevious + time.Second - 1) / time.Second)
	}
	if rot.IfSecretFingerprint != "" {
		body["ifSecretFingerprint"] = rot.IfSecretFingerprint
	}
	var out Webhook
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + url.PathEscape(id) + "/rotate-secret", body: body}, &out)
	return out, err
}

// WebhookDeliveries pages a subscription's delivery log, newest first.
func (c *Client) WebhookDeliveries(ctx context.Context, id, cursor string, limit int) (DeliveryPage, error) {
	v := url.Values{}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out DeliveryPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + url.PathEscape(id) + "/deliveries", query: v}, &out)
	return out, err
}

// Errors of VerifyWebhook.
var (
	ErrWebhookHeaders   = errors.New("webhook: webhook-id, webhook-timestamp or webhook-signature missing")
	ErrWebhookTimestamp = errors.New("webhook: timestamp too far from now (a replay?)")
	ErrWebhookSignature = errors.New("webhook: no signature matches")
)

// VerifyWebhook checks a delivery's Standard Webhooks signature: the HMAC-SHA256,
// under the subscription's secret ("whsec_..."), of "webhook-id.webhook-timestamp.body",
// against every "v1," signature in webhook-signature, in constant time, and that
// the timestamp is within tolerance of now (5 minutes when tolerance is 0). A
// receiver calls it on the raw body before it trusts anything in it, and
// de-duplicates on webhook-id: delivery is at least once.
func VerifyWebhook(secret string, h http.Header, body []byte, tolerance time.Duration) error {
	id, stamp, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || stamp == "" || sigs == "" {
		return ErrWebhookHeaders
	}
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	ts, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return ErrWebhookHeaders
	}
	if d := time.Since(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookTimestamp
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("webhook: the secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + stamp + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}
