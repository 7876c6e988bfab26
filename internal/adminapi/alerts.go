package adminapi

import (
	"net/http"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Thresholds (docs/events.md): an account's alerts and auto top-up rule, and
// their state. PUT replaces them all; a threshold whose settings are unchanged
// keeps its state, so PUT needs no Idempotency-Key: repeating it changes nothing.

type lowBalanceJSON struct {
	Below  string `json:"below"`
	Margin string `json:"margin"`
}

type autoTopUpJSON struct {
	Below     string `json:"below"`
	TopUpTo   string `json:"topUpTo"`
	MaxPerDay int    `json:"maxPerDay"`
}

type alertStateJSON struct {
	LowBalance   string `json:"lowBalance"` // off, armed or fired
	Depleted     string `json:"depleted"`
	MonthlyLimit int    `json:"monthlyLimit"` // the highest variant fired this month: 0, 80 or 100
	AutoTopUp    string `json:"autoTopUp"`
	TopUpsToday  int    `json:"topUpsToday"`
}

type alertsJSON struct {
	AccountID    string          `json:"accountId"`
	LowBalance   *lowBalanceJSON `json:"lowBalance"`
	Depleted     bool            `json:"depleted"`
	MonthlyLimit bool            `json:"monthlyLimit"`
	AutoTopUp    *autoTopUpJSON  `json:"autoTopUp"`
	State        alertStateJSON  `json:"state"`
}

func armed(on, fired bool) string {
	switch {
	case !on:
		return "off"
	case fired:
		return "fired"
	}
	return "armed"
}

func toAlertsJSON(a ledger.Account, now int) alertsJSON {
	al := a.AlertsOrZero()
	out := alertsJSON{AccountID: a.ID, Depleted: al.Depleted, MonthlyLimit: al.Monthly, State: alertStateJSON{
		LowBalance: armed(al.HasLow, al.LowFired), Depleted: armed(al.Depleted, al.DepletedFired),
		AutoTopUp: armed(al.HasTopUp, al.TopUpFired)}}
	if al.HasLow {
		out.LowBalance = &lowBalanceJSON{Below: al.LowBelow.String(), Margin: al.Margin.String()}
	}
	if al.HasTopUp {
		out.AutoTopUp = &autoTopUpJSON{Below: al.TopUpBelow.String(), TopUpTo: al.TopUpTo.String(), MaxPerDay: al.TopUpMaxPerDay}
	}
	if al.Monthly && al.MonthlyMonth == now/100 {
		out.State.MonthlyLimit = al.MonthlyFired
	}
	if al.TopUpDay == now {
		out.State.TopUpsToday = al.TopUpCount
	}
	return out
}

// today is the engine clock's yyyymmdd (UTC).
func (a *API) today() int {
	y, m, d := a.cfg.Engine.Now().UTC().Date()
	return y*10000 + int(m)*100 + d
}

func (a *API) getAlerts(w http.ResponseWriter, r *http.Request) {
	acc, err := a.customer(r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, toAlertsJSON(acc, a.today()))
}

func (a *API) putAlerts(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LowBalance *struct {
			Below  *string `json:"below"`
			Margin *string `json:"margin"`
		} `json:"lowBalance"`
		Depleted     bool `json:"depleted"`
		MonthlyLimit bool `json:"monthlyLimit"`
		AutoTopUp    *struct {
			Below     *string `json:"below"`
			TopUpTo   *string `json:"topUpTo"`
			MaxPerDay *int    `json:"maxPerDay"`
		} `json:"autoTopUp"`
	}
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	v := &ledger.ValidationError{}
	al := ledger.Alerts{Depleted: req.Depleted, Monthly: req.MonthlyLimit}
	if lb := req.LowBalance; lb != nil {
		al.HasLow = true
		al.LowBelow = requiredAmount("lowBalance.below", lb.Below, v)
		if m := optionalAmount("lowBalance.margin", lb.Margin, v); m != nil {
			al.Margin = *m
		}
	}
	if t := req.AutoTopUp; t != nil {
		al.HasTopUp = true
		al.TopUpBelow = requiredAmount("autoTopUp.below", t.Below, v)
		al.TopUpTo = requiredAmount("autoTopUp.topUpTo", t.TopUpTo, v)
		al.TopUpMaxPerDay = 1
		if t.MaxPerDay != nil {
			al.TopUpMaxPerDay = *t.MaxPerDay
		}
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := engine.ValidateAlerts(al); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.SetAlerts{AccountID: r.PathValue("id"), Alerts: al}, "", "", http.StatusOK,
		func(v any) any { return toAlertsJSON(v.(ledger.Account), a.today()) })
}
