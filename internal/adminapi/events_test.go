package adminapi_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAlertsOverHTTP: thresholds are set and read on the admin API, a commit that
// crosses them shows them fired, and bad settings are refused with a field error
// and change nothing.
func TestAlertsOverHTTP(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("Alerted", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"100"}`, testkit.Key("t1"))
	path := "/v1/accounts/" + acc + "/alerts"
	settings := `{"lowBalance":{"below":"10","margin":"5"},"depleted":true,"monthlyLimit":true,"autoTopUp":{"below":"5","topUpTo":"50","maxPerDay":2}}`
	var got struct {
		AccountID  string `json:"accountId"`
		LowBalance *struct{ Below, Margin string }
		Depleted   bool
		State      struct {
			LowBalance, Depleted, AutoTopUp string
			TopUpsToday                     int
		}
	}
	s.MustAdmin(200, "PUT", path, settings, nil).JSON(t, &got)
	if got.AccountID != acc || got.LowBalance == nil || got.LowBalance.Below != "10" || got.State.LowBalance != "armed" || got.State.AutoTopUp != "armed" {
		t.Fatalf("PUT alerts: %+v", got)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"lowBalance":{"below":"-1"}}`, "lowBalance.below"},
		{`{"lowBalance":{"below":"1","margin":"-0.5"}}`, "lowBalance.margin"},
		{`{"lowBalance":{"margin":"1"}}`, "lowBalance.below"},
		{`{"lowBalance":{"below":"ten"}}`, "lowBalance.below"},
		{`{"autoTopUp":{"below":"-5","topUpTo":"50"}}`, "autoTopUp.below"},
		{`{"autoTopUp":{"below":"5","topUpTo":"5"}}`, "autoTopUp.topUpTo"},
		{`{"autoTopUp":{"below":"5","topUpTo":"9","maxPerDay":0}}`, "autoTopUp.maxPerDay"},
	} {
		var env envelope
		s.MustAdmin(400, "PUT", path, tc.body, nil).JSON(t, &env)
		if msgs := env.RequestError.ServiceException.ValidationErrors[tc.field]; len(msgs) == 0 {
			t.Errorf("%s: no error on %s: %+v", tc.body, tc.field, env.RequestError.ServiceException)
		}
	}
	s.MustAdmin(400, "PUT", path, `{"lowBalance":{"below":"1"},"unknown":1}`, nil)
	s.MustAdmin(404, "PUT", "/v1/accounts/acc_missing/alerts", settings, nil)
	s.MustAdmin(200, "GET", path, "", nil).JSON(t, &got)
	if got.LowBalance == nil || got.LowBalance.Below != "10" || !got.Depleted {
		t.Fatalf("bad input changed the thresholds: %+v", got)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"96"}`, testkit.Key("c1"))
	s.MustAdmin(200, "GET", path, "", nil).JSON(t, &got)
	if got.State.LowBalance != "fired" || got.State.AutoTopUp != "fired" || got.State.Depleted != "armed" || got.State.TopUpsToday != 1 {
		t.Fatalf("after crossing: %+v", got.State)
	}
}

type eventPage struct {
	Events []struct {
		Sequence  int64
		ID, Type  string
		AccountID string
		Data      map[string]any
	}
	Next int64
}

// TestEventsFeed: the feed returns committed events after a cursor, filters by
// type and account, long-polls until a commit wakes it, keeps its cursor across a
// restart, and refuses bad parameters with a field error.
func TestEventsFeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "purse.db")
	s := testkit.Open(t, path, testkit.Options{})
	a, b := s.CreateAccount("A", "EUR"), s.CreateAccount("B", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+a+"/top-ups", `{"amount":"10"}`, testkit.Key("a1"))
	s.MustAdmin(402, "POST", "/v1/accounts/"+a+"/charges", `{"amount":"11"}`, testkit.Key("a2"))
	s.MustAdmin(201, "POST", "/v1/accounts/"+b+"/top-ups", `{"amount":"5"}`, testkit.Key("b1"))
	var page eventPage
	s.MustAdmin(200, "GET", "/v1/events", "", nil).JSON(t, &page)
	var types []string
	for _, e := range page.Events {
		types = append(types, e.Type+" "+e.AccountID)
	}
	if want := []string{"account.created " + a, "account.created " + b, "entry.created " + a, "entry.created " + b}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", types, want)
	}
	if page.Next != page.Events[3].Sequence || page.Events[2].Data["balanceAfter"] != "10" {
		t.Fatalf("page %+v", page)
	}
	s.MustAdmin(200, "GET", fmt.Sprintf("/v1/events?after=%d&types=entry.created&account=%s", page.Events[0].Sequence, b), "", nil).JSON(t, &page)
	if len(page.Events) != 1 || page.Events[0].AccountID != b {
		t.Fatalf("filtered: %+v", page)
	}
	cursor := page.Next
	var none eventPage // nothing wanted: the cursor still moves past what was scanned
	s.MustAdmin(200, "GET", "/v1/events?types=balance.low", "", nil).JSON(t, &none)
	if len(none.Events) != 0 || none.Next != cursor {
		t.Fatalf("no balance.low: %+v, want next %d (the head)", none, cursor)
	}

	// A long poll returns as soon as a commit makes an event.
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.MustAdmin(201, "POST", "/v1/accounts/"+a+"/charges", `{"amount":"1"}`, testkit.Key("a3"))
	}()
	start := time.Now()
	s.MustAdmin(200, "GET", fmt.Sprintf("/v1/events?after=%d&wait=20s", cursor), "", nil).JSON(t, &page)
	if len(page.Events) != 1 || page.Events[0].Type != "entry.created" || time.Since(start) > 10*time.Second {
		t.Fatalf("long poll: %+v after %v", page, time.Since(start))
	}
	start = time.Now()
	s.MustAdmin(200, "GET", fmt.Sprintf("/v1/events?after=%d&wait=300ms", page.Next), "", nil).JSON(t, &page)
	if len(page.Events) != 0 || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("an empty long poll: %+v after %v", page, time.Since(start))
	}

	// The cursor means the same after a restart.
	s.Close()
	s = testkit.Open(t, path, testkit.Options{})
	s.MustAdmin(201, "POST", "/v1/accounts/"+b+"/charges", `{"amount":"1"}`, testkit.Key("b2"))
	s.MustAdmin(200, "GET", fmt.Sprintf("/v1/events?after=%d", page.Next), "", nil).JSON(t, &page)
	if len(page.Events) != 1 || page.Events[0].AccountID != b {
		t.Fatalf("after a restart: %+v", page)
	}

	for _, tc := range []struct{ query, field string }{
		{"after=-1", "after"}, {"after=x", "after"}, {"types=entry.created,balance.high", "types"},
		{"limit=0", "limit"}, {"limit=1001", "limit"}, {"wait=-1s", "wait"}, {"wait=soon", "wait"},
		// A cursor past the head (another store's, or this one's before a restore)
		// would skip the events up to it without a word.
		{fmt.Sprintf("after=%d", page.Next+100), "after"}, {fmt.Sprintf("after=%d&wait=5s", page.Next+1), "after"},
	} {
		var env envelope
		s.MustAdmin(400, "GET", "/v1/events?"+tc.query, "", nil).JSON(t, &env)
		if len(env.RequestError.ServiceException.ValidationErrors[tc.field]) == 0 {
			t.Errorf("%s: no error on %s: %+v", tc.query, tc.field, env.RequestError.ServiceException)
		}
	}
}

// TestEventsPruned: the app prunes events older than the retention, by its clock,
// and nothing of the ledger.
func TestEventsPruned(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("Old", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"5"}`, testkit.Key("old"))
	clock.Advance(6 * 24 * time.Hour)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("new"))
	if n := s.App.PruneEvents(t.Context(), 7*24*time.Hour); n != 0 {
		t.Fatalf("pruned %d events younger than the retention", n)
	}
	clock.Advance(2 * 24 * time.Hour)
	if n := s.App.PruneEvents(t.Context(), 7*24*time.Hour); n != 2 { // account.created and the first top-up
		t.Fatalf("pruned %d, want 2", n)
	}
	var page eventPage
	s.MustAdmin(200, "GET", "/v1/events", "", nil).JSON(t, &page)
	if len(page.Events) != 1 || page.Events[0].Data["balanceAfter"] != "6" {
		t.Fatalf("left after pruning: %+v", page)
	}
	if e, err := s.Store.Entries(t.Context(), acc); err != nil || len(e) != 2 {
		t.Fatalf("entries after pruning: %d %v", len(e), err)
	}
}

// TestSubAccountEvents: a transfer's two entries and a shared sub-account's
// charge (an entry of its parent's) come out of the feed as the admin API shows
// the entries: the transfer's other account as counterpartyId, the spender as
// subAccountId, and each event with its account's parent. Run on SQLite, whose
// event blocks refer to the entries rather than copying them, and on PostgreSQL.
func TestSubAccountEvents(t *testing.T) {
	testkit.OnBothStores(t, func(t *testing.T, s *testkit.Stack) {
		parent := s.CreateAccount("Parent", "EUR")
		s.MustAdmin(201, "POST", "/v1/accounts/"+parent+"/top-ups", `{"amount":"50"}`, testkit.Key("t"))
		var own, shared struct{ ID string }
		s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"Own","parent":"`+parent+`","funding":"own"}`, nil).JSON(t, &own)
		s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"Shared","parent":"`+parent+`","funding":"shared"}`, nil).JSON(t, &shared)
		s.MustAdmin(201, "POST", "/v1/transfers", `{"from":"`+parent+`","to":"`+own.ID+`","amount":"7"}`, testkit.Key("tr"))
		s.MustAdmin(201, "POST", "/v1/accounts/"+shared.ID+"/charges", `{"amount":"2"}`, testkit.Key("c"))
		var page struct {
			Events []struct {
				Type, AccountID, ParentID string
				Data                      struct {
					Entry struct{ Kind, Amount, AccountID, CounterpartyID, SubAccountID string }
				}
			}
		}
		s.MustAdmin(200, "GET", "/v1/events?types=entry.created&account="+parent+"&children=true", "", nil).JSON(t, &page)
		var got []string
		for _, e := range page.Events {
			d := e.Data.Entry
			got = append(got, fmt.Sprintf("%s parent=%q %s %s counterparty=%q spender=%q", e.AccountID, e.ParentID, d.Kind, d.Amount, d.CounterpartyID, d.SubAccountID))
		}
		want := []string{
			fmt.Sprintf("%s parent=\"\" top_up 50 counterparty=\"\" spender=\"\"", parent),
			fmt.Sprintf("%s parent=\"\" transfer -7 counterparty=%q spender=\"\"", parent, own.ID),
			fmt.Sprintf("%s parent=%q transfer 7 counterparty=%q spender=\"\"", own.ID, parent, parent),
			fmt.Sprintf("%s parent=\"\" charge -2 counterparty=\"\" spender=%q", parent, shared.ID),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("entry.created events:\n got %q\nwant %q", got, want)
		}
	})
}
