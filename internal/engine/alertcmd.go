package engine

import (
	"github.com/purse-ledger/purse/internal/ledger"
)

// MaxTopUpsPerDay bounds an auto top-up rule's maxPerDay.
const MaxTopUpsPerDay = 1000

// SetAlerts replaces an account's thresholds (ledger.Alerts; its state fields are
// ignored). A threshold whose settings change is armed again; one that stays as
// it was keeps its state, so repeating the same settings changes nothing. The
// thresholds are evaluated at this very commit: one set above the account's
// available funds fires at once. Its result is the ledger.Account.
type SetAlerts struct {
	AccountID string
	Alerts    ledger.Alerts
}

func (c SetAlerts) apply(t *txn) (any, error) {
	if err := ValidateAlerts(c.Alerts); err != nil {
		return nil, err
	}
	a, err := t.customer(c.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Status == ledger.StatusClosed {
		return nil, &ledger.ConflictError{Reason: "account is closed; a closed account cannot change"}
	}
	a.SetAlerts(mergeAlerts(a.AlertsOrZero(), alertSettings(c.Alerts)))
	t.put(a)
	return *t.accounts[a.ID], nil
}

func (c SetAlerts) op() ledger.Op { return ledger.OpUpdateAccount }

func (c SetAlerts) refs(r *refs) { r.account(c.AccountID) }

// ValidateAlerts checks thresholds on their own; field names are the admin API's.
func ValidateAlerts(al ledger.Alerts) error {
	v := &ledger.ValidationError{}
	if al.HasLow && al.LowBelow < 0 {
		v.Add("lowBalance.below", "must not be negative")
	}
	if al.Margin < 0 {
		v.Add("lowBalance.margin", "must not be negative")
	}
	if al.HasTopUp {
		if al.TopUpBelow < 0 {
			v.Add("autoTopUp.below", "must not be negative")
		}
		if al.TopUpTo <= al.TopUpBelow {
			v.Add("autoTopUp.topUpTo", "must be greater than autoTopUp.below")
		}
		if al.TopUpMaxPerDay < 1 || al.TopUpMaxPerDay > MaxTopUpsPerDay {
			v.Add("autoTopUp.maxPerDay", "must be a whole number from 1 to 1000")
		}
	}
	return v.Err()
}

// mergeAlerts is next's settings with old's state for each threshold whose
// settings did not change (a changed one starts armed).
func mergeAlerts(old, next ledger.Alerts) ledger.Alerts {
	if old.HasLow == next.HasLow && old.LowBelow == next.LowBelow && old.Margin == next.Margin {
		next.LowFired = old.LowFired
	}
	if old.Depleted == next.Depleted && old.Margin == next.Margin {
		next.DepletedFired = old.DepletedFired
	}
	if old.Monthly == next.Monthly {
		next.MonthlyFired, next.MonthlyMonth = old.MonthlyFired, old.MonthlyMonth
	}
	if old.HasTopUp == next.HasTopUp && old.TopUpBelow == next.TopUpBelow && old.TopUpTo == next.TopUpTo {
		next.TopUpFired = old.TopUpFired
	}
	// What was requested today still counts against a new maxPerDay.
	next.TopUpDay, next.TopUpCount = old.TopUpDay, old.TopUpCount
	return next
}

// Emit writes one event that no ledger change carries (subscription.disabled),
// through the writer, so that it takes its sequence in commit order like every
// other event. Data is its JSON object.
type Emit struct {
	Type      ledger.EventType
	AccountID string
	Data      string
}

func (c Emit) apply(t *txn) (any, error) {
	t.emitted = append(t.emitted, c)
	return nil, nil
}

func (c Emit) op() ledger.Op { return ledger.OpUpdateAccount }

func (c Emit) refs(*refs) {}
