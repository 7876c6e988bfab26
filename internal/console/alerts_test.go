package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAlertsHTTP: an operator sets the thresholds from the account page's
// Alerts section; a charge below the low-balance threshold shows it fired and
// puts the account on the dashboard's list; the account's events list the
// balance.low; bad input comes back beside its field with nothing changed; a
// viewer and a cross-site post are refused.
func TestAlertsHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "olga", "operator")
	addOperator(s, "vic", "viewer")
	id := s.CreateAccount("Low Shop", "EUR")
	other := s.CreateAccount("Fine Shop", "EUR")
	olga := newBrowser(t, s)
	olga.login("olga", "olga-password")
	_, _, page := olga.do("GET", "/console/accounts/"+id, nil, nil)
	csrf := find(t, csrfRe, page)
	if !strings.Contains(page, `<a href="#alerts">alerts</a>`) || !strings.Contains(page, `id="alert-low-state">off<`) {
		t.Fatalf("no Alerts section, or its state is not off")
	}
	form := func(csrf string, kv ...string) url.Values {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	alerts := func(id string) ledger.Alerts { a, _ := s.Engine.Account(id); return a.AlertsOrZero() }
	for _, who := range []string{id, other} {
		s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+who+"/top-ups", `{"amount":"100"}`, map[string]string{"Idempotency-Key": "t-" + who})
		st, _, body := olga.do("POST", "/console/accounts/"+who+"/alerts", form(csrf, "low_below", "20", "low_margin", "5", "depleted", "on"), nil)
		if st != http.StatusSeeOther {
			t.Fatalf("set alerts: %d %s", st, body)
		}
	}
	if al := alerts(id); !al.HasLow || al.LowBelow != ledger.MustParseAmount("20") || al.Margin != ledger.MustParseAmount("5") || !al.Depleted || al.Monthly || al.HasTopUp {
		t.Fatalf("alerts after the form: %+v", al)
	}
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+id+"/charges", `{"amount":"85"}`, map[string]string{"Idempotency-Key": "c-1"}) // 15: below 20
	_, _, page = olga.do("GET", "/console/accounts/"+id, nil, nil)
	if !strings.Contains(page, `id="alert-low-state">fired<`) || !strings.Contains(page, `id="alert-depleted-state">armed<`) {
		t.Errorf("the page does not show low fired and depleted armed")
	}
	if !strings.Contains(page, "<code>balance.low</code>") {
		t.Errorf("the account's events do not list balance.low")
	}
	_, _, dash := olga.do("GET", "/console/", nil, nil)
	low, _, _ := strings.Cut(dash[strings.Index(dash, `id="low-h"`):], "</section>")
	if !strings.Contains(low, "Low Shop") || strings.Contains(low, "Fine Shop") {
		t.Errorf("dashboard's low-balance list: %s", low)
	}

	for _, tt := range []struct {
		name  string
		kv    []string
		errID string
	}{
		{"below not an amount", []string{"low_below", "lots"}, "alert-low-below-error"},
		{"negative margin", []string{"low_below", "10", "low_margin", "-1"}, "alert-low-margin-error"},
		{"top-up without its target", []string{"topup_below", "5", "topup_max", "1"}, "alert-topup-to-error"},
		{"top-ups a day not a number", []string{"topup_below", "5", "topup_to", "50", "topup_max", "often"}, "alert-topup-max-error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, _, body := olga.do("POST", "/console/accounts/"+id+"/alerts", form(csrf, tt.kv...), nil)
			if st != http.StatusBadRequest || !strings.Contains(body, `id="`+tt.errID+`"`) {
				t.Errorf("%d, field error %s shown: %v", st, tt.errID, strings.Contains(body, tt.errID))
			}
			if !strings.Contains(body, `value="`+tt.kv[1]+`"`) {
				t.Errorf("the typed value is not shown again")
			}
			if al := alerts(id); al.LowBelow != ledger.MustParseAmount("20") || !al.LowFired || al.HasTopUp {
				t.Errorf("changed by a refused form: %+v", al)
			}
		})
	}
	if st, _, _ := olga.do("POST", "/console/accounts/"+id+"/alerts", form(csrf, "low_below", "1"), map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
		t.Errorf("cross-site alerts: %d, want 403", st)
	}
	vic := newBrowser(t, s)
	vic.login("vic", "vic-password")
	_, _, vp := vic.do("GET", "/console/accounts/"+id, nil, nil)
	if strings.Contains(vp, `id="alerts-form"`) || !strings.Contains(vp, `id="alert-low-state">fired<`) {
		t.Errorf("the viewer sees the alerts form, or not the state")
	}
	if st, _, _ := vic.do("POST", "/console/accounts/"+id+"/alerts", form(find(t, csrfRe, vp), "low_below", "1"), nil); st != http.StatusForbidden {
		t.Errorf("viewer's alerts: %d, want 403", st)
	}
	if al := alerts(id); al.LowBelow != ledger.MustParseAmount("20") || !al.Depleted {
		t.Errorf("changed by refused posts: %+v", al)
	}
	// Turning everything off: every "below" empty, no box ticked.
	if st, _, _ := olga.do("POST", "/console/accounts/"+id+"/alerts", form(csrf), nil); st != http.StatusSeeOther {
		t.Fatalf("clear alerts: %d", st)
	}
	if al := alerts(id); al.Any() {
		t.Errorf("alerts still set: %+v", al)
	}
	if st, _, _ := olga.do("GET", "/console/accounts/"+id+"?events_after=x", nil, nil); st != http.StatusBadRequest {
		t.Errorf("a bad events cursor: %d, want 400", st)
	}
}
