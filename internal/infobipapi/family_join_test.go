package infobipapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// onBothStores runs a test on the sub-account fixture on SQLite and on
// PostgreSQL (skipped without PURSE_TEST_POSTGRES).
func onBothStores(t *testing.T, test func(*testing.T, *testkit.Stack)) {
	t.Run("sqlite", func(t *testing.T) { test(t, subFixture(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, subFixtureOn(t, testkit.NewPostgres(t))) })
}

// TestSubAccountChangesInCustomerAudit: a sub-account made by the operator, its
// changes (the parent's PUT and the operator's PATCH) and transfers between it
// and its parent are records of the customers' audit log, under the parent, so
// the parent reads them in /audit/1/logs and the export; the operator is named
// "operator" without an address; a retried transfer is one record; another
// customer sees none of them.
func TestSubAccountChangesInCustomerAudit(t *testing.T) {
	onBothStores(t, subAccountChangesInCustomerAudit)
}

func subAccountChangesInCustomerAudit(t *testing.T, s *testkit.Stack) {
	acme := customer{s: s, id: "acc_acme", auth: basic("acme", "password1")}
	teamA := customer{s: s, id: "acc_acme_team_a", auth: basic("teama", "password1")}
	other := customer{s: s, id: "acc_other", auth: basic("other", "password1")}
	var created struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"Team C","parent":"acc_acme","funding":"own"}`, nil).JSON(t, &created)
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+created.ID, `{"name":"Team C2","enabled":false}`, nil)
	if r := acme.do(t, "PUT", "/settings/1/accounts/acc_acme_team_b", `{"name":"Team B2","enabled":false}`, nil); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	back := `{"from":"acc_acme_team_a","to":"acc_acme","amount":"2.5","reference":"month end"}`
	first := s.MustAdmin(201, "POST", "/v1/transfers", back, testkit.Key("back"))
	if again := s.MustAdmin(201, "POST", "/v1/transfers", back, testkit.Key("back")); string(again.Body) != string(first.Body) {
		t.Fatalf("replay differs: %s", again.Body)
	}
	// A refused transfer changed nothing and is not recorded.
	if r := s.AdminDo("POST", "/v1/transfers", `{"from":"acc_acme_team_a","to":"acc_acme","amount":"1000"}`, testkit.Key("too-much")); r.Status != 402 {
		t.Fatalf("overdrawn transfer: %d %s", r.Status, r.Body)
	}
	// budget (the fixture's), Create, Update+Disable (PATCH), Update+Disable (PUT), back.
	recs := waitAudit(t, acme, "", 7)
	var got []string
	for _, r := range recs {
		if r["item"] != "Account" {
			t.Errorf("record on %v, want item Account: %v", r["item"], r)
		}
		got = append(got, r["action"].(string)+" by "+r["username"].(string)+" from '"+r["ipAddress"].(string)+"'")
	}
	want := []string{"Change by operator from ''", "Create by operator from ''", "Update by operator from ''", "Disable by operator from ''",
		"Update by acme from '127.0.0.1'", "Disable by acme from '127.0.0.1'", "Change by operator from ''"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	for i, part := range []string{"7.5 EUR from 'Acme' (acc_acme) to 'Team A' (acc_acme_team_a)", "'Team C' (" + created.ID + ") created, funding own",
		"renamed to 'Team C2'", "(" + created.ID + ") disabled", "acc_acme_team_b renamed to 'Team B2'", "'Team B2' (acc_acme_team_b) disabled",
		"2.5 EUR from 'Team A' (acc_acme_team_a) to 'Acme' (acc_acme), movement mov_"} {
		if i < len(recs) && !strings.Contains(recs[i]["description"].(string), part) {
			t.Errorf("record %d: %q does not say %q", i, recs[i]["description"], part)
		}
	}
	if !strings.Contains(recs[6]["description"].(string), "reference 'month end'") {
		t.Errorf("the transfer's reference is missing: %v", recs[6])
	}
	// The export has the same records.
	r := acme.do(t, "GET", "/audit/1/logs/export?item=Account", "", nil)
	if lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n"); r.Status != 200 || len(lines) != 8 || !strings.Contains(lines[7], recs[6]["id"].(string)) {
		t.Errorf("export: %d\n%s", r.Status, r.Body)
	}
	// The sub-account reads its own (the two transfers), the other customer none.
	if mine := waitAudit(t, teamA, "Change", 2); len(mine) != 2 {
		t.Errorf("team A's records: %v", mine)
	}
	r = other.do(t, "GET", "/audit/1/logs", "", nil)
	var theirs []map[string]any
	r.JSON(t, &theirs)
	if r.Status != 200 || len(theirs) != 0 {
		t.Errorf("another customer sees: %d %s", r.Status, r.Body)
	}
	// Nothing of the operator's own log leaks: no token name, no admin route.
	b, _ := json.Marshal(recs)
	if strings.Contains(string(b), "token:") || strings.Contains(string(b), "/v1/") || strings.Contains(string(b), testkit.AdminToken) {
		t.Errorf("the customer's log shows the operator's: %s", b)
	}
}

// TestSubAccountKeys: the parent makes keys for its sub-accounts (v2 accountId,
// v1 path), reads, updates and lists them, and reads the sub-accounts' audit
// records; a key made for a sub-account is the sub-account's (an own-funded one
// reads its balance, a shared one its parent's); a sub-account's credential
// gets 404 on its parent's and its sibling's keys, and the parent 404 on
// another customer's sub-account.
func TestSubAccountKeys(t *testing.T) { onBothStores(t, subAccountKeys) }

func subAccountKeys(t *testing.T, s *testkit.Stack) {
	acme := customer{s: s, id: "acc_acme", auth: basic("acme", "password1")}
	teamA := customer{s: s, id: "acc_acme_team_a", auth: basic("teama", "password1")}
	teamB := customer{s: s, id: "acc_acme_team_b", auth: basic("teamb", "password1")}
	parentKey := acme.createKey(t, `{"name":"acme's own"}`)
	ka := acme.createKey(t, `{"name":"for team a","accountId":"acc_acme_team_a"}`)
	if ka.AccountID != "acc_acme_team_a" {
		t.Errorf("v2 key for the sub-account: accountId %q", ka.AccountID)
	}
	r := acme.do(t, "POST", "/settings/1/accounts/acc_acme_team_b/api-keys", `{"name":"for team b"}`, nil)
	var kb struct{ Key, PublicAPIKey, AccountKey, Name string }
	r.JSON(t, &kb)
	if r.Status != 201 || kb.AccountKey != "acc_acme_team_b" || kb.PublicAPIKey == "" {
		t.Fatalf("v1 key for the sub-account: %d %s", r.Status, r.Body)
	}
	// Each key is its sub-account's: own funding reads its own balance, shared its parent's.
	for _, c := range []struct{ secret, want string }{
		{ka.APIKeySecret, `{"balance":7.5,"currency":"EUR"}`},
		{kb.PublicAPIKey, `{"balance":40.29134,"currency":"EUR"}`},
	} {
		if r := balanceWith(t, s, "App "+c.secret, map[string]string{"Accept": "application/json"}); r.Status != 200 || string(r.Body) != c.want {
			t.Errorf("balance with a sub-account's key: %d %s, want %s", r.Status, r.Body, c.want)
		}
	}
	// The parent reads, updates and lists them.
	if r := acme.do(t, "GET", "/settings/2/api-keys/"+ka.ID, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"accountId":"acc_acme_team_a"`) {
		t.Errorf("parent reads the sub-account's key: %d %s", r.Status, r.Body)
	}
	if k := acme.updateKey(t, ka.ID, `{"name":"team a ci"}`); k.Name != "team a ci" || k.AccountID != "acc_acme_team_a" {
		t.Errorf("parent updates the sub-account's key: %+v", k)
	}
	if r := acme.do(t, "PUT", "/settings/1/accounts/acc_acme_team_b/api-keys/"+kb.Key, `{"name":"team b ci"}`, nil); r.Status != 200 || !strings.Contains(string(r.Body), "team b ci") {
		t.Errorf("parent updates over v1: %d %s", r.Status, r.Body)
	}
	var list struct{ APIKeys []keyV2 }
	acme.do(t, "GET", "/settings/2/api-keys?accountId=acc_acme_team_a", "", nil).JSON(t, &list)
	if len(list.APIKeys) != 1 || list.APIKeys[0].ID != ka.ID {
		t.Errorf("parent lists team a's keys: %+v", list)
	}
	if r := acme.do(t, "GET", "/settings/1/accounts/acc_acme_team_b/api-keys", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), kb.Key) || strings.Contains(string(r.Body), parentKey.ID) {
		t.Errorf("parent lists team b's keys over v1: %d %s", r.Status, r.Body)
	}
	// The parent reads the sub-accounts' records (key changes, a sub-account's login).
	testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"}, []byte(`{"username":"teama","password":"password1"}`))
	if logins := waitAudit(t, acme, "Login", 1); logins[0]["username"] != "teama" {
		t.Errorf("the sub-account's login in the parent's log: %v", logins)
	}
	keyRecs := waitAudit(t, acme, "", 0)
	var aboutSubs int
	for _, rec := range keyRecs {
		if rec["item"] == "ApiKey" && (strings.Contains(rec["description"].(string), ka.ID) || strings.Contains(rec["description"].(string), kb.Key)) {
			aboutSubs++
		}
	}
	if aboutSubs != 4 {
		t.Errorf("%d records of the sub-accounts' keys in the parent's log, want 4 (two creates, two updates): %v", aboutSubs, keyRecs)
	}
	// A sub-account's credential: 404 on its parent's keys and its sibling's.
	for _, tt := range []struct {
		c                  customer
		method, path, body string
	}{
		{teamA, "GET", "/settings/2/api-keys/" + parentKey.ID, ""},
		{teamA, "PUT", "/settings/2/api-keys/" + parentKey.ID, `{"enabled":false}`},
		{teamA, "GET", "/settings/2/api-keys?accountId=acc_acme", ""},
		{teamA, "GET", "/settings/1/accounts/acc_acme/api-keys", ""},
		{teamA, "GET", "/settings/2/api-keys/" + ka.ID + "x", ""},
		{teamB, "GET", "/settings/2/api-keys/" + ka.ID, ""},
		{teamB, "GET", "/settings/2/api-keys?accountId=acc_acme_team_a", ""},
		{teamB, "POST", "/settings/2/api-keys", `{"name":"planted","accountId":"acc_acme_team_a"}`},
		{teamA, "GET", "/settings/1/accounts/acc_acme_team_b/api-keys/" + kb.Key, ""},
		{teamA, "PUT", "/settings/1/accounts/acc_acme_team_b/api-keys/" + kb.Key, `{"enabled":false}`},
		// Another customer's sub-account, to the parent.
		{acme, "GET", "/settings/2/api-keys?accountId=acc_other_sub", ""},
		{acme, "POST", "/settings/2/api-keys", `{"name":"planted","accountId":"acc_other_sub"}`},
		{acme, "GET", "/settings/1/accounts/acc_other_sub/api-keys", ""},
		{acme, "POST", "/settings/1/accounts/acc_other_sub/api-keys", `{"name":"planted"}`},
	} {
		r := tt.c.do(t, tt.method, tt.path, tt.body, nil)
		var e struct{ ErrorCode string }
		r.JSON(t, &e)
		if r.Status != 404 || e.ErrorCode != "E404" {
			t.Errorf("%s %s %s: %d %s, want E404", tt.c.id, tt.method, tt.path, r.Status, r.Body)
		}
	}
	// The keys the refusals aimed at are untouched.
	if r := acme.do(t, "GET", "/settings/2/api-keys/"+parentKey.ID, "", nil); !strings.Contains(string(r.Body), `"enabled":true`) {
		t.Errorf("parent's key after the refusals: %s", r.Body)
	}
	if r := acme.do(t, "GET", "/settings/1/accounts/acc_acme_team_b/api-keys/"+kb.Key, "", nil); !strings.Contains(string(r.Body), `"enabled":true`) {
		t.Errorf("team b's key after the refusals: %s", r.Body)
	}
}

// subCredentials are one sub-account's credentials of every kind, each with
// the scopes the family's routes need.
func subCredentials(t *testing.T, s *testkit.Stack, parent customer, account, user, password string) map[string]string {
	t.Helper()
	k := parent.createKey(t, `{"name":"all of `+account+`","accountId":"`+account+`","scopeGuids":["account-management:manage","audit-logs:read"]}`)
	return map[string]string{"App": "App " + k.APIKeySecret, "Basic": basic(user, password),
		"IBSSO": "IBSSO " + sessionToken(t, s, user, password), "Bearer": "Bearer " + oauthToken(t, s, account)}
}

func sessionToken(t *testing.T, s *testkit.Stack, user, password string) string {
	t.Helper()
	r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"username":"`+user+`","password":"`+password+`"}`))
	var sess struct{ Token string }
	r.JSON(t, &sess)
	if r.Status != 200 || sess.Token == "" {
		t.Fatalf("session of %s: %d %s", user, r.Status, r.Body)
	}
	return sess.Token
}

// oauthToken makes an OAuth2 client of account (both scopes) and a token of it.
func oauthToken(t *testing.T, s *testkit.Stack, account string) string {
	t.Helper()
	var oc struct{ ClientID, ClientSecret string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+account+"/oauth-clients", `{"name":"c","scopes":["account-management:manage","audit-logs:read"]}`, nil).JSON(t, &oc)
	r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		[]byte("grant_type=client_credentials&client_id="+oc.ClientID+"&client_secret="+oc.ClientSecret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &tok)
	if r.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("token of %s: %d %s", account, r.Status, r.Body)
	}
	return tok.AccessToken
}

// familyRoutes are the family's routes that take a credential, with a body
// where they need one, and whether App keys may use them.
var familyRoutes = []struct {
	method, path, body string
	app                bool
}{
	{"GET", "/account/1/balance", "", true},
	{"GET", "/account/1/total-balance", "", true},
	{"GET", "/account/1/free-messages", "", true},
	{"GET", "/settings/1/accounts", "", true},
	{"PUT", "/settings/1/accounts/acc_acme_team_a", `{"enabled":true}`, true},
	{"GET", "/audit/1/logs", "", true},
	{"GET", "/audit/1/logs/export", "", true},
	{"GET", "/settings/2/api-keys", "", false},
	{"POST", "/settings/2/api-keys", `{"name":"while off"}`, false},
	{"GET", "/settings/2/api-keys/key_any", "", false},
	{"PUT", "/settings/2/api-keys/key_any", `{"name":"x"}`, false},
	{"GET", "/settings/1/accounts/_/api-keys", "", false},
	{"POST", "/settings/1/accounts/_/api-keys", `{"name":"while off"}`, false},
	{"GET", "/settings/1/accounts/_/api-keys/key_any", "", false},
	{"PUT", "/settings/1/accounts/_/api-keys/key_any", `{"name":"x"}`, false},
}

// TestDisabledSubAccountEveryCredential: while its parent has it disabled, a
// sub-account's API key, Basic user, session and OAuth2 token get 403 FORBIDDEN
// ("disabled by its parent account") on every route of the family that takes a
// credential, in the route's error shape, and change nothing; its charges and
// holds are refused. A session and a token made while it is off work once it is
// on again, as do the older ones, from the next request.
func TestDisabledSubAccountEveryCredential(t *testing.T) {
	onBothStores(t, disabledSubAccountEveryCredential)
}

func disabledSubAccountEveryCredential(t *testing.T, s *testkit.Stack) {
	acme := customer{s: s, id: "acc_acme", auth: basic("acme", "password1")}
	creds := subCredentials(t, s, acme, "acc_acme_team_b", "teamb", "password1")
	if r := acme.do(t, "PUT", "/settings/1/accounts/acc_acme_team_b", `{"enabled":false}`, nil); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	// Logging in still works (docs/subaccounts.md); what it gives is refused too.
	creds["IBSSO (made while off)"] = "IBSSO " + sessionToken(t, s, "teamb", "password1")
	creds["Bearer (made while off)"] = "Bearer " + oauthToken(t, s, "acc_acme_team_b")
	for kind, auth := range creds {
		for _, rt := range familyRoutes {
			h := map[string]string{"Authorization": auth, "Accept": "application/json"}
			if rt.body != "" {
				h["Content-Type"] = "application/json"
			}
			r := testkit.Do(t, rt.method, s.Public.URL+rt.path, h, []byte(rt.body))
			if r.Status != 403 {
				t.Errorf("%s %s %s: %d %s, want 403", kind, rt.method, rt.path, r.Status, r.Body)
				continue
			}
			if (rt.app || kind != "App") && !strings.Contains(string(r.Body), "disabled by its parent account") {
				t.Errorf("%s %s %s: 403 without the reason: %s", kind, rt.method, rt.path, r.Body)
			}
		}
	}
	for path, body := range map[string]string{"/charges": `{"amount":"1"}`, "/holds": `{"amount":"1","expiresIn":"60s"}`} {
		r := s.AdminDo("POST", "/v1/accounts/acc_acme_team_b"+path, body, testkit.Key("off"+path[1:]))
		if r.Status != 409 || !strings.Contains(string(r.Body), "ACCOUNT_NOT_ACTIVE") {
			t.Errorf("%s on the disabled sub-account: %d %s", path, r.Status, r.Body)
		}
	}
	var keys struct{ APIKeys []keyV2 }
	acme.do(t, "GET", "/settings/2/api-keys?accountId=acc_acme_team_b", "", nil).JSON(t, &keys)
	if len(keys.APIKeys) != 1 {
		t.Errorf("keys made while off: %+v", keys.APIKeys)
	}
	if r := acme.do(t, "PUT", "/settings/1/accounts/acc_acme_team_b", `{"enabled":true}`, nil); r.Status != 200 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	for kind, auth := range creds {
		if r := balanceWith(t, s, auth, map[string]string{"Accept": "application/json"}); r.Status != 200 || string(r.Body) != `{"balance":40.29134,"currency":"EUR"}` {
			t.Errorf("%s after enabling: %d %s", kind, r.Status, r.Body)
		}
	}
	s.MustAdmin(201, "POST", "/v1/accounts/acc_acme_team_b/charges", `{"amount":"0.29134"}`, testkit.Key("on-charge"))
}

// TestSubAccountRoutesScopes: the sub-account routes need
// account-management:manage: an SMS-only key (sms:message:send) gets 403 naming
// it and changes nothing, while every credential kind the spec's security list
// allows for them (App, Basic, IBSSO, OAuth2) lists and updates.
func TestSubAccountRoutesScopes(t *testing.T) { onBothStores(t, subAccountRoutesScopes) }

func subAccountRoutesScopes(t *testing.T, s *testkit.Stack) {
	acme := customer{s: s, id: "acc_acme", auth: basic("acme", "password1")}
	sms := acme.createKey(t, `{"name":"sms only","scopeGuids":["sms:message:send"]}`)
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/settings/1/accounts", ""},
		{"PUT", "/settings/1/accounts/acc_acme_team_a", `{"name":"by sms key","enabled":false}`},
	} {
		r := acme.do(t, rt.method, rt.path, rt.body, map[string]string{"Authorization": "App " + sms.APIKeySecret})
		if r.Status != 403 || !strings.Contains(string(r.Body), "account-management:manage") || !strings.Contains(string(r.Body), `"messageId":"FORBIDDEN"`) {
			t.Errorf("SMS-only key, %s %s: %d %s", rt.method, rt.path, r.Status, r.Body)
		}
	}
	if a, _ := s.Engine.Account("acc_acme_team_a"); a.Name != "Team A" || a.Disabled {
		t.Errorf("the SMS-only key changed the sub-account: %+v", a)
	}
	k := acme.createKey(t, `{"name":"manager","scopeGuids":["account-management:manage"]}`)
	kinds := map[string]string{"App": "App " + k.APIKeySecret, "Basic": acme.auth,
		"IBSSO": "IBSSO " + sessionToken(t, s, "acme", "password1"), "Bearer": "Bearer " + oauthToken(t, s, "acc_acme")}
	for kind, auth := range kinds {
		h := map[string]string{"Authorization": auth}
		var list struct{ Accounts []struct{ Key, Name string } }
		r := acme.do(t, "GET", "/settings/1/accounts", "", h)
		r.JSON(t, &list)
		if r.Status != 200 || len(list.Accounts) != 2 {
			t.Errorf("%s lists: %d %s", kind, r.Status, r.Body)
		}
		if r := acme.do(t, "PUT", "/settings/1/accounts/acc_acme_team_a", `{"name":"Team A by `+kind+`"}`, h); r.Status != 200 {
			t.Errorf("%s updates: %d %s", kind, r.Status, r.Body)
		} else if a, _ := s.Engine.Account("acc_acme_team_a"); a.Name != "Team A by "+kind {
			t.Errorf("%s's update did not take: %+v", kind, a)
		}
	}
}
