// Package adminapi is the operator's HTTP surface: JSON over a separate listener,
// authorised by one admin bearer token. It creates accounts and credentials and
// moves money through the engine. Amounts travel as decimal strings ("12.345");
// errors use Infobip's requestError envelope with per-field validationErrors, mapped
// from domain errors in one table, statusOf.
package adminapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/purse-ledger/purse/docs/openapi"
	"github.com/purse-ledger/purse/internal/audit"
	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/fault"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Readiness reports whether the service can take traffic.
type Readiness func(ctx context.Context) error

// Config wires the admin API.
type Config struct {
	Token  *auth.AdminToken // the admin bearer token in force
	Engine *engine.Engine
	Auth   *auth.Authenticator
	Store  ledger.History
	// Events is the outbox the events feed reads (GET /v1/events); nil: the
	// route answers 503.
	Events ledger.EventLog
	// Webhooks stores the webhook subscriptions; nil: those routes answer 503.
	Webhooks ledger.Webhooks
	Ready    Readiness
	Log      *slog.Logger
	Audit    *audit.Auditor // records every admin action; nil records nothing
	// Metrics, when set, is served at /metrics without a token, like /healthz: its
	// labels are the listener, the route pattern and the status (never a path, an
	// account, a user or a credential), so a scraper needs no secret (README,
	// "Metrics").
	Metrics http.Handler
	// Pprof serves /debug/pprof/, behind the admin token: a profile costs CPU and
	// shows the process's internals. Off unless purse serve --pprof.
	Pprof bool
	// Cmdline is what /debug/pprof/cmdline shows instead of os.Args: the command
	// line with the values of secret flags replaced.
	Cmdline []string
	// Hosts, when set, are the Host headers the listener answers; any other gets
	// 421 (a page that rebinds its own name to the admin address). nil allows all.
	Hosts *httpkit.Hosts
	// Faults, when set (purse serve --emulator), serves the fault rules at
	// /v1/faults; nil: those routes answer 404.
	Faults *fault.Set
	// Reset, when set (--emulator), serves POST /v1/reset: the store back to the
	// seed it started with. nil: the route answers 404.
	Reset func(ctx context.Context) error
	// Operators, when set, are the people with personal tokens (and the console's
	// users): served at /v1/operators; nil: those routes answer 404 and only the
	// shared token is accepted.
	Operators *auth.Operators
	// Draining is closed when the server begins to shut down: a long poll of the
	// events feed then answers at once (no events, the same cursor), rather than
	// holding the shutdown until its timeout. nil: never.
	Draining <-chan struct{}
}

// API serves the admin listener.
type API struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the admin handler.
func New(cfg Config) *API {
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	m := a.mux
	m.HandleFunc("GET /healthz", a.healthz)
	m.HandleFunc("GET /readyz", a.readyz)
	// The document needs no token, like the health checks: it is the one published
	// in purse's repository, the same on every purse, and holds no secret and no
	// state of this one.
	m.HandleFunc("GET /openapi.json", a.openapiDoc)
	if cfg.Metrics != nil {
		m.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Pprof {
		m.HandleFunc("GET /debug/pprof/", a.authed(pprof.Index))
		m.HandleFunc("GET /debug/pprof/cmdline", a.authed(a.cmdline))
		m.HandleFunc("GET /debug/pprof/profile", a.authed(pprof.Profile))
		m.HandleFunc("GET /debug/pprof/symbol", a.authed(pprof.Symbol))
		m.HandleFunc("GET /debug/pprof/trace", a.authed(pprof.Trace))
	}
	m.HandleFunc("POST /v1/admin-token/rotate", a.authed(a.rotateToken))
	m.HandleFunc("POST /v1/oauth-key/rotate", a.authed(a.rotateOAuthKey))
	m.HandleFunc("POST /v1/accounts", a.authed(a.createAccount))
	m.HandleFunc("GET /v1/accounts", a.authed(a.listAccounts))
	m.HandleFunc("GET /v1/accounts/{id}", a.authed(a.getAccount))
	m.HandleFunc("PATCH /v1/accounts/{id}", a.authed(a.patchAccount))
	m.HandleFunc("GET /v1/accounts/{id}/balance", a.authed(a.getBalance))
	m.HandleFunc("GET /v1/accounts/{id}/sub-accounts", a.authed(a.listSubAccounts))
	m.HandleFunc("POST /v1/transfers", a.authed(a.transfer))
	m.HandleFunc("GET /v1/accounts/{id}/alerts", a.authed(a.getAlerts))
	m.HandleFunc("GET /v1/events", a.authed(a.listEvents))
	m.HandleFunc("POST /v1/webhooks", a.authed(a.needWebhooks(a.createWebhook)))
	m.HandleFunc("GET /v1/webhooks", a.authed(a.needWebhooks(a.listWebhooks)))
	m.HandleFunc("GET /v1/webhooks/{id}", a.authed(a.needWebhooks(a.getWebhook)))
	m.HandleFunc("PATCH /v1/webhooks/{id}", a.authed(a.needWebhooks(a.patchWebhook)))
	m.HandleFunc("DELETE /v1/webhooks/{id}", a.authed(a.needWebhooks(a.deleteWebhook)))
	m.HandleFunc("GET /v1/webhooks/{id}/deliveries", a.authed(a.needWebhooks(a.listDeliveries)))
	m.HandleFunc("POST /v1/webhooks/{id}/redeliver", a.authed(a.needWebhooks(a.redeliverWebhook)))
	m.HandleFunc("POST /v1/webhooks/{id}/rotate-secret", a.authed(a.needWebhooks(a.rotateWebhookSecret)))
	m.HandleFunc("PUT /v1/accounts/{id}/alerts", a.authed(a.putAlerts))
	m.HandleFunc("POST /v1/accounts/{id}/users", a.authed(a.addUser))
	m.HandleFunc("GET /v1/accounts/{id}/users", a.authed(a.listUsers))
	m.HandleFunc("DELETE /v1/accounts/{id}/users/{username}", a.authed(a.removeUser))
	m.HandleFunc("POST /v1/accounts/{id}/api-keys", a.authed(a.createSecret(apiKeys)))
	m.HandleFunc("GET /v1/accounts/{id}/api-keys", a.authed(a.listSecrets(apiKeys)))
	m.HandleFunc("DELETE /v1/accounts/{id}/api-keys/{keyId}", a.authed(a.revokeSecret(apiKeys)))
	m.HandleFunc("PATCH /v1/accounts/{id}/api-keys/{keyId}", a.authed(a.updateAPIKey))
	m.HandleFunc("POST /v1/accounts/{id}/oauth-clients", a.authed(a.createSecret(oauthClients)))
	m.HandleFunc("GET /v1/accounts/{id}/oauth-clients", a.authed(a.listSecrets(oauthClients)))
	m.HandleFunc("DELETE /v1/accounts/{id}/oauth-clients/{clientId}", a.authed(a.revokeSecret(oauthClients)))
	m.HandleFunc("POST /v1/accounts/{id}/top-ups", a.authed(a.topUp))
	m.HandleFunc("POST /v1/accounts/{id}/charges", a.authed(a.charge))
	m.HandleFunc("POST /v1/accounts/{id}/refunds", a.authed(a.refund))
	m.HandleFunc("POST /v1/accounts/{id}/adjustments", a.authed(a.adjust))
	m.HandleFunc("GET /v1/accounts/{id}/entries", a.authed(a.listEntries))
	m.HandleFunc("POST /v1/accounts/{id}/holds", a.authed(a.createHold))
	m.HandleFunc("GET /v1/holds/{id}", a.authed(a.getHold))
	m.HandleFunc("POST /v1/holds/{id}/capture", a.authed(a.captureHold))
	m.HandleFunc("POST /v1/holds/{id}/void", a.authed(a.voidHold))
	m.HandleFunc("POST /v1/batch", a.authed(a.batch))
	m.HandleFunc("GET /v1/audit", a.authed(a.listAudit))
	m.HandleFunc("GET /v1/operators", a.authed(a.listOperators))
	m.HandleFunc("POST /v1/operators", a.authed(a.addOperator))
	m.HandleFunc("DELETE /v1/operators/{name}", a.authed(a.removeOperator))
	m.HandleFunc("PUT /v1/operators/{name}/password", a.authed(a.setOperatorPassword))
	m.HandleFunc("POST /v1/operators/{name}/token", a.authed(a.issueOperatorToken))
	a.emulatorRoutes(m)
	m.HandleFunc("/", a.notFound)
	return a
}

// ServeHTTP serves the admin routes, turning panics into a GENERAL_ERROR envelope.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.cfg.Log.ErrorContext(r.Context(), "admin api panic", "path", r.URL.Path, "panic", v)
			a.fail(w, r, errors.New("panic"))
		}
	}()
	if a.cfg.Hosts != nil && !a.cfg.Hosts.Allowed(r) {
		a.fail(w, r, errMisdirected)
		return
	}
	a.audited(w, r, a.mux.ServeHTTP)
}

// cmdline replaces pprof.Cmdline, which shows os.Args: secrets given as flags
// included.
func (a *API) cmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	io.WriteString(w, strings.Join(a.cfg.Cmdline, "\x00"))
}

// Errors of the admin surface itself.
var (
	errUnauthorized     = errors.New("missing or wrong admin token")
	errNotFound         = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
	errIdempotencyKey   = errors.New("Idempotency-Key header is required")
	errMisdirected      = errors.New("Host header names another server")
)

// statusOf is the admin API's one table from error to status and envelope.
func statusOf(err error) (int, httpkit.ServiceException) {
	var v *ledger.ValidationError
	var nf *ledger.NotFoundError
	var c *ledger.ConflictError
	var rule *ledger.RuleError
	if errors.As(err, &rule) {
		status, id := ruleStatus(rule.Err)
		return status, httpkit.ServiceException{MessageID: id, Text: capitalise(rule.Error())}
	}
	switch {
	case errors.As(err, &v):
		return http.StatusBadRequest, httpkit.ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request", ValidationErrors: v.Fields}
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, httpkit.ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid admin token"}
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, httpkit.ServiceException{MessageID: "FORBIDDEN", Text: "Your role does not allow this"}
	case errors.As(err, &nf):
		return http.StatusNotFound, httpkit.ServiceException{MessageID: "NOT_FOUND", Text: capitalise(nf.Error())}
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, httpkit.ServiceException{MessageID: "NOT_FOUND", Text: "Resource not found"}
	case errors.Is(err, errMisdirected):
		return http.StatusMisdirectedRequest, httpkit.ServiceException{MessageID: "MISDIRECTED_REQUEST",
			Text: "The Host header names neither this listener nor a name given to purse serve --admin-hosts"}
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, httpkit.ServiceException{MessageID: "METHOD_NOT_ALLOWED", Text: "Method not allowed"}
	case errors.Is(err, ledger.ErrIdempotencyKeyReused):
		return http.StatusConflict, httpkit.ServiceException{MessageID: "IDEMPOTENCY_KEY_REUSED", Text: "This Idempotency-Key was used with a different request"}
	case errors.As(err, &c):
		return http.StatusConflict, httpkit.ServiceException{MessageID: "CONFLICT", Text: capitalise(c.Reason)}
	case errors.Is(err, ledger.ErrOverloaded):
		return http.StatusServiceUnavailable, httpkit.ServiceException{MessageID: "SERVICE_UNAVAILABLE", Text: "Service overloaded; retry after the time in Retry-After (with the same Idempotency-Key)"}
	case errors.Is(err, ledger.ErrUnavailable), errors.Is(err, engine.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, httpkit.ServiceException{MessageID: "SERVICE_UNAVAILABLE", Text: "Service temporarily unavailable; retry with the same Idempotency-Key"}
	}
	return http.StatusInternalServerError, httpkit.ServiceException{MessageID: "GENERAL_ERROR", Text: "Something went wrong. Please contact support."}
}

// ruleStatus maps a ledger rule to its status and messageId: 402 when money or
// allowance is missing, 409 when the thing acted on is in the wrong state.
func ruleStatus(err error) (int, string) {
	switch err {
	case ledger.ErrInsufficientFunds:
		return http.StatusPaymentRequired, "INSUFFICIENT_FUNDS"
	case ledger.ErrMonthlyLimitExceeded:
		return http.StatusPaymentRequired, "MONTHLY_LIMIT_EXCEEDED"
	case ledger.ErrNoFreeMessages:
		return http.StatusPaymentRequired, "NO_FREE_MESSAGES"
	case ledger.ErrAccountNotActive:
		return http.StatusConflict, "ACCOUNT_NOT_ACTIVE"
	case ledger.ErrHoldExpired:
		return http.StatusConflict, "HOLD_EXPIRED"
	case ledger.ErrHoldCaptured:
		return http.StatusConflict, "HOLD_CAPTURED"
	case ledger.ErrHoldVoided:
		return http.StatusConflict, "HOLD_VOIDED"
	case ledger.ErrRefundExceedsCharge:
		return http.StatusConflict, "REFUND_EXCEEDS_CHARGE"
	case ledger.ErrNotACharge:
		return http.StatusConflict, "NOT_A_CHARGE"
	case ledger.ErrAmountOutOfRange:
		return http.StatusConflict, "AMOUNT_OUT_OF_RANGE"
	}
	return http.StatusConflict, "CONFLICT"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// StatusClientClosed is what the request log and metrics show for a request whose
// client hung up before its answer (nginx's 499): nobody reads the answer.
const StatusClientClosed = 499

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away while its request waited (for the writer, mostly).
		// Not an error of purse's: a money movement already queued to the writer
		// still commits, and a retry with the same Idempotency-Key gets its outcome.
		a.cfg.Log.InfoContext(r.Context(), "admin api: client closed the request", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(StatusClientClosed)
		return
	}
	status, ex := statusOf(err)
	if errors.Is(err, ledger.ErrOverloaded) {
		// Shed by the engine: expected under overload, counted by the request
		// metrics, and not an action (see audited); an ERROR line per refusal would
		// cost what shedding saves.
		w.Header().Set("Retry-After", "1")
		if sw, ok := w.(*statusWriter); ok {
			sw.shed = true
		}
	} else if status >= 500 {
		a.cfg.Log.ErrorContext(r.Context(), "admin api error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="purse-admin"`)
	}
	httpkit.WriteError(w, httpkit.JSON, status, ex)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	httpkit.Write(w, httpkit.JSON, status, body)
}

func (a *API) reply(w http.ResponseWriter, status int, v any) {
	httpkit.Write(w, httpkit.JSON, status, mustJSON(v))
}

func mustJSON(v any) []byte {
	if a, ok := v.(jsonAppender); ok {
		return a.appendJSON(make([]byte, 0, 512))
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("adminapi: encode response: %v", err))
	}
	return b
}

func (a *API) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name := httpkit.RepeatedHeader(r.Header); name != "" {
			a.fail(w, r, ledger.Invalid(name, httpkit.RepeatedHeaderError(name).Reason))
			return
		}
		actor, role, err := a.caller(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		httpkit.SetPrincipal(w, actor)
		setActor(w, actor)
		if !role.Allows(RouteRole(r.Pattern)) {
			a.fail(w, r, errForbidden)
			return
		}
		h(w, r)
	}
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.fail(w, r, errMethodNotAllowed)
		return
	}
	a.fail(w, r, errNotFound)
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	a.reply(w, http.StatusOK, map[string]string{"status": "ok"})
}

// openapiDoc serves this listener's OpenAPI document (docs/openapi/admin.json).
func (a *API) openapiDoc(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openapi.Admin)
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Engine.Fresh(); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			a.fail(w, r, fmt.Errorf("%w: %v", ledger.ErrUnavailable, err))
			return
		}
	}
	a.reply(w, http.StatusOK, map[string]string{"status": "ready"})
}

// decode reads a JSON object body strictly: one object, known fields only, each
// spelled exactly and given once, strings of valid UTF-8, at most
// httpkit.MaxBodyBytes. Every failure is a ValidationError naming the field.
func decode(r *http.Request, dst any) ([]byte, error) {
	return decodeLimit(r, dst, httpkit.MaxBodyBytes)
}

// decodeOptional decodes a body that may be left out: none at all, whether
// sent with Content-Length: 0 or chunked with no bytes, leaves dst as it was
// (the operation's defaults).
func decodeOptional(r *http.Request, dst any) error {
	if r.ContentLength == 0 {
		return nil
	}
	if r.ContentLength < 0 { // chunked: it may end before its first byte
		br := bufio.NewReader(r.Body)
		if _, err := br.Peek(1); err == io.EOF {
			return nil
		}
		r.Body = bufferedBody{br, r.Body}
	}
	_, err := decode(r, dst)
	return err
}

// bufferedBody reads from one reader and closes another (a body read through a
// bufio.Reader).
type bufferedBody struct {
	io.Reader
	io.Closer
}

func decodeLimit(r *http.Request, dst any, limit int) ([]byte, error) {
	var body []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= int64(limit) {
		// The usual case: the length is known and allowed, so one exact allocation
		// (net/http ends the body after Content-Length bytes).
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	}
	var tooLarge *http.MaxBytesError
	if len(body) > limit || errors.As(err, &tooLarge) {
		return nil, ledger.Invalid("body", fmt.Sprintf("is larger than %d bytes", limit))
	}
	if err != nil {
		return nil, ledger.Invalid("body", "could not be read in full (shorter than its Content-Length?)")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, ledger.Invalid("Content-Type", "must be application/json")
	}
	if f, ok := dst.(fastDecoder); ok && f.decodeFast(body) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, ledger.Invalid("body", "must hold exactly one JSON object")
	}
	// What encoding/json read without a word: repeated and case-variant keys,
	// strings that are not UTF-8, bytes after the object. (The fast path reads none
	// of these: it gives up on them.)
	if err := httpkit.CheckJSON(body, dst, false); err != nil {
		var fe *httpkit.FieldError
		if errors.As(err, &fe) {
			return nil, ledger.Invalid(fe.Field, fe.Reason)
		}
		return nil, err
	}
	return body, nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
			return ledger.Invalid(field, "must be a JSON object")
		}
		return ledger.Invalid(field, "must be a JSON "+jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return ledger.Invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset))
	case errors.Is(err, io.EOF):
		return ledger.Invalid("body", "is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ledger.Invalid("body", "is truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ledger.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
	}
	return ledger.Invalid("body", "is not valid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "ptr", "string":
		return "string"
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

// parseAmount reads a required decimal-string amount field.
func parseAmount(field string, s *string) (ledger.Amount, error) {
	if s == nil {
		return 0, ledger.Invalid(field, `is required, as a decimal string such as "12.345"`)
	}
	amt, err := ledger.ParseAmount(*s)
	if err != nil {
		return 0, ledger.Invalid(field, err.Error())
	}
	return amt, nil
}

// idempotency reads the Idempotency-Key header and fingerprints the request.
func idempotency(r *http.Request, body []byte, required bool) (key, hash string, err error) {
	key = r.Header.Get("Idempotency-Key")
	if key == "" {
		if required {
			return "", "", ledger.Invalid("Idempotency-Key", "header is required on money movements")
		}
		return "", "", nil
	}
	if len(key) > 255 {
		return "", "", ledger.Invalid("Idempotency-Key", "is longer than 255 bytes")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", "", ledger.Invalid("Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return key, requestHash(r.Method, r.URL.Path, body), nil
}

// requestHash fingerprints a request for its Idempotency-Key. Stored records keep
// it: changing it would turn every retry of an old key into IDEMPOTENCY_KEY_REUSED.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// do runs a command through the engine, exactly once per Idempotency-Key. With a
// key, the answer is the request's outcome (answer); without one, render's view
// of the result, or the refusal.
func (a *API) do(w http.ResponseWriter, r *http.Request, cmd engine.Command, key, hash string, status int, render func(any) any) {
	a.doThen(w, r, cmd, key, hash, status, render, nil)
}

// doThen is do, calling committed with the command's value when this request
// made the change (not when it replays an earlier answer, nor on a refusal), so
// that what follows a change happens once per change.
func (a *API) doThen(w http.ResponseWriter, r *http.Request, cmd engine.Command, key, hash string, status int, render func(any) any, committed func(any)) {
	var idem *engine.Idempotency
	if key != "" {
		idem = &ledger.IdempotencyRequest{Key: "admin:" + key, RequestHash: hash}
	}
	res, err := a.cfg.Engine.Do(r.Context(), cmd, idem)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if committed != nil && res.Value != nil && !res.Replayed {
		committed(res.Value)
	}
	if res.Outcome != nil || res.Legacy != nil {
		a.answer(w, r, res.Outcome, res.Version, res.Replayed, res.Legacy)
		return
	}
	a.reply(w, status, render(res.Value))
}

// customer returns the committed account, or a NotFoundError for unknown and
// platform accounts alike.
func (a *API) customer(id string) (ledger.Account, error) {
	if err := a.cfg.Engine.Fresh(); err != nil {
		return ledger.Account{}, err
	}
	acc, ok := a.cfg.Engine.Account(id)
	if !ok || acc.Kind != ledger.KindCustomer {
		return ledger.Account{}, &ledger.NotFoundError{What: "account", ID: id}
	}
	return acc, nil
}
