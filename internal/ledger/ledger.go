// Package ledger is purse's domain: exact money, accounts, entries, credentials'
// owners and the errors every other layer speaks. It imports nothing of purse and
// does no I/O itself; the engine applies its rules and the stores persist its
// types. It declares what a store is (store.go: small role interfaces composed into
// Store, which both stores implement and every consumer asks for by role), and
// re-derives the invariants from any store's rows (Check).
package ledger

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// AccountStatus is the life-cycle state of an account.
type AccountStatus string

// Account states. Only an active account may spend or read its balance over the
// public API; a closed account is final and must hold a zero balance.
const (
	StatusActive    AccountStatus = "active"
	StatusSuspended AccountStatus = "suspended"
	StatusClosed    AccountStatus = "closed"
)

// Valid reports whether s is one of the defined states.
func (s AccountStatus) Valid() bool {
	return s == StatusActive || s == StatusSuspended || s == StatusClosed
}

// AccountKind separates customers from the platform's own accounts that form the
// other side of every double-entry movement.
type AccountKind string

// Account kinds. Each currency has exactly one funding and one revenue account,
// created on first use: money enters customers from funding and leaves to revenue,
// so the sum of all balances of one currency is always zero.
const (
	KindCustomer AccountKind = "customer"
	KindFunding  AccountKind = "funding"
	KindRevenue  AccountKind = "revenue"
)

// FundingMode is how a sub-account's charges and holds are paid.
type FundingMode string

// Funding modes of a sub-account (docs/subaccounts.md).
const (
	// FundingOwn: the sub-account has its own balance; money moves between it and
	// its parent only by a transfer.
	FundingOwn FundingMode = "own"
	// FundingShared: its charges and holds draw on the parent's balance and
	// limits; each entry names the sub-account (Entry.SubAccountID).
	FundingShared FundingMode = "shared"
)

// Valid reports whether m is a funding mode of a sub-account.
func (m FundingMode) Valid() bool { return m == FundingOwn || m == FundingShared }

// IsSub reports whether a is a sub-account.
func (a *Account) IsSub() bool { return a.ParentID != "" }

// SystemAccountID is the id of the platform account of that kind and currency.
func SystemAccountID(kind AccountKind, currency string) string {
	return "sys_" + string(kind) + "_" + currency
}

// Account is a balance holder. Balance is the committed balance; Seq is the
// sequence number of the last entry that changed it (0 when none has).
//
// Held is the sum of the account's active holds. Available = Balance + AllowedMinus
// - Held is what a charge or a new hold may take. MonthlySpent counts what was
// charged in the UTC calendar month SpentMonth (yyyymm); a new month starts at zero.
type Account struct {
	ID           string
	Kind         AccountKind
	ParentID     string // the parent account's ID; "" for a main account
	Name         string
	Currency     string
	Status       AccountStatus
	Balance      Amount
	Held         Amount
	AllowedMinus Amount
	MonthlyLimit Amount // meaningful only when HasMonthlyLimit
	MonthlySpent Amount
	SpentMonth   int
	FreeMessages int64
	Seq          int64
	// Version counts the writes to this account; a node's cache only ever replaces
	// an account by a higher version, so a late refresh never undoes a newer write.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// Funding is how a sub-account pays (FundingOwn or FundingShared); "" for a
	// main account. Like ParentID it never changes after creation.
	Funding FundingMode
	// Alerts are the account's thresholds and their armed/fired state (events.go),
	// stored with the account so that they survive restarts and are shared by
	// every node of a shared store. Nil when there are none (the zero Alerts): a
	// million resident accounts, nearly all without thresholds, then pay a pointer
	// each rather than the whole struct. The value pointed to is never changed,
	// since copies of an account share it: read it with AlertsOrZero and replace
	// it with SetAlerts.
	Alerts *Alerts
	// The booleans come last, together, so that they share one word of padding.
	HasMonthlyLimit bool
	// Disabled is the parent's switch (Infobip's `enabled`, inverted so that the
	// zero value of every account made before sub-accounts existed is enabled). It
	// is apart from Status, which only the operator sets: a customer who
	// re-enables a sub-account cannot undo an operator's suspension.
	Disabled bool
}

// AlertsOrZero is a copy of the account's alerts, the zero Alerts when it has none.
func (a *Account) AlertsOrZero() Alerts {
	if a.Alerts == nil {
		return Alerts{}
	}
	return *a.Alerts
}

// SetAlerts gives the account al: nil for the zero Alerts, the pointer it has when
// that already holds al, else a new one (copy-on-write: the old value may be
// shared with other copies of the account).
func (a *Account) SetAlerts(al Alerts) {
	switch {
	case al == (Alerts{}):
		a.Alerts = nil
	case a.Alerts == nil || *a.Alerts != al:
		a.Alerts = &al
	}
}

// MonthOf is the yyyymm number of t's UTC calendar month.
func MonthOf(t time.Time) int {
	t = t.UTC()
	return t.Year()*100 + int(t.Month())
}

// SpentIn returns what the account has charged in the month of now.
func (a *Account) SpentIn(now time.Time) Amount {
	if a.SpentMonth != MonthOf(now) {
		return 0
	}
	return a.MonthlySpent
}

// Available is what a charge or a new hold may take now: balance plus the allowed
// overdraft minus what active holds reserve. It saturates instead of overflowing.
func (a *Account) Available() Amount {
	v, err := a.Balance.Add(a.AllowedMinus)
	if err != nil {
		v = math.MaxInt64
	}
	v, err = v.Sub(a.Held)
	if err != nil {
		return math.MinInt64
	}
	return v
}

// MonthlyRoom is how much more may be charged or held this month; ok is false when
// the account has no monthly limit.
func (a *Account) MonthlyRoom(now time.Time) (room Amount, ok bool) {
	if !a.HasMonthlyLimit {
		return 0, false
	}
	r, err := a.MonthlyLimit.Sub(a.SpentIn(now))
	if err == nil {
		r, err = r.Sub(a.Held)
	}
	if err != nil {
		return math.MinInt64, true
	}
	return r, true
}

// EntryKind names the movement an entry belongs to.
type EntryKind string

// Entry kinds.
const (
	EntryTopUp      EntryKind = "top_up"
	EntryCharge     EntryKind = "charge"
	EntryCapture    EntryKind = "capture" // a charge made by capturing a hold
	EntryRefund     EntryKind = "refund"
	EntryAdjustment EntryKind = "adjustment"
	// EntrySettlement is the platform side of a batch: one entry per platform
	// account per commit, the sum of that batch's movements.
	EntrySettlement EntryKind = "settlement"
	// EntryTransfer is one side of a transfer between a parent and its own-funded
	// sub-account: both sides share the movement id, each names the other account
	// in RelatedID, and their amounts sum to zero (no platform account takes part).
	EntryTransfer EntryKind = "transfer"
)

// Entry is one immutable side of a movement on one account. Entries are only ever
// appended; a correction is a new movement.
type Entry struct {
	Seq            int64 // global, strictly increasing commit order
	MovementID     string
	AccountID      string
	Kind           EntryKind
	Amount         Amount // signed: positive credits the account
	BalanceAfter   Amount
	Reference      string
	Metadata       map[string]string
	RelatedID      string // the charge a refund returns, the hold a capture takes
	FreeMessage    bool   // a charge paid with a free message (Amount 0)
	IdempotencyKey string
	CreatedAt      time.Time
	// SubAccountID names the shared-funding sub-account that spent this entry of
	// its parent's ("" otherwise).
	SubAccountID string
}

// ValidEntryKind reports whether k names a kind of entry.
func ValidEntryKind(k string) bool {
	switch EntryKind(k) {
	case EntryTopUp, EntryCharge, EntryCapture, EntryRefund, EntryAdjustment, EntrySettlement, EntryTransfer:
		return true
	}
	return false
}

// HoldStatus is the life-cycle state of a hold. Only active holds reserve funds;
// the other three are final.
type HoldStatus string

// Hold states.
const (
	HoldActive   HoldStatus = "active"
	HoldCaptured HoldStatus = "captured"
	HoldVoided   HoldStatus = "voided"
	HoldExpired  HoldStatus = "expired"
)

// Hold reserves funds for work in flight. Captured is what its capture charged
// (the rest went back); ChargeID is that capture's movement.
type Hold struct {
	ID        string
	AccountID string
	Amount    Amount
	Captured  Amount
	Status    HoldStatus
	Reference string
	ChargeID  string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Charge is what a refund needs to know about a charge (or capture): how much it
// took and how much of it has been returned. All refunds of a charge together
// never exceed it.
type Charge struct {
	ID          string // the charge's movement id
	AccountID   string
	Amount      Amount
	Refunded    Amount
	FreeMessage bool
	CreatedAt   time.Time
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + a 26-character time-ordered random id (48 bits of
// milliseconds, 80 random bits), so ids sort roughly by creation time and never collide
// across nodes.
func NewID(prefix string) string { return NewIDAt(prefix, time.Now()) }

// NewIDAt is NewID with the time part taken from at: the engine names a movement
// after its batch's time, the time its entry carries, so a store can find the
// entry from the id alone (see IDTime).
func NewIDAt(prefix string, at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("ledger: no randomness: " + err.Error())
	}
	out := make([]byte, len(prefix)+1+idEncoding.EncodedLen(len(b)))
	copy(out, prefix)
	out[len(prefix)] = '_'
	idEncoding.Encode(out[len(prefix)+1:], b[:]) // the alphabet is lower case already
	return string(out)
}

// IDTime is the millisecond an id of NewID or NewIDAt was made at; ok is false for
// anything else.
func IDTime(id string) (time.Time, bool) {
	_, enc, found := strings.Cut(id, "_")
	if !found || len(enc) != 26 {
		return time.Time{}, false
	}
	b, err := idEncoding.DecodeString(enc)
	if err != nil || len(b) != 16 {
		return time.Time{}, false
	}
	ms := binary.BigEndian.Uint64(b[:8]) >> 16
	return time.UnixMilli(int64(ms)).UTC(), true
}
