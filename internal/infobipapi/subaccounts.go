package infobipapi

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Infobip's sub-account routes (docs/subaccounts.md): GET /settings/1/accounts
// and PUT /settings/1/accounts/{accountKey}. Both need the spec's x-scopes,
// account-management:manage, which the route table (routes.go) checks.
//
// A credential sees only its own account's sub-accounts: the list holds them and
// not the account itself (the spec's "Get all sub accounts"), and any other key,
// another customer's, a sibling, the parent, its own or an unknown one, is 404
// NOT_FOUND, never 403, so that whether an account exists does not leak. A
// sub-account's credentials list none: sub-accounts are one level deep.

// SubAccounts is what the sub-account routes need beyond Balances: the stored
// list and the engine's change. internal/app provides it.
type SubAccounts interface {
	SubAccounts(ctx context.Context, parentID string) ([]ledger.Account, error)
	UpdateSubAccount(ctx context.Context, owner, id string, name *string, enabled *bool) (ledger.Account, error)
}

// Bounds of GET /settings/1/accounts?limit (the spec's default is 40).
const (
	defaultAccountsLimit = 40
	maxAccountsLimit     = 1000
)

// subAccountJSON is the spec's Account: key, ownerKey, name, enabled. In XML it
// is <account> with the same elements.
type subAccountJSON struct {
	XMLName  xml.Name `json:"-" xml:"account"`
	Key      string   `json:"key" xml:"key"`
	OwnerKey string   `json:"ownerKey" xml:"ownerKey"`
	Name     string   `json:"name" xml:"name"`
	Enabled  bool     `json:"enabled" xml:"enabled"`
}

// accountsJSON is the spec's AccountsResponse; in XML <accounts><account>…</account></accounts>.
type accountsJSON struct {
	XMLName  xml.Name         `json:"-" xml:"accounts"`
	Accounts []subAccountJSON `json:"accounts" xml:"account"`
}

func toSubAccountJSON(a ledger.Account) subAccountJSON {
	return subAccountJSON{Key: a.ID, OwnerKey: a.ParentID, Name: a.Name, Enabled: !a.Disabled}
}

// accountsFilter is the query of GET /settings/1/accounts.
type accountsFilter struct {
	name    string
	hasName bool
	enabled *bool
	limit   int
}

func parseAccountsFilter(raw string) (accountsFilter, error) {
	f := accountsFilter{limit: defaultAccountsLimit}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, &httpkit.FieldError{Field: "query", Reason: "is not a valid URL query string"}
	}
	if v, ok := q["name"]; ok {
		f.name, f.hasName = v[0], true
	}
	if s := q.Get("enabled"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return f, &httpkit.FieldError{Field: "enabled", Reason: "must be true or false"}
		}
		f.enabled = &b
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAccountsLimit {
			return f, &httpkit.FieldError{Field: "limit", Reason: "must be a whole number from 1 to " + strconv.Itoa(maxAccountsLimit)}
		}
		f.limit = n
	}
	return f, nil
}

func (f accountsFilter) keeps(a ledger.Account) bool {
	return (!f.hasName || a.Name == f.name) && (f.enabled == nil || *f.enabled == !a.Disabled)
}

// listSubAccounts is GET /settings/1/accounts: the caller's sub-accounts, in id
// order, filtered by exact name and enabled, at most limit of them.
func (a *API) listSubAccounts(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	caller, err := a.callerAccount(x.p)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	filter, err := parseAccountsFilter(r.URL.RawQuery)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	subs, err := a.subAccounts().SubAccounts(r.Context(), caller.ID)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	out := accountsJSON{Accounts: []subAccountJSON{}}
	for _, s := range subs {
		if live, ok := a.balances.Account(s.ID); ok { // memory is the newer commit
			s = live
		}
		if filter.keeps(s) && len(out.Accounts) < filter.limit {
			out.Accounts = append(out.Accounts, toSubAccountJSON(s))
		}
	}
	a.writeValue(w, r, f, out)
}

// updateRequest is the spec's UpdateAccountRequest.
type updateRequest struct {
	Name    *string `json:"name"`
	Enabled *bool   `json:"enabled"`
}

// updateSubAccount is PUT /settings/1/accounts/{accountKey}: renames, enables or
// disables one of the caller's sub-accounts.
func (a *API) updateSubAccount(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	caller, err := a.callerAccount(x.p)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	req, err := readUpdate(w, r)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	acc, err := a.subAccounts().UpdateSubAccount(r.Context(), caller.ID, r.PathValue("accountKey"), req.Name, req.Enabled)
	if err != nil {
		a.fail(w, r, f, subAccountError(err))
		return
	}
	a.recordUpdate(r, x, acc, req)
	a.writeValue(w, r, f, toSubAccountJSON(acc))
}

// recordUpdate writes the customers' audit records of a sub-account change:
// here rather than behind the SubAccounts interface because here is where the
// caller and its address are known. One record per field the request set
// (Update for the name, Enable or Disable for the switch), read by the
// sub-account and its parent.
func (a *API) recordUpdate(r *http.Request, x *exchange, acc ledger.Account, req updateRequest) {
	if req.Name != nil {
		a.record(r, x.p, acc.ID, "Update", "Account", fmt.Sprintf("sub-account %s renamed to '%s'", acc.ID, acc.Name))
	}
	if req.Enabled != nil {
		action, done := "Disable", "disabled"
		if *req.Enabled {
			action, done = "Enable", "enabled"
		}
		a.record(r, x.p, acc.ID, action, "Account", fmt.Sprintf("sub-account '%s' (%s) %s", acc.Name, acc.ID, done))
	}
}

// readUpdate reads the JSON body of a PUT. Keys it does not know are ignored, as
// on POST /auth/1/session; one that names neither field is refused.
func readUpdate(w http.ResponseWriter, r *http.Request) (updateRequest, error) {
	var req updateRequest
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(io.LimitReader(r.Body, httpkit.MaxBodyBytes+1))
	if err != nil || len(body) > httpkit.MaxBodyBytes {
		return req, &httpkit.FieldError{Field: "body", Reason: "could not be read (at most 64 KiB)"}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, &httpkit.FieldError{Field: "body", Reason: `must be a JSON object such as {"name": "New Account Name", "enabled": true}`}
	}
	if err := httpkit.CheckJSON(body, &req, true); err != nil {
		return req, err
	}
	if req.Name == nil && req.Enabled == nil {
		return req, &httpkit.FieldError{Field: "body", Reason: "names no field to change (name, enabled)"}
	}
	return req, nil
}

// subAccountError maps the engine's answers to the public table: a validation
// error names its field, a closed account cannot change.
func subAccountError(err error) error {
	var v *ledger.ValidationError
	var c *ledger.ConflictError
	switch {
	case errors.As(err, &v):
		for field, reasons := range v.Fields {
			return &httpkit.FieldError{Field: field, Reason: strings.Join(reasons, "; ")}
		}
	case errors.As(err, &c):
		return &httpkit.FieldError{Field: "accountKey", Reason: c.Reason}
	case errors.Is(err, ledger.ErrNotFound):
		return errNotFound
	}
	return err
}

// writeValue writes v as JSON or XML.
func (a *API) writeValue(w http.ResponseWriter, r *http.Request, f httpkit.Format, v any) {
	var body []byte
	var err error
	if f == httpkit.XML {
		body, err = xml.Marshal(v)
	} else {
		body, err = json.Marshal(v)
	}
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	httpkit.Write(w, f, http.StatusOK, body)
}

// subAccounts is the configured SubAccounts, or one that knows none.
func (a *API) subAccounts() SubAccounts {
	if a.Accounts == nil {
		return noSubAccounts{}
	}
	return a.Accounts
}

type noSubAccounts struct{}

func (noSubAccounts) SubAccounts(context.Context, string) ([]ledger.Account, error) { return nil, nil }

func (noSubAccounts) UpdateSubAccount(_ context.Context, _, id string, _ *string, _ *bool) (ledger.Account, error) {
	return ledger.Account{}, &ledger.NotFoundError{What: "account", ID: id}
}
