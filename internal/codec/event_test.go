package codec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testHeader = EventHeader{Prefix: "evt_x", EntriesLo: 70, EntriesHi: 90}

func eventBlock() []byte {
	w := NewEventWriter(nil, testHeader)
	w.Add("evt_x-0", "account.created", "acc_a", "", 1_000_000, 1_000_005, `{"account":{}}`, 0)
	w.Add("evt_y-1", "balance.low", "acc_b", "acc_p", 1_000_005, 1_000_005, `{"a":"é\"\\"}`, 0)
	w.Add("evt_x-2", "", "", "", 0, 1_000_005, "", 0)
	w.Add("evt_x-3", "entry.created", "acc_c", "", 1_000_001, 1_000_005, "", 77)
	w.Add("evt_x-04", "entry.created", "acc_c", "", 1_000_001, 1_000_005, "", 90)
	w.Add("evt_x-5", "hold.created", "acc_c", "", 1_000_001, 1_000_005, "{}", 0)
	return w.B
}

// TestEventBlockRoundTrip: what AppendEvent writes DecodeEvents reads back, in
// order: ids (of the prefix or not), times relative to the block's (also
// backwards and to zero), data or an entry's sequence, the header.
func TestEventBlockRoundTrip(t *testing.T) {
	var got []string
	h, err := DecodeEvents(eventBlock(), 6, 1_000_005, func(i int, v *EventView) bool {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%d|%s|%d", v.ID, v.Type, v.AccountID, v.ParentID, v.At, v.Data, v.EntrySeq))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`evt_x-0|account.created|acc_a||1000000|{"account":{}}|0`,
		`evt_y-1|balance.low|acc_b|acc_p|1000005|{"a":"é\"\\"}|0`,
		`evt_x-2||||0||0`,
		`evt_x-3|entry.created|acc_c||1000001||77`,
		`evt_x-04|entry.created|acc_c||1000001||90`,
		`evt_x-5|hold.created|acc_c||1000001|{}|0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h != testHeader {
		t.Errorf("header %+v, want %+v", h, testHeader)
	}
	// The prefix's ids, entry.created's type and an account as the one before are
	// not written out.
	if b := string(eventBlock()); strings.Count(b, "evt_x-") != 1 || strings.Count(b, "entry.created") != 0 || strings.Count(b, "acc_c") != 1 {
		t.Errorf("block %q", b)
	}
	// Without a prefix every id is written, the empty one too.
	w := NewEventWriter(nil, EventHeader{})
	w.Add("", "t", "a", "", 0, 0, "{}", 0)
	if _, err := DecodeEvents(w.B, 1, 0, func(_ int, v *EventView) bool { got = []string{string(v.ID)}; return true }); err != nil || got[0] != "" {
		t.Fatalf("empty id: %q, %v", got, err)
	}
	// each may stop early.
	n := 0
	if _, err := DecodeEvents(eventBlock(), 6, 0, func(int, *EventView) bool { n++; return false }); err != nil || n != 1 {
		t.Fatalf("stopping: %d calls, %v", n, err)
	}
}

// TestEventBlockCorrupt: a damaged block is refused whole, before any event is
// handed out: cut anywhere, with bytes left over, with the wrong count, of a
// version this build does not know, an unknown form, an entry outside the range.
func TestEventBlockCorrupt(t *testing.T) {
	good := eventBlock()
	w := NewEventWriter(nil, testHeader)
	w.Add("i", "t", "a", "", 0, 0, "", 0)
	one := w.B
	flagAt := len(one) - 6 // before the account ("a": 2 bytes), the parent (""), at and data
	if one[flagAt] != 0 {
		t.Fatalf("flags not at %d: %v", flagAt, one)
	}
	badFlags := append([]byte{}, one...)
	badFlags[flagAt] = 4
	firstSame := append([]byte{}, one...)
	firstSame[flagAt] = flagSameAccount
	w = NewEventWriter(nil, testHeader)
	w.Add("i", "t", "a", "", 0, 0, "", 91)
	outside := w.B
	type block struct {
		data []byte
		n    int
	}
	bad := map[string]block{
		"empty":           {nil, 6},
		"version 0":       {append([]byte{0}, good[1:]...), 6},
		"version 2":       {append([]byte{2}, good[1:]...), 6},
		"extra bytes":     {append(append([]byte{}, good...), 0), 6},
		"count short":     {good, 5},
		"count long":      {good, 7},
		"count zero":      {good, 0},
		"unknown flag":    {badFlags, 1},
		"no event before": {firstSame, 1},
		"entry outside":   {outside, 1},
	}
	if _, err := DecodeEvents(one, 1, 0, func(int, *EventView) bool { return true }); err != nil {
		t.Fatalf("the block the bad ones are made of: %v", err)
	}
	for cut := 1; cut < len(good); cut++ {
		bad[fmt.Sprintf("cut at %d", cut)] = block{good[:cut], 6}
	}
	for name, c := range bad {
		calls := 0
		_, err := DecodeEvents(c.data, c.n, 0, func(int, *EventView) bool { calls++; return true })
		if !errors.Is(err, ErrBadEventBlock) || calls != 0 {
			t.Errorf("%s: %v after %d events", name, err, calls)
		}
	}
}
