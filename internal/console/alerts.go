package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/purse-ledger/purse/internal/ledger"
)

// alertsView is the account page's Alerts section: the thresholds and their
// state, read from the engine's account (live; the store's row may be a batch
// behind), stated as GET /v1/accounts/{id}/alerts states them.
type alertsView struct {
	Low, Depleted, TopUp        string // off, armed or fired
	Monthly                     string // off, or the highest variant fired this month
	LowBelow, Margin            string
	TopUpBelow, TopUpTo, TopMax string
	TopUpsToday                 int
	HasDepleted, HasMonthly     bool
}

func stateOf(on, fired bool) string {
	switch {
	case !on:
		return "off"
	case fired:
		return "fired"
	}
	return "armed"
}

// alertsOf states an account's alerts on day (yyyymmdd, UTC).
func alertsOf(al ledger.Alerts, day int) alertsView {
	v := alertsView{Low: stateOf(al.HasLow, al.LowFired), Depleted: stateOf(al.Depleted, al.DepletedFired),
		TopUp: stateOf(al.HasTopUp, al.TopUpFired), Monthly: "off", HasDepleted: al.Depleted, HasMonthly: al.Monthly}
	if al.HasLow {
		v.LowBelow, v.Margin = al.LowBelow.String(), al.Margin.String()
	}
	if al.HasTopUp {
		v.TopUpBelow, v.TopUpTo, v.TopMax = al.TopUpBelow.String(), al.TopUpTo.String(), strconv.Itoa(al.TopUpMaxPerDay)
	}
	if al.Monthly {
		v.Monthly = "armed"
		if al.MonthlyMonth == day/100 && al.MonthlyFired > 0 {
			v.Monthly = "fired at " + strconv.Itoa(al.MonthlyFired) + " %"
		}
	}
	if al.TopUpDay == day {
		v.TopUpsToday = al.TopUpCount
	}
	return v
}

// alertsBody is PUT /v1/accounts/{id}/alerts from the form: every threshold at
// once (the route sets them all); an empty "below" turns that threshold off.
func alertsBody(_ ledger.Account, f url.Values) any {
	body := map[string]any{"depleted": f.Get("depleted") == "on", "monthlyLimit": f.Get("monthly") == "on", "lowBalance": nil, "autoTopUp": nil}
	if below := strings.TrimSpace(f.Get("low_below")); below != "" {
		body["lowBalance"] = map[string]any{"below": below, "margin": optional(f.Get("low_margin"))}
	}
	if topUp := topUpFields(f); topUp {
		n, _ := strconv.Atoi(strings.TrimSpace(f.Get("topup_max")))
		body["autoTopUp"] = map[string]any{"below": strings.TrimSpace(f.Get("topup_below")), "topUpTo": strings.TrimSpace(f.Get("topup_to")), "maxPerDay": n}
	}
	return body
}

// topUpFields reports whether the auto top-up rule is asked for: any of its
// amounts typed (the API then says which one is missing).
func topUpFields(f url.Values) bool {
	return strings.TrimSpace(f.Get("topup_below")) != "" || strings.TrimSpace(f.Get("topup_to")) != ""
}

// checkAlerts refuses a "top-ups a day" that is not a whole number, which the
// API takes as a JSON number.
func checkAlerts(f url.Values) error {
	if !topUpFields(f) {
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimSpace(f.Get("topup_max"))); err != nil || n < 1 {
		return ledger.Invalid("autoTopUp.maxPerDay", "must be a whole number, 1 or more")
	}
	return nil
}

const eventsPerPage = 20

// eventsData is the account's events from the feed (the store's outbox, the
// same reads as GET /v1/events?account=), oldest first from a cursor: the feed
// keeps --event-retention (7 days) of them, so its start is the last week.
type eventsData struct {
	Events []ledger.Event
	After  int64
	Next   string // the link to the next page; "" at the end
}

// accountEvents reads a page of the account's events (and, on a parent's page,
// its sub-accounts') after the page's events_after cursor.
func (c *Console) accountEvents(ctx context.Context, r *http.Request, acc ledger.Account) (eventsData, error) {
	var d eventsData
	if s := r.URL.Query().Get("events_after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return d, ledger.Invalid("events_after", "must be an event sequence, 0 or more")
		}
		d.After = n
	}
	evs, err := c.cfg.Store.ListEvents(ctx, ledger.EventFilter{After: d.After, AccountID: acc.ID, WithChildren: acc.ParentID == "", Limit: eventsPerPage + 1})
	if err != nil {
		return d, err
	}
	if len(evs) > eventsPerPage {
		evs = evs[:eventsPerPage]
		d.Next = "/console/accounts/" + url.PathEscape(acc.ID) + "?events_after=" + strconv.FormatInt(evs[len(evs)-1].Seq, 10) + "#events"
	}
	d.Events = evs
	return d, nil
}

// today is the engine clock's yyyymmdd (UTC), the day the alerts' counters use.
func (c *Console) today() int {
	y, m, d := c.cfg.Engine.Now().UTC().Date()
	return y*10000 + int(m)*100 + d
}
