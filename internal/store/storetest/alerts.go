package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// alertEvents are the alert events of an account so far (entry, hold and account
// events left out), as "type" or "type percent".
func (e *env) alertEvents(id string) []ledger.Event {
	e.t.Helper()
	var out []ledger.Event
	for _, ev := range e.events(ledger.EventFilter{AccountID: id, Limit: 1 << 20}) {
		switch ev.Type {
		case ledger.EventEntryCreated, ledger.EventAccountCreated, ledger.EventAccountUpdated:
		default:
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) wantAlerts(id string, want ...ledger.EventType) []ledger.Event {
	e.t.Helper()
	got := e.alertEvents(id)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Type == want[i]
	}
	if !ok {
		var names []string
		for _, ev := range got {
			names = append(names, string(ev.Type)+" "+ev.Data)
		}
		e.t.Fatalf("alert events %q, want %q", names, want)
	}
	return got
}

// flood charges amt n times from 8 goroutines at once.
func (e *env) flood(id string, amt ledger.Amount, n int) {
	e.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := e.eng.Do(context.Background(), engine.Charge{AccountID: id, Amount: amt}, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatal(err)
	}
}

// testLowBalance: balance.low fires once at the crossing, not per charge (10,000
// charges below the threshold), survives a restart fired, and re-arms only above
// threshold + margin, with balance.recovered; depleted fires once at zero.
func testLowBalance(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("low", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("100")})
	e.must(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{HasLow: true, LowBelow: amt("10"), Margin: amt("5"), Depleted: true}})
	e.must(engine.Charge{AccountID: a, Amount: amt("85")})
	e.wantAlerts(a)
	e.must(engine.Charge{AccountID: a, Amount: amt("6")}) // available 9: crosses 10
	low := e.wantAlerts(a, ledger.EventBalanceLow)
	var data struct{ Threshold, Available, AccountID string }
	if err := json.Unmarshal([]byte(low[0].Data), &data); err != nil || data.Threshold != "10" || data.Available != "9" || data.AccountID != a {
		t.Errorf("balance.low data %s (%v)", low[0].Data, err)
	}
	e.flood(a, amt("0.0001"), 10_000) // available 8
	e.wantAlerts(a, ledger.EventBalanceLow)
	e.stop()
	e = start(t, open, c)
	e.must(engine.Charge{AccountID: a, Amount: amt("1")}) // 7: still fired after the restart
	e.must(engine.TopUp{AccountID: a, Amount: amt("8")})  // 15: not above 10 + 5
	e.wantAlerts(a, ledger.EventBalanceLow)
	e.must(engine.TopUp{AccountID: a, Amount: amt("0.000001")})
	e.wantAlerts(a, ledger.EventBalanceLow, ledger.EventBalanceRecovered)
	e.must(engine.Charge{AccountID: a, Amount: amt("15.000001")}) // 0: low and depleted in one commit
	e.wantAlerts(a, ledger.EventBalanceLow, ledger.EventBalanceRecovered, ledger.EventBalanceLow, ledger.EventBalanceDepleted)
	// The same settings again change nothing; new ones re-arm (and fire at once).
	e.must(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{HasLow: true, LowBelow: amt("10"), Margin: amt("5"), Depleted: true}})
	e.wantAlerts(a, ledger.EventBalanceLow, ledger.EventBalanceRecovered, ledger.EventBalanceLow, ledger.EventBalanceDepleted)
	e.must(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{HasLow: true, LowBelow: amt("20"), Margin: amt("5"), Depleted: true}})
	e.wantAlerts(a, ledger.EventBalanceLow, ledger.EventBalanceRecovered, ledger.EventBalanceLow, ledger.EventBalanceDepleted, ledger.EventBalanceLow)
	e.refused(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{HasLow: true, LowBelow: amt("-1")}}, nil)
	e.check()
}

// testMonthlyAlerts: monthly_limit.reached at 80 % and 100 %, once each a month;
// one commit crossing both fires both; a new month re-arms them.
func testMonthlyAlerts(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("monthly", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("1000")})
	e.must(engine.UpdateAccount{ID: a, MonthlyLimit: ptr(amt("100"))})
	e.must(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{Monthly: true}})
	e.must(engine.Charge{AccountID: a, Amount: amt("79.999999")})
	e.wantAlerts(a)
	e.must(engine.Charge{AccountID: a, Amount: amt("0.000001")})
	got := e.wantAlerts(a, ledger.EventMonthlyLimitReached)
	var data struct {
		Percent      int
		MonthlySpent string
	}
	if json.Unmarshal([]byte(got[0].Data), &data); data.Percent != 80 || data.MonthlySpent != "80" {
		t.Errorf("80 %% data %s", got[0].Data)
	}
	e.flood(a, amt("0.001"), 100)
	e.wantAlerts(a, ledger.EventMonthlyLimitReached)
	e.must(engine.Charge{AccountID: a, Amount: amt("19.9")}) // 100
	got = e.wantAlerts(a, ledger.EventMonthlyLimitReached, ledger.EventMonthlyLimitReached)
	if json.Unmarshal([]byte(got[1].Data), &data); data.Percent != 100 {
		t.Errorf("100 %% data %s", got[1].Data)
	}
	c.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	e.must(engine.Charge{AccountID: a, Amount: amt("100")}) // both at once, in the new month
	got = e.wantAlerts(a, ledger.EventMonthlyLimitReached, ledger.EventMonthlyLimitReached, ledger.EventMonthlyLimitReached, ledger.EventMonthlyLimitReached)
	if json.Unmarshal([]byte(got[2].Data), &data); data.Percent != 80 {
		t.Errorf("new month's first: %s", got[2].Data)
	}
	e.check()
}

// testTopUpRequests: crossing the rule's threshold emits one topup.requested for
// what brings available to topUpTo; the operator answers with a top-up under the
// event's id as its Idempotency-Key, and a redelivery answered again tops up
// nothing more; at most maxPerDay a day.
func testTopUpRequests(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("auto", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("20")})
	e.must(engine.SetAlerts{AccountID: a, Alerts: ledger.Alerts{HasTopUp: true, TopUpBelow: amt("10"), TopUpTo: amt("50"), TopUpMaxPerDay: 2}})
	e.must(engine.Charge{AccountID: a, Amount: amt("11")})
	e.flood(a, amt("0.01"), 100) // 8
	req := e.wantAlerts(a, ledger.EventTopUpRequested)[0]
	var data struct{ Amount, TopUpTo string }
	if json.Unmarshal([]byte(req.Data), &data); data.Amount != "41" || data.TopUpTo != "50" {
		t.Fatalf("topup.requested data %s", req.Data)
	}
	answer := func() {
		t.Helper()
		r, err := e.eng.Do(context.Background(), engine.TopUp{AccountID: a, Amount: amt(data.Amount)}, &engine.Idempotency{Key: req.ID, RequestHash: "h"})
		if err != nil || r.Outcome == nil || r.Outcome.Refusal != nil {
			t.Fatalf("top-up answering %s: %+v %v", req.ID, r, err)
		}
	}
	answer()
	answer() // the webhook delivered twice
	if got := e.balance(a); got != amt("49") {
		t.Fatalf("balance %s after answering twice, want 49 (topped up once)", got)
	}
	e.must(engine.Charge{AccountID: a, Amount: amt("45")}) // 4: the second of the day
	e.must(engine.TopUp{AccountID: a, Amount: amt("10")})  // re-armed by hand
	e.must(engine.Charge{AccountID: a, Amount: amt("5")})  // 9: the day's two are used
	e.wantAlerts(a, ledger.EventTopUpRequested, ledger.EventTopUpRequested)
	c.Advance(24 * time.Hour)
	e.must(engine.Charge{AccountID: a, Amount: amt("1")})
	e.wantAlerts(a, ledger.EventTopUpRequested, ledger.EventTopUpRequested, ledger.EventTopUpRequested)
	e.check()
}
