package console

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// page is what every template gets.
type page struct {
	Title  string
	Who    *who
	Error  string
	Notice string
	Data   any
	// Form names the form that failed, Fields its field errors (by the admin
	// API's field names) and Values what was typed, to show it again.
	Form   string
	Fields map[string]string
	Values url.Values
}

// FieldError is the error of a field of a form, "" when the form did not fail
// or the field is fine.
func (p page) FieldError(form, field string) string {
	if p.Form != form {
		return ""
	}
	return p.Fields[field]
}

// Value is what was typed into a form's field when it failed, else def.
func (p page) Value(form, field, def string) string {
	if p.Form != form || p.Values == nil {
		return def
	}
	return p.Values.Get(field)
}

// CanMove reports whether the operator may move money and suspend.
func (p page) CanMove() bool { return p.Who != nil && p.Who.op.Role.Allows(ledger.RoleOperator) }

// IsAdmin reports whether the operator manages credentials and operators.
func (p page) IsAdmin() bool { return p.Who != nil && p.Who.op.Role.Allows(ledger.RoleAdmin) }

// CSRF is the session's token for the forms.
func (p page) CSRF() string {
	if p.Who == nil {
		return ""
	}
	return p.Who.csrf
}

// Operator is the logged-in operator's name and role.
func (p page) Operator() string {
	if p.Who == nil {
		return ""
	}
	return p.Who.op.Name + " (" + string(p.Who.op.Role) + ")"
}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"key": newKey,
		"ts":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"day": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"neg": func(a ledger.Amount) bool { return a < 0 },
		// transferForm hands the transfer form its page and counterparty: the
		// parent (on an own sub-account's page) or a sub-account (on a parent's).
		"transferForm": func(p page, with string) map[string]any { return map[string]any{"Page": p, "With": with} },
		// alertField hands a field of the alerts form its page, API field name,
		// element id, form name, label and current value.
		"has": func(list []string, v ledger.EventType) bool {
			for _, x := range list {
				if x == string(v) {
					return true
				}
			}
			return false
		},
		"alertField": func(p page, field, id, name, label, def string) map[string]any {
			return map[string]any{"Page": p, "Field": field, "ID": id, "Name": name, "Label": label, "Def": def}
		},
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html", "templates/entries.html", "templates/subaccounts.html", "templates/alerts.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "dashboard", "accounts", "account", "audit", "error", "confirm", "operators", "webhooks", "webhook"} {
		t := template.Must(base.Clone())
		out[name] = template.Must(t.ParseFS(files, "templates/"+name+".html"))
	}
	out["entries"] = base
	return out
}

// newKey is a fresh Idempotency-Key, made when a money form is rendered: a
// double click or a resubmit sends the same key and moves money once.
func newKey() string { return "console-" + randomHex()[:32] }

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	var err error
	if name == "entries" { // htmx's partial: the table alone
		err = c.tmpl[name].ExecuteTemplate(&buf, "entries", p.Data)
	} else {
		err = c.tmpl[name].ExecuteTemplate(&buf, "layout.html", p)
	}
	if err != nil {
		c.cfg.Log.ErrorContext(r.Context(), "console template", "page", name, "err", err)
		http.Error(w, "The page could not be drawn.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", page{Title: http.StatusText(status), Error: msg})
}

type dashboardData struct {
	Totals   []ledger.CurrencyTotal
	Depleted []ledger.Account
	// Low are the accounts whose low-balance alert fired and has not re-armed.
	Low []ledger.Account
	// Rate is the charges per minute over the last hour (x: minute starts).
	Rate        *rateData
	ChargesHour int64
	PeakMinute  int64
}

type rateData struct {
	X []int64 `json:"x"`
	Y []int64 `json:"y"`
}

// maxDepleted bounds the dashboard's list of depleted accounts.
const maxDepleted = 50

// dashboard: per currency the customers' balances, held and available, today's
// and this month's charges and top-ups, charges per minute over the last hour,
// the depleted accounts (available at or below zero) and those below their
// low-balance threshold. The store sums and selects them (CurrencyTotals,
// Depleted, LowBalance): no account is read one by one.
func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, u who) {
	now := c.cfg.Now().UTC()
	dayStart := now.Truncate(24 * time.Hour)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var d dashboardData
	var err error
	if d.Totals, err = c.cfg.Store.CurrencyTotals(r.Context(), dayStart, monthStart); err == nil {
		d.Depleted, err = c.cfg.Store.Depleted(r.Context(), maxDepleted)
	}
	if err == nil {
		d.Low, err = c.cfg.Store.LowBalance(r.Context(), maxDepleted)
	}
	if err != nil {
		c.storeError(w, r, err)
		return
	}
	if c.cfg.Rate != nil {
		x, y := c.cfg.Rate.LastHour(now)
		d.Rate = &rateData{X: x, Y: y}
		for _, n := range y {
			d.ChargesHour += n
			d.PeakMinute = max(d.PeakMinute, n)
		}
	}
	c.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Who: &u, Data: d})
}

func (c *Console) storeError(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Log.ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
	c.errorPage(w, r, http.StatusServiceUnavailable, "The store did not answer. Try again.")
}

type accountsData struct {
	Q, Status, Currency, Sort string
	Currencies, Statuses      []string
	Accounts                  []ledger.Account
	Page, Pages, Total        int
	Prev, Next                string
	NewName                   string
}

const accountsPerPage = 25

// accounts: search by name or id, filter by status and currency, sort by
// balance or name, paged; the store does the searching (SearchAccounts).
func (c *Console) accounts(w http.ResponseWriter, r *http.Request, u who) {
	q := r.URL.Query()
	d := accountsData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Currency: q.Get("currency"), Sort: q.Get("sort"),
		Statuses: []string{"active", "suspended", "closed"}}
	totals, err := c.cfg.Store.CurrencyTotals(r.Context(), time.Time{}, c.cfg.Now())
	if err != nil {
		c.storeError(w, r, err)
		return
	}
	for _, t := range totals {
		d.Currencies = append(d.Currencies, t.Currency)
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	aq := ledger.AccountQuery{Text: d.Q, Status: ledger.AccountStatus(d.Status), Currency: d.Currency, Sort: d.Sort,
		Offset: (d.Page - 1) * accountsPerPage, Limit: accountsPerPage}
	if d.Accounts, d.Total, err = c.cfg.Store.SearchAccounts(r.Context(), aq); err != nil {
		c.accountError(w, r, statusOf(err), err)
		return
	}
	d.Pages = max(1, (d.Total+accountsPerPage-1)/accountsPerPage)
	if d.Page > d.Pages { // past the end (the list shrank, or a hand-made link): the last page
		d.Page, aq.Offset = d.Pages, (d.Pages-1)*accountsPerPage
		if d.Accounts, d.Total, err = c.cfg.Store.SearchAccounts(r.Context(), aq); err != nil {
			c.accountError(w, r, statusOf(err), err)
			return
		}
	}
	d.Prev, d.Next = d.pageURL(d.Page-1), d.pageURL(d.Page+1)
	c.render(w, r, http.StatusOK, "accounts", page{Title: "Accounts", Who: &u, Data: d})
}

func (d *accountsData) pageURL(n int) string {
	if n < 1 || n > d.Pages {
		return ""
	}
	v := url.Values{"q": {d.Q}, "status": {d.Status}, "currency": {d.Currency}, "sort": {d.Sort}, "page": {strconv.Itoa(n)}}
	return "/console/accounts?" + v.Encode()
}

type auditData struct {
	Actor, Action string
	Records       []ledger.AuditRecord
	Next          string
}

// audit: the audit log, newest first, by actor and action.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, u who) {
	q := r.URL.Query()
	d := auditData{Actor: q.Get("actor"), Action: q.Get("action")}
	f := ledger.AuditFilter{Limit: 51, Actor: d.Actor, Action: d.Action}
	f.BeforeSeq, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if c.cfg.Flush != nil {
		if err := c.cfg.Flush(r.Context()); err != nil {
			c.storeError(w, r, err)
			return
		}
	}
	recs, err := c.cfg.Store.ListAudit(r.Context(), f)
	if err != nil {
		c.storeError(w, r, err)
		return
	}
	if len(recs) > 50 {
		recs = recs[:50]
		v := url.Values{"actor": {d.Actor}, "action": {d.Action}, "before": {strconv.FormatInt(recs[49].Seq, 10)}}
		d.Next = "/console/audit?" + v.Encode()
	}
	d.Records = recs
	c.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Who: &u, Data: d})
}
