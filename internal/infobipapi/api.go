// Package infobipapi is purse's public HTTP surface: Infobip's account API, byte for
// byte as Infobip documents it, so existing Infobip clients work against purse
// unchanged. Every error is Infobip's requestError envelope in the format the
// client asked for; errors map to statuses in one table, statusOf.
package infobipapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/purse-ledger/purse/docs/openapi"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Balances reads committed state from memory (the engine).
type Balances interface {
	// Balance is what an account's credentials read (a shared sub-account: its
	// parent's balance), and whether its parent disabled it.
	Balance(id string) (bal ledger.Amount, cur string, status ledger.AccountStatus, disabled, ok bool)
	Account(id string) (ledger.Account, bool)
	Now() time.Time
	Fresh() error // ledger.ErrUnavailable while this node cannot know its cache is current
}

// Authenticator resolves an Authorization header.
type Authenticator interface {
	Authenticate(ctx context.Context, header, client string) (auth.Principal, error)
	CreateSession(ctx context.Context, username, password, client string, unsafe bool) (string, auth.Principal, error)
	DeleteSession(ctx context.Context, token string) error
	IssueToken(ctx context.Context, clientID, secret, client string) (string, time.Duration, error)
	// The API keys customers manage (one set with the admin API's).
	CreateKey(ctx context.Context, spec ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error)
	UpdateKey(ctx context.Context, k ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, error)
	APIKeys(ctx context.Context, accountID string) ([]ledger.APIKey, error)
	KeyByID(ctx context.Context, id string) (ledger.APIKey, error)
	KeyBySecret(ctx context.Context, secret string) (ledger.APIKey, error)
	UserAccount(ctx context.Context, username string) (string, bool)
}

// CustomerAuditor queues customers' audit records (audit.Auditor.Customer).
type CustomerAuditor interface {
	Customer(r ledger.CustomerAuditRecord)
}

// API serves the public listener.
type API struct {
	balances Balances
	auth     Authenticator
	log      *slog.Logger
	table    *table
	limits   *limiters

	// Audit, when set, receives the customers' audit records this surface makes
	// (logins, logouts, key changes); AuditLog, when set, answers /audit/1/logs.
	Audit    CustomerAuditor
	AuditLog ledger.CustomerAudit

	// Ready, when set, is asked by GET /readyz whether the store answers (as on
	// the admin listener), so that a load balancer in front of the public listener
	// can take a node out of rotation without reaching the private one.
	Ready func(ctx context.Context) error

	// Accounts, when set, serves the sub-account routes (subaccounts.go); without
	// it a caller has none.
	Accounts SubAccounts
}

// New returns the public handler.
func New(b Balances, a Authenticator, log *slog.Logger) *API {
	api := &API{balances: b, auth: a, log: log, limits: newLimiters(b.Now)}
	api.table = newTable(api.routes())
	return api
}

var (
	errNotFound          = errors.New("no such resource")
	errMethodNotAllowed  = errors.New("method not allowed")
	errNotAcceptable     = errors.New("not acceptable")
	errMissingScope      = errors.New("missing scope")
	errAccountNotActive  = errors.New("account not active")
	errAccountNotPresent = errors.New("account of credential missing")
	errAccountDisabled   = errors.New("sub-account disabled by its parent")
	errBadRequest        = errors.New("bad request")
	errUnsupportedGrant  = errors.New("unsupported grant type")
)

// tokenRequestError is a malformed OAuth2 token request; reason tells the client
// what to fix.
type tokenRequestError struct{ reason string }

func (e *tokenRequestError) Error() string { return "bad token request: " + e.reason }

// statusOf is the public API's one table from error to status and envelope.
func statusOf(err error) (int, httpkit.ServiceException) {
	if status, ex, ok := statusOfManaged(err); ok {
		return status, ex
	}
	var badToken *tokenRequestError
	var field *httpkit.FieldError
	switch {
	case errors.As(err, &badToken):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request: " + badToken.reason}
	case errors.As(err, &field):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request: " + field.Error(),
			ValidationErrors: map[string][]string{field.Field: {field.Reason}}}
	case errors.Is(err, auth.ErrUnauthorized), errors.Is(err, errAccountNotPresent):
		return http.StatusUnauthorized, httpkit.ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid login details"}
	case errors.Is(err, auth.ErrTooManyAttempts):
		return http.StatusTooManyRequests, httpkit.ServiceException{MessageID: "TOO_MANY_REQUESTS", Text: "Too many failed login attempts; retry later"}
	case errors.Is(err, errMissingScope):
		return http.StatusForbidden, httpkit.ServiceException{MessageID: "FORBIDDEN", Text: "Forbidden: the credential lacks the " + missingScope(err) + " scope"}
	case errors.Is(err, errAccountNotActive):
		return http.StatusForbidden, httpkit.ServiceException{MessageID: "FORBIDDEN", Text: "Forbidden: the account is not active"}
	case errors.Is(err, errAccountDisabled):
		// 403, not 401: the credential is right, its account is switched off
		// (docs/subaccounts.md).
		return http.StatusForbidden, httpkit.ServiceException{MessageID: "FORBIDDEN", Text: "Forbidden: the account is disabled by its parent account"}
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request: send {\"username\": \"…\", \"password\": \"…\"} as JSON"}
	case errors.Is(err, errUnsupportedGrant):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request: the only grant_type is client_credentials"}
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, httpkit.ServiceException{MessageID: "NOT_FOUND", Text: "Resource not found"}
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Method not allowed"}
	case errors.Is(err, errNotAcceptable):
		return http.StatusNotAcceptable, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Not acceptable: this resource is served as application/json or application/xml"}
	case errors.Is(err, ledger.ErrOverloaded):
		// No public route goes through the writer today (balances are read from
		// memory and are never shed); a route that does answers a shed request so.
		return http.StatusServiceUnavailable, httpkit.ServiceException{MessageID: "GENERAL_ERROR", Text: "Service overloaded; retry later"}
	case errors.Is(err, ledger.ErrUnavailable):
		return http.StatusServiceUnavailable, httpkit.ServiceException{MessageID: "GENERAL_ERROR", Text: "Service temporarily unavailable"}
	}
	return http.StatusInternalServerError, httpkit.ServiceException{MessageID: "GENERAL_ERROR", Text: "Something went wrong. Please contact support."}
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, f httpkit.Format, err error) {
	status, ex := statusOf(err)
	if status >= 500 && !errors.Is(err, ledger.ErrOverloaded) {
		a.log.ErrorContext(r.Context(), "public api error", "path", r.URL.Path, "err", err)
	}
	setErrorHeaders(w, status, err)
	httpkit.WriteError(w, f, status, ex)
}

// ServeHTTP routes by hand rather than with ServeMux patterns so that unknown paths
// and wrong methods get Infobip's envelope instead of net/http's plain text.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "public api panic", "path", r.URL.Path, "panic", v)
			a.fail(w, r, httpkit.JSON, errors.New("panic"))
		}
	}()
	path, f, ok := requestFormat(r)
	rs, params := a.table.find(path)
	if rs == nil {
		a.fail(w, r, fOr(f, ok), errNotFound)
		return
	}
	rt, allow := pick(rs, r.Method)
	x := &exchange{f: fOr(f, ok), rt: rt}
	if rt == nil {
		// A method the path does not serve is answered like an unknown path, in
		// the envelope, whatever the path's routes answer their own errors in.
		w.Header().Set("Allow", allow)
		a.fail(w, r, x.f, errMethodNotAllowed)
		return
	}
	if rt.anyAccept {
		x.f, ok = httpkit.JSON, true
	}
	if !ok {
		a.failFor(w, r, x, errNotAcceptable)
		return
	}
	if name := httpkit.RepeatedHeader(r.Header); name != "" {
		a.failFor(w, r, x, httpkit.RepeatedHeaderError(name))
		return
	}
	for k, v := range params {
		r.SetPathValue(k, v)
	}
	if rt.scopes != nil {
		if err := a.admit(w, r, x); err != nil {
			a.failFor(w, r, x, err)
			return
		}
	}
	rt.h(w, r, x)
}

// requestFormat is the request's path, without slashes doubled and without a
// .json or .xml suffix, and the format the client asked for: the suffix's, else
// the Accept header's (ok is false when the header accepts neither format).
func requestFormat(r *http.Request) (path string, f httpkit.Format, ok bool) {
	path = mergeSlashes(r.URL.Path)
	switch {
	case path == openapiPath:
		// The document's name ends in .json, but that is its name, not a suffix.
		return path, httpkit.JSON, true
	case strings.HasSuffix(path, ".json"):
		return strings.TrimSuffix(path, ".json"), httpkit.JSON, true
	case strings.HasSuffix(path, ".xml"):
		return strings.TrimSuffix(path, ".xml"), httpkit.XML, true
	}
	f, ok = negotiate(r.Header.Get("Accept"))
	return path, f, ok
}

// mergeSlashes treats a run of slashes in a path as one, as nginx does by default
// (merge_slashes on): a client whose base URL ends in "/" asks for
// //account/1/balance, and Infobip answers it. It applies to every public route
// here, in front of the routing switch, so no route can forget it. A path
// without "//" (every well-behaved request) is returned as it is, without
// allocating.
func mergeSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b = append(b, p[i])
	}
	return string(b)
}

// clientAddr is the request's client address without its port: the key of the
// per-address failure limit. It is the peer's, or, from a proxy purse serve was
// told to trust (--trusted-proxies), the address the proxy forwarded for: the
// listener's httpkit.Edge put it in RemoteAddr.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// principalName is how a request log line names a principal: the username, the
// API key's id or the OAuth2 client's id, never the secret.
func principalName(p auth.Principal) string {
	switch p.Scheme {
	case auth.SchemeBasic:
		return "user:" + p.Subject
	case auth.SchemeIBSSO:
		return "session:" + p.Subject
	case auth.SchemeApp:
		return "key:" + p.Subject
	case auth.SchemeBearer:
		return "oauth-client:" + p.Subject
	}
	return string(p.Scheme) + ":" + p.Subject
}

// Route is the metrics label of a public request: the endpoint, or "other", so
// arbitrary paths cannot blow up the label set.
func Route(r *http.Request) string {
	p := mergeSlashes(r.URL.Path)
	if p == openapiPath {
		return p
	}
	return routeLabel(strings.TrimSuffix(strings.TrimSuffix(p, ".json"), ".xml"))
}

func fOr(f httpkit.Format, ok bool) httpkit.Format {
	if ok {
		return f
	}
	return httpkit.JSON
}

// account returns the caller's committed balance and currency: the hot path, which
// copies three fields rather than the whole account.
func (a *API) account(p auth.Principal) (ledger.Amount, string, error) {
	if err := a.balances.Fresh(); err != nil {
		return 0, "", err
	}
	bal, cur, status, disabled, ok := a.balances.Balance(p.AccountID)
	switch {
	case !ok:
		return 0, "", errAccountNotPresent
	case disabled:
		return 0, "", errAccountDisabled
	case status != ledger.StatusActive:
		return 0, "", errAccountNotActive
	}
	return bal, cur, nil
}

// balance is GET /account/1/balance: {"balance":47.79134,"currency":"EUR"}, the
// balance an exact JSON number.
func (a *API) balance(w http.ResponseWriter, r *http.Request, x *exchange) {
	bal, cur, err := a.account(x.p)
	if err != nil {
		a.fail(w, r, x.f, err)
		return
	}
	httpkit.Write(w, x.f, http.StatusOK, encodeBalance(x.f, bal, cur))
}

// health answers /healthz (the process serves) and /readyz (this node's balances
// are current and its store answers), always in JSON: a load balancer sends no
// Accept. Why a node is not ready is logged, not told to the public.
func (a *API) health(w http.ResponseWriter, r *http.Request, _ *exchange) {
	if r.URL.Path == "/healthz" {
		httpkit.Write(w, httpkit.JSON, http.StatusOK, []byte(`{"status":"ok"}`))
		return
	}
	err := a.balances.Fresh()
	if err == nil && a.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err = a.Ready(ctx); err != nil {
			err = fmt.Errorf("%w: %v", ledger.ErrUnavailable, err)
		}
	}
	if err != nil {
		a.fail(w, r, httpkit.JSON, err)
		return
	}
	httpkit.Write(w, httpkit.JSON, http.StatusOK, []byte(`{"status":"ready"}`))
}

// openapiPath is where each listener serves its OpenAPI document.
const openapiPath = "/openapi.json"

// openapiDoc serves the public OpenAPI document (docs/openapi/public.json), always
// in JSON and without a credential: it is published with purse and holds no
// state of this one.
func (a *API) openapiDoc(w http.ResponseWriter, r *http.Request, _ *exchange) {
	httpkit.Write(w, httpkit.JSON, http.StatusOK, openapi.Public)
}

// encodeBalance writes the body by hand: the amount's own String is the exact
// decimal, which no float64 path through encoding/json could guarantee.
func encodeBalance(f httpkit.Format, bal ledger.Amount, currency string) []byte {
	b := make([]byte, 0, 96)
	if f == httpkit.XML {
		b = append(b, "<accountBalance><balance>"...)
		b = append(b, bal.String()...)
		b = append(b, "</balance><currency>"...)
		b = append(b, currency...)
		return append(b, "</currency></accountBalance>"...)
	}
	b = append(b, `{"balance":`...)
	b = append(b, bal.String()...)
	b = append(b, `,"currency":"`...)
	b = append(b, currency...)
	return append(b, `"}`...)
}
