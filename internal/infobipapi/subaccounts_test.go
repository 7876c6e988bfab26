package infobipapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// subFixture is two customers: Acme (acc_acme, user acme) with an own-funded
// sub-account (acc_acme_team_a, user teama) and a shared one (acc_acme_team_b,
// user teamb), and Other (acc_other, user other) with a sub-account of its own
// (acc_other_sub). Ids are fixed so the golden bodies are stable.
func subFixture(t *testing.T) *testkit.Stack {
	return subFixtureOn(t, testkit.New(t))
}

// subFixtureOn is subFixture on a given stack (testkit.NewPostgres for one).
func subFixtureOn(t *testing.T, s *testkit.Stack) *testkit.Stack {
	ctx := context.Background()
	for _, c := range []engine.CreateAccount{
		{ID: "acc_acme", Name: "Acme", Currency: "EUR"},
		{ID: "acc_acme_team_a", Name: "Team A", Parent: "acc_acme", Funding: ledger.FundingOwn},
		{ID: "acc_acme_team_b", Name: "Team B", Parent: "acc_acme", Funding: ledger.FundingShared},
		{ID: "acc_other", Name: "Other", Currency: "EUR"},
		{ID: "acc_other_sub", Name: "Other's team", Parent: "acc_other", Funding: ledger.FundingOwn},
	} {
		if _, err := s.Engine.Do(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	for acc, user := range map[string]string{"acc_acme": "acme", "acc_acme_team_a": "teama", "acc_acme_team_b": "teamb", "acc_other": "other"} {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"`+user+`","password":"password1"}`, nil)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/acc_acme/top-ups", `{"amount":"47.79134"}`, testkit.Key("seed"))
	s.MustAdmin(201, "POST", "/v1/transfers", `{"from":"acc_acme","to":"acc_acme_team_a","amount":"7.5"}`, testkit.Key("budget"))
	return s
}

func TestSubAccountGolden(t *testing.T) {
	s := subFixture(t)
	acme, teamA := basic("acme", "password1"), basic("teama", "password1")
	json, xml := "application/json", "application/xml"
	put := func(body string) []byte { return []byte(body) }
	tests := []struct {
		name, method, path, auth, accept string
		body                             []byte
		status                           int
	}{
		{"sub_accounts_json", "GET", "/settings/1/accounts", acme, "", nil, 200},
		{"sub_accounts_xml", "GET", "/settings/1/accounts", acme, xml, nil, 200},
		{"sub_accounts_xml", "GET", "/settings/1/accounts.xml", acme, "", nil, 200},
		{"sub_accounts_one_json", "GET", "/settings/1/accounts?name=Team%20B&enabled=true", acme, json, nil, 200},
		{"sub_accounts_one_json", "GET", "/settings/1/accounts?limit=1&name=Team%20B", acme, json, nil, 200},
		{"sub_accounts_none_json", "GET", "/settings/1/accounts?enabled=false", acme, json, nil, 200},
		{"sub_accounts_none_json", "GET", "/settings/1/accounts", teamA, json, nil, 200}, // one level deep
		{"sub_accounts_none_xml", "GET", "/settings/1/accounts?name=nobody", acme, xml, nil, 200},
		{"sub_accounts_bad_limit_json", "GET", "/settings/1/accounts?limit=0", acme, json, nil, 400},
		{"sub_accounts_bad_enabled_xml", "GET", "/settings/1/accounts?enabled=maybe", acme, xml, nil, 400},
		{"update_sub_account_json", "PUT", "/settings/1/accounts/acc_acme_team_b", acme, json, put(`{"name":"Team B2","enabled":false}`), 200},
		{"update_sub_account_xml", "PUT", "/settings/1/accounts/acc_acme_team_b", acme, xml, put(`{"name":"Team B2","enabled":false}`), 200},
		{"update_sub_account_empty_json", "PUT", "/settings/1/accounts/acc_acme_team_b", acme, json, put(`{}`), 400},
		{"update_sub_account_bad_body_xml", "PUT", "/settings/1/accounts/acc_acme_team_b", acme, xml, put(`name=x`), 400},
		{"update_sub_account_bad_name_json", "PUT", "/settings/1/accounts/acc_acme_team_b", acme, json, put(`{"name":""}`), 400},
		// Never another's, nor the caller's own, nor a sibling or the parent: 404.
		{"sub_account_not_found_json", "PUT", "/settings/1/accounts/acc_other_sub", acme, json, put(`{"enabled":false}`), 404},
		{"sub_account_not_found_json", "PUT", "/settings/1/accounts/acc_other", acme, json, put(`{"enabled":false}`), 404},
		{"sub_account_not_found_json", "PUT", "/settings/1/accounts/acc_unknown", acme, json, put(`{"enabled":false}`), 404},
		{"sub_account_not_found_json", "PUT", "/settings/1/accounts/acc_acme", acme, json, put(`{"enabled":false}`), 404},
		{"sub_account_not_found_json", "PUT", "/settings/1/accounts/acc_acme_team_b", teamA, json, put(`{"enabled":true}`), 404},
		{"sub_account_not_found_xml", "PUT", "/settings/1/accounts/acc_acme", teamA, xml, put(`{"name":"mine now"}`), 404},
		{"sub_accounts_method_json", "POST", "/settings/1/accounts", acme, json, nil, 405},
		{"sub_accounts_method_json", "GET", "/settings/1/accounts/acc_acme_team_a", acme, json, nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.method+tt.path+"/"+tt.accept, func(t *testing.T) {
			h := map[string]string{"Authorization": tt.auth}
			if tt.accept != "" {
				h["Accept"] = tt.accept
			}
			if tt.body != nil {
				h["Content-Type"] = "application/json"
			}
			r := testkit.Do(t, tt.method, s.Public.URL+tt.path, h, tt.body)
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", r.Status, tt.status, r.Body)
			}
			checkGolden(t, tt.name, r.Header.Get("Content-Type"), r.Body)
		})
	}
	// Nothing that was refused changed anything: only Team B was renamed and
	// disabled (twice, to the same).
	for _, id := range []string{"acc_other_sub", "acc_other", "acc_acme", "acc_acme_team_a"} {
		if a, _ := s.Engine.Account(id); a.Disabled || strings.Contains(a.Name, "mine") {
			t.Errorf("%s changed: %+v", id, a)
		}
	}
	if a, _ := s.Engine.Account("acc_acme_team_b"); !a.Disabled || a.Name != "Team B2" {
		t.Errorf("Team B after the update: %+v", a)
	}
}

// TestSubAccountCredentials: a shared sub-account reads the balance it draws on
// (its parent's), an own-funded one its own; a disabled sub-account's credentials
// get 403 FORBIDDEN on every account route (golden), and the operator's charges on
// it are refused; enabled again, it works again.
func TestSubAccountCredentials(t *testing.T) {
	s := subFixture(t)
	acme, teamA, teamB := basic("acme", "password1"), basic("teama", "password1"), basic("teamb", "password1")
	read := func(auth, path, accept string) testkit.Response {
		t.Helper()
		return testkit.Do(t, "GET", s.Public.URL+path, map[string]string{"Authorization": auth, "Accept": accept}, nil)
	}
	for _, c := range []struct{ auth, want string }{
		{acme, `{"balance":40.29134,"currency":"EUR"}`},
		{teamA, `{"balance":7.5,"currency":"EUR"}`},
		{teamB, `{"balance":40.29134,"currency":"EUR"}`},
	} {
		if r := read(c.auth, "/account/1/balance", "application/json"); r.Status != 200 || string(r.Body) != c.want {
			t.Errorf("balance = %d %s, want %s", r.Status, r.Body, c.want)
		}
	}
	s.MustAdmin(201, "POST", "/v1/accounts/acc_acme_team_b/charges", `{"amount":"0.29134"}`, testkit.Key("b-1"))
	if r := read(acme, "/account/1/balance", "application/json"); string(r.Body) != `{"balance":40,"currency":"EUR"}` {
		t.Errorf("the parent after its shared sub-account's charge: %s", r.Body)
	}
	off := testkit.Do(t, "PUT", s.Public.URL+"/settings/1/accounts/acc_acme_team_b", map[string]string{"Authorization": acme, "Content-Type": "application/json"}, []byte(`{"enabled":false}`))
	if off.Status != 200 {
		t.Fatalf("disable: %d %s", off.Status, off.Body)
	}
	for _, path := range []string{"/account/1/balance", "/account/1/total-balance", "/account/1/free-messages", "/settings/1/accounts"} {
		r := read(teamB, path, "application/json")
		if r.Status != 403 {
			t.Errorf("%s as a disabled sub-account: %d %s", path, r.Status, r.Body)
		}
		checkGolden(t, "forbidden_disabled_json", r.Header.Get("Content-Type"), r.Body)
	}
	checkGolden(t, "forbidden_disabled_xml", "application/xml", read(teamB, "/account/1/balance", "application/xml").Body)
	refused := s.AdminDo("POST", "/v1/accounts/acc_acme_team_b/charges", `{"amount":"1"}`, testkit.Key("b-2"))
	if refused.Status != 409 || !strings.Contains(string(refused.Body), "ACCOUNT_NOT_ACTIVE") || !strings.Contains(string(refused.Body), "disabled") {
		t.Errorf("the operator's charge of a disabled sub-account: %d %s", refused.Status, refused.Body)
	}
	hold := s.AdminDo("POST", "/v1/accounts/acc_acme_team_b/holds", `{"amount":"1","expiresIn":"60s"}`, testkit.Key("b-3"))
	if hold.Status != refused.Status {
		t.Errorf("a hold on a disabled sub-account: %d %s", hold.Status, hold.Body)
	}
	on := testkit.Do(t, "PUT", s.Public.URL+"/settings/1/accounts/acc_acme_team_b", map[string]string{"Authorization": acme, "Content-Type": "application/json"}, []byte(`{"enabled":true}`))
	if on.Status != 200 || read(teamB, "/account/1/balance", "application/json").Status != 200 {
		t.Errorf("enabled again: %d %s", on.Status, on.Body)
	}
	// The first answer under a key is final: the refused charge stays refused.
	again := s.AdminDo("POST", "/v1/accounts/acc_acme_team_b/charges", `{"amount":"1"}`, testkit.Key("b-2"))
	if again.Status != refused.Status || string(again.Body) != string(refused.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay of the refused charge: %d %s", again.Status, again.Body)
	}
	// The operator's suspension is apart from the parent's switch: enabling does
	// not lift it.
	s.MustAdmin(200, "PATCH", "/v1/accounts/acc_acme_team_a", `{"status":"suspended"}`, nil)
	testkit.Do(t, "PUT", s.Public.URL+"/settings/1/accounts/acc_acme_team_a", map[string]string{"Authorization": acme, "Content-Type": "application/json"}, []byte(`{"enabled":true}`))
	if r := read(teamA, "/account/1/balance", "application/json"); r.Status != 403 || !strings.Contains(string(r.Body), "not active") {
		t.Errorf("a suspended sub-account after its parent enabled it: %d %s", r.Status, r.Body)
	}
}
