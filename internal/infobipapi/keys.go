package infobipapi

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// API keys as customers manage them: Infobip's /settings/2/api-keys and the
// deprecated /settings/1/accounts/{accountKey}/api-keys, over the one set of
// keys the admin API manages too. A credential reaches the keys of its own
// account and of its sub-accounts; any other key or account is 404, never 403,
// so that what exists elsewhere does not leak.

// keyV2 is the spec's ApiKey. apiKeySecret is only in the answer that made the
// key: purse keeps its hash, never the key. validFrom is the key's start, its
// creation when none was set; validTo is absent when the key does not expire.
type keyV2 struct {
	XMLName      xml.Name `json:"-" xml:"apiKey"`
	ID           string   `json:"id" xml:"id"`
	APIKeySecret string   `json:"apiKeySecret,omitempty" xml:"apiKeySecret,omitempty"`
	AccountID    string   `json:"accountId" xml:"accountId"`
	Name         string   `json:"name" xml:"name"`
	AllowedIPs   []string `json:"allowedIPs" xml:"allowedIPs>allowedIP"`
	ValidFrom    string   `json:"validFrom" xml:"validFrom"`
	ValidTo      string   `json:"validTo,omitempty" xml:"validTo,omitempty"`
	Enabled      bool     `json:"enabled" xml:"enabled"`
	Permissions  []string `json:"permissions" xml:"permissions>permission"`
	ScopeGuids   []string `json:"scopeGuids" xml:"scopeGuids>scopeGuid"`
}

// keyV1 is the spec's ApiKeyResponse (the deprecated routes).
type keyV1 struct {
	XMLName      xml.Name `json:"-" xml:"apiKey"`
	Key          string   `json:"key" xml:"key"`
	PublicAPIKey string   `json:"publicApiKey,omitempty" xml:"publicApiKey,omitempty"`
	AccountKey   string   `json:"accountKey" xml:"accountKey"`
	Name         string   `json:"name" xml:"name"`
	AllowedIPs   []string `json:"allowedIPs" xml:"allowedIPs>allowedIP"`
	ValidFrom    string   `json:"validFrom" xml:"validFrom"`
	ValidTo      string   `json:"validTo,omitempty" xml:"validTo,omitempty"`
	Enabled      bool     `json:"enabled" xml:"enabled"`
	Permissions  []string `json:"permissions" xml:"permissions>permission"`
}

// permissionV2 and permissionV1 are what purse answers for Infobip's older
// permission lists: a purse key's rights are its scopes, so every key reports
// the default of each version (PUBLIC_API; ALL).
const (
	permissionV2 = "PUBLIC_API"
	permissionV1 = "ALL"
)

// specTime renders a time as the spec's date-time: RFC 3339 in UTC, to the
// microsecond purse keeps.
func specTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") }

// specTimeLayouts are the date-times accepted: RFC 3339, the offset without a
// colon Infobip's own examples use ("2026-08-08T06:04:54.988+0000"), and no
// zone at all ("2023-09-01T10:00:00"), which the spec says is UTC.
var specTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"}

func parseSpecTime(s string) (time.Time, bool) {
	for _, l := range specTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// shownIPs renders allowed addresses as the client gave them: a single address
// without its /32 or /128.
func shownIPs(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil && p.IsSingleIP() {
			s = p.Addr().String()
		}
		out = append(out, s)
	}
	return out
}

func scopesOf(k ledger.APIKey) []string {
	if len(k.Scopes) == 0 {
		return []string{auth.ScopeAccountManage}
	}
	return k.Scopes
}

func toKeyV2(k ledger.APIKey, secret string) keyV2 {
	out := keyV2{ID: k.ID, APIKeySecret: secret, AccountID: k.AccountID, Name: k.Name, AllowedIPs: shownIPs(k.AllowedIPs),
		ValidFrom: specTime(k.CreatedAt), Enabled: !k.Disabled, Permissions: []string{permissionV2}, ScopeGuids: scopesOf(k)}
	if k.ValidFrom != nil {
		out.ValidFrom = specTime(*k.ValidFrom)
	}
	if k.ValidTo != nil {
		out.ValidTo = specTime(*k.ValidTo)
	}
	return out
}

func toKeyV1(k ledger.APIKey, secret string) keyV1 {
	v2 := toKeyV2(k, secret)
	return keyV1{Key: v2.ID, PublicAPIKey: secret, AccountKey: v2.AccountID, Name: v2.Name, AllowedIPs: v2.AllowedIPs,
		ValidFrom: v2.ValidFrom, ValidTo: v2.ValidTo, Enabled: v2.Enabled, Permissions: []string{permissionV1}}
}

// encode renders v in the format asked for.
func encode(f httpkit.Format, v any) []byte {
	var b []byte
	var err error
	if f == httpkit.XML {
		b, err = xml.Marshal(v)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil { // cannot happen: strings, booleans and slices of them
		panic(err)
	}
	return b
}

// keyRequest is the body of a create or update, v1 or v2 (the union of
// CreateApiKeyRequest, UpdateApiKeyRequest and their V1 forms). A field left
// out of an update keeps its value.
type keyRequest struct {
	AccountID   *string         `json:"accountId"`
	Name        *string         `json:"name"`
	AllowedIPs  *[]string       `json:"allowedIPs"`
	ValidFrom   *string         `json:"validFrom"`
	ValidTo     *string         `json:"validTo"`
	Enabled     *bool           `json:"enabled"`
	Permissions *[]string       `json:"permissions"`
	ScopeGuids  *[]string       `json:"scopeGuids"`
	Platform    json.RawMessage `json:"platform"`
}

// readKeyRequest reads and checks a key request's JSON body.
func readKeyRequest(w http.ResponseWriter, r *http.Request) (keyRequest, error) {
	var req keyRequest
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(io.LimitReader(r.Body, httpkit.MaxBodyBytes+1))
	if err != nil || len(body) > httpkit.MaxBodyBytes {
		return req, badParam("body", "must be a JSON object of at most 64 KiB")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badParamf("body", "is not the JSON object this operation takes: %v", err)
	}
	if err := httpkit.CheckJSON(body, &req, true); err != nil {
		return req, err
	}
	if len(req.Platform) > 0 && string(req.Platform) != "null" && string(req.Platform) != "[]" {
		return req, badParam("platform", "CPaaS X applications and entities are not part of purse; send scopeGuids instead")
	}
	return req, nil
}

// apply sets the request's fields on k, version by version's permissions.
func (req keyRequest) apply(k *ledger.APIKey, permission string) error {
	v := &ledger.ValidationError{}
	if req.Name != nil {
		k.Name = *req.Name
	}
	if req.AllowedIPs != nil {
		k.AllowedIPs = *req.AllowedIPs
	}
	if req.ScopeGuids != nil {
		k.Scopes = *req.ScopeGuids
		if len(k.Scopes) == 0 {
			v.Add("scopeGuids", "must list at least one scope (purse keeps no key that can do nothing)")
		}
	}
	if req.Enabled != nil {
		k.Disabled = !*req.Enabled
	}
	if req.Permissions != nil {
		for _, p := range *req.Permissions {
			if p != permission {
				v.Add("permissions", fmt.Sprintf("%q is not supported: purse keys carry scopes (scopeGuids); the only permission is %s", p, permission))
			}
		}
	}
	for _, t := range []struct {
		name string
		s    *string
		dst  **time.Time
	}{{"validFrom", req.ValidFrom, &k.ValidFrom}, {"validTo", req.ValidTo, &k.ValidTo}} {
		if t.s == nil {
			continue
		}
		at, ok := parseSpecTime(*t.s)
		if !ok {
			v.Add(t.name, "must be a date-time such as 2026-09-01T10:00:00Z")
			continue
		}
		*t.dst = &at
	}
	return v.Err()
}

// owns reports whether the caller may reach account id: its own, or one of its
// sub-accounts.
func (a *API) owns(p auth.Principal, id string) bool {
	if id == p.AccountID {
		return true
	}
	acc, ok := a.balances.Account(id)
	return ok && acc.Kind == ledger.KindCustomer && acc.ParentID != "" && acc.ParentID == p.AccountID
}

// targetAccount resolves an account the caller names ("" and "_": its own).
func (a *API) targetAccount(p auth.Principal, id string) (string, error) {
	if id == "" || id == "_" {
		return p.AccountID, nil
	}
	if !a.owns(p, id) {
		return "", &ledger.NotFoundError{What: "account", ID: id}
	}
	return id, nil
}

// ownedKey returns a key the caller may reach, in account (when not "").
func (a *API) ownedKey(r *http.Request, p auth.Principal, account, id string) (ledger.APIKey, error) {
	k, err := a.auth.KeyByID(r.Context(), id)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return k, err
	}
	if err != nil || k.RevokedAt != nil || !a.owns(p, k.AccountID) || account != "" && k.AccountID != account {
		return ledger.APIKey{}, &ledger.NotFoundError{What: "api key", ID: id}
	}
	return k, nil
}

// writable refuses a key change on an account that is not active (suspended or
// closed: 403, as its balance is): its keys could not be used anyway, and a
// suspended customer should not be arming credentials meanwhile.
func (a *API) writable(account string) error {
	if err := a.balances.Fresh(); err != nil {
		return err
	}
	acc, ok := a.balances.Account(account)
	if !ok {
		return errAccountNotPresent
	}
	if acc.Status != ledger.StatusActive {
		return errAccountNotActive
	}
	return nil
}

// mainOf is the account whose owner may read account's audit records with it.
func (a *API) mainOf(account string) string {
	if acc, ok := a.balances.Account(account); ok && acc.ParentID != "" {
		return acc.ParentID
	}
	return account
}

// actorName is how a customer audit record names who acted.
func actorName(p auth.Principal) string {
	if p.Scheme == auth.SchemeBasic || p.Scheme == auth.SchemeIBSSO {
		return p.Subject
	}
	return principalName(p)
}

// record queues a customer audit record about account.
func (a *API) record(r *http.Request, p auth.Principal, account, action, item, desc string) {
	if a.Audit == nil {
		return
	}
	a.Audit.Customer(ledger.CustomerAuditRecord{At: a.balances.Now().UTC(), AccountID: account, MainAccountID: a.mainOf(account),
		Action: action, Item: item, Description: desc, Username: actorName(p), IPAddress: clientAddr(r)})
}

// oneYear is how long a key made without validTo over /settings/2 lasts, as at
// Infobip ("if not provided default is 1 year from creation").
const oneYear = 365 * 24 * time.Hour

// createKey makes a key from a create request (v1 or v2) in account.
func (a *API) createKey(w http.ResponseWriter, r *http.Request, x *exchange, account, permission string, defaultTo bool) (ledger.APIKey, string, error) {
	req, err := readKeyRequest(w, r)
	if err != nil {
		return ledger.APIKey{}, "", err
	}
	if req.Name == nil {
		return ledger.APIKey{}, "", badParam("name", "is required")
	}
	if req.AccountID != nil && *req.AccountID != "" {
		if account, err = a.targetAccount(x.p, *req.AccountID); err != nil {
			return ledger.APIKey{}, "", err
		}
	}
	if err := a.writable(account); err != nil {
		return ledger.APIKey{}, "", err
	}
	k := ledger.APIKey{AccountID: account}
	if err := req.apply(&k, permission); err != nil {
		return ledger.APIKey{}, "", err
	}
	if defaultTo && k.ValidTo == nil {
		start := a.balances.Now()
		if k.ValidFrom != nil && k.ValidFrom.After(start) {
			start = *k.ValidFrom
		}
		to := start.Add(oneYear).UTC().Truncate(time.Microsecond)
		k.ValidTo = &to
	}
	k, secret, err := a.auth.CreateKey(r.Context(), k, nil)
	if err != nil {
		return k, "", err
	}
	a.record(r, x.p, k.AccountID, "Create", "ApiKey", fmt.Sprintf("API key '%s' (%s) created", k.Name, k.ID))
	return k, secret, nil
}

// updateKey applies an update request (v1 or v2) to a key the caller reaches.
func (a *API) updateKey(w http.ResponseWriter, r *http.Request, x *exchange, account, id, permission string) (ledger.APIKey, error) {
	k, err := a.ownedKey(r, x.p, account, id)
	if err != nil {
		return k, err
	}
	if err := a.writable(k.AccountID); err != nil {
		return k, err
	}
	req, err := readKeyRequest(w, r)
	if err != nil {
		return k, err
	}
	if req.AccountID != nil && *req.AccountID != "" && *req.AccountID != k.AccountID {
		return k, badParam("accountId", "a key stays in its account; it cannot be moved to another")
	}
	if err := req.apply(&k, permission); err != nil {
		return k, err
	}
	if k, err = a.auth.UpdateKey(r.Context(), k, nil); err != nil {
		return k, err
	}
	a.record(r, x.p, k.AccountID, "Update", "ApiKey", fmt.Sprintf("API key '%s' (%s) updated", k.Name, k.ID))
	return k, nil
}

func (a *API) createKeyV2(w http.ResponseWriter, r *http.Request, x *exchange) {
	k, secret, err := a.createKey(w, r, x, x.p.AccountID, permissionV2, true)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpkit.Write(w, x.f, http.StatusOK, encode(x.f, toKeyV2(k, secret)))
}

func (a *API) createKeyV1(w http.ResponseWriter, r *http.Request, x *exchange) {
	account, err := a.targetAccount(x.p, r.PathValue("accountKey"))
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	k, secret, err := a.createKey(w, r, x, account, permissionV1, false)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpkit.Write(w, x.f, http.StatusCreated, encode(x.f, toKeyV1(k, secret)))
}

func (a *API) getKeyV2(w http.ResponseWriter, r *http.Request, x *exchange) {
	k, err := a.ownedKey(r, x.p, "", r.PathValue("apiKeyId"))
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	httpkit.Write(w, x.f, http.StatusOK, encode(x.f, toKeyV2(k, "")))
}

func (a *API) getKeyV1(w http.ResponseWriter, r *http.Request, x *exchange) {
	account, err := a.targetAccount(x.p, r.PathValue("accountKey"))
	if err == nil {
		var k ledger.APIKey
		if k, err = a.ownedKey(r, x.p, account, r.PathValue("key")); err == nil {
			httpkit.Write(w, x.f, http.StatusOK, encode(x.f, toKeyV1(k, "")))
			return
		}
	}
	a.failFor(w, r, x, err)
}

func (a *API) updateKeyV2(w http.ResponseWriter, r *http.Request, x *exchange) {
	k, err := a.updateKey(w, r, x, "", r.PathValue("apiKeyId"), permissionV2)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	httpkit.Write(w, x.f, http.StatusOK, encode(x.f, toKeyV2(k, "")))
}

func (a *API) updateKeyV1(w http.ResponseWriter, r *http.Request, x *exchange) {
	account, err := a.targetAccount(x.p, r.PathValue("accountKey"))
	if err == nil {
		var k ledger.APIKey
		if k, err = a.updateKey(w, r, x, account, r.PathValue("key"), permissionV1); err == nil {
			httpkit.Write(w, x.f, http.StatusOK, encode(x.f, toKeyV1(k, "")))
			return
		}
	}
	a.failFor(w, r, x, err)
}

// keyFilter is what a list asks for.
type keyFilter struct {
	name    string
	enabled *bool
	secret  string
}

func (kf keyFilter) keep(k ledger.APIKey) bool {
	if k.RevokedAt != nil || kf.name != "" && k.Name != kf.name || kf.enabled != nil && *kf.enabled == k.Disabled {
		return false
	}
	return kf.secret == "" || auth.HashAPIKey(kf.secret) == k.Hash
}

// listed reads an account's keys through a filter.
func (a *API) listed(r *http.Request, account string, kf keyFilter) ([]ledger.APIKey, error) {
	all, err := a.auth.APIKeys(r.Context(), account)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.APIKey, 0, len(all))
	for _, k := range all {
		if kf.keep(k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// queryInt reads an integer query parameter within [lo, hi], def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badParamf(name, "must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}

// queryBool reads a boolean query parameter (nil when absent).
func queryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, badParam(name, "must be true or false")
	}
	return &b, nil
}

// pagingV2 is the spec's PagingResponse.
type pagingV2 struct {
	Page           int    `json:"page" xml:"page"`
	PageSize       int    `json:"pageSize" xml:"pageSize"`
	OrderDirection string `json:"orderDirection" xml:"orderDirection"`
	OrderBy        string `json:"orderBy" xml:"orderBy"`
	TotalCount     int64  `json:"totalCount" xml:"totalCount"`
	TotalPages     int    `json:"totalPages" xml:"totalPages"`
}

type keysV2 struct {
	XMLName xml.Name `json:"-" xml:"apiKeys"`
	APIKeys []keyV2  `json:"apiKeys" xml:"apiKeys>apiKey"`
	Paging  pagingV2 `json:"paging" xml:"paging"`
}

// listV2Params reads GET /settings/2/api-keys's paging and order.
func listV2Params(r *http.Request) (pagingV2, error) {
	q := r.URL.Query()
	pg := pagingV2{OrderBy: "id", OrderDirection: "asc"}
	var err error
	if pg.Page, err = queryInt(r, "page", 0, 0, 100); err != nil {
		return pg, err
	}
	if pg.PageSize, err = queryInt(r, "size", 100, 1, 100); err != nil {
		return pg, err
	}
	if s := q.Get("orderBy"); s != "" {
		if s != "id" && s != "name" {
			return pg, badParam("orderBy", "must be id or name")
		}
		pg.OrderBy = s
	}
	if s := strings.ToLower(q.Get("orderDirection")); s != "" {
		if s != "asc" && s != "desc" {
			return pg, badParam("orderDirection", "must be asc or desc")
		}
		pg.OrderDirection = s
	}
	return pg, nil
}

func (a *API) listKeysV2(w http.ResponseWriter, r *http.Request, x *exchange) {
	body, err := a.keysV2Page(r, x)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	httpkit.Write(w, x.f, http.StatusOK, encode(x.f, body))
}

func (a *API) keysV2Page(r *http.Request, x *exchange) (keysV2, error) {
	pg, err := listV2Params(r)
	if err != nil {
		return keysV2{}, err
	}
	enabled, err := queryBool(r, "enabled")
	if err != nil {
		return keysV2{}, err
	}
	account, err := a.targetAccount(x.p, r.URL.Query().Get("accountId"))
	if err != nil {
		return keysV2{}, err
	}
	keys, err := a.listed(r, account, keyFilter{name: r.URL.Query().Get("name"), enabled: enabled, secret: r.URL.Query().Get("apiKeySecret")})
	if err != nil {
		return keysV2{}, err
	}
	slices.SortStableFunc(keys, func(p, q ledger.APIKey) int {
		c := strings.Compare(p.ID, q.ID)
		if pg.OrderBy == "name" {
			c = strings.Compare(p.Name, q.Name)*2 + c // by name, then id
		}
		if pg.OrderDirection == "desc" {
			c = -c
		}
		return c
	})
	pg.TotalCount = int64(len(keys))
	pg.TotalPages = (len(keys) + pg.PageSize - 1) / pg.PageSize
	out := keysV2{APIKeys: []keyV2{}, Paging: pg}
	for i := pg.Page * pg.PageSize; i < len(keys) && i < (pg.Page+1)*pg.PageSize; i++ {
		out.APIKeys = append(out.APIKeys, toKeyV2(keys[i], ""))
	}
	return out, nil
}

type keysV1 struct {
	XMLName xml.Name `json:"-" xml:"apiKeys"`
	APIKeys []keyV1  `json:"apiKeys" xml:"apiKeys>apiKey"`
}

func (a *API) listKeysV1(w http.ResponseWriter, r *http.Request, x *exchange) {
	body, err := a.keysV1List(r, x)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	httpkit.Write(w, x.f, http.StatusOK, encode(x.f, body))
}

func (a *API) keysV1List(r *http.Request, x *exchange) (keysV1, error) {
	account, err := a.targetAccount(x.p, r.PathValue("accountKey"))
	if err != nil {
		return keysV1{}, err
	}
	limit, err := queryInt(r, "limit", 40, 1, 1000)
	if err != nil {
		return keysV1{}, err
	}
	enabled, err := queryBool(r, "enabled")
	if err != nil {
		return keysV1{}, err
	}
	keys, err := a.listed(r, account, keyFilter{name: r.URL.Query().Get("name"), enabled: enabled, secret: r.URL.Query().Get("publicApiKey")})
	if err != nil {
		return keysV1{}, err
	}
	out := keysV1{APIKeys: []keyV1{}}
	for i := 0; i < len(keys) && i < limit; i++ {
		out.APIKeys = append(out.APIKeys, toKeyV1(keys[i], ""))
	}
	return out, nil
}
