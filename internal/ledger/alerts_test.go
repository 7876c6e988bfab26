package ledger

import "testing"

// TestSetAlertsCopiesOnWrite: the zero Alerts is nil, an unchanged value keeps its
// pointer, and a change never writes through a pointer a copy may share.
func TestSetAlertsCopiesOnWrite(t *testing.T) {
	var a Account
	if a.SetAlerts(Alerts{}); a.Alerts != nil || a.AlertsOrZero() != (Alerts{}) {
		t.Fatalf("zero alerts: %v", a.Alerts)
	}
	a.SetAlerts(Alerts{HasLow: true, LowBelow: 10})
	shared, copied := a.Alerts, a
	if a.SetAlerts(Alerts{HasLow: true, LowBelow: 10}); a.Alerts != shared {
		t.Errorf("the same alerts got a new pointer")
	}
	a.SetAlerts(Alerts{HasLow: true, LowBelow: 10, LowFired: true})
	if a.Alerts == shared || shared.LowFired || copied.AlertsOrZero().LowFired || !a.AlertsOrZero().LowFired {
		t.Errorf("a change wrote through the shared pointer: %+v, copy %+v", a.Alerts, copied.Alerts)
	}
	if a.SetAlerts(Alerts{}); a.Alerts != nil || shared.LowBelow != 10 {
		t.Errorf("cleared alerts: %v, shared %+v", a.Alerts, shared)
	}
}
