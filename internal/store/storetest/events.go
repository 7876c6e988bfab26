package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// listEvents reads every event after a cursor.
func (e *env) events(f ledger.EventFilter) []ledger.Event {
	e.t.Helper()
	if f.Limit == 0 {
		f.Limit = 1000
	}
	evs, err := e.store.ListEvents(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func types(evs []ledger.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type) + " " + ev.AccountID
	}
	return out
}

// testEvents: every committed change has its events, in commit order, with valid
// JSON data; a refused command has none; the cursor survives a restart; pruning
// removes events and nothing of the ledger.
func testEvents(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("ev", "EUR")
	b := e.account("other", "EUR")
	top := e.must(engine.TopUp{AccountID: a, Amount: amt("10"), Reference: `say "hi"\`}).(ledger.Entry)
	e.refused(engine.Charge{AccountID: a, Amount: amt("11")}, ledger.ErrInsufficientFunds)
	e.must(engine.Charge{AccountID: a, Amount: amt("3"), Metadata: map[string]string{"k": "v"}})
	h := e.must(engine.CreateHold{AccountID: a, Amount: amt("2"), ExpiresIn: time.Minute}).(ledger.Hold)
	e.must(engine.CaptureHold{HoldID: h.ID, Amount: ptr(amt("1.5"))})
	h2 := e.must(engine.CreateHold{AccountID: a, Amount: amt("1"), ExpiresIn: time.Minute}).(ledger.Hold)
	e.must(engine.VoidHold{HoldID: h2.ID})
	e.must(engine.UpdateAccount{ID: b, Status: ptr(ledger.StatusSuspended)})
	e.must(engine.UpdateAccount{ID: b, Name: ptr("renamed")})
	e.must(engine.UpdateAccount{ID: b, FreeMessages: ptr(int64(2))})
	e.must(engine.UpdateAccount{ID: b, Status: ptr(ledger.StatusActive)})
	e.must(engine.Charge{AccountID: b, Amount: amt("1"), UseFreeMessage: true}) // uses one: its entry's event only
	e.must(engine.UpdateAccount{ID: b, FreeMessages: ptr(int64(0))})
	e.refused(engine.UpdateAccount{ID: b, Status: ptr(ledger.StatusClosed), AllowedMinus: ptr(amt("-1"))}, nil)

	evs := e.events(ledger.EventFilter{})
	want := []string{
		"account.created " + a, "account.created " + b,
		"entry.created " + a, "entry.created " + a,
		"hold.created " + a, "entry.created " + a, "hold.captured " + a,
		"hold.created " + a, "hold.voided " + a,
		"account.suspended " + b, "account.updated " + b, "account.updated " + b, "account.updated " + b,
		"entry.created " + b, "account.updated " + b,
	}
	if diff := cmp.Diff(types(evs), want); diff != "" {
		t.Fatalf("events (-got +want):\n%s", diff)
	}
	checkEventRows(t, evs, c.Now())
	var first struct {
		Entry struct {
			ID, Kind, Amount, Reference string
			Sequence                    int64
		}
		BalanceBefore, BalanceAfter string
	}
	json.Unmarshal([]byte(evs[2].Data), &first)
	if first.Entry.ID != top.MovementID || first.Entry.Sequence != top.Seq || first.Entry.Amount != "10" ||
		first.Entry.Reference != `say "hi"\` || first.BalanceBefore != "0" || first.BalanceAfter != "10" {
		t.Errorf("entry.created data %s", evs[2].Data)
	}

	checkEventReads(t, e, evs, a, b)

	// The sequence goes on above the cursor after a restart.
	e.stop()
	e = start(t, open, c)
	c.Advance(8 * 24 * time.Hour)
	e.must(engine.TopUp{AccountID: a, Amount: amt("1")})
	more := e.events(ledger.EventFilter{After: evs[len(evs)-1].Seq})
	if len(more) != 1 || more[0].Type != ledger.EventEntryCreated || more[0].Seq <= evs[len(evs)-1].Seq {
		t.Fatalf("after restart: %+v", more)
	}

	// Pruning takes the old events and nothing else.
	n, err := e.store.PruneEvents(context.Background(), c.Now().Add(-7*24*time.Hour), 5)
	if err != nil || n != 5 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if _, err := e.store.PruneEvents(context.Background(), c.Now().Add(-7*24*time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	left := e.events(ledger.EventFilter{})
	if diff := cmp.Diff(types(left), types(more)); diff != "" {
		t.Errorf("after pruning (-got +want):\n%s", diff)
	}
	if entries, err := e.store.Entries(context.Background(), a); err != nil || len(entries) != 4 {
		t.Errorf("entries after pruning: %d, %v", len(entries), err)
	}
	checkNewestKept(t, e, c, more[0].Seq)
	e.check()
}

// checkNewestKept: past every event's retention, the newest event stays, so the
// head (which a consumer's cursor is checked against) never goes back.
func checkNewestKept(t *testing.T, e *env, c *clock, newest int64) {
	t.Helper()
	c.Advance(8 * 24 * time.Hour)
	if _, err := e.store.PruneEvents(context.Background(), c.Now().Add(-7*24*time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	if left := e.events(ledger.EventFilter{}); len(left) != 1 || left[0].Seq != newest {
		t.Errorf("after pruning everything: %+v, want the newest event, %d", left, newest)
	}
	if head, err := e.store.EventHead(context.Background()); err != nil || head != newest {
		t.Errorf("head after pruning everything: %d, %v, want %d", head, err, newest)
	}
}

// checkEventRows checks what every event must be: sequences increasing, ids
// unique, data a JSON object, the batch's time.
func checkEventRows(t *testing.T, evs []ledger.Event, now time.Time) {
	t.Helper()
	ids := map[string]bool{}
	for i, ev := range evs {
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Errorf("seq %d after %d", ev.Seq, evs[i-1].Seq)
		}
		if ids[ev.ID] || ev.ID == "" {
			t.Errorf("event id %q twice or empty", ev.ID)
		}
		ids[ev.ID] = true
		var data map[string]any
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Errorf("event %d data %q: %v", i, ev.Data, err)
		}
		if !ev.At.Equal(now) {
			t.Errorf("event %d at %v, want %v", i, ev.At, now)
		}
	}
}

// checkEventReads: the head, the UpTo bound, the account and type filters and
// the cursor.
func checkEventReads(t *testing.T, e *env, evs []ledger.Event, a, b string) {
	t.Helper()
	if head, err := e.store.EventHead(context.Background()); err != nil || head != evs[len(evs)-1].Seq {
		t.Errorf("EventHead = %d, %v; want %d", head, err, evs[len(evs)-1].Seq)
	}
	if got := e.events(ledger.EventFilter{UpTo: evs[2].Seq}); len(got) != 3 {
		t.Errorf("UpTo the third: %v", types(got))
	}

	// Filters and the cursor.
	if got := e.events(ledger.EventFilter{AccountID: b}); len(got) != 7 {
		t.Errorf("account filter: %v", types(got))
	}
	got := e.events(ledger.EventFilter{Types: []ledger.EventType{ledger.EventHoldCreated, ledger.EventHoldVoided}, After: evs[4].Seq})
	if diff := cmp.Diff(types(got), []string{"hold.created " + a, "hold.voided " + a}); diff != "" {
		t.Errorf("types after cursor (-got +want):\n%s", diff)
	}
	if got := e.events(ledger.EventFilter{After: evs[len(evs)-1].Seq}); len(got) != 0 {
		t.Errorf("after the last: %v", types(got))
	}

}
