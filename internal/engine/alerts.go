package engine

import (
	"strconv"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Thresholds. They are evaluated by the writer at each commit, on the accounts
// the batch changed, from the state the batch leaves them in: an alert fires at
// the commit that crosses its threshold, and is then "fired" (stored with the
// account, ledger.Alerts) until it re-arms, so a flood of charges below the
// threshold is one balance.low, not one per charge, across restarts and nodes.
// A threshold set (or changed) is armed: one set above an account's available
// funds fires at that very commit.

// evaluateAlerts runs every threshold of the batch's accounts that have one.
func (t *txn) evaluateAlerts() {
	for _, id := range t.alertIDs() {
		a := t.accounts[id] // the batch's own copy: changed in place, written below
		// Its Alerts may be shared with the committed copies (ledger.Account.Alerts):
		// change a copy, and give the account a new pointer if anything changed.
		al := a.AlertsOrZero()
		avail := a.Available()
		t.lowAlert(a, &al, avail)
		t.depletedAlert(a, &al, avail)
		t.monthlyAlert(a, &al)
		t.topUpAlert(a, &al, avail)
		a.SetAlerts(al)
	}
}

// alert queues an alert event, written after the batch's other events.
func (t *txn) alert(typ ledger.EventType, a *ledger.Account, fields func(w []byte) []byte) {
	acc := *a
	t.alertEvents = append(t.alertEvents, func(b *eventBuilder) {
		b.start(typ, acc.ID, acc.ParentID, t.now)
		w := append(b.buf, `{"accountId":`...)
		w = appendString(w, acc.ID)
		w = append(w, `,"currency":`...)
		w = appendString(w, acc.Currency)
		w = appendAmountField(w, "balance", acc.Balance)
		w = appendAmountField(w, "available", acc.Available())
		w = fields(w)
		b.buf = append(w, '}')
	})
}

func (t *txn) lowAlert(a *ledger.Account, al *ledger.Alerts, avail ledger.Amount) {
	if !al.HasLow {
		return
	}
	rearm, err := al.LowBelow.Add(al.Margin)
	switch {
	case !al.LowFired && avail < al.LowBelow:
		al.LowFired = true
		t.alert(ledger.EventBalanceLow, a, func(w []byte) []byte {
			w = appendAmountField(w, "threshold", al.LowBelow)
			return appendAmountField(w, "margin", al.Margin)
		})
	case al.LowFired && err == nil && avail > rearm:
		al.LowFired = false
		t.alert(ledger.EventBalanceRecovered, a, func(w []byte) []byte {
			w = append(w, `,"alert":"low"`...)
			return appendAmountField(w, "threshold", al.LowBelow)
		})
	}
}

func (t *txn) depletedAlert(a *ledger.Account, al *ledger.Alerts, avail ledger.Amount) {
	if !al.Depleted {
		return
	}
	switch {
	case !al.DepletedFired && avail <= 0:
		al.DepletedFired = true
		t.alert(ledger.EventBalanceDepleted, a, func(w []byte) []byte { return w })
	case al.DepletedFired && avail > al.Margin:
		al.DepletedFired = false
		t.alert(ledger.EventBalanceRecovered, a, func(w []byte) []byte { return append(w, `,"alert":"depleted"`...) })
	}
}

// monthlyAlert fires monthly_limit.reached at 80 % and at 100 % of the monthly
// limit, each once per calendar month (UTC); a commit that crosses both fires both.
func (t *txn) monthlyAlert(a *ledger.Account, al *ledger.Alerts) {
	if !al.Monthly || !a.HasMonthlyLimit || a.MonthlyLimit <= 0 {
		return
	}
	if month := ledger.MonthOf(t.now); al.MonthlyMonth != month {
		al.MonthlyMonth, al.MonthlyFired = month, 0
	}
	spent := a.SpentIn(t.now)
	for _, pct := range []int{80, 100} {
		if al.MonthlyFired < pct && atLeastPercent(spent, a.MonthlyLimit, uint64(pct)) {
			al.MonthlyFired = pct
			t.alert(ledger.EventMonthlyLimitReached, a, func(w []byte) []byte {
				w = append(w, `,"percent":`...)
				w = strconv.AppendInt(w, int64(pct), 10)
				w = appendAmountField(w, "monthlyLimit", a.MonthlyLimit)
				return appendAmountField(w, "monthlySpent", spent)
			})
		}
	}
}

// topUpAlert emits topup.requested when available falls below the rule's
// threshold, for what brings it to topUpTo, at most maxPerDay times a UTC day. It
// re-arms once available is at the threshold or above again (the top-up itself).
func (t *txn) topUpAlert(a *ledger.Account, al *ledger.Alerts, avail ledger.Amount) {
	if !al.HasTopUp {
		return
	}
	if day := dayOf(t); al.TopUpDay != day {
		al.TopUpDay, al.TopUpCount = day, 0
	}
	if al.TopUpFired {
		if avail >= al.TopUpBelow {
			al.TopUpFired = false
		}
		return
	}
	if avail >= al.TopUpBelow || al.TopUpCount >= al.TopUpMaxPerDay {
		return
	}
	amount, err := al.TopUpTo.Sub(avail)
	if err != nil || amount <= 0 {
		return
	}
	al.TopUpFired = true
	al.TopUpCount++
	t.alert(ledger.EventTopUpRequested, a, func(w []byte) []byte {
		w = appendAmountField(w, "amount", amount)
		w = appendAmountField(w, "below", al.TopUpBelow)
		return appendAmountField(w, "topUpTo", al.TopUpTo)
	})
}

// dayOf is the yyyymmdd of the batch's UTC day.
func dayOf(t *txn) int {
	y, m, d := t.now.UTC().Date()
	return y*10000 + int(m)*100 + d
}
