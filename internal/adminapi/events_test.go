package adminapi_test

import (
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
