package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// testWebhooks: subscriptions persist; one owner at a time holds a lease, another
// takes over once it runs out; progress is saved only by the lease's holder; the
// delivery log pages newest first.
func testWebhooks(t *testing.T, open func() Store) {
	s := open()
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sub := ledger.Subscription{ID: "whk_1", URL: "https://example.com/h", Types: []ledger.EventType{ledger.EventEntryCreated, ledger.EventBalanceLow},
		Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: now, UpdatedAt: now, Cursor: 7}
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscription(ctx, "whk_1")
	if err != nil || got.URL != sub.URL || len(got.Types) != 2 || got.Types[1] != ledger.EventBalanceLow || got.Cursor != 7 || !got.Enabled || got.Secret != sub.Secret {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if held, err := s.LeaseSubscription(ctx, "whk_1", "a", now, now.Add(30*time.Second)); !held || err != nil {
		t.Fatalf("first lease: %v %v", held, err)
	}
	if held, _ := s.LeaseSubscription(ctx, "whk_1", "b", now.Add(10*time.Second), now.Add(40*time.Second)); held {
		t.Fatal("b took a running lease")
	}
	got.Cursor, got.Attempts = 9, 0
	log := []ledger.Delivery{{SubscriptionID: "whk_1", EventID: "evt_1", EventSeq: 8, Attempt: 1, At: now, Status: 503, Snippet: "down"},
		{SubscriptionID: "whk_1", EventID: "evt_1", EventSeq: 8, Attempt: 2, At: now, Status: 200, OK: true, Latency: 3 * time.Millisecond}}
	if err := s.SaveDelivery(ctx, "b", got, log); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("b saved without the lease: %v", err)
	}
	if err := s.SaveDelivery(ctx, "a", got, log); err != nil {
		t.Fatal(err)
	}
	if held, _ := s.LeaseSubscription(ctx, "whk_1", "b", now.Add(31*time.Second), now.Add(61*time.Second)); !held {
		t.Fatal("b could not take an expired lease")
	}
	if err := s.SaveDelivery(ctx, "a", got, nil); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("a saved after losing the lease: %v", err)
	}
	checkLeaseRenewal(t, s, got, now.Add(31*time.Second))
	checkWebhookLog(t, s, got)
}

// checkLeaseRenewal: a renewal (ledger.RenewOnly) extends only a lease still
// held, so a lease a redelivery ended is not taken back unnoticed; a deliverer's
// save never enables a subscription an operator disabled meanwhile.
func checkLeaseRenewal(t *testing.T, s Store, got ledger.Subscription, now time.Time) {
	ctx := context.Background()
	if held, _ := s.LeaseSubscription(ctx, "whk_1", "a", ledger.RenewOnly, now.Add(time.Hour)); held {
		t.Error("a renewed b's lease")
	}
	if held, err := s.LeaseSubscription(ctx, "whk_1", "b", ledger.RenewOnly, now.Add(30*time.Second)); !held || err != nil {
		t.Errorf("b could not renew its lease: %v %v", held, err)
	}
	off := got
	off.Enabled, off.DisabledReason = false, "paused by the operator"
	if err := s.UpdateSubscription(ctx, off, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDelivery(ctx, "b", got, nil); err != nil { // b's copy still says enabled
		t.Fatal(err)
	}
	if back, _ := s.Subscription(ctx, "whk_1"); back.Enabled || back.DisabledReason != "paused by the operator" {
		t.Errorf("a deliverer's save undid the operator's disable: enabled %v, reason %q", back.Enabled, back.DisabledReason)
	}
	stopped := got
	stopped.Enabled, stopped.DisabledReason = false, "failing since then"
	if err := s.SaveDelivery(ctx, "b", stopped, nil); err != nil {
		t.Fatal(err)
	}
	if back, _ := s.Subscription(ctx, "whk_1"); back.Enabled || back.DisabledReason != "failing since then" {
		t.Errorf("a deliverer's disable did not hold: enabled %v, reason %q", back.Enabled, back.DisabledReason)
	}
}

// checkWebhookLog: the saved log and cursor read back; a disabled subscription
// is never leased; deleting one deletes its log.
func checkWebhookLog(t *testing.T, s Store, got ledger.Subscription) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ds, err := s.ListDeliveries(ctx, "whk_1", 0, 10)
	if err != nil || len(ds) != 2 || !ds[0].OK || ds[0].Latency != 3*time.Millisecond || ds[1].Snippet != "down" || ds[1].Status != 503 {
		t.Fatalf("deliveries %+v, %v", ds, err)
	}
	if got, _ = s.Subscription(ctx, "whk_1"); got.Cursor != 9 {
		t.Errorf("cursor %d after saving 9", got.Cursor)
	}
	got.Enabled, got.Cursor = false, 0
	if err := s.UpdateSubscription(ctx, got, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDelivery(ctx, "b", got, nil); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("a cursor reset left b its lease (it would save its cursor over the reset): %v", err)
	}
	if held, _ := s.LeaseSubscription(ctx, "whk_1", "c", now.Add(time.Hour), now.Add(2*time.Hour)); held {
		t.Error("a disabled subscription was leased")
	}
	if err := s.DeleteSubscription(ctx, "whk_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscription(ctx, "whk_1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if ds, _ := s.ListDeliveries(ctx, "whk_1", 0, 10); len(ds) != 0 {
		t.Errorf("the log outlived its subscription: %+v", ds)
	}
}
