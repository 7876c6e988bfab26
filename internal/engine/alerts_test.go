package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestAlertStateIsNotShared: an account's alerts sit behind a pointer that its
// copies share, so the commit that fires a threshold must give the account new
// alerts, not change a copy taken before it; an account without any holds nil.
func TestAlertStateIsNotShared(t *testing.T) {
	_, eng := open(t, filepath.Join(t.TempDir(), "p.db"))
	defer eng.Close()
	ctx := context.Background()
	acc := createAccount(t, eng, "EUR")
	if a, _ := eng.Account(acc); a.Alerts != nil {
		t.Fatalf("a new account has alerts: %+v", a.Alerts)
	}
	do := func(cmd engine.Command) {
		t.Helper()
		if _, err := eng.Do(ctx, cmd, nil); err != nil {
			t.Fatal(err)
		}
	}
	do(engine.TopUp{AccountID: acc, Amount: 100})
	do(engine.SetAlerts{AccountID: acc, Alerts: ledger.Alerts{HasLow: true, LowBelow: 50}})
	before, _ := eng.Account(acc)
	do(engine.Charge{AccountID: acc, Amount: 60})
	after, _ := eng.Account(acc)
	if before.Alerts.LowFired || !after.Alerts.LowFired {
		t.Errorf("low fired: before %v, after %v; want false, true", before.Alerts.LowFired, after.Alerts.LowFired)
	}
	do(engine.SetAlerts{AccountID: acc})
	if a, _ := eng.Account(acc); a.Alerts != nil {
		t.Errorf("alerts cleared, still %+v", a.Alerts)
	}
}
