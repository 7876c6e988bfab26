package infobipapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
)

// The public API's routes, in one table: each operation's path, method,
// handler, and what Infobip's OpenAPI document says of it: the scopes its
// x-scopes names (checked here, in front of every handler, so a route cannot
// forget them), the credential kinds its security list allows, the shape of its
// errors, and its throttle. A route added to the table is enforced by declaring
// these; nothing else checks a credential.

// errShape is the error body a route answers with: Infobip's older requestError
// envelope (ApiException) or its newer ApiError, which the spec gives the API
// key routes.
type errShape int

const (
	shapeRequestError errShape = iota
	shapeAPIError
)

// exchange is one request on its way through a route: the format the client
// asked for, the route, and who the credential is (routes with scopes).
type exchange struct {
	f  httpkit.Format
	rt *route
	p  auth.Principal
}

type handler func(w http.ResponseWriter, r *http.Request, x *exchange)

type route struct {
	path    string // segments in braces match any one segment: "/settings/2/api-keys/{apiKeyId}"
	method  string
	h       handler
	scopes  []string      // x-scopes; nil: no credential is checked here
	schemes []auth.Scheme // the spec's security list; nil: every kind
	shape   errShape
	limit   throttle // the spec's x-throttling-info, per account
	// anyAccept serves a route whatever the Accept header says (its answer has
	// one type, such as the audit export's text/csv); its errors are JSON.
	anyAccept bool
}

var (
	scopesAccount = []string{auth.ScopeAccountManage}
	scopesAudit   = []string{auth.ScopeAuditRead, auth.ScopeAccountManage}
	// schemesNoApp is the API key routes' security list: IBSSO, Basic and OAuth2,
	// not App keys (a key cannot manage keys).
	schemesNoApp = []auth.Scheme{auth.SchemeIBSSO, auth.SchemeBasic, auth.SchemeBearer}
)

// routes is the table. a may be a zero API when only the paths are wanted.
func (a *API) routes() []route {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	keys := func(path, method string, h handler, limit throttle) route {
		return route{path: path, method: method, h: h, scopes: scopesAccount, schemes: schemesNoApp, shape: shapeAPIError, limit: limit}
	}
	return []route{
		{path: "/healthz", method: get, h: a.health},
		{path: "/readyz", method: get, h: a.health},
		{path: openapiPath, method: get, h: a.openapiDoc},
		{path: "/account/1/balance", method: get, h: a.balance, scopes: scopesAccount},
		{path: "/account/1/total-balance", method: get, h: a.totalBalance, scopes: scopesAccount},
		{path: "/account/1/free-messages", method: get, h: a.freeMessages, scopes: scopesAccount},
		{path: "/auth/1/oauth2/token", method: post, h: a.issueToken},
		{path: "/auth/1/session", method: post, h: a.createSession},
		{path: "/auth/1/session", method: del, h: a.deleteSession},
		{path: "/settings/1/accounts", method: get, h: a.listSubAccounts, scopes: scopesAccount},
		{path: "/settings/1/accounts/{accountKey}", method: put, h: a.updateSubAccount, scopes: scopesAccount},
		keys("/settings/2/api-keys", get, a.listKeysV2, throttleList),
		keys("/settings/2/api-keys", post, a.createKeyV2, throttleCreate),
		keys("/settings/2/api-keys/{apiKeyId}", get, a.getKeyV2, throttleList),
		keys("/settings/2/api-keys/{apiKeyId}", put, a.updateKeyV2, throttleUpdate),
		keys("/settings/1/accounts/{accountKey}/api-keys", get, a.listKeysV1, throttleNone),
		keys("/settings/1/accounts/{accountKey}/api-keys", post, a.createKeyV1, throttleCreate),
		keys("/settings/1/accounts/{accountKey}/api-keys/{key}", get, a.getKeyV1, throttleNone),
		keys("/settings/1/accounts/{accountKey}/api-keys/{key}", put, a.updateKeyV1, throttleUpdate),
		{path: "/audit/1/logs", method: get, h: a.auditLogs, scopes: scopesAudit},
		{path: "/audit/1/logs/export", method: get, h: a.exportAuditLogs, scopes: scopesAudit, anyAccept: true},
	}
}

// table finds routes by path: exact paths in a map (every hot route), the
// patterns with parameters in a list.
type table struct {
	exact    map[string][]*route
	patterns [][]*route // each: the routes of one pattern
}

func newTable(rs []route) *table {
	t := &table{exact: map[string][]*route{}}
	byPattern := map[string]int{}
	for i := range rs {
		r := &rs[i]
		if !strings.Contains(r.path, "{") {
			t.exact[r.path] = append(t.exact[r.path], r)
			continue
		}
		j, ok := byPattern[r.path]
		if !ok {
			j = len(t.patterns)
			byPattern[r.path] = j
			t.patterns = append(t.patterns, nil)
		}
		t.patterns[j] = append(t.patterns[j], r)
	}
	return t
}

// find returns the routes of a path and its parameters (nil when no route has
// that path).
func (t *table) find(path string) ([]*route, map[string]string) {
	if rs, ok := t.exact[path]; ok {
		return rs, nil
	}
	for _, rs := range t.patterns {
		if params, ok := matchPattern(rs[0].path, path); ok {
			return rs, params
		}
	}
	return nil, nil
}

// matchPattern matches a path against a pattern segment by segment; a segment
// in braces takes any one non-empty segment.
func matchPattern(pattern, path string) (map[string]string, bool) {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if xs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return params, true
}

// pick returns the route of a method (HEAD is GET's), or nil and the methods
// the path serves.
func pick(rs []*route, method string) (*route, string) {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	var allow []string
	for _, r := range rs {
		if r.method == method {
			return r, ""
		}
		allow = append(allow, r.method)
		if r.method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	return nil, strings.Join(allow, ", ")
}

var (
	errSchemeNotAllowed = errors.New("credential kind not allowed on this route")
)

// missingScopeError is a credential without a scope the route needs.
type missingScopeError struct{ scope string }

func (e *missingScopeError) Error() string { return "missing scope " + e.scope }

// Is keeps errors.Is(err, errMissingScope) true.
func (e *missingScopeError) Is(target error) bool { return target == errMissingScope }

// admit authenticates a request for a route with scopes: the credential, its
// kind against the spec's security list, every scope of x-scopes, the account's
// enabled switch, then the route's throttle for the credential's account.
func (a *API) admit(w http.ResponseWriter, r *http.Request, x *exchange) error {
	p, err := a.auth.Authenticate(r.Context(), r.Header.Get("Authorization"), clientAddr(r))
	if err != nil {
		return err
	}
	httpkit.SetPrincipal(w, principalName(p))
	if x.rt.schemes != nil && !slices.Contains(x.rt.schemes, p.Scheme) {
		return errSchemeNotAllowed
	}
	for _, s := range x.rt.scopes {
		if !p.HasScope(s) {
			return &missingScopeError{scope: s}
		}
	}
	x.p = p
	if _, _, _, disabled, ok := a.balances.Balance(p.AccountID); ok && disabled {
		// A sub-account its parent switched off: 403 on every route with a
		// credential, here so that no route can forget it (docs/subaccounts.md).
		return errAccountDisabled
	}
	if d := a.limits.wait(x.rt.limit, p.AccountID); d > 0 {
		return &throttledError{retryAfter: d}
	}
	return nil
}

// failFor answers an error in the route's own shape.
func (a *API) failFor(w http.ResponseWriter, r *http.Request, x *exchange, err error) {
	if x.rt != nil && x.rt.shape == shapeAPIError {
		a.failAPIError(w, r, x.f, err)
		return
	}
	a.fail(w, r, x.f, err)
}

// routeLabels are the metrics labels: every route's path or pattern.
var routeLabels = func() *table { return newTable((&API{}).routes()) }()

// routeLabel is the label of a path: its route's path or pattern, or "other".
func routeLabel(path string) string {
	rs, _ := routeLabels.find(path)
	if rs == nil {
		return "other"
	}
	return rs[0].path
}

func badParam(name, reason string) error {
	return &httpkit.FieldError{Field: name, Reason: reason}
}

func badParamf(name, format string, args ...any) error {
	return badParam(name, fmt.Sprintf(format, args...))
}
