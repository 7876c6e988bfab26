package adminapi_test

import (
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestSubAccountsAdmin: sub-accounts made and listed on the admin API, bad input
// refused with the field named, and transfers exactly once over HTTP: a retry
// with the key replays the first answer byte for byte, the refusal for funds as
// much as the success, and moves nothing again.
func TestSubAccountsAdmin(t *testing.T) {
	s := testkit.New(t)
	main := s.CreateAccount("Main", "EUR")
	var own, shared struct{ ID, Parent, Funding, Currency string }
	s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"own","parent":"`+main+`","funding":"own"}`, nil).JSON(t, &own)
	s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"shared","parent":"`+main+`","funding":"shared","currency":"EUR"}`, nil).JSON(t, &shared)
	if own.Parent != main || own.Funding != "own" || own.Currency != "EUR" || shared.Funding != "shared" {
		t.Fatalf("made %+v and %+v", own, shared)
	}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"name":"x","parent":"` + main + `"}`, 400, "funding"},
		{`{"name":"x","parent":"` + main + `","funding":"half"}`, 400, "funding"},
		{`{"name":"x","currency":"EUR","funding":"own"}`, 400, "funding"},
		{`{"name":"x"}`, 400, "currency"},
		{`{"name":"x","parent":"` + own.ID + `","funding":"own"}`, 409, "one level deep"},
		{`{"name":"x","parent":"` + main + `","funding":"own","currency":"USD"}`, 409, "currency EUR"},
		{`{"name":"x","parent":"acc_nobody","funding":"own"}`, 404, "NOT_FOUND"},
		{`{"name":"x","parent":` + `1,"funding":"own"}`, 400, "parent"},
	} {
		r := s.AdminDo("POST", "/v1/accounts", c.body, nil)
		if r.Status != c.status || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s: %d %s, want %d naming %q", c.body, r.Status, r.Body, c.status, c.want)
		}
	}
	var list struct{ Accounts []struct{ ID string } }
	s.MustAdmin(200, "GET", "/v1/accounts/"+main+"/sub-accounts", "", nil).JSON(t, &list)
	if len(list.Accounts) != 2 {
		t.Errorf("sub-accounts: %+v", list)
	}
	s.MustAdmin(200, "GET", "/v1/accounts/"+own.ID+"/sub-accounts", "", nil).JSON(t, &list)
	if len(list.Accounts) != 0 {
		t.Errorf("a sub-account's sub-accounts: %+v", list)
	}
	s.MustAdmin(404, "GET", "/v1/accounts/acc_nobody/sub-accounts", "", nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+main+"/top-ups", `{"amount":"10"}`, testkit.Key("t0"))

	if r := s.AdminDo("POST", "/v1/transfers", `{"from":"`+main+`","to":"`+own.ID+`","amount":"1"}`, nil); r.Status != 400 || !strings.Contains(string(r.Body), "Idempotency-Key") {
		t.Errorf("a transfer without a key: %d %s", r.Status, r.Body)
	}
	body := `{"from":"` + main + `","to":"` + own.ID + `","amount":"4","reference":"budget"}`
	first := s.MustAdmin(201, "POST", "/v1/transfers", body, testkit.Key("tr-1"))
	again := s.MustAdmin(201, "POST", "/v1/transfers", body, testkit.Key("tr-1"))
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("transfer replay:\n%s\n%s", first.Body, again.Body)
	}
	big := `{"from":"` + own.ID + `","to":"` + main + `","amount":"5"}`
	refused := s.MustAdmin(402, "POST", "/v1/transfers", big, testkit.Key("tr-2"))
	s.MustAdmin(201, "POST", "/v1/transfers", `{"from":"`+main+`","to":"`+own.ID+`","amount":"2"}`, testkit.Key("tr-3"))
	replayed := s.MustAdmin(402, "POST", "/v1/transfers", big, testkit.Key("tr-2")) // funds are there now; the answer stays
	if string(refused.Body) != string(replayed.Body) || replayed.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("refused transfer replay:\n%s\n%s", refused.Body, replayed.Body)
	}
	s.MustAdmin(409, "POST", "/v1/transfers", `{"from":"`+main+`","to":"`+shared.ID+`","amount":"1"}`, testkit.Key("tr-4"))
	s.MustAdmin(400, "POST", "/v1/transfers", `{"from":"`+main+`","to":"`+own.ID+`","amount":"-1"}`, testkit.Key("tr-5"))
	s.MustAdmin(404, "POST", "/v1/transfers", `{"from":"`+main+`","to":"acc_nobody","amount":"1"}`, testkit.Key("tr-6"))
	bal := func(id string) string {
		var b struct{ Balance string }
		s.MustAdmin(200, "GET", "/v1/accounts/"+id+"/balance", "", nil).JSON(t, &b)
		return b.Balance
	}
	if bal(main) != "4" || bal(own.ID) != "6" {
		t.Errorf("main %s, own %s; want 4 and 6 (each transfer once)", bal(main), bal(own.ID))
	}
	var entries struct {
		Entries []struct{ Kind, Amount, CounterpartyID string }
	}
	s.MustAdmin(200, "GET", "/v1/accounts/"+own.ID+"/entries?kind=transfer", "", nil).JSON(t, &entries)
	if len(entries.Entries) != 2 || entries.Entries[0].CounterpartyID != main || entries.Entries[0].Amount != "2" {
		t.Errorf("own's transfers: %+v", entries)
	}
	// The switch is a sub-account's only.
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+shared.ID, `{"enabled":false}`, nil)
	s.MustAdmin(400, "PATCH", "/v1/accounts/"+main, `{"enabled":false}`, nil)
	s.MustAdmin(409, "PATCH", "/v1/accounts/"+shared.ID, `{"allowedMinus":"5"}`, nil)
}
