package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// chartRange is one of the account page's chart ranges.
type chartRange struct {
	Name     string
	Label    string
	Span     time.Duration
	Bucket   time.Duration
	Selected bool
}

var chartRanges = []chartRange{
	{Name: "24h", Label: "24 hours", Span: 24 * time.Hour, Bucket: time.Hour},
	{Name: "7d", Label: "7 days", Span: 7 * 24 * time.Hour, Bucket: time.Hour},
	{Name: "30d", Label: "30 days", Span: 30 * 24 * time.Hour, Bucket: 2 * time.Hour},
}

// maxPoints bounds a custom range's points: the bucket grows with the range.
const maxPoints = 400

// chartData is what console.js draws: x in Unix seconds, balances as decimal
// strings (exact; the browser parses them only to draw).
type chartData struct {
	X        []int64  `json:"x"`
	Balance  []string `json:"balance"`
	Currency string   `json:"currency"`
}

type dayRow struct {
	Day             time.Time
	Charged, Topped ledger.Amount
	Charges, TopUps int64
}

type accountData struct {
	Account ledger.Account
	// Figures is the account whose balance and limits the page shows: the
	// account's own, or for a shared sub-account its parent's, which it spends
	// (as Infobip's balance route answers its credentials).
	Figures   ledger.Account
	Available ledger.Amount
	Parent    *ledger.Account  // a sub-account's parent
	Shared    bool             // a sub-account that spends its parent's balance
	Subs      []ledger.Account // a main account's sub-accounts
	OwnSubs   []ledger.Account // those with money of their own: transfer counterparties
	Holds     []holdRow
	Ranges    []chartRange
	Range     string
	From, To  string // the custom range's inputs (yyyy-mm-dd)
	Chart     chartData
	Points    int
	Days      []dayRow
	Entries   entriesData
	Users     []ledger.User
	APIKeys   []ledger.APIKey
	Clients   []ledger.APIKey
	// Sections are the account page's further sections, in order; features that
	// land later (sub-accounts, alerts, webhooks) add theirs here.
	Sections []string
	Secret   string // a secret just created, shown once
	Alerts   alertsView
	Events   eventsData
}

// holdRow is an active hold on the page: the account's own, or (on a parent's
// page) one of a shared sub-account's, which reserves the parent's funds.
type holdRow struct {
	ledger.Hold
	SubAccount string // the shared sub-account that made it; "" for the account's own
}

type entriesData struct {
	AccountID string
	Kind      string
	Kinds     []string
	Entries   []ledger.Entry
	Next      string
}

// account: the account page.
func (c *Console) account(w http.ResponseWriter, r *http.Request, u who) {
	d, status, err := c.accountData(r)
	if err != nil {
		c.accountError(w, r, status, err)
		return
	}
	p := page{Title: d.Account.Name, Who: &u, Data: d, Notice: noticeOf(r.URL.Query().Get("done"))}
	c.render(w, r, http.StatusOK, "account", p)
}

func (c *Console) accountError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusServiceUnavailable {
		c.storeError(w, r, err)
		return
	}
	c.errorPage(w, r, status, err.Error())
}

var errNoAccount = errors.New("No such account.")

func (c *Console) accountData(r *http.Request) (*accountData, int, error) {
	acc, ok := c.cfg.Engine.Account(r.PathValue("id"))
	if !ok || acc.Kind != ledger.KindCustomer {
		return nil, http.StatusNotFound, errNoAccount
	}
	d := &accountData{Account: acc, Figures: acc, Sections: []string{"balance", "chart", "actions", "alerts", "sub-accounts", "events", "entries", "holds", "credentials"}}
	if err := c.family(r.Context(), d); err != nil {
		return nil, http.StatusServiceUnavailable, err
	}
	d.Available = d.Figures.Available()
	if err := c.chart(r, d); err != nil {
		return nil, http.StatusBadRequest, err
	}
	ctx := r.Context()
	var err error
	if d.Entries, err = c.entries(r, acc.ID); err != nil {
		return nil, statusOf(err), err
	}
	d.Alerts = alertsOf(acc.AlertsOrZero(), c.today())
	if d.Events, err = c.accountEvents(ctx, r, acc); err != nil {
		return nil, statusOf(err), err
	}
	if err := c.holds(ctx, d); err != nil {
		return nil, http.StatusServiceUnavailable, err
	}
	if c.cfg.Auth != nil {
		if d.Users, err = c.cfg.Auth.Users(ctx, acc.ID); err == nil {
			if d.APIKeys, err = c.cfg.Auth.APIKeys(ctx, acc.ID); err == nil {
				d.Clients, err = c.cfg.Auth.OAuthClients(ctx, acc.ID)
			}
		}
		if err != nil {
			return nil, http.StatusServiceUnavailable, err
		}
	}
	return d, http.StatusOK, nil
}

// family reads a sub-account's parent, or a main account's sub-accounts (live
// from the engine: the store's rows may be a batch behind).
func (c *Console) family(ctx context.Context, d *accountData) error {
	acc := d.Account
	if acc.ParentID != "" {
		if p, ok := c.cfg.Engine.Account(acc.ParentID); ok {
			d.Parent = &p
			if acc.Funding == ledger.FundingShared {
				d.Shared, d.Figures = true, p
			}
		}
		return nil
	}
	subs, err := c.cfg.Store.SubAccounts(ctx, acc.ID)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if live, ok := c.cfg.Engine.Account(s.ID); ok {
			s = live
		}
		d.Subs = append(d.Subs, s)
		if s.Funding == ledger.FundingOwn && s.Status != ledger.StatusClosed {
			d.OwnSubs = append(d.OwnSubs, s)
		}
	}
	return nil
}

// holds lists the account's active holds and, on a parent's page, those of its
// shared sub-accounts (they reserve the parent's funds: its "held").
func (c *Console) holds(ctx context.Context, d *accountData) error {
	holds, err := c.cfg.Store.ActiveHolds(ctx)
	if err != nil {
		return err
	}
	shared := map[string]bool{}
	for _, s := range d.Subs {
		shared[s.ID] = s.Funding == ledger.FundingShared
	}
	for _, h := range holds {
		switch {
		case h.AccountID == d.Account.ID:
			d.Holds = append(d.Holds, holdRow{Hold: h})
		case shared[h.AccountID]:
			d.Holds = append(d.Holds, holdRow{Hold: h, SubAccount: h.AccountID})
		}
	}
	return nil
}

func statusOf(err error) int {
	var v *ledger.ValidationError
	if errors.As(err, &v) {
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

// chart reads the range asked for and the store's series for it.
func (c *Console) chart(r *http.Request, d *accountData) error {
	q := r.URL.Query()
	now := c.cfg.Now().UTC()
	d.Range = q.Get("range")
	if d.Range == "" {
		d.Range = "30d"
	}
	from, to, bucket, err := pickRange(d.Range, q.Get("from"), q.Get("to"), now)
	if err != nil {
		return err
	}
	for _, cr := range chartRanges {
		cr.Selected = cr.Name == d.Range
		d.Ranges = append(d.Ranges, cr)
	}
	d.From, d.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	s, err := c.cfg.Store.BalanceSeries(r.Context(), d.Account.ID, from, to, bucket)
	if err != nil {
		return err
	}
	d.Chart = chartData{Currency: d.Account.Currency, X: []int64{from.Unix()}, Balance: []string{s.Opening.String()}}
	for _, p := range s.Points {
		d.Chart.X = append(d.Chart.X, p.At.Add(bucket).Unix())
		d.Chart.Balance = append(d.Chart.Balance, p.Balance.String())
	}
	d.Points = len(d.Chart.X)
	days, err := c.cfg.Store.BalanceSeries(r.Context(), d.Account.ID, from, to, 24*time.Hour)
	if err != nil {
		return err
	}
	for _, p := range days.Points {
		d.Days = append(d.Days, dayRow{Day: p.At, Charged: p.Charged, Topped: p.ToppedUp, Charges: p.Charges, TopUps: p.TopUps})
	}
	return nil
}

// pickRange turns a range name (or "custom" with from and to dates) into times
// and a bucket that keeps the points under maxPoints.
func pickRange(name, fromS, toS string, now time.Time) (from, to time.Time, bucket time.Duration, err error) {
	for _, cr := range chartRanges {
		if cr.Name == name {
			return now.Add(-cr.Span).Truncate(time.Hour), now, cr.Bucket, nil
		}
	}
	if name != "custom" {
		return from, to, 0, ledger.Invalid("range", "must be 24h, 7d, 30d or custom")
	}
	from, ferr := time.Parse("2006-01-02", fromS)
	to, terr := time.Parse("2006-01-02", toS)
	if ferr != nil || terr != nil || !to.After(from) || to.Sub(from) > 5*366*24*time.Hour {
		return from, to, 0, ledger.Invalid("range", "a custom range needs dates from and to (yyyy-mm-dd), to after from, at most five years apart")
	}
	to = to.Add(24 * time.Hour) // to is inclusive
	hours := int64(to.Sub(from) / time.Hour)
	bucket = time.Duration((hours+maxPoints-1)/maxPoints) * time.Hour
	return from, to, max(bucket, time.Hour), nil
}

const entriesPerPage = 25

// entries reads a page of the account's entries by kind, before a sequence.
func (c *Console) entries(r *http.Request, id string) (entriesData, error) {
	q := r.URL.Query()
	d := entriesData{AccountID: id, Kind: q.Get("kind"), Kinds: []string{"top_up", "charge", "capture", "refund", "adjustment", "transfer"}}
	if d.Kind != "" && !ledger.ValidEntryKind(d.Kind) {
		return d, ledger.Invalid("kind", "is not a kind of entry")
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	es, err := c.cfg.Store.ListEntries(r.Context(), id, ledger.EntryFilter{BeforeSeq: before, Kind: ledger.EntryKind(d.Kind), Limit: entriesPerPage + 1})
	if err != nil {
		return d, err
	}
	if len(es) > entriesPerPage {
		es = es[:entriesPerPage]
		v := url.Values{"kind": {d.Kind}, "before": {strconv.FormatInt(es[len(es)-1].Seq, 10)}}
		d.Next = "/console/accounts/" + url.PathEscape(id) + "/entries?" + v.Encode()
	}
	d.Entries = es
	return d, nil
}

// entriesPartial serves the entries table alone (htmx swaps it in place; without
// JavaScript the links open it as a page of its own).
func (c *Console) entriesPartial(w http.ResponseWriter, r *http.Request, u who) {
	acc, ok := c.cfg.Engine.Account(r.PathValue("id"))
	if !ok || acc.Kind != ledger.KindCustomer {
		c.errorPage(w, r, http.StatusNotFound, errNoAccount.Error())
		return
	}
	d, err := c.entries(r, acc.ID)
	if err != nil {
		c.accountError(w, r, statusOf(err), err)
		return
	}
	c.render(w, r, http.StatusOK, "entries", page{Title: "Entries", Who: &u, Data: d})
}

// notices are what a form says when it is done (the redirect's ?done=).
var notices = map[string]string{
	"top-up":        "Topped up.",
	"charge":        "Charged.",
	"adjust":        "Adjusted.",
	"refund":        "Refunded.",
	"suspend":       "Suspended.",
	"activate":      "Activated.",
	"close":         "Closed.",
	"revoke-key":    "Revoked.",
	"revoke-client": "Revoked.",
	"user":          "User added.",
	"remove-user":   "User removed; their sessions have ended.",
	"create":        "Account created.",
	"sub-account":   "Sub-account created.",
	"transfer":      "Transferred.",
	"enable":        "Sub-account enabled.",
	"disable":       "Sub-account disabled: its credentials are refused until it is enabled.",
	"limits":        "Limits saved.",
	"capture":       "Hold captured.",
	"void":          "Hold voided: its funds are free again.",
	"alerts":        "Alerts saved.",
	"wh-enable":     "Subscription enabled: delivery resumes where it stopped.",
	"wh-disable":    "Subscription disabled: nothing is delivered until it is enabled.",
	"wh-delete":     "Subscription deleted.",
	"wh-redeliver":  "Redelivery started: the events after that sequence are delivered again.",
	"op-add":        "Operator added.",
	"op-passwd":     "Password set.",
	"op-remove":     "Operator removed; their sessions and token have ended.",
}

func noticeOf(done string) string { return notices[done] }
