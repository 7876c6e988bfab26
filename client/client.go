// Package client is the Go client for purse. Balance speaks Infobip's public
// "Get account balance" API, so it works against purse and against Infobip's own
// base URL alike; the other methods speak purse's admin API. The wire types here
// are the client's own: it imports nothing from purse's internals.
//
// Amounts are exact decimal strings ("47.79134") everywhere, never float64.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one purse (or Infobip) base URL with one credential.
type Client struct {
	base   *url.URL
	http   *http.Client
	authz  string
	tries  int
	backof time.Duration
	// unsafeSessions makes CreateSession ask for a session usable from any
	// address (WithUnsafeSessions).
	unsafeSessions bool
}

// Option configures a Client.
type Option func(*Client)

// WithBasicAuth authenticates public calls as an Infobip Basic user.
func WithBasicAuth(username, password string) Option {
	return func(c *Client) {
		c.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
	}
}

// WithAPIKey authenticates public calls with an Infobip API key (`App <key>`).
func WithAPIKey(key string) Option {
	return func(c *Client) { c.authz = "App " + key }
}

// WithIBSSO authenticates public calls with an Infobip IBSSO session token (see
// CreateSession).
func WithIBSSO(token string) Option {
	return func(c *Client) { c.authz = "IBSSO " + token }
}

// WithBearer authenticates public calls with an OAuth2 access token (see OAuthToken).
func WithBearer(token string) Option {
	return func(c *Client) { c.authz = "Bearer " + token }
}

// WithUnsafeSessions makes CreateSession ask for "unsafe" sessions, which work
// from any address; without it a session works only from the address that made
// it (for a client behind a NAT pool or a changing egress address).
func WithUnsafeSessions() Option {
	return func(c *Client) { c.unsafeSessions = true }
}

// WithAdminToken authenticates admin calls with purse's admin bearer token.
func WithAdminToken(token string) Option {
	return func(c *Client) { c.authz = "Bearer " + token }
}

// WithHTTPClient replaces the default http.Client (30 s timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// WithRetries sets how many times a money movement is sent in all (default 3) when
// the connection fails or purse answers 503 (after the Retry-After it names, when it
// names one, as a purse shedding load does). Retries reuse the Idempotency-Key, so a
// movement is applied at most once however often it is sent.
func WithRetries(n int) Option {
	return func(c *Client) {
		if n < 1 {
			n = 1
		}
		c.tries = n
	}
}

// New returns a client for baseURL, such as "http://localhost:8080" for purse's
// public listener, "http://127.0.0.1:8081" for its admin listener, or an Infobip
// base URL.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, http: &http.Client{Timeout: 30 * time.Second}, tries: 3, backof: 200 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an error response from purse or Infobip, decoded from the requestError
// envelope. Match it with errors.As; MessageID is Infobip's (UNAUTHORIZED,
// BAD_REQUEST, ...) or purse's admin one (CONFLICT, IDEMPOTENCY_KEY_REUSED, ...).
type Error struct {
	StatusCode       int
	MessageID        string
	Text             string
	ValidationErrors map[string][]string
	// Replayed says purse answered from the Idempotency-Key's stored outcome: the
	// request was refused so before, and a retry with this key stays refused (use a
	// new key to try again).
	Replayed bool
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.StatusCode, e.MessageID, e.Text)
	for field, msgs := range e.ValidationErrors {
		s += fmt.Sprintf("; %s %s", field, strings.Join(msgs, ", "))
	}
	if e.Replayed {
		s += " (the first answer to this Idempotency-Key, replayed)"
	}
	return s
}

// IsMessageID reports whether err is an *Error with that messageId.
func IsMessageID(err error, id string) bool {
	var e *Error
	return errors.As(err, &e) && e.MessageID == id
}

type call struct {
	method, path string
	query        url.Values
	body         any
	idemKey      string
	accept       string
	form         url.Values // sent form-encoded instead of a JSON body
}

// do sends a request and decodes a JSON reply into out (when not nil). A call with
// an Idempotency-Key is tried again, after a growing pause, when the connection
// fails or purse answers 503; any other call is sent once.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	payload, contentType, err := cl.payload()
	if err != nil {
		return err
	}
	u := *c.base
	u.Path += cl.path
	if cl.query != nil {
		u.RawQuery = cl.query.Encode()
	}
	tries := 1
	if cl.idemKey != "" {
		tries = c.tries
	}
	var lastErr error
	var retryAfter time.Duration // what the last 503 asked for
	for attempt := 0; attempt < tries; attempt++ {
		if attempt > 0 {
			if err := c.pause(ctx, attempt, retryAfter); err != nil {
				return err
			}
		}
		req, err := c.request(ctx, cl, u.String(), payload, contentType)
		if err != nil {
			return err
		}
		var retry bool
		if retry, lastErr = c.roundTrip(req, cl, out, &retryAfter); !retry {
			return lastErr
		}
	}
	return lastErr
}

// payload is the call's body, form-encoded or JSON, and its content type.
func (cl call) payload() (payload []byte, contentType string, err error) {
	switch {
	case cl.form != nil:
		return []byte(cl.form.Encode()), "application/x-www-form-urlencoded", nil
	case cl.body != nil:
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, "", fmt.Errorf("client: encode request: %w", err)
		}
		return b, "application/json", nil
	}
	return nil, "application/json", nil
}

// pause waits before the attempt-th try: the backoff doubled for each try before,
// or the Retry-After of the last 503 if longer, plus jitter, so that clients shed
// together do not return together.
func (c *Client) pause(ctx context.Context, attempt int, retryAfter time.Duration) error {
	wait := max(c.backof<<(attempt-1), retryAfter)
	wait += time.Duration(mrand.Int64N(int64(wait)/4 + 1))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

// request builds one try of the call, with its headers.
func (c *Client) request(ctx context.Context, cl call, target string, payload []byte, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, cl.method, target, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", contentType)
	}
	accept := cl.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	if cl.idemKey != "" {
		req.Header.Set("Idempotency-Key", cl.idemKey)
	}
	return req, nil
}

// roundTrip sends one try and decodes its answer into out. retry reports whether
// another try may succeed (the connection failed, or purse answered 503, whose
// Retry-After it stores in retryAfter); err is this try's error.
func (c *Client) roundTrip(req *http.Request, cl call, out any, retryAfter *time.Duration) (retry bool, err error) {
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
		return req.Context().Err() == nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if err != nil {
		return true, fmt.Errorf("client: read response: %w", err)
	}
	if resp.StatusCode >= 400 {
		e := decodeError(resp.StatusCode, body)
		e.(*Error).Replayed = resp.Header.Get("Idempotent-Replayed") == "true"
		if resp.StatusCode == http.StatusServiceUnavailable {
			*retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
			return true, e
		}
		return false, e
	}
	if out == nil || len(body) == 0 {
		return false, nil
	}
	if raw, ok := out.(*[]byte); ok { // a body that is not JSON (the audit export's CSV)
		*raw = body
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return false, fmt.Errorf("client: decode %s %s response: %w", cl.method, cl.path, err)
	}
	return false, nil
}

// parseRetryAfter reads a Retry-After of whole seconds (what purse sends when it
// sheds load), at most a minute; anything else is no wait.
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 60)) * time.Second
}

func decodeError(status int, body []byte) error {
	var env struct {
		RequestError struct {
			ServiceException struct {
				MessageID        string              `json:"messageId"`
				Text             string              `json:"text"`
				ValidationErrors map[string][]string `json:"validationErrors"`
			} `json:"serviceException"`
		} `json:"requestError"`
	}
	e := &Error{StatusCode: status}
	if decodeAPIError(body, e) {
		return e
	}
	if json.Unmarshal(body, &env) == nil && env.RequestError.ServiceException.MessageID != "" {
		ex := env.RequestError.ServiceException
		e.MessageID, e.Text, e.ValidationErrors = ex.MessageID, ex.Text, ex.ValidationErrors
	} else {
		e.MessageID, e.Text = http.StatusText(status), strings.TrimSpace(string(body))
	}
	return e
}

// decodeAPIError reads Infobip's newer ApiError body (the API key routes'):
// MessageID is its errorCode (E400, E401, ...), Text its description, and its
// violations become ValidationErrors.
func decodeAPIError(body []byte, e *Error) bool {
	var ae struct {
		ErrorCode   string `json:"errorCode"`
		Description string `json:"description"`
		Violations  []struct {
			Property  string `json:"property"`
			Violation string `json:"violation"`
		} `json:"violations"`
	}
	if json.Unmarshal(body, &ae) != nil || ae.ErrorCode == "" {
		return false
	}
	e.MessageID, e.Text = ae.ErrorCode, ae.Description
	for _, v := range ae.Violations {
		if e.ValidationErrors == nil {
			e.ValidationErrors = map[string][]string{}
		}
		e.ValidationErrors[v.Property] = append(e.ValidationErrors[v.Property], v.Violation)
	}
	return true
}

// NewIdempotencyKey returns a random key for a money movement.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Balance is Infobip's account balance. Balance is the exact decimal as sent.
type Balance struct {
	Balance  string
	Currency string
}

// Balance calls GET /account/1/balance with the client's credential, of any of the
// four kinds Infobip accepts: Basic (WithBasicAuth), an API key (WithAPIKey), an
// IBSSO session token (WithIBSSO, from CreateSession) or an OAuth2 access token
// (WithBearer, from OAuthToken).
func (c *Client) Balance(ctx context.Context) (Balance, error) {
	var out struct {
		Balance  json.Number `json:"balance"`
		Currency string      `json:"currency"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/account/1/balance"}, &out); err != nil {
		return Balance{}, err
	}
	return Balance{Balance: out.Balance.String(), Currency: out.Currency}, nil
}

// TotalBalance is Infobip's total balance (the spec's BalanceInfoResponse).
// Amounts are exact decimals as sent; MonthlyLimit and MonthlyBalance (what is left
// of it this month) are "" when the account has no monthly limit, which the server
// says by leaving both out. FreeMessages maps a service type to the free messages
// left; purse reports one type, "SMS".
type TotalBalance struct {
	Balance        string
	AllowedMinus   string
	MonthlyLimit   string
	MonthlyBalance string
	Currency       Currency
	FreeMessages   map[string]int64
}

// Currency is Infobip's SimpleCurrencyInfo. ID is the ISO 4217 numeric code (EUR
// is 978).
type Currency struct {
	ID           int    `json:"id"`
	Code         string `json:"code"`
	CurrencyName string `json:"currencyName"`
	Symbol       string `json:"symbol"`
}

// TotalBalance calls GET /account/1/total-balance.
func (c *Client) TotalBalance(ctx context.Context) (TotalBalance, error) {
	var out struct {
		Balance        json.Number      `json:"balance"`
		AllowedMinus   json.Number      `json:"allowedMinus"`
		MonthlyLimit   *json.Number     `json:"monthlyLimit"` // nil when absent (and for an older server's null)
		MonthlyBalance *json.Number     `json:"monthlyBalance"`
		Currency       Currency         `json:"currency"`
		FreeMessages   map[string]int64 `json:"freeMessages"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/account/1/total-balance"}, &out); err != nil {
		return TotalBalance{}, err
	}
	tb := TotalBalance{Balance: out.Balance.String(), AllowedMinus: out.AllowedMinus.String(),
		Currency: out.Currency, FreeMessages: out.FreeMessages}
	if out.MonthlyLimit != nil {
		tb.MonthlyLimit = out.MonthlyLimit.String()
	}
	if out.MonthlyBalance != nil {
		tb.MonthlyBalance = out.MonthlyBalance.String()
	}
	return tb, nil
}

// FreeMessages calls GET /account/1/free-messages and returns remainingCount: the
// SMS free messages left, TotalBalance's FreeMessages["SMS"].
func (c *Client) FreeMessages(ctx context.Context) (int64, error) {
	var out struct {
		RemainingCount int64 `json:"remainingCount"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/account/1/free-messages"}, &out)
	return out.RemainingCount, err
}

// CreateSession logs in with a Basic user's username and password (POST
// /auth/1/session) and returns an IBSSO token; the client uses it from then on.
// The session works only from this client's address unless the client was made
// WithUnsafeSessions.
func (c *Client) CreateSession(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	saved := c.authz
	c.authz = ""
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/1/session", body: map[string]any{"username": username, "password": password, "unsafe": c.unsafeSessions}}, &out)
	c.authz = saved
	if err != nil {
		return "", err
	}
	c.authz = "IBSSO " + out.Token
	return out.Token, nil
}

// DeleteSession ends the client's IBSSO session (DELETE /auth/1/session).
func (c *Client) DeleteSession(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/auth/1/session"}, nil)
}

// AccessToken is an OAuth2 access token and its lifetime in seconds.
type AccessToken struct {
	Token     string
	ExpiresIn int64
}

// OAuthToken runs the client credentials grant (POST /auth/1/oauth2/token) and
// returns an access token; the client uses it from then on.
func (c *Client) OAuthToken(ctx context.Context, clientID, clientSecret string) (AccessToken, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	saved := c.authz
	c.authz = ""
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/1/oauth2/token",
		form: url.Values{"client_id": {clientID}, "client_secret": {clientSecret}, "grant_type": {"client_credentials"}}}, &out)
	c.authz = saved
	if err != nil {
		return AccessToken{}, err
	}
	c.authz = "Bearer " + out.AccessToken
	return AccessToken{Token: out.AccessToken, ExpiresIn: out.ExpiresIn}, nil
}
