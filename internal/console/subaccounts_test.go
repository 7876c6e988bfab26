package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// formKey is the Idempotency-Key the page rendered into the form with that id.
func formKey(t *testing.T, body, formID string) string {
	t.Helper()
	return find(t, regexp.MustCompile(`id="`+regexp.QuoteMeta(formID)+`"[\s\S]*?name="idempotency_key" value="([^"]+)"`), body)
}

func amountOf(t *testing.T, s *testkit.Stack, id string) ledger.Amount {
	t.Helper()
	a, ok := s.Engine.Account(id)
	if !ok {
		t.Fatalf("no account %s", id)
	}
	return a.Balance
}

// subAccount makes a sub-account through the console's form and returns its id
// (the page lists it).
func subAccount(t *testing.T, s *testkit.Stack, b *browser, parent, name, funding string) string {
	t.Helper()
	_, _, page := b.do("GET", "/console/accounts/"+parent, nil, nil)
	f := url.Values{"csrf": {find(t, csrfRe, page)}, "idempotency_key": {formKey(t, page, "sub-account-form")}, "name": {name}, "funding": {funding}}
	st, h, body := b.do("POST", "/console/accounts/"+parent+"/sub-account", f, nil)
	if st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=sub-account") {
		t.Fatalf("create sub-account %s: %d %s", name, st, body)
	}
	subs, err := s.Store.SubAccounts(t.Context(), parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range subs {
		if a.Name == name {
			if string(a.Funding) != funding {
				t.Errorf("%s: funding %s, want %s", name, a.Funding, funding)
			}
			return a.ID
		}
	}
	t.Fatalf("sub-account %s not made", name)
	return ""
}

// TestSubAccountsHTTP: the account page's sub-accounts: create one of each
// funding, transfer both ways (a double submit moves money once), a shared
// one's page shows its parent's figures, entries name the sub-account that spent
// and the transfer's counterparty, enable and disable with a confirmation, and
// the viewer's, CSRF and field-error refusals.
func TestSubAccountsHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "olga", "operator")
	addOperator(s, "vic", "viewer")
	parent := s.CreateAccount("Reseller", "EUR")
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+parent+"/top-ups", `{"amount":"100"}`, map[string]string{"Idempotency-Key": "t1"})
	olga := newBrowser(t, s)
	olga.login("olga", "olga-password")
	own := subAccount(t, s, olga, parent, "Team <b>A</b>", "own")
	shared := subAccount(t, s, olga, parent, "Team B", "shared")

	_, _, page := olga.do("GET", "/console/accounts/"+parent, nil, nil)
	for _, want := range []string{`href="#sub-accounts"`, `id="sub-accounts-table"`, `href="/console/accounts/` + own + `"`, "Team &lt;b&gt;A&lt;/b&gt;", "spends this account's", `id="transfer-form"`} {
		if !strings.Contains(page, want) {
			t.Errorf("parent's page lacks %s", want)
		}
	}
	csrf := find(t, csrfRe, page)

	t.Run("transfer once", func(t *testing.T) {
		f := url.Values{"csrf": {csrf}, "idempotency_key": {formKey(t, page, "transfer-form")}, "counterparty": {own}, "direction": {"out"}, "amount": {"10"}}
		for i := 0; i < 2; i++ {
			if st, _, body := olga.do("POST", "/console/accounts/"+parent+"/transfer", f, nil); st != http.StatusSeeOther {
				t.Fatalf("transfer %d: %d %s", i, st, body)
			}
		}
		if p, c := amountOf(t, s, parent), amountOf(t, s, own); p != ledger.MustParseAmount("90") || c != ledger.MustParseAmount("10") {
			t.Fatalf("after a double-submitted transfer of 10: parent %s, sub-account %s", p, c)
		}
		// Back from the sub-account's page, to its parent.
		_, _, sub := olga.do("GET", "/console/accounts/"+own, nil, nil)
		if !strings.Contains(sub, `id="parent-link"`) || !strings.Contains(sub, `<strong id="funding">own</strong>`) {
			t.Errorf("own sub-account's page does not link its parent")
		}
		f = url.Values{"csrf": {csrf}, "idempotency_key": {formKey(t, sub, "transfer-form")}, "counterparty": {parent}, "direction": {"out"}, "amount": {"4"}}
		if st, _, body := olga.do("POST", "/console/accounts/"+own+"/transfer", f, nil); st != http.StatusSeeOther {
			t.Fatalf("transfer back: %d %s", st, body)
		}
		if p, c := amountOf(t, s, parent), amountOf(t, s, own); p != ledger.MustParseAmount("94") || c != ledger.MustParseAmount("6") {
			t.Fatalf("after 4 back: parent %s, sub-account %s", p, c)
		}
		_, _, sub = olga.do("GET", "/console/accounts/"+own, nil, nil)
		if !strings.Contains(sub, `to <a href="/console/accounts/`+parent+`">`) || !strings.Contains(sub, `from <a href="/console/accounts/`+parent+`">`) {
			t.Errorf("the sub-account's entries do not name the transfers' counterparty")
		}
	})

	t.Run("transfer refused", func(t *testing.T) {
		f := url.Values{"csrf": {csrf}, "idempotency_key": {"k-too-much"}, "counterparty": {own}, "direction": {"in"}, "amount": {"1000"}}
		if st, _, body := olga.do("POST", "/console/accounts/"+parent+"/transfer", f, nil); st != http.StatusPaymentRequired || !strings.Contains(body, `id="error"`) {
			t.Errorf("a transfer beyond the sub-account's funds: %d", st)
		}
		f = url.Values{"csrf": {csrf}, "idempotency_key": {"k-bad-amount"}, "counterparty": {own}, "direction": {"out"}, "amount": {"1.2.3"}}
		st, _, body := olga.do("POST", "/console/accounts/"+parent+"/transfer", f, nil)
		if st != http.StatusBadRequest || !strings.Contains(body, `id="transfer-amount-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("a bad amount: %d, field error shown: %v", st, strings.Contains(body, "transfer-amount-error"))
		}
		if p := amountOf(t, s, parent); p != ledger.MustParseAmount("94") {
			t.Errorf("parent %s after refused transfers", p)
		}
	})

	t.Run("shared", func(t *testing.T) {
		s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+shared+"/charges", `{"amount":"3"}`, map[string]string{"Idempotency-Key": "c1"})
		_, _, sub := olga.do("GET", "/console/accounts/"+shared, nil, nil)
		for _, want := range []string{`id="shared-note"`, `<dd id="balance-value"><span class="">91</span> EUR</dd>`, `<strong id="funding">shared</strong>`} {
			if !strings.Contains(sub, want) {
				t.Errorf("shared sub-account's page lacks %s", want)
			}
		}
		if strings.Contains(sub, `id="limits"`) || strings.Contains(sub, `id="transfer-form"`) {
			t.Errorf("a shared sub-account offers limits or transfers of its own")
		}
		_, _, p := olga.do("GET", "/console/accounts/"+parent, nil, nil)
		if !strings.Contains(p, `spent by <a href="/console/accounts/`+shared+`">`) {
			t.Errorf("the parent's entries do not name the sub-account that spent")
		}
	})

	t.Run("disable", func(t *testing.T) {
		f := url.Values{"csrf": {csrf}, "ref": {shared}}
		st, _, body := olga.do("POST", "/console/accounts/"+parent+"/disable", f, nil)
		if a, _ := s.Engine.Account(shared); st != 200 || !strings.Contains(body, `id="confirm"`) || a.Disabled {
			t.Fatalf("disable without confirmation: %d, disabled %v", st, a.Disabled)
		}
		f.Set("confirm", "yes")
		if st, _, body := olga.do("POST", "/console/accounts/"+parent+"/disable", f, nil); st != http.StatusSeeOther {
			t.Fatalf("confirmed disable: %d %s", st, body)
		}
		if a, _ := s.Engine.Account(shared); !a.Disabled {
			t.Fatalf("not disabled")
		}
		_, _, p := olga.do("GET", "/console/accounts/"+parent, nil, nil)
		if !strings.Contains(p, "no, disabled") || !strings.Contains(p, "Enable sub-account Team B") {
			t.Errorf("the list does not show it disabled")
		}
		f.Set("confirm", "yes")
		if st, _, _ := olga.do("POST", "/console/accounts/"+parent+"/enable", f, nil); st != http.StatusSeeOther {
			t.Fatalf("enable: %d", st)
		}
		if a, _ := s.Engine.Account(shared); a.Disabled {
			t.Errorf("still disabled")
		}
	})

	t.Run("create once", func(t *testing.T) {
		_, _, p := olga.do("GET", "/console/accounts/"+parent, nil, nil)
		f := url.Values{"csrf": {csrf}, "idempotency_key": {formKey(t, p, "sub-account-form")}, "name": {"Team C"}, "funding": {"own"}}
		for i := 0; i < 2; i++ {
			if st, _, body := olga.do("POST", "/console/accounts/"+parent+"/sub-account", f, nil); st != http.StatusSeeOther {
				t.Fatalf("create %d: %d %s", i, st, body)
			}
		}
		subs, _ := s.Store.SubAccounts(t.Context(), parent)
		if n := len(subs); n != 3 {
			t.Errorf("%d sub-accounts after a double-submitted third, want 3", n)
		}
		f = url.Values{"csrf": {csrf}, "idempotency_key": {"k-noname"}, "name": {""}, "funding": {"own"}}
		if st, _, body := olga.do("POST", "/console/accounts/"+parent+"/sub-account", f, nil); st != http.StatusBadRequest || !strings.Contains(body, `id="sub-name-error"`) {
			t.Errorf("a sub-account without a name: %d, field error shown %v", st, strings.Contains(body, "sub-name-error"))
		}
	})

	t.Run("viewer and csrf", func(t *testing.T) {
		vic := newBrowser(t, s)
		vic.login("vic", "vic-password")
		_, _, vp := vic.do("GET", "/console/accounts/"+parent, nil, nil)
		if strings.Contains(vp, `id="transfer-form"`) || strings.Contains(vp, `id="sub-account-form"`) || !strings.Contains(vp, `id="sub-accounts-table"`) {
			t.Errorf("the viewer sees sub-account forms, or no list")
		}
		vcsrf := find(t, csrfRe, vp)
		posts := map[string]url.Values{
			"transfer":    {"counterparty": {own}, "direction": {"out"}, "amount": {"1"}, "idempotency_key": {"k-v1"}},
			"sub-account": {"name": {"Sneaky"}, "funding": {"own"}, "idempotency_key": {"k-v2"}},
			"disable":     {"ref": {own}, "confirm": {"yes"}},
		}
		for name, f := range posts {
			f.Set("csrf", vcsrf)
			if st, _, _ := vic.do("POST", "/console/accounts/"+parent+"/"+name, f, nil); st != http.StatusForbidden {
				t.Errorf("viewer's %s: %d, want 403", name, st)
			}
			f.Set("csrf", csrf) // olga's token on olga's session, but from another site
			if st, _, _ := olga.do("POST", "/console/accounts/"+parent+"/"+name, f, map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
				t.Errorf("cross-site %s: %d, want 403", name, st)
			}
			f.Del("csrf")
			if st, _, _ := olga.do("POST", "/console/accounts/"+parent+"/"+name, f, nil); st != http.StatusForbidden {
				t.Errorf("%s without a token: %d, want 403", name, st)
			}
		}
		if p, c := amountOf(t, s, parent), amountOf(t, s, own); p != ledger.MustParseAmount("91") || c != ledger.MustParseAmount("6") {
			t.Errorf("after refused posts: parent %s, sub-account %s", p, c)
		}
		if a, _ := s.Engine.Account(own); a.Disabled {
			t.Errorf("a refused post disabled the sub-account")
		}
		if subs, _ := s.Store.SubAccounts(t.Context(), parent); len(subs) != 3 {
			t.Errorf("%d sub-accounts after refused posts", len(subs))
		}
	})
}
