package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestLimitsHTTP: the account page's limits form sets and clears the monthly
// limit, sets the allowed minus and free messages (an operator may, a viewer
// may not), and bad input comes back as a field error with nothing changed.
func TestLimitsHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "olga", "operator")
	addOperator(s, "vic", "viewer")
	id := s.CreateAccount("Shop", "EUR")
	olga := newBrowser(t, s)
	olga.login("olga", "olga-password")
	_, _, page := olga.do("GET", "/console/accounts/"+id, nil, nil)
	csrf := find(t, csrfRe, page)
	post := func(b *browser, csrf, minus, monthly, free string) (int, string) {
		f := url.Values{"csrf": {csrf}, "allowed_minus": {minus}, "monthly_limit": {monthly}, "free_messages": {free}}
		st, _, body := b.do("POST", "/console/accounts/"+id+"/limits", f, nil)
		return st, body
	}
	acc := func() ledger.Account { a, _ := s.Engine.Account(id); return a }

	if st, body := post(olga, csrf, "25.5", "300", "7"); st != http.StatusSeeOther {
		t.Fatalf("set limits: %d %s", st, body)
	}
	if a := acc(); a.AllowedMinus != ledger.MustParseAmount("25.5") || !a.HasMonthlyLimit || a.MonthlyLimit != ledger.MustParseAmount("300") || a.FreeMessages != 7 {
		t.Fatalf("after setting: %+v", a)
	}
	_, _, page = olga.do("GET", "/console/accounts/"+id, nil, nil)
	if !strings.Contains(page, `<dd id="monthly-limit-value">300</dd>`) || !strings.Contains(page, `name="monthly_limit" inputmode="decimal" value="300"`) {
		t.Errorf("the page does not show the limit it set")
	}
	if st, _ := post(olga, csrf, "25.5", "", "7"); st != http.StatusSeeOther {
		t.Fatalf("clear the monthly limit: %d", st)
	}
	if a := acc(); a.HasMonthlyLimit {
		t.Errorf("the monthly limit is still set: %s", a.MonthlyLimit)
	}

	for _, tt := range []struct {
		name, minus, monthly, free, errID string
	}{
		{"free messages not a number", "1", "", "many", "limits-free-messages-error"},
		{"negative free messages", "1", "", "-3", "limits-free-messages-error"},
		{"allowed minus not an amount", "lots", "", "1", "limits-allowed-minus-error"},
		{"monthly limit with too many digits", "1", "1.12345678901", "1", "limits-monthly-limit-error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, body := post(olga, csrf, tt.minus, tt.monthly, tt.free)
			if st != http.StatusBadRequest || !strings.Contains(body, `id="`+tt.errID+`"`) {
				t.Errorf("%d, field error %s shown: %v", st, tt.errID, strings.Contains(body, tt.errID))
			}
			if !strings.Contains(body, `value="`+tt.free+`"`) {
				t.Errorf("the typed value is not shown again")
			}
			if a := acc(); a.AllowedMinus != ledger.MustParseAmount("25.5") || a.FreeMessages != 7 || a.HasMonthlyLimit {
				t.Errorf("changed by a refused form: %+v", a)
			}
		})
	}

	vic := newBrowser(t, s)
	vic.login("vic", "vic-password")
	_, _, vp := vic.do("GET", "/console/accounts/"+id, nil, nil)
	if strings.Contains(vp, `id="limits"`) {
		t.Errorf("the viewer sees the limits form")
	}
	if st, _ := post(vic, find(t, csrfRe, vp), "999", "", "99"); st != http.StatusForbidden {
		t.Errorf("viewer's limits: %d, want 403", st)
	}
	if st, _ := post(olga, "", "999", "", "99"); st != http.StatusForbidden {
		t.Errorf("limits without a CSRF token: %d, want 403", st)
	}
	if a := acc(); a.AllowedMinus != ledger.MustParseAmount("25.5") || a.FreeMessages != 7 {
		t.Errorf("changed by refused posts: %+v", a)
	}
}

// TestHoldsHTTP: capture part of a hold, capture another whole, void a third,
// from the holds section; a viewer and a cross-site post are refused; a
// double-submitted capture captures once.
func TestHoldsHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "olga", "operator")
	addOperator(s, "vic", "viewer")
	id := s.CreateAccount("Shop", "EUR")
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+id+"/top-ups", `{"amount":"100"}`, map[string]string{"Idempotency-Key": "t1"})
	hold := func(key, amount string) string {
		var h struct{ ID string }
		s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+id+"/holds", `{"amount":"`+amount+`"}`, map[string]string{"Idempotency-Key": key}).JSON(t, &h)
		return h.ID
	}
	h1, h2, h3 := hold("h1", "20"), hold("h2", "10"), hold("h3", "5")
	olga := newBrowser(t, s)
	olga.login("olga", "olga-password")
	_, _, page := olga.do("GET", "/console/accounts/"+id, nil, nil)
	csrf := find(t, csrfRe, page)
	for _, h := range []string{h1, h2, h3} {
		if !strings.Contains(page, `id="capture-`+h+`"`) || !strings.Contains(page, `id="void-`+h+`"`) || !strings.Contains(page, `for="capture-amount-`+h+`"`) {
			t.Fatalf("hold %s has no capture and void forms", h)
		}
	}
	acc := func() ledger.Account { a, _ := s.Engine.Account(id); return a }

	vic := newBrowser(t, s)
	vic.login("vic", "vic-password")
	_, _, vp := vic.do("GET", "/console/accounts/"+id, nil, nil)
	if strings.Contains(vp, `id="capture-`+h1+`"`) {
		t.Errorf("the viewer sees capture forms")
	}
	if st, _, _ := vic.do("POST", "/console/accounts/"+id+"/capture", url.Values{"csrf": {find(t, csrfRe, vp)}, "ref": {h1}, "idempotency_key": {"k-v"}}, nil); st != http.StatusForbidden {
		t.Errorf("viewer's capture: %d, want 403", st)
	}
	if st, _, _ := olga.do("POST", "/console/accounts/"+id+"/void", url.Values{"csrf": {csrf}, "ref": {h1}}, map[string]string{"Origin": "https://evil.example"}); st != http.StatusForbidden {
		t.Errorf("cross-site void: %d, want 403", st)
	}
	for _, action := range []string{"capture", "void"} {
		if st, _, body := olga.do("POST", "/console/accounts/"+id+"/"+action, url.Values{"csrf": {csrf}, "idempotency_key": {"k-noref"}}, nil); st != http.StatusBadRequest || !strings.Contains(body, "ref is required") {
			t.Errorf("%s without a hold: %d", action, st)
		}
	}
	if st, _, body := olga.do("POST", "/console/accounts/"+id+"/capture", url.Values{"csrf": {csrf}, "ref": {h1}, "amount": {"x"}, "idempotency_key": {"k-bad"}}, nil); st != http.StatusBadRequest || !strings.Contains(body, `id="capture-amount-error"`) {
		t.Errorf("capture of amount x: %d, field error shown %v", st, strings.Contains(body, "capture-amount-error"))
	}

	partial := url.Values{"csrf": {csrf}, "ref": {h1}, "amount": {"7.5"}, "idempotency_key": {formKey(t, page, "capture-"+h1)}}
	for i := 0; i < 2; i++ {
		if st, _, body := olga.do("POST", "/console/accounts/"+id+"/capture", partial, nil); st != http.StatusSeeOther {
			t.Fatalf("partial capture %d: %d %s", i, st, body)
		}
	}
	if st, _, body := olga.do("POST", "/console/accounts/"+id+"/capture", url.Values{"csrf": {csrf}, "ref": {h2}, "idempotency_key": {formKey(t, page, "capture-"+h2)}}, nil); st != http.StatusSeeOther {
		t.Fatalf("full capture: %d %s", st, body)
	}
	if st, _, body := olga.do("POST", "/console/accounts/"+id+"/void", url.Values{"csrf": {csrf}, "ref": {h3}, "idempotency_key": {formKey(t, page, "void-"+h3)}}, nil); st != http.StatusSeeOther {
		t.Fatalf("void: %d %s", st, body)
	}
	if a := acc(); a.Balance != ledger.MustParseAmount("82.5") || a.Held != 0 {
		t.Errorf("after capturing 7.5 of 20 and all of 10, voiding 5: balance %s held %s, want 82.5 and 0", a.Balance, a.Held)
	}
	for h, want := range map[string]string{h1: "captured", h2: "captured", h3: "voided"} {
		var got struct{ Status, Captured string }
		json.Unmarshal(s.MustAdmin(http.StatusOK, "GET", "/v1/holds/"+h, "", nil).Body, &got)
		if got.Status != want {
			t.Errorf("hold %s: %s, want %s", h, got.Status, want)
		}
	}
	_, _, page = olga.do("GET", "/console/accounts/"+id, nil, nil)
	if !strings.Contains(page, "No active holds.") {
		t.Errorf("the holds section still lists holds")
	}
}
