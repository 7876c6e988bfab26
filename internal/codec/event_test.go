package codec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/purse-ledger/purse/internal/ledger"
)

var blockEntry = ledger.Entry{Seq: 77, MovementID: "mov_1", AccountID: "acc_c", Kind: ledger.EntryCharge, Amount: -5, BalanceAfter: 10,
	Reference: "r", Metadata: map[string]string{"k": "v"}, IdempotencyKey: "key", CreatedAt: time.UnixMicro(1_000_001).UTC(), SubAccountID: "acc_s"}

func eventBlock() []byte {
	b := AppendEventHeader(nil)
	b = AppendEvent(b, "evt_x-0", "entry.created", "acc_a", "", 1_000_000, 1_000_005, `{"entry":{}}`, nil)
	b = AppendEvent(b, "evt_x-1", "balance.low", "acc_b", "acc_p", 1_000_005, 1_000_005, `{"a":"é\"\\"}`, nil)
	b = AppendEvent(b, "", "", "", "", 0, 1_000_005, "", nil)
	return AppendEvent(b, "evt_x-3", "entry.created", "acc_c", "", 1_000_001, 1_000_005, "", &blockEntry)
}

// TestEventBlockRoundTrip: what AppendEvent writes DecodeEvents reads back, in
// order, times relative to the block's (also backwards and to zero).
func TestEventBlockRoundTrip(t *testing.T) {
	var got []string
	err := DecodeEvents(eventBlock(), 4, 1_000_005, func(i int, v *EventView) bool {
		got = append(got, strings.Join([]string{string(v.ID), string(v.Type), string(v.AccountID), string(v.ParentID), string(v.Data)}, "|"))
		if i == 3 {
			if diff := cmp.Diff(v.Entry, &blockEntry); diff != "" {
				t.Errorf("entry (-got +want):\n%s", diff)
			}
		} else if v.Entry != nil {
			t.Errorf("event %d has an entry", i)
		}
		if want := []int64{1_000_000, 1_000_005, 0, 1_000_001}[i]; v.At != want {
			t.Errorf("event %d at %d, want %d", i, v.At, want)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`evt_x-0|entry.created|acc_a||{"entry":{}}`, `evt_x-1|balance.low|acc_b|acc_p|{"a":"é\"\\"}`, "||||", "evt_x-3|entry.created|acc_c||"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// each may stop early.
	n := 0
	if err := DecodeEvents(eventBlock(), 4, 0, func(int, *EventView) bool { n++; return false }); err != nil || n != 1 {
		t.Fatalf("stopping: %d calls, %v", n, err)
	}
}

// TestEventBlockCorrupt: a damaged block is refused whole, before any event is
// handed out: cut anywhere, with bytes left over, with the wrong count, of a
// version this build does not know.
func TestEventBlockCorrupt(t *testing.T) {
	good := eventBlock()
	noForm := AppendEvent(AppendEventHeader(nil), "i", "t", "a", "", 0, 0, "", nil)
	noForm = noForm[:len(noForm)-2] // its form byte (0) and empty data
	bad := map[string]struct {
		data []byte
		n    int
	}{
		"empty":         {nil, 4},
		"version 0":     {append([]byte{0}, good[1:]...), 4},
		"version 2":     {append([]byte{2}, good[1:]...), 4},
		"extra bytes":   {append(append([]byte{}, good...), 0), 4},
		"count short":   {good, 3},
		"count long":    {good, 5},
		"count zero":    {good, 0},
		"entry version": {AppendEntry(append(noForm, EntryVersion+1), &blockEntry, 0, 0), 1},
	}
	for cut := 1; cut < len(good); cut++ {
		bad["cut at "+string(rune('0'+cut%10))+strings.Repeat("+", cut/10)] = struct {
			data []byte
			n    int
		}{good[:cut], 4}
	}
	for name, c := range bad {
		calls := 0
		err := DecodeEvents(c.data, c.n, 0, func(int, *EventView) bool { calls++; return true })
		if !errors.Is(err, ErrBadEventBlock) || calls != 0 {
			t.Errorf("%s: %v after %d events", name, err, calls)
		}
	}
}
