package ledger

import (
	"context"
	"time"
)

// Subscription is a webhook endpoint: the events it wants (Types; none: every
// type), optionally only one account's (with its sub-accounts' when
// WithChildren), signed with Secret (Standard Webhooks). Its delivery state is
// stored with it: Cursor is the last event sequence delivered (or skipped as not
// wanted), so delivery resumes there after a restart or on another node; a lease
// (LeaseOwner until LeaseUntil) makes one node at a time deliver it.
type Subscription struct {
	ID           string
	URL          string
	Types        []EventType
	AccountID    string
	WithChildren bool
	Secret       string // "whsec_" + base64; shown once, at creation or rotation
	// PreviousSecret is the secret a rotation replaced. Deliveries are signed with
	// it too (Standard Webhooks' webhook-signature holds several) until
	// PreviousUntil, so that a receiver may change to the new one at its own
	// pace and refuse no delivery meanwhile.
	PreviousSecret string
	PreviousUntil  time.Time
	Enabled        bool
	// DisabledReason says why delivery stopped ("" when enabled, or disabled by
	// the operator).
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time

	Cursor       int64
	Attempts     int       // failed attempts at the event after Cursor
	FailingSince time.Time // zero: the last attempt succeeded
	LeaseOwner   string
	LeaseUntil   time.Time
}

// Delivery is one attempt to deliver an event to a subscription.
type Delivery struct {
	Seq            int64 // the log's own order
	SubscriptionID string
	EventID        string
	EventSeq       int64
	Attempt        int
	At             time.Time
	Status         int // the HTTP status; 0: no answer (refused, timed out)
	Latency        time.Duration
	OK             bool
	Snippet        string // the start of the answer's body, or the error
}

// Webhooks stores subscriptions and their delivery log.
type Webhooks interface {
	CreateSubscription(ctx context.Context, s Subscription) error
	// UpdateSubscription writes a subscription's settings (URL, types, account,
	// enabled, reason) and, with resetCursor, its cursor, attempts and failure
	// time too (a redelivery, or enabling it again). A reset also ends the lease,
	// so that the deliverer at work cannot save its own cursor over it: its next
	// save fails with ErrLeaseLost and it starts again from the stored state.
	UpdateSubscription(ctx context.Context, s Subscription, resetCursor bool) error
	Subscription(ctx context.Context, id string) (Subscription, error)
	ListSubscriptions(ctx context.Context) ([]Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	// RotateSecret makes secret the subscription's signing secret and returns the
	// subscription as it now is. The secret it replaces stays as PreviousSecret
	// until previousUntil when that is after now; otherwise none is kept, and
	// PreviousUntil says when the last one ended. With ifSecret set it rotates
	// only a subscription whose secret is still that one (a *ConflictError
	// otherwise): the check and the change are one statement, so of two rotations
	// made from the same reading only the first takes effect.
	RotateSecret(ctx context.Context, id, ifSecret, secret string, previousUntil, now time.Time) (Subscription, error)
	// ForgetEndedSecrets blanks the PreviousSecret of every subscription whose
	// overlap ended by now (PreviousUntil stays, saying when), so that no copy
	// of a secret that signs nothing is kept; it counts them.
	ForgetEndedSecrets(ctx context.Context, now time.Time) (int, error)
	// LeaseSubscription makes owner the subscription's deliverer until until, if
	// no other owner's lease runs at now; it reports whether owner holds it. A
	// deliverer renews with now at the Unix epoch (RenewOnly), which only extends
	// a lease it still holds: one a redelivery ended is not taken back unnoticed.
	LeaseSubscription(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// SaveDelivery writes the deliverer's progress (cursor, attempts, failing
	// since) and appends its delivery log, if owner still holds the lease. It
	// disables the subscription (with s.DisabledReason) when s.Enabled is false,
	// and never enables it: an operator's PATCH {"enabled":false} made while the
	// deliverer worked stands.
	SaveDelivery(ctx context.Context, owner string, s Subscription, log []Delivery) error
	// ListDeliveries pages a subscription's delivery log, newest first.
	ListDeliveries(ctx context.Context, subscriptionID string, beforeSeq int64, limit int) ([]Delivery, error)
	// PruneDeliveries deletes log lines older than before, among the oldest limit
	// (lines, or blocks of lines in a store that keeps them so), and counts the
	// lines deleted: a caller repeats it while the count reaches limit.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error)
}

// JoinEventTypes is the stored form of a list of types: comma-separated.
func JoinEventTypes(ts []EventType) string {
	b := make([]byte, 0, 32*len(ts))
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t...)
	}
	return string(b)
}

// SplitEventTypes reads what JoinEventTypes wrote.
func SplitEventTypes(s string) []EventType {
	if s == "" {
		return nil
	}
	var out []EventType
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		out = append(out, EventType(s[:i]))
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

// RenewOnly is the "now" of a LeaseSubscription that renews a lease its owner
// still holds and takes no expired one.
var RenewOnly = time.Unix(0, 0)

// ErrLeaseLost is SaveDelivery's answer when another deliverer holds the lease.
var ErrLeaseLost = errorString("the subscription's lease is held by another deliverer")

type errorString string

func (e errorString) Error() string { return string(e) }
