package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// TestEventBuildingAllocatesPerBatch: a batch's entry.created events cost a fixed
// number of allocations, not some per entry (the writer makes one per entry it
// books), and each is valid JSON with its own id.
func TestEventBuildingAllocatesPerBatch(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	acc := &ledger.Account{ID: "acc_06h37g1kszvh1ad4m7nvz6xzng", ParentID: "acc_parent"}
	entries := make([]ledger.Entry, 1000)
	for i := range entries {
		entries[i] = ledger.Entry{Seq: int64(i + 1), MovementID: "mov_06h37g1ktkaywhsm5sqfrmv9k8", AccountID: acc.ID, Kind: ledger.EntryCharge,
			Amount: -1500, BalanceAfter: ledger.Amount(1_000_000 - i), Reference: `sms "1"`, IdempotencyKey: "93b434fb6a20f3e8e63919426200be40", CreatedAt: now}
	}
	var evs []ledger.Event
	allocs := testing.AllocsPerRun(20, func() {
		b := newEventBuilder(now, len(entries))
		for i := range entries {
			b.entry(&entries[i], acc)
		}
		evs = b.finish()
	})
	t.Logf("%v allocations for %d events", allocs, len(entries))
	if allocs > 12 {
		t.Errorf("%v allocations for %d events: more than a batch's few", allocs, len(entries))
	}
	ids := map[string]bool{}
	for _, ev := range evs {
		var v map[string]any
		if ev.Data != "" || ev.Entry == nil {
			t.Fatalf("entry.created %+v: the store makes its data from its entry", ev)
		}
		if err := json.Unmarshal([]byte(ev.EventData()), &v); err != nil || ids[ev.ID] || ev.ParentID != "acc_parent" {
			t.Fatalf("event %+v: %v", ev, err)
		}
		ids[ev.ID] = true
	}
}

// TestAppendString: what appendString writes is the JSON string of its input,
// control characters and invalid UTF-8 included.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tnew\nline\x00", "é ü 日本", "bad \xff byte", "\u2028"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: not JSON: %v", s, err)
		}
		want := s
		if s == "bad \xff byte" {
			want = "bad \ufffd byte"
		}
		if got != want {
			t.Errorf("%q came back as %q", s, got)
		}
	}
}
