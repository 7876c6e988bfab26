package infobipapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestSubAccountChangesInCustomerAudit: a sub-account made by the operator, its
// changes (the parent's PUT and the operator's PATCH) and transfers between it
// and its parent are records of the customers' audit log, under the parent, so
// the parent reads them in /audit/1/logs and the export; the operator is named
// "operator" without an address; a retried transfer is one record; another
// customer sees none of them.
func TestSubAccountChangesInCustomerAudit(t *testing.T) {
	s := subFixture(t)
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
