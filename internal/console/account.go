package console

import (
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
	Account   ledger.Account
	Available ledger.Amount
	Ranges    []chartRange
	Range     string
	From, To  string // the custom range's inputs (yyyy-mm-dd)
	Chart     chartData
	Points    int
	Days      []dayRow
	Entries   entriesData
	Holds     []ledger.Hold
	Users     []ledger.User
	APIKeys   []ledger.APIKey
	Clients   []ledger.APIKey
	// Sections are the account page's further sections, in order; features that
	// land later (sub-accounts, alerts, webhooks) add theirs here.
	Sections []string
	Secret   string // a secret just created, shown once
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
	d := &accountData{Account: acc, Available: acc.Available(), Sections: []string{"balance", "chart", "actions", "entries", "holds", "credentials"}}
	if err := c.chart(r, d); err != nil {
		return nil, http.StatusBadRequest, err
	}
	ctx := r.Context()
	var err error
	if d.Entries, err = c.entries(r, acc.ID); err != nil {
		return nil, statusOf(err), err
	}
	holds, err := c.cfg.Store.ActiveHolds(ctx)
	if err != nil {
		return nil, http.StatusServiceUnavailable, err
	}
	for _, h := range holds {
		if h.AccountID == acc.ID {
			d.Holds = append(d.Holds, h)
		}
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
	d := entriesData{AccountID: id, Kind: q.Get("kind"), Kinds: []string{"top_up", "charge", "capture", "refund", "adjustment"}}
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

func noticeOf(done string) string {
	switch done {
	case "top-up":
		return "Topped up."
	case "charge":
		return "Charged."
	case "adjust":
		return "Adjusted."
	case "refund":
		return "Refunded."
	case "suspend":
		return "Suspended."
	case "activate":
		return "Activated."
	case "close":
		return "Closed."
	case "revoke-key", "revoke-client":
		return "Revoked."
	case "user":
		return "User added."
	case "remove-user":
		return "User removed; their sessions have ended."
	case "create":
		return "Account created."
	}
	return ""
}
