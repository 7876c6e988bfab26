package console

import (
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// TestRate: charges and captures count in their minute; other entries, and
// minutes older than the hour, do not.
func TestRate(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 20, 0, time.UTC)
	var r Rate
	r.Record([]ledger.Entry{{Kind: ledger.EntryCharge, CreatedAt: now}, {Kind: ledger.EntryCapture, CreatedAt: now},
		{Kind: ledger.EntryTopUp, CreatedAt: now}, {Kind: ledger.EntryCharge, CreatedAt: now.Add(-5 * time.Minute)},
		{Kind: ledger.EntryCharge, CreatedAt: now.Add(-61 * time.Minute)}})
	x, y := r.LastHour(now)
	if len(x) != 60 || x[59] != now.Unix()/60*60 || y[59] != 2 || y[54] != 1 {
		t.Fatalf("last hour: %v %v", x, y)
	}
	var sum int64
	for _, n := range y {
		sum += n
	}
	if sum != 3 {
		t.Errorf("%d charges in the hour, want 3 (the one 61 minutes ago is out)", sum)
	}
	// A minute's slot reused an hour later starts again from zero.
	r.Record([]ledger.Entry{{Kind: ledger.EntryCharge, CreatedAt: now.Add(time.Hour)}})
	if _, y := r.LastHour(now.Add(time.Hour)); y[59] != 1 {
		t.Errorf("the reused slot holds %d", y[59])
	}
}
