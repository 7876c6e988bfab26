package storetest

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
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
	checkRotateSecret(t, s, now)
	checkForgetEndedSecrets(t, s, now)
	checkWebhookLog(t, s, got)
}

// checkRotateSecret: a rotation keeps the secret it replaces as the previous one,
// with its end, and changes nothing else; one without an overlap keeps none; one
// made against a secret no longer in force changes nothing (ErrConflict); an
// unknown subscription is ErrNotFound.
func checkRotateSecret(t *testing.T, s Store, now time.Time) {
	ctx := context.Background()
	before, err := s.Subscription(ctx, "whk_1")
	if err != nil {
		t.Fatal(err)
	}
	until := now.Add(time.Hour)
	got, err := s.RotateSecret(ctx, "whk_1", before.Secret, "whsec_bmV3", until, now)
	if err != nil || got.Secret != "whsec_bmV3" || got.PreviousSecret != before.Secret || !got.PreviousUntil.Equal(until) {
		t.Fatalf("rotated: secret %q, previous %q until %v (%v); want whsec_bmV3, %q until %v", got.Secret, got.PreviousSecret, got.PreviousUntil, err, before.Secret, until)
	}
	rest, was := got, before
	rest.Secret, rest.PreviousSecret, rest.PreviousUntil, rest.UpdatedAt = "", "", time.Time{}, time.Time{}
	was.Secret, was.PreviousSecret, was.PreviousUntil, was.UpdatedAt = "", "", time.Time{}, time.Time{}
	if !reflect.DeepEqual(rest, was) || !got.UpdatedAt.Equal(now) {
		t.Errorf("a rotation changed more than the secrets and the update time (%v, want %v): %+v, was %+v", got.UpdatedAt, now, got, before)
	}
	if back, _ := s.Subscription(ctx, "whk_1"); back.Secret != got.Secret || back.PreviousSecret != got.PreviousSecret || !back.PreviousUntil.Equal(until) {
		t.Errorf("read back after a rotation: %+v", back)
	}
	if n, err := s.ForgetEndedSecrets(ctx, now); n != 0 || err != nil {
		t.Errorf("forgetting ended secrets inside the overlap: %d, %v; want 0", n, err)
	}
	if _, err := s.RotateSecret(ctx, "whk_1", before.Secret, "whsec_c3RhbGU=", until, now); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("a rotation against the replaced secret: %v, want ErrConflict", err)
	}
	if back, _ := s.Subscription(ctx, "whk_1"); back.Secret != "whsec_bmV3" || back.PreviousSecret != before.Secret || !back.PreviousUntil.Equal(until) {
		t.Errorf("a refused rotation changed the secrets: %q, previous %q until %v", back.Secret, back.PreviousSecret, back.PreviousUntil)
	}
	if again, err := s.RotateSecret(ctx, "whk_1", "", "whsec_bmV3ZXI=", now, now); err != nil || again.PreviousSecret != "" || !again.PreviousUntil.Equal(now) {
		t.Errorf("a rotation without an overlap: previous %q until %v (%v), want none, ended now", again.PreviousSecret, again.PreviousUntil, err)
	}
	checkRotateUnknownAndCopied(t, s, now, until)
}

// checkForgetEndedSecrets: once its overlap ends, a previous secret is blanked,
// its end kept; one still in its overlap stays.
func checkForgetEndedSecrets(t *testing.T, s Store, now time.Time) {
	ctx := context.Background()
	if _, err := s.RotateSecret(ctx, "whk_1", "", "whsec_bGF0ZXI=", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ForgetEndedSecrets(ctx, now.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("forgetting the secrets whose overlap ended: %d, %v; want 1", n, err)
	}
	if back, _ := s.Subscription(ctx, "whk_1"); back.PreviousSecret != "" || !back.PreviousUntil.Equal(now.Add(time.Hour)) || back.Secret != "whsec_bGF0ZXI=" {
		t.Errorf("after the overlap: previous %q until %v, secret %q; want none, the end kept, the secret as it was", back.PreviousSecret, back.PreviousUntil, back.Secret)
	}
}

// checkRotateUnknownAndCopied: a rotation of an unknown subscription is
// ErrNotFound, with a condition or without; a subscription created with a
// previous secret (purse migrate copies them) reads back with it.
func checkRotateUnknownAndCopied(t *testing.T, s Store, now, until time.Time) {
	ctx := context.Background()
	for _, ifSecret := range []string{"", "whsec_bmV3"} {
		if _, err := s.RotateSecret(ctx, "whk_none", ifSecret, "whsec_eA==", until, now); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("rotating an unknown subscription (ifSecret %q): %v, want ErrNotFound", ifSecret, err)
		}
	}
	copied := ledger.Subscription{ID: "whk_copied", URL: "https://example.com/c", Secret: "whsec_bmV3", PreviousSecret: "whsec_b2xk",
		PreviousUntil: until, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateSubscription(ctx, copied); err != nil {
		t.Fatal(err)
	}
	if back, err := s.Subscription(ctx, "whk_copied"); err != nil || back.PreviousSecret != "whsec_b2xk" || !back.PreviousUntil.Equal(until) {
		t.Errorf("a subscription created with a previous secret reads back %q until %v (%v)", back.PreviousSecret, back.PreviousUntil, err)
	}
	if err := s.DeleteSubscription(ctx, "whk_copied"); err != nil {
		t.Fatal(err)
	}
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

// testWebhookLog: two subscriptions' logs, saved in turns and in saves of
// different sizes, each page back whole and alone, newest first, from any
// point; pruning deletes the old lines and counts them, and keeps the new.
func testWebhookLog(t *testing.T, open func() Store) {
	s := open()
	defer s.Close()
	ctx := context.Background()
	old := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	saved := map[string][]ledger.Delivery{}
	for _, id := range []string{"whk_a", "whk_b"} {
		sub := ledger.Subscription{ID: id, URL: "https://example.com/" + id, Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: old, UpdatedAt: old}
		if err := s.CreateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if held, err := s.LeaseSubscription(ctx, id, "n1", old, old.Add(time.Hour)); !held || err != nil {
			t.Fatalf("lease %s: %v %v", id, held, err)
		}
	}
	seq := int64(0)
	for save, size := range []int{3, 1, 250, 7, 40, 2} {
		id := []string{"whk_a", "whk_b"}[save%2]
		at := old.Add(time.Duration(save) * time.Minute)
		if save >= 4 {
			at = old.Add(48 * time.Hour) // the new ones, kept by the prune below
		}
		var log []ledger.Delivery
		for i := range size {
			seq++
			d := ledger.Delivery{SubscriptionID: id, EventID: "evt_x-" + strconv.FormatInt(seq, 10), EventSeq: seq, Attempt: 1 + i%3,
				At: at.Add(time.Duration(i) * time.Millisecond), Status: []int{200, 503, 0}[i%3], Latency: time.Duration(i) * time.Microsecond,
				OK: i%3 == 0, Snippet: strings.Repeat("é", i%5)}
			log = append(log, d)
		}
		sub, _ := s.Subscription(ctx, id)
		if err := s.SaveDelivery(ctx, "n1", sub, log); err != nil {
			t.Fatal(err)
		}
		saved[id] = append(saved[id], log...)
	}
	for id, want := range saved {
		checkLogPages(t, s, id, want)
	}
	// Before the new saves: the four old saves' 261 lines go, the new 42 stay.
	total := 0
	for {
		n, err := s.PruneDeliveries(ctx, old.Add(24*time.Hour), 2)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 2 {
			break
		}
	}
	if total != 261 {
		t.Errorf("pruned %d lines, want 261", total)
	}
	checkLogPages(t, s, "whk_a", saved["whk_a"][len(saved["whk_a"])-40:])
	checkLogPages(t, s, "whk_b", saved["whk_b"][len(saved["whk_b"])-2:])
}

// checkLogPages reads id's whole log in pages of 7 and compares it with want
// (oldest first), by content and order; each line's seq is below the one before.
func checkLogPages(t *testing.T, s Store, id string, want []ledger.Delivery) {
	t.Helper()
	var got []ledger.Delivery
	before := int64(0)
	for {
		page, err := s.ListDeliveries(context.Background(), id, before, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 7 {
			break
		}
		before = page[len(page)-1].Seq
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d", id, len(got), len(want))
	}
	for i := range got {
		w, g := want[len(want)-1-i], got[i]
		if i > 0 && g.Seq >= got[i-1].Seq {
			t.Fatalf("%s: line %d's seq %d after %d", id, i, g.Seq, got[i-1].Seq)
		}
		g.Seq = 0
		if !g.At.Equal(w.At) {
			t.Fatalf("%s: line %d at %v, want %v", id, i, g.At, w.At)
		}
		g.At = w.At
		if g != w {
			t.Fatalf("%s: line %d\n got %+v\nwant %+v", id, i, g, w)
		}
	}
}
