package adminapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAuditLog performs admin actions and reads them back from GET /v1/audit:
// who (a token fingerprint), what, on what, from where and the result; reads are
// not actions, refused tokens are recorded; the table refuses changes.
func TestAuditLog(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Audited", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"5"}`, testkit.Key("a"))
	s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"6"}`, testkit.Key("b"))
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc, "", nil) // a read: not an action
	testkit.Do(t, "DELETE", s.Admin.URL+"/v1/accounts/"+acc+"/users/x", map[string]string{"Authorization": "Bearer wrong"}, nil)
	var page struct {
		Records []struct {
			Sequence                      int64
			Actor, Action, Target, Remote string
			Status                        int
			At                            string
		}
		NextCursor string
	}
	s.MustAdmin(200, "GET", "/v1/audit?limit=3", "", nil).JSON(t, &page)
	if len(page.Records) != 3 || page.NextCursor == "" {
		t.Fatalf("first page: %+v", page)
	}
	got := []string{}
	for _, r := range page.Records {
		got = append(got, r.Action+" "+r.Actor[:6]+" "+strings.TrimPrefix(r.Target, "/v1/accounts/"+acc)+" "+string(rune('0'+r.Status/100)))
		if r.Remote != "127.0.0.1" || r.At == "" {
			t.Errorf("record %+v", r)
		}
	}
	want := []string{
		"DELETE /v1/accounts/{id}/users/{username} unauth /users/x 4",
		"POST /v1/accounts/{id}/charges token: /charges 4",
		"POST /v1/accounts/{id}/top-ups token: /top-ups 2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.MustAdmin(200, "GET", "/v1/audit?cursor="+page.NextCursor, "", nil).JSON(t, &page)
	if len(page.Records) != 1 || page.Records[0].Action != "POST /v1/accounts" {
		t.Errorf("second page: %+v", page.Records)
	}
	s.Close()
	db, err := sql.Open("sqlite", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit SET status = 200`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("audit update: %v", err)
	}
}

// TestUnauthenticatedFloodIsAggregated sends a flood of requests with wrong tokens
// (and none) from one address: the audit log keeps the first of each minute and
// then one record counting the rest, not one record per request.
func TestUnauthenticatedFloodIsAggregated(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Flooded", "EUR")
	for i := 0; i < 300; i++ {
		h := map[string]string{"Authorization": fmt.Sprintf("Bearer wrong-%d", i)}
		if i%3 == 0 {
			h = nil
		}
		testkit.Do(t, "POST", s.Admin.URL+"/v1/accounts/"+acc+"/top-ups", h, []byte(`{"amount":"1"}`))
		testkit.Do(t, "POST", s.Admin.URL+"/v1/nowhere", h, nil)
	}
	s.Audit.Close() // ends the minute: the count is written
	recs, err := s.Store.ListAudit(context.Background(), ledger.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Per minute (a slow run may span two): the first request as it came, and one
	// record counting the rest; together they account for all 600.
	var unauth []string
	firsts, counted := 0, 0
	for _, r := range recs {
		if r.Actor != "unauthenticated" {
			continue
		}
		unauth = append(unauth, r.Action+" | "+r.Target)
		var n int
		if _, err := fmt.Sscanf(r.Target, "%d more unauthenticated requests", &n); err == nil {
			counted += n
		} else {
			firsts++
		}
	}
	if len(unauth) > 4 || firsts+counted != 600 || len(unauth) != 2*firsts {
		t.Errorf("600 unauthenticated requests left %d audit records (%d first, %d counted), want the first and a count of the rest per minute:\n%s",
			len(unauth), firsts, counted, strings.Join(unauth, "\n"))
	}
}
