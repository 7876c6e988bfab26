package adminapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Operators (issue 19): people with a role, who use the console or a personal
// admin API token. The shared admin token acts as an admin, as it always did.

// errForbidden: a known operator whose role does not allow the route.
var errForbidden = errors.New("role does not allow this")

// operatorRoutes are the routes an operator may use besides reading: moving
// money, holds, and changing an account (suspend, close, limits). Everything
// else that is not a GET needs an admin.
var operatorRoutes = map[string]bool{
	"POST /v1/accounts":                  true,
	"PATCH /v1/accounts/{id}":            true,
	"POST /v1/accounts/{id}/top-ups":     true,
	"POST /v1/accounts/{id}/charges":     true,
	"POST /v1/accounts/{id}/refunds":     true,
	"POST /v1/accounts/{id}/adjustments": true,
	"POST /v1/accounts/{id}/holds":       true,
	"POST /v1/holds/{id}/capture":        true,
	"POST /v1/holds/{id}/void":           true,
	"POST /v1/batch":                     true,
	"POST /v1/transfers":                 true,
	"PUT /v1/accounts/{id}/alerts":       true,
}

// RouteRole is the least role that may use a route pattern ("METHOD /path"):
// reads need a viewer (but pprof, which shows the process's insides, an admin),
// operatorRoutes an operator, the rest an admin.
func RouteRole(pattern string) ledger.Role {
	switch {
	case strings.HasPrefix(pattern, "GET /debug/"):
		return ledger.RoleAdmin
	case strings.HasPrefix(pattern, "GET "):
		return ledger.RoleViewer
	case operatorRoutes[pattern]:
		return ledger.RoleOperator
	}
	return ledger.RoleAdmin
}

// caller finds who a request acts for: an operator the console authenticated
// (in-process, through the context), the shared admin token (an admin), or an
// operator's personal token.
func (a *API) caller(r *http.Request) (actor string, role ledger.Role, err error) {
	if op, ok := auth.OperatorFrom(r.Context()); ok {
		return auth.OperatorActor(op.Name), op.Role, nil
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", "", errUnauthorized
	}
	if actor, ok := a.cfg.Token.Actor(tok); ok {
		return actor, ledger.RoleAdmin, nil
	}
	if a.cfg.Operators == nil {
		return "", "", errUnauthorized
	}
	op, ok, err := a.cfg.Operators.ByToken(r.Context(), tok)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", errUnauthorized
	}
	return auth.OperatorActor(op.Name), op.Role, nil
}

// setActor tells audited who acted.
func setActor(w http.ResponseWriter, actor string) {
	for {
		switch x := w.(type) {
		case *statusWriter:
			x.actor = actor
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
	}
}

type operatorJSON struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	HasToken  bool   `json:"hasToken"`
	CreatedAt string `json:"createdAt"`
}

func toOperatorJSON(o ledger.Operator) operatorJSON {
	return operatorJSON{Name: o.Name, Role: string(o.Role), HasToken: o.TokenHash != "", CreatedAt: ts(o.CreatedAt)}
}

func (a *API) operators(w http.ResponseWriter, r *http.Request) bool {
	if a.cfg.Operators == nil {
		a.fail(w, r, errNotFound)
		return false
	}
	return true
}

// listOperators is GET /v1/operators.
func (a *API) listOperators(w http.ResponseWriter, r *http.Request) {
	if !a.operators(w, r) {
		return
	}
	ops, err := a.cfg.Operators.List(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Operators []operatorJSON `json:"operators"`
	}{Operators: []operatorJSON{}}
	for _, o := range ops {
		out.Operators = append(out.Operators, toOperatorJSON(o))
	}
	a.reply(w, http.StatusOK, out)
}

// addOperator is POST /v1/operators.
func (a *API) addOperator(w http.ResponseWriter, r *http.Request) {
	if !a.operators(w, r) {
		return
	}
	var req struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	op, err := a.cfg.Operators.Add(r.Context(), req.Name, ledger.Role(req.Role), req.Password)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusCreated, toOperatorJSON(op))
}

// removeOperator is DELETE /v1/operators/{name}.
func (a *API) removeOperator(w http.ResponseWriter, r *http.Request) {
	if !a.operators(w, r) {
		return
	}
	if err := a.cfg.Operators.Remove(r.Context(), r.PathValue("name")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setOperatorPassword is PUT /v1/operators/{name}/password.
func (a *API) setOperatorPassword(w http.ResponseWriter, r *http.Request) {
	if !a.operators(w, r) {
		return
	}
	var req struct {
		Password string `json:"password"`
	}
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.cfg.Operators.SetPassword(r.Context(), r.PathValue("name"), req.Password); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// issueOperatorToken is POST /v1/operators/{name}/token: a new personal admin
// API token, shown once, replacing the previous one.
func (a *API) issueOperatorToken(w http.ResponseWriter, r *http.Request) {
	if !a.operators(w, r) {
		return
	}
	tok, err := a.cfg.Operators.IssueToken(r.Context(), r.PathValue("name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusCreated, map[string]string{"name": r.PathValue("name"), "token": tok})
}
