package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Events are what leaves purse: the webhooks, the events feed, the alerts. Each
// is written by the engine in the same store transaction as the effect it
// describes (an outbox), so an acknowledged movement always has its event and a
// refused or rolled-back one never does. Delivery happens afterwards, outside the
// writer, from the stored rows.

// EventType names what happened.
type EventType string

// Event types.
const (
	EventEntryCreated         EventType = "entry.created" // every entry but the platform's settlements
	EventHoldCreated          EventType = "hold.created"
	EventHoldCaptured         EventType = "hold.captured"
	EventHoldVoided           EventType = "hold.voided"
	EventHoldExpired          EventType = "hold.expired"
	EventAccountCreated       EventType = "account.created"
	EventAccountUpdated       EventType = "account.updated"
	EventAccountSuspended     EventType = "account.suspended"
	EventAccountClosed        EventType = "account.closed"
	EventBalanceLow           EventType = "balance.low"
	EventBalanceRecovered     EventType = "balance.recovered"
	EventBalanceDepleted      EventType = "balance.depleted"
	EventMonthlyLimitReached  EventType = "monthly_limit.reached"
	EventTopUpRequested       EventType = "topup.requested"
	EventSubscriptionDisabled EventType = "subscription.disabled"
)

// EventTypes lists every type, in the order the documentation gives them.
var EventTypes = []EventType{
	EventEntryCreated, EventHoldCreated, EventHoldCaptured, EventHoldVoided, EventHoldExpired,
	EventAccountCreated, EventAccountUpdated, EventAccountSuspended, EventAccountClosed,
	EventBalanceLow, EventBalanceRecovered, EventBalanceDepleted, EventMonthlyLimitReached, EventTopUpRequested,
	EventSubscriptionDisabled,
}

// ValidEventType reports whether s names an event type.
func ValidEventType(s string) bool {
	for _, t := range EventTypes {
		if string(t) == s {
			return true
		}
	}
	return false
}

// Event is one thing that happened. ID is stable (a webhook's webhook-id, and the
// Idempotency-Key a top-up answering topup.requested uses); Seq is the store's
// sequence, increasing in commit order, given by the store when it writes the
// event (zero before). Data is a JSON object: the entry, the hold or the account,
// with the balances before and after where money moved.
type Event struct {
	Seq       int64
	ID        string
	Type      EventType
	AccountID string
	ParentID  string
	At        time.Time
	Data      string
	// Entry is set, and Data left empty, on the entry.created events the engine
	// makes: their data is the entry's alone (AppendEntryEventData), so a store
	// need not keep it twice (the SQLite store rebuilds it on read). Events a store
	// returns always have Data, and no Entry.
	Entry *Entry
}

// EventFilter selects events after a cursor, oldest first.
type EventFilter struct {
	After     int64       // only events with a greater sequence
	UpTo      int64       // only events with this sequence or a smaller one; 0: no bound
	Types     []EventType // none: every type
	AccountID string      // "": every account
	// WithChildren also selects the events of AccountID's sub-accounts (their
	// ParentID is AccountID).
	WithChildren bool
	Limit        int
}

// EventLog is the stored outbox, read by the feed and the deliverers.
type EventLog interface {
	// ListEvents returns committed events after f.After, oldest first. A store
	// returns only events that no later commit can precede: a consumer that
	// resumes after the last sequence it saw never misses one.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// PruneEvents deletes up to limit events older than before (never anything of
	// the ledger) and reports how many went.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
	// LastEventSeq is the newest event's sequence, 0 with none.
	LastEventSeq(ctx context.Context) (int64, error)
	// EventHead is the newest sequence ListEvents may return now: every event up
	// to it is committed, durable and visible. A reader that listed every event
	// it wants up to the head (fewer than its limit) may move its cursor to the
	// head, past the events it does not want, and not scan them again.
	EventHead(ctx context.Context) (int64, error)
}

// Alerts are an account's thresholds and their state. A threshold fires once, at
// the commit that crosses it, and is then fired until it re-arms; the state is
// stored with the account, so a restart or another node neither repeats nor
// forgets an alert.
type Alerts struct {
	// Low fires balance.low when available falls below LowBelow; it re-arms,
	// with balance.recovered, once available is above LowBelow + Margin.
	HasLow   bool
	LowBelow Amount
	Margin   Amount
	// Depleted fires balance.depleted when available reaches zero or less; it
	// re-arms, with balance.recovered, above Margin.
	Depleted bool
	// Monthly fires monthly_limit.reached at 80 % and at 100 % of the monthly
	// limit, once each per calendar month.
	Monthly bool
	// TopUp emits topup.requested when available falls below TopUpBelow, asking
	// for what brings it to TopUpTo, at most TopUpMaxPerDay times a UTC day; it
	// re-arms once available is TopUpBelow or more again.
	HasTopUp       bool
	TopUpBelow     Amount
	TopUpTo        Amount
	TopUpMaxPerDay int

	// State.
	LowFired, DepletedFired, TopUpFired bool
	MonthlyFired                        int // 0, 80 or 100: the highest variant fired in MonthlyMonth
	MonthlyMonth                        int // yyyymm
	TopUpDay                            int // yyyymmdd of TopUpCount
	TopUpCount                          int
}

// Any reports whether any threshold is set; a nil Alerts (an account's when it
// has none) has none.
func (a *Alerts) Any() bool { return a != nil && (a.HasLow || a.Depleted || a.Monthly || a.HasTopUp) }

// The stored form of Alerts is one text column of the account: "" for none, else
// a version and then numbers separated by commas. It never contains '|' or a
// quote (SQLite's start-up reads an account row as one '|'-joined string), and a
// new field is a new version, read by the old version's parser as well. The
// stores' LowBalance reads the flags (the first number after "a1,") in SQL: a new
// version keeps them there, or changes those queries with it.
const alertsVersion = "a1"

// Encode is the stored form of a.
func (a Alerts) Encode() string {
	if a == (Alerts{}) {
		return ""
	}
	flags := 0
	for i, f := range []bool{a.HasLow, a.Depleted, a.Monthly, a.HasTopUp, a.LowFired, a.DepletedFired, a.TopUpFired} {
		if f {
			flags |= 1 << i
		}
	}
	vals := []int64{int64(flags), int64(a.LowBelow), int64(a.Margin), int64(a.TopUpBelow), int64(a.TopUpTo),
		int64(a.TopUpMaxPerDay), int64(a.MonthlyFired), int64(a.MonthlyMonth), int64(a.TopUpDay), int64(a.TopUpCount)}
	b := []byte(alertsVersion)
	for _, v := range vals {
		b = append(b, ',')
		b = strconv.AppendInt(b, v, 10)
	}
	return string(b)
}

// ParseAlerts reads what Encode wrote.
func ParseAlerts(s string) (Alerts, error) {
	var a Alerts
	if s == "" {
		return a, nil
	}
	parts := strings.Split(s, ",")
	if parts[0] != alertsVersion || len(parts) != 11 {
		return a, fmt.Errorf("ledger: stored alerts %q: unknown form", s)
	}
	var v [10]int64
	for i := range v {
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil {
			return a, fmt.Errorf("ledger: stored alerts %q: %w", s, err)
		}
		v[i] = n
	}
	f := v[0]
	a.HasLow, a.Depleted, a.Monthly, a.HasTopUp = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
	a.LowFired, a.DepletedFired, a.TopUpFired = f&16 != 0, f&32 != 0, f&64 != 0
	a.LowBelow, a.Margin, a.TopUpBelow, a.TopUpTo = Amount(v[1]), Amount(v[2]), Amount(v[3]), Amount(v[4])
	a.TopUpMaxPerDay, a.MonthlyFired, a.MonthlyMonth, a.TopUpDay, a.TopUpCount = int(v[5]), int(v[6]), int(v[7]), int(v[8]), int(v[9])
	return a, nil
}
