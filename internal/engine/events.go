package engine

import (
	"math/bits"
	"sort"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Events (the outbox). A batch's events are made at its commit, from what the
// batch is about to write, and go into the same store transaction: a committed
// batch always has its events, and a refused command (rolled back to its
// savepoint) or a dropped batch never does.
//
// They are derived from the batch's rows, not from the commands: every entry the
// batch writes (but the platform's settlements) is an entry.created, every hold
// whose state changed a hold.*, every customer account created or whose status or
// settings changed an account.*. A new kind of command therefore has its events
// without code here. Within one commit they come in this order: accounts created,
// entries (in the order they were booked), holds, account changes, then the
// thresholds the commit crossed (alerts.go).
//
// The writer is the hot path: an event costs its row and nothing per entry beyond
// it (an entry.created carries its entry, whose JSON the store makes). Ids and JSON bodies are appended to one buffer per batch, which becomes one
// string at the end that every event's ID and Data are slices of; the random part
// of the ids is taken once per batch (a batch id, then the event's place in it).

// eventBuilder gathers a batch's events.
type eventBuilder struct {
	buf    []byte
	spans  []eventSpan
	events []ledger.Event
	prefix string // the batch's id; an event's id is prefix-n
}

type eventSpan struct{ id, data, end int }

func newEventBuilder(now time.Time, hint int) *eventBuilder {
	b := &eventBuilder{prefix: ledger.NewIDAt("evt", now), events: make([]ledger.Event, 0, hint), spans: make([]eventSpan, 0, hint)}
	b.buf = make([]byte, 0, hint*48) // mostly ids (an entry.created has no data here): the buffer seldom grows
	return b
}

// start begins an event: its id is written, and the caller appends its data.
func (b *eventBuilder) start(typ ledger.EventType, accountID, parentID string, at time.Time) {
	id := len(b.buf)
	b.buf = append(b.buf, b.prefix...)
	b.buf = append(b.buf, '-')
	b.buf = strconv.AppendInt(b.buf, int64(len(b.events)), 10)
	b.spans = append(b.spans, eventSpan{id: id, data: len(b.buf)})
	b.events = append(b.events, ledger.Event{Type: typ, AccountID: accountID, ParentID: parentID, At: at})
}

// finish gives every event its id and data, slices of one string.
func (b *eventBuilder) finish() []ledger.Event {
	if len(b.events) == 0 {
		return nil
	}
	s := string(b.buf)
	for i := range b.events {
		sp := &b.spans[i]
		end := len(s)
		if i+1 < len(b.spans) {
			end = b.spans[i+1].id
		}
		b.events[i].ID, b.events[i].Data = s[sp.id:sp.data], s[sp.data:end]
	}
	return b.events
}

// events makes the batch's events, once its sequences are final.
func (t *txn) events(bt *ledger.Batch) []ledger.Event {
	b := newEventBuilder(t.now, len(bt.Entries)+len(t.alertEvents))
	for _, id := range sortedKeys(t.created) {
		if a := t.accounts[id]; a != nil && a.Kind == ledger.KindCustomer {
			b.account(ledger.EventAccountCreated, a)
		}
	}
	var last *ledger.Account
	var freeUsed map[string]int64 // free messages the batch's charges used, per account
	for i := range bt.Entries {
		e := &bt.Entries[i]
		if e.Kind == ledger.EntrySettlement {
			continue
		}
		if last == nil || last.ID != e.AccountID {
			last = t.accounts[e.AccountID]
		}
		if e.FreeMessage {
			if freeUsed == nil {
				freeUsed = map[string]int64{}
			}
			freeUsed[e.AccountID]++
		}
		b.entry(e, last)
	}
	t.holdEvents(b)
	t.accountEvents(b, freeUsed)
	for _, x := range t.alertEvents {
		x(b)
	}
	for _, x := range t.emitted {
		b.start(x.Type, x.AccountID, "", t.now)
		b.buf = append(b.buf, x.Data...)
	}
	return b.finish()
}

// holdEvents adds an event for each hold the batch made or whose status changed.
func (t *txn) holdEvents(b *eventBuilder) {
	if len(t.holds) == 0 {
		return
	}
	for _, id := range sortedKeys(t.holds) {
		h := t.holds[id]
		before, known := t.holdBase[id]
		if !known {
			before, known = t.e.rows.hold(id)
		}
		parent := ""
		if a, ok := t.account(h.AccountID); ok {
			parent = a.ParentID
		}
		if !known {
			b.hold(ledger.EventHoldCreated, h, parent)
		}
		if h.Status != ledger.HoldActive && (!known || before.Status != h.Status) {
			b.hold(ledger.EventType("hold."+string(h.Status)), h, parent)
		}
	}
}

// accountEvents adds an event for each existing customer account whose status or
// settings the batch changed.
func (t *txn) accountEvents(b *eventBuilder, freeUsed map[string]int64) {
	for _, id := range sortedKeys(t.accounts) {
		a := t.accounts[id]
		if a.Kind != ledger.KindCustomer || t.created[id] {
			continue
		}
		before, ok := t.e.rows.account(t, id)
		if !ok {
			continue
		}
		switch {
		case before.Status != a.Status && a.Status == ledger.StatusSuspended:
			b.account(ledger.EventAccountSuspended, a)
		case before.Status != a.Status && a.Status == ledger.StatusClosed:
			b.account(ledger.EventAccountClosed, a)
		case before.Status != a.Status || settingsChanged(before, a, freeUsed[id]):
			b.account(ledger.EventAccountUpdated, a)
		}
	}
}

// settingsChanged reports whether an operator changed an account's settings.
// Free messages count when they changed by more than the batch's free-message
// charges used (each of those is its entry's event).
func settingsChanged(before, after *ledger.Account, freeUsed int64) bool {
	return before.Name != after.Name || before.AllowedMinus != after.AllowedMinus ||
		before.HasMonthlyLimit != after.HasMonthlyLimit || before.MonthlyLimit != after.MonthlyLimit ||
		after.FreeMessages != before.FreeMessages-freeUsed || alertSettings(before.AlertsOrZero()) != alertSettings(after.AlertsOrZero())
}

// alertSettings is the settings part of Alerts (without their state).
func alertSettings(a ledger.Alerts) ledger.Alerts {
	return ledger.Alerts{HasLow: a.HasLow, LowBelow: a.LowBelow, Margin: a.Margin, Depleted: a.Depleted, Monthly: a.Monthly,
		HasTopUp: a.HasTopUp, TopUpBelow: a.TopUpBelow, TopUpTo: a.TopUpTo, TopUpMaxPerDay: a.TopUpMaxPerDay}
}

// entry adds an entry.created. Its data is the entry's alone: the event carries
// the entry (ledger.Event.Entry) and the store builds or keeps the data
// (ledger.AppendEntryEventData), so the writer formats no JSON per entry and the
// SQLite store keeps it compactly.
func (b *eventBuilder) entry(e *ledger.Entry, a *ledger.Account) {
	parent := ""
	if a != nil {
		parent = a.ParentID
	}
	b.start(ledger.EventEntryCreated, e.AccountID, parent, e.CreatedAt)
	b.events[len(b.events)-1].Entry = e
}

// hold adds a hold.* event: {"hold":{...}} in the admin API's shape.
func (b *eventBuilder) hold(typ ledger.EventType, h *ledger.Hold, parent string) {
	b.start(typ, h.AccountID, parent, h.UpdatedAt)
	w := append(b.buf, `{"hold":{"id":`...)
	w = appendString(w, h.ID)
	w = append(w, `,"accountId":`...)
	w = appendString(w, h.AccountID)
	w = appendAmountField(w, "amount", h.Amount)
	w = appendAmountField(w, "captured", h.Captured)
	w = append(w, `,"status":`...)
	w = appendString(w, string(h.Status))
	w = append(w, `,"reference":`...)
	w = appendString(w, h.Reference)
	if h.ChargeID != "" {
		w = append(w, `,"chargeId":`...)
		w = appendString(w, h.ChargeID)
	}
	w = appendTime(w, "expiresAt", h.ExpiresAt)
	w = appendTime(w, "createdAt", h.CreatedAt)
	w = appendTime(w, "updatedAt", h.UpdatedAt)
	b.buf = append(w, "}}"...)
}

// account adds an account.* event: {"account":{...}}.
func (b *eventBuilder) account(typ ledger.EventType, a *ledger.Account) {
	b.start(typ, a.ID, a.ParentID, a.UpdatedAt)
	w := append(b.buf, `{"account":{"id":`...)
	w = appendString(w, a.ID)
	if a.ParentID != "" {
		w = append(w, `,"parentId":`...)
		w = appendString(w, a.ParentID)
	}
	w = append(w, `,"name":`...)
	w = appendString(w, a.Name)
	w = append(w, `,"currency":`...)
	w = appendString(w, a.Currency)
	w = append(w, `,"status":`...)
	w = appendString(w, string(a.Status))
	w = appendAmountField(w, "balance", a.Balance)
	w = appendAmountField(w, "available", a.Available())
	w = appendAmountField(w, "allowedMinus", a.AllowedMinus)
	if a.HasMonthlyLimit {
		w = appendAmountField(w, "monthlyLimit", a.MonthlyLimit)
	} else {
		w = append(w, `,"monthlyLimit":null`...)
	}
	w = append(w, `,"freeMessages":`...)
	w = strconv.AppendInt(w, a.FreeMessages, 10)
	b.buf = append(w, "}}"...)
}

func appendAmountField(w []byte, name string, v ledger.Amount) []byte {
	w = append(w, ',', '"')
	w = append(w, name...)
	w = append(w, `":"`...)
	w = v.Append(w)
	return append(w, '"')
}

func appendTime(w []byte, name string, t time.Time) []byte {
	w = append(w, ',', '"')
	w = append(w, name...)
	w = append(w, `":"`...)
	w = t.UTC().AppendFormat(w, time.RFC3339Nano)
	return append(w, '"')
}

// appendString appends s as a JSON string (ledger.AppendJSONString).
func appendString(w []byte, s string) []byte { return ledger.AppendJSONString(w, s) }

// atLeastPercent reports whether spent >= limit*pct/100, exactly (128-bit).
func atLeastPercent(spent, limit ledger.Amount, pct uint64) bool {
	if spent < 0 || limit <= 0 {
		return false
	}
	hiS, loS := bits.Mul64(uint64(spent), 100)
	hiL, loL := bits.Mul64(uint64(limit), pct)
	return hiS > hiL || hiS == hiL && loS >= loL
}

// alertIDs are the accounts of the batch with thresholds, sorted.
func (t *txn) alertIDs() []string {
	var ids []string
	for id, a := range t.accounts {
		if a.Alerts.Any() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// EventsCommitted returns a channel closed once a batch with events has been
// made durable after the call: readers of the events feed wait on it instead of
// polling the store (other nodes' events still need a poll).
func (e *Engine) EventsCommitted() <-chan struct{} {
	e.eventsMu.Lock()
	defer e.eventsMu.Unlock()
	if e.eventsNew == nil {
		e.eventsNew = make(chan struct{})
	}
	return e.eventsNew
}

// wakeEventReaders closes the channel EventsCommitted handed out.
func (e *Engine) wakeEventReaders() {
	e.eventsMu.Lock()
	if e.eventsNew != nil {
		close(e.eventsNew)
		e.eventsNew = nil
	}
	e.eventsMu.Unlock()
}
