package infobipapi

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// apiError is Infobip's newer error body, which its spec gives the API key
// routes (v1 and v2): {"errorCode":"E400","description","action","violations",
// "resources"}. Its status and description come from the same table as the
// requestError envelope's (statusOf), so a refusal means the same on every
// route and only its shape differs; a 401 for a key used from the wrong address,
// out of its validity or disabled is, byte for byte, a wrong key's.
type apiError struct {
	XMLName     xml.Name            `json:"-" xml:"ApiError"`
	ErrorCode   string              `json:"errorCode" xml:"errorCode"`
	Description string              `json:"description" xml:"description"`
	Action      string              `json:"action" xml:"action"`
	Violations  []apiErrorViolation `json:"violations" xml:"violations>violation"`
	Resources   []apiErrorResource  `json:"resources" xml:"resources>resource"`
}

type apiErrorViolation struct {
	Property  string `json:"property" xml:"property"`
	Violation string `json:"violation" xml:"violation"`
}

type apiErrorResource struct {
	Name string `json:"name" xml:"name"`
	URL  string `json:"url" xml:"url"`
}

// apiErrorAction is what Infobip tells a client to do, by status.
func apiErrorAction(status int) (string, []apiErrorResource) {
	switch status {
	case http.StatusBadRequest:
		return "Check the syntax, violations and adjust the request.", []apiErrorResource{}
	case http.StatusUnauthorized:
		return "Check the resources and adjust authentication credentials.",
			[]apiErrorResource{{Name: "API Authentication", URL: "https://www.infobip.com/docs/essentials/api-authentication"}}
	case http.StatusForbidden:
		return "Repeat the request with new or different credentials.",
			[]apiErrorResource{{Name: "API Scopes", URL: "https://www.infobip.com/docs/essentials/api-essentials/api-authorization#api-scopes"}}
	case http.StatusNotFound:
		return "Check the request URL and the identifiers in it.", []apiErrorResource{}
	case http.StatusTooManyRequests:
		return "Wait for the time the Retry-After header gives, then repeat the request.", []apiErrorResource{}
	}
	if status >= 500 {
		return "Repeat the request later; contact support if the error persists.", []apiErrorResource{}
	}
	return "Adjust the request.", []apiErrorResource{}
}

// failAPIError answers err as an ApiError, with the same status and headers as
// fail would.
func (a *API) failAPIError(w http.ResponseWriter, r *http.Request, f httpkit.Format, err error) {
	status, ex := statusOf(err)
	if status >= 500 && !errors.Is(err, ledger.ErrOverloaded) {
		a.log.ErrorContext(r.Context(), "public api error", "path", r.URL.Path, "err", err)
	}
	setErrorHeaders(w, status, err)
	action, resources := apiErrorAction(status)
	body := apiError{ErrorCode: "E" + strconv.Itoa(status), Description: ex.Text, Action: action,
		Violations: []apiErrorViolation{}, Resources: resources}
	fields := make([]string, 0, len(ex.ValidationErrors))
	for k := range ex.ValidationErrors {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		for _, v := range ex.ValidationErrors[k] {
			body.Violations = append(body.Violations, apiErrorViolation{Property: k, Violation: v})
		}
	}
	var b []byte
	if f == httpkit.XML {
		b, err = xml.Marshal(body)
	} else {
		b, err = json.Marshal(body)
	}
	if err != nil { // cannot happen: strings only
		panic(err)
	}
	httpkit.Write(w, f, status, b)
}

// setErrorHeaders are the headers an error's status carries, in either shape.
func setErrorHeaders(w http.ResponseWriter, status int, err error) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="purse", charset="UTF-8"`)
	}
	var tm *auth.TooManyAttemptsError
	var th *throttledError
	switch {
	case errors.As(err, &tm):
		w.Header().Set("Retry-After", strconv.Itoa(tm.RetryAfterSeconds()))
	case errors.As(err, &th):
		w.Header().Set("Retry-After", strconv.Itoa(th.seconds()))
	case errors.Is(err, ledger.ErrOverloaded):
		w.Header().Set("Retry-After", "1")
	}
}

// throttledError is a request past its route's throttle (x-throttling-info).
type throttledError struct{ retryAfter time.Duration }

func (e *throttledError) Error() string { return "throttled" }

func (e *throttledError) seconds() int {
	s := int(e.retryAfter / time.Second)
	if e.retryAfter%time.Second != 0 {
		s++
	}
	return max(1, s)
}

// statusOfManaged maps the errors of the routes customers manage things with
// (keys, audit logs): a table of its own beside statusOf's, which asks it first.
func statusOfManaged(err error) (int, httpkit.ServiceException, bool) {
	var v *ledger.ValidationError
	var th *throttledError
	var nf *ledger.NotFoundError
	switch {
	case errors.As(err, &v):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request: " + v.Error(),
			ValidationErrors: v.Fields}, true
	case errors.As(err, &th):
		return http.StatusTooManyRequests, httpkit.ServiceException{MessageID: "TOO_MANY_REQUESTS",
			Text: "Too many requests: this operation's limit for the account is spent; retry after " + strconv.Itoa(th.seconds()) + " s"}, true
	case errors.Is(err, errSchemeNotAllowed):
		return http.StatusForbidden, httpkit.ServiceException{MessageID: "FORBIDDEN",
			Text: "Forbidden: API keys are managed with Basic, IBSSO or OAuth2 credentials, not with an API key"}, true
	case errors.As(err, &nf):
		return http.StatusNotFound, httpkit.ServiceException{MessageID: "NOT_FOUND", Text: "Not found: " + nf.What + " " + strconv.Quote(nf.ID)}, true
	}
	return 0, httpkit.ServiceException{}, false
}

// missingScope names the scope a missingScopeError lacks.
func missingScope(err error) string {
	var m *missingScopeError
	if errors.As(err, &m) {
		return m.scope
	}
	return auth.ScopeAccountManage
}
