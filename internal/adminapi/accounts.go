package adminapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     *string `json:"name"`
		Currency *string `json:"currency"`
		Parent   string  `json:"parent"`  // a sub-account of this main account
		Funding  string  `json:"funding"` // own or shared, with parent
	}
	body, err := decode(r, &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := &ledger.ValidationError{}
	if req.Name == nil {
		v.Add("name", "is required")
	}
	if req.Currency == nil && req.Parent == "" {
		v.Add("currency", "is required, an ISO 4217 code such as EUR")
	}
	key, hash, err := idempotency(r, body, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	cmd := engine.CreateAccount{Name: *req.Name, Parent: req.Parent, Funding: ledger.FundingMode(req.Funding)}
	if req.Currency != nil {
		cmd.Currency = *req.Currency
	}
	a.doThen(w, r, cmd, key, hash, http.StatusCreated, func(v any) any { return toAccountJSON(v.(ledger.Account)) }, a.subAccountCreated)
}

// listSubAccounts lists an account's sub-accounts (a sub-account has none).
func (a *API) listSubAccounts(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	subs, err := a.cfg.Store.SubAccounts(r.Context(), acc.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Accounts []accountJSON `json:"accounts"`
	}{Accounts: []accountJSON{}}
	for _, s := range subs {
		if live, ok := a.cfg.Engine.Account(s.ID); ok {
			s = live
		}
		out.Accounts = append(out.Accounts, toAccountJSON(s))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	limit, after, err := page(r, "a")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	accts, err := a.cfg.Store.ListAccounts(r.Context(), after, limit+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Accounts   []accountJSON `json:"accounts"`
		NextCursor string        `json:"nextCursor,omitempty"`
	}{Accounts: []accountJSON{}}
	if len(accts) > limit {
		accts = accts[:limit]
		out.NextCursor = encodeCursor("a", accts[limit-1].ID)
	}
	for _, acc := range accts {
		// The engine's copy is the committed state; the stored row is the same commit or older.
		if live, ok := a.cfg.Engine.Account(acc.ID); ok {
			acc = live
		}
		out.Accounts = append(out.Accounts, toAccountJSON(acc))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, toAccountJSON(acc))
}

func (a *API) patchAccount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name         *string         `json:"name"`
		Status       *string         `json:"status"`
		AllowedMinus *string         `json:"allowedMinus"`
		MonthlyLimit json.RawMessage `json:"monthlyLimit"` // a decimal string, or null to remove the limit
		FreeMessages *int64          `json:"freeMessages"`
		Enabled      *bool           `json:"enabled"` // sub-accounts only
	}
	body, err := decode(r, &req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, hash, err := idempotency(r, body, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cmd := engine.UpdateAccount{ID: r.PathValue("id"), Name: req.Name, FreeMessages: req.FreeMessages, Enabled: req.Enabled}
	v := &ledger.ValidationError{}
	if req.Status != nil {
		st := ledger.AccountStatus(*req.Status)
		cmd.Status = &st
	}
	if req.AllowedMinus != nil {
		if amt, err := ledger.ParseAmount(*req.AllowedMinus); err != nil {
			v.Add("allowedMinus", err.Error())
		} else {
			cmd.AllowedMinus = &amt
		}
	}
	if req.MonthlyLimit != nil {
		if bytes.Equal(bytes.TrimSpace(req.MonthlyLimit), []byte("null")) {
			cmd.ClearMonthlyLimit = true
		} else {
			var s string
			if err := json.Unmarshal(req.MonthlyLimit, &s); err != nil {
				v.Add("monthlyLimit", `must be a decimal string such as "100", or null for no limit`)
			} else if amt, err := ledger.ParseAmount(s); err != nil {
				v.Add("monthlyLimit", err.Error())
			} else {
				cmd.MonthlyLimit = &amt
			}
		}
	}
	if req.Name == nil && req.Status == nil && req.AllowedMinus == nil && req.MonthlyLimit == nil && req.FreeMessages == nil && req.Enabled == nil {
		v.Add("body", "names no field to change (name, status, allowedMinus, monthlyLimit, freeMessages, enabled)")
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.doThen(w, r, cmd, key, hash, http.StatusOK, func(v any) any { return toAccountJSON(v.(ledger.Account)) },
		a.subAccountPatched(req.Name, req.Enabled))
}

func (a *API) getBalance(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q, err := query(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := a.cfg.Engine.Now()
	if s := q.Get("at"); s != "" {
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			a.fail(w, r, ledger.Invalid("at", "must be an RFC 3339 time such as 2026-11-26T10:00:00Z"))
			return
		}
		if at.After(now) {
			a.fail(w, r, ledger.Invalid("at", "is in the future"))
			return
		}
		e, err := a.cfg.Store.LastEntryAt(r.Context(), acc.ID, at)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := balanceAtJSON{AccountID: acc.ID, Balance: "0", Currency: acc.Currency, AsOf: ts(at)}
		if e != nil {
			out.Balance, out.Sequence = e.BalanceAfter.String(), e.Seq
		}
		a.reply(w, http.StatusOK, out)
		return
	}
	a.reply(w, http.StatusOK, toBalanceJSON(acc, now))
}

func (a *API) listEntries(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q, err := query(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := entryFilter(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++
	entries, err := a.cfg.Store.ListEntries(r.Context(), acc.ID, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Entries    []entryJSON `json:"entries"`
		NextCursor string      `json:"nextCursor,omitempty"`
	}{Entries: []entryJSON{}}
	if len(entries) > limit {
		entries = entries[:limit]
		out.NextCursor = encodeCursor("e", strconv.FormatInt(entries[limit-1].Seq, 10))
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, toEntryJSON(e))
	}
	a.reply(w, http.StatusOK, out)
}

// entryFilter reads the query of a list of entries. A bad limit is refused on its
// own; every other bad parameter is named in one validation error.
func entryFilter(q url.Values) (ledger.EntryFilter, error) {
	f := ledger.EntryFilter{}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return f, err
	}
	v := &ledger.ValidationError{}
	if c := q.Get("cursor"); c != "" {
		s, err := decodeCursor(c, "e")
		n, perr := strconv.ParseInt(s, 10, 64)
		if err != nil || perr != nil || n <= 0 {
			v.Add("cursor", "is not a cursor this API returned")
		}
		f.BeforeSeq = n
	}
	f.From = timeParam(q, "from", v)
	f.To = timeParam(q, "to", v)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("to", "must be after from")
	}
	if k := q.Get("kind"); k != "" {
		if !ledger.ValidEntryKind(k) || k == string(ledger.EntrySettlement) {
			v.Add("kind", "must be one of top_up, charge, capture, refund, adjustment, transfer")
		}
		f.Kind = ledger.EntryKind(k)
	}
	return f, v.Err()
}

// timeParam is the RFC 3339 time of the query parameter name, the zero time when
// it is absent or, noted in v, not a time.
func timeParam(q url.Values, name string, v *ledger.ValidationError) time.Time {
	s := q.Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(name, "must be an RFC 3339 time such as 2026-11-26T10:00:00Z")
	}
	return t
}

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, ledger.Invalid("query", "is not a valid URL query string")
	}
	return q, nil
}

// page reads a paged list's query: its limit and the position its cursor (of
// kind) names.
func page(r *http.Request, kind string) (limit int, pos string, err error) {
	q, err := query(r)
	if err != nil {
		return 0, "", err
	}
	if limit, err = pageLimit(q); err != nil {
		return 0, "", err
	}
	pos, err = decodeCursor(q.Get("cursor"), kind)
	return limit, pos, err
}

func pageLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, ledger.Invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(maxPageSize))
	}
	return n, nil
}

// Cursors are opaque to clients: base64url of "<kind>:<position>". A cursor names
// the last item of a page, so pages stay stable while new items arrive.
func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeCursor(c, kind string) (string, error) {
	if c == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	pos, ok := strings.CutPrefix(string(raw), kind+":")
	if err != nil || !ok || pos == "" {
		return "", ledger.Invalid("cursor", "is not a cursor this API returned")
	}
	return pos, nil
}
