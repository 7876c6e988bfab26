package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// testOperators: operators are added once by name, found by name and by their
// token's hash, updated, listed and removed, and a token hash is held by one only.
func testOperators(t *testing.T, open func() Store) {
	st := open()
	defer st.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ann := ledger.Operator{Name: "ann", Role: ledger.RoleAdmin, PasswordHash: "$argon2id$x", CreatedAt: at}
	if err := st.InsertOperator(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertOperator(ctx, ann); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("second ann: %v, want a conflict", err)
	}
	bob := ledger.Operator{Name: "bob", Role: ledger.RoleViewer, PasswordHash: "$argon2id$y", TokenHash: "abc", CreatedAt: at}
	if err := st.InsertOperator(ctx, bob); err != nil {
		t.Fatal(err)
	}
	got, err := st.OperatorByToken(ctx, "abc")
	if err != nil || got.Name != "bob" || got.Role != ledger.RoleViewer || !got.CreatedAt.Equal(at) {
		t.Errorf("by token: %+v %v", got, err)
	}
	if _, err := st.OperatorByToken(ctx, ""); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("empty token found %v", err)
	}
	ann.TokenHash = "abc"
	if err := st.UpdateOperator(ctx, ann); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("a token held twice: %v", err)
	}
	ann.TokenHash, ann.Role, ann.PasswordHash = "def", ledger.RoleOperator, "$argon2id$z"
	if err := st.UpdateOperator(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Operator(ctx, "ann"); err != nil || got.Role != ledger.RoleOperator || got.PasswordHash != "$argon2id$z" || got.TokenHash != "def" {
		t.Errorf("after update: %+v %v", got, err)
	}
	if err := st.UpdateOperator(ctx, ledger.Operator{Name: "nobody", Role: ledger.RoleViewer}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("update nobody: %v", err)
	}
	removeOperators(t, st)
}

func removeOperators(t *testing.T, st Store) {
	ctx := context.Background()
	if err := st.DeleteOperator(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteOperator(ctx, "bob"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	list, err := st.ListOperators(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "ann" {
		t.Errorf("list: %+v %v", list, err)
	}
	// The last admin stays: removing it is a conflict, until another admin exists.
	for _, name := range []string{"root", "root2"} {
		if err := st.InsertOperator(ctx, ledger.Operator{Name: name, Role: ledger.RoleAdmin, PasswordHash: "$argon2id$x", CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteOperator(ctx, "root"); err != nil {
		t.Fatalf("removing one of two admins: %v", err)
	}
	if err := st.DeleteOperator(ctx, "root2"); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("removing the last admin: %v, want a conflict", err)
	}
	if _, err := st.Operator(ctx, "root2"); err != nil {
		t.Errorf("the last admin after a refused removal: %v", err)
	}
	if err := st.DeleteOperator(ctx, "ann"); err != nil { // not an admin: no rule
		t.Errorf("removing an operator beside the last admin: %v", err)
	}
}

// testBalanceSeries: the store's hourly history, grouped into buckets, gives each
// bucket's closing balance and its charges and top-ups, and the balance before the
// range; it survives a reopen.
func testBalanceSeries(t *testing.T, open func() Store) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c := newClock(day.Add(-2 * time.Hour)) // the day before
	e := start(t, open, c)
	id := e.account("chart", "EUR")
	e.must(engine.TopUp{AccountID: id, Amount: amt("100")})
	c.Set(day.Add(1*time.Hour + 5*time.Minute))
	e.must(engine.Charge{AccountID: id, Amount: amt("1.5")})
	e.must(engine.Charge{AccountID: id, Amount: amt("2")})
	c.Set(day.Add(3*time.Hour + 59*time.Minute))
	e.must(engine.TopUp{AccountID: id, Amount: amt("10")})
	c.Set(day.Add(7 * time.Hour))
	e.must(engine.Charge{AccountID: id, Amount: amt("0.25")})
	e.stop()
	e = start(t, open, c)
	ctx := context.Background()
	got, err := e.store.BalanceSeries(ctx, id, day, day.Add(24*time.Hour), 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.BalanceSeries{Opening: amt("100"), Points: []ledger.BalancePoint{
		{At: day, Balance: amt("96.5"), Charged: amt("3.5"), Charges: 2},
		{At: day.Add(2 * time.Hour), Balance: amt("106.5"), ToppedUp: amt("10"), TopUps: 1},
		{At: day.Add(6 * time.Hour), Balance: amt("106.25"), Charged: amt("0.25"), Charges: 1},
	}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("series (-got +want):\n%s", diff)
	}
	daily, err := e.store.BalanceSeries(ctx, id, day.Add(-24*time.Hour), day.Add(24*time.Hour), 24*time.Hour)
	if err != nil || len(daily.Points) != 2 || daily.Opening != 0 || daily.Points[0].ToppedUp != amt("100") || daily.Points[1].Charges != 3 {
		t.Errorf("daily: %+v %v", daily, err)
	}
	if none, err := e.store.BalanceSeries(ctx, "acc_nobody", day, day.Add(time.Hour), time.Hour); err != nil || len(none.Points) != 0 || none.Opening != 0 {
		t.Errorf("unknown account: %+v %v", none, err)
	}
}

// testConsoleReads: the console's searches and totals across accounts.
func testConsoleReads(t *testing.T, open func() Store) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c := newClock(day.Add(-48 * time.Hour))
	e := start(t, open, c)
	alpha := e.account("Alpha Shop", "EUR")
	beta := e.account("beta", "EUR")
	gamma := e.account("Gamma", "USD")
	closed := e.account("Closed", "USD")
	e.must(engine.TopUp{AccountID: alpha, Amount: amt("100")})
	e.must(engine.TopUp{AccountID: gamma, Amount: amt("50")})
	c.Set(day.Add(3 * time.Hour))
	e.must(engine.Charge{AccountID: alpha, Amount: amt("10")})
	e.must(engine.TopUp{AccountID: beta, Amount: amt("5")})
	e.must(engine.Charge{AccountID: beta, Amount: amt("5")})
	e.must(engine.UpdateAccount{ID: closed, Status: ptr(ledger.StatusClosed)})
	ctx := context.Background()
	names := func(accs []ledger.Account) (out []string) {
		for _, a := range accs {
			out = append(out, a.Name)
		}
		return out
	}
	for _, tc := range []struct {
		q     ledger.AccountQuery
		want  []string
		total int
	}{
		{ledger.AccountQuery{Limit: 10}, []string{"Alpha Shop", "beta", "Closed", "Gamma"}, 4},
		{ledger.AccountQuery{Text: "SHOP", Limit: 10}, []string{"Alpha Shop"}, 1},
		{ledger.AccountQuery{Text: gamma[len(gamma)-6:], Limit: 10}, []string{"Gamma"}, 1},
		{ledger.AccountQuery{Currency: "USD", Sort: "-balance", Limit: 10}, []string{"Gamma", "Closed"}, 2},
		{ledger.AccountQuery{Status: ledger.StatusClosed, Limit: 10}, []string{"Closed"}, 1},
		// beta and Closed both hold 0 and tie-break by id, which is random within a
		// millisecond: the page starts past them.
		{ledger.AccountQuery{Sort: "balance", Limit: 2, Offset: 2}, []string{"Gamma", "Alpha Shop"}, 4},
	} {
		got, total, err := e.store.SearchAccounts(ctx, tc.q)
		if err != nil || total != tc.total || !cmp.Equal(names(got), tc.want) {
			t.Errorf("%+v: %v (%d) %v, want %v (%d)", tc.q, names(got), total, err, tc.want, tc.total)
		}
	}
	if _, _, err := e.store.SearchAccounts(ctx, ledger.AccountQuery{Sort: "id; DROP TABLE accounts", Limit: 1}); !errors.As(err, new(*ledger.ValidationError)) {
		t.Errorf("an unknown sort: %v", err)
	}
	dep, err := e.store.Depleted(ctx, 10)
	if err != nil || !cmp.Equal(names(dep), []string{"beta"}) {
		t.Errorf("depleted: %v %v", names(dep), err)
	}
	if low, err := e.store.LowBalance(ctx, 10); err != nil || len(low) != 0 {
		t.Errorf("low balance without thresholds: %v %v", names(low), err)
	}
	totals, err := e.store.CurrencyTotals(ctx, day, day.Add(-72*time.Hour))
	if err != nil || len(totals) != 2 {
		t.Fatalf("totals: %+v %v", totals, err)
	}
	want := ledger.CurrencyTotal{Currency: "EUR", Accounts: 2, Balance: amt("90"), Available: amt("90"),
		ChargedToday: amt("15"), ChargesToday: 2, ToppedUpToday: amt("5"), ChargedMonth: amt("15"), ChargesMonth: 2, ToppedUpMonth: amt("105")}
	if diff := cmp.Diff(totals[0], want); diff != "" {
		t.Errorf("EUR totals (-got +want):\n%s", diff)
	}
	if totals[1].Currency != "USD" || totals[1].Accounts != 2 || totals[1].Balance != amt("50") || totals[1].ChargesToday != 0 || totals[1].ToppedUpMonth != amt("50") {
		t.Errorf("USD totals: %+v", totals[1])
	}
}

// testLowBalanceList: the dashboard's accounts below their low-balance
// threshold: fired and not re-armed, open, lowest available first; a recovered
// account, one without the threshold and a closed one are not listed.
func testLowBalanceList(t *testing.T, open func() Store) {
	e := start(t, open, newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
	low := ledger.Alerts{HasLow: true, LowBelow: amt("10"), Margin: amt("5")}
	mk := func(name, topUp, charge string, al ledger.Alerts) string {
		id := e.account(name, "EUR")
		e.must(engine.TopUp{AccountID: id, Amount: amt(topUp)})
		e.must(engine.SetAlerts{AccountID: id, Alerts: al})
		e.must(engine.Charge{AccountID: id, Amount: amt(charge)})
		return id
	}
	mk("fired", "100", "95", low)                                  // 5
	mk("lower", "100", "98", low)                                  // 2
	mk("above", "100", "50", low)                                  // 50: armed
	mk("depleted only", "10", "10", ledger.Alerts{Depleted: true}) // fired, but not low
	rec := mk("recovered", "100", "95", low)                       // fired, then back above 15
	e.must(engine.TopUp{AccountID: rec, Amount: amt("20")})
	closed := mk("closed", "100", "95", low)
	e.must(engine.Charge{AccountID: closed, Amount: amt("5")})
	e.must(engine.UpdateAccount{ID: closed, Status: ptr(ledger.StatusClosed)})
	got, err := e.store.LowBalance(context.Background(), 10)
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
		if !a.AlertsOrZero().LowFired {
			t.Errorf("%s listed with its alert armed", a.Name)
		}
	}
	if err != nil || !cmp.Equal(names, []string{"lower", "fired"}) {
		t.Errorf("low balance: %v %v, want [lower fired]", names, err)
	}
	if got, err := e.store.LowBalance(context.Background(), 1); err != nil || len(got) != 1 || got[0].Name != "lower" {
		t.Errorf("low balance, limit 1: %v %v", got, err)
	}
}
