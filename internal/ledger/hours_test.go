package ledger

import (
	"testing"
	"time"
)

// TestHourTotalsInterleaved: entries of two accounts and two hours, interleaved,
// add up per account and hour whatever their order (a run's start is a lookup, not
// a new total).
func TestHourTotalsInterleaved(t *testing.T) {
	h := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	es := []Entry{
		{Seq: 1, AccountID: "a", Kind: EntryCharge, Amount: -1, BalanceAfter: 9, CreatedAt: h},
		{Seq: 2, AccountID: "a", Kind: EntryCharge, Amount: -2, BalanceAfter: 7, CreatedAt: h},
		{Seq: 3, AccountID: "b", Kind: EntryTopUp, Amount: 5, BalanceAfter: 5, CreatedAt: h},
		{Seq: 4, AccountID: "a", Kind: EntryCharge, Amount: -3, BalanceAfter: 4, CreatedAt: h},
		{Seq: 5, AccountID: "a", Kind: EntryTopUp, Amount: 10, BalanceAfter: 14, CreatedAt: h.Add(time.Hour)},
		{Seq: 6, AccountID: "b", Kind: EntryCharge, Amount: -1, BalanceAfter: 4, CreatedAt: h},
	}
	got := HourTotals(es)
	want := []HourTotal{
		{AccountID: "a", Hour: HourOf(h), LastSeq: 4, Balance: 4, Charged: 6, Charges: 3},
		{AccountID: "b", Hour: HourOf(h), LastSeq: 6, Balance: 4, Charged: 1, Charges: 1, ToppedUp: 5, TopUps: 1},
		{AccountID: "a", Hour: HourOf(h) + 1, LastSeq: 5, Balance: 14, ToppedUp: 10, TopUps: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
