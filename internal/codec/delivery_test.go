package codec

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/purse-ledger/purse/internal/ledger"
)

func testDeliveries() []ledger.Delivery {
	at := time.Date(2026, 12, 3, 8, 0, 0, 123456000, time.UTC)
	return []ledger.Delivery{
		{EventID: "evt_a-7", EventSeq: 90, Attempt: 1, At: at, Status: 503, Latency: 1500 * time.Microsecond, Snippet: "down"},
		{EventID: "evt_a-8", EventSeq: 91, Attempt: 1, At: at.Add(time.Millisecond), Status: 200, Latency: time.Millisecond, OK: true},
		// A retry of an earlier event, logged a little earlier (another lane): both deltas backwards.
		{EventID: "evt_a-7", EventSeq: 90, Attempt: 2, At: at.Add(-time.Second), Status: 0, Snippet: "dial tcp: connection refused é"},
		{EventID: "", EventSeq: 0, Attempt: 0, At: time.UnixMicro(0).UTC()},
	}
}

// TestDeliveryBlockRoundTrip: what AppendDeliveries writes DecodeDeliveries reads
// back in order, numbered from the block's first sequence, times to the
// microsecond, also backwards and to zero.
func TestDeliveryBlockRoundTrip(t *testing.T) {
	want := testDeliveries()
	got, err := DecodeDeliveries(AppendDeliveries(nil, want), "whk_1", 40, len(want))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Seq, want[i].SubscriptionID = 40+int64(i), "whk_1"
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("(-got +want):\n%s", diff)
	}
}

// TestDeliveryBlockDamageRefused: a block cut short, with a byte too many, of
// another version or count, or empty is an error, never a panic nor a part of it.
func TestDeliveryBlockDamageRefused(t *testing.T) {
	ds := testDeliveries()
	b := AppendDeliveries(nil, ds)
	badOK := AppendDeliveries(nil, ds[:1])
	badOK[len(badOK)-1-len(ds[0].Snippet)-1] = 2 // the ok byte, before the snippet and its length
	for name, c := range map[string]struct {
		data []byte
		n    int
	}{
		"cut short":       {b[:len(b)-1], len(ds)},
		"a byte more":     {append(append([]byte{}, b...), 0), len(ds)},
		"another version": {append([]byte{DeliveryVersion + 1}, b[1:]...), len(ds)},
		"fewer lines":     {b, len(ds) - 1},
		"more lines":      {b, len(ds) + 1},
		"empty":           {nil, 0},
		"a count of 2^40": {b, 1 << 40},
		"a count below 0": {b, -1},
		"a bad ok byte":   {badOK, 1},
	} {
		got, err := DecodeDeliveries(c.data, "whk_1", 1, c.n)
		if !errors.Is(err, errDeliveryBlock) || got != nil {
			t.Errorf("%s: %d lines, %v", name, len(got), err)
		}
	}
}
