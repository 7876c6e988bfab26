// Package ledger is purse's domain: exact money, accounts, entries, credentials'
// owners and the errors every other layer speaks. It imports nothing of purse and
// does no I/O; the engine applies its rules and the stores persist its types.
package ledger

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
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

// SystemAccountID is the id of the platform account of that kind and currency.
func SystemAccountID(kind AccountKind, currency string) string {
	return "sys_" + string(kind) + "_" + currency
}

// Account is a balance holder. Balance is the committed balance; Seq is the
// sequence number of the last entry that changed it (0 when none has).
type Account struct {
	ID        string
	Kind      AccountKind
	Name      string
	Currency  string
	Status    AccountStatus
	Balance   Amount
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EntryKind names the movement an entry belongs to.
type EntryKind string

// Entry kinds.
const (
	EntryTopUp EntryKind = "top_up"
	// EntrySettlement is the platform side of a batch: one entry per platform
	// account per commit, the sum of that batch's movements.
	EntrySettlement EntryKind = "settlement"
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
	IdempotencyKey string
	CreatedAt      time.Time
}

// Movement is what a money operation returns: the movement id and the customer
// side's entry.
type Movement struct {
	ID    string
	Entry Entry
}

// IdempotencyRecord is the stored outcome of a mutating request, written in the
// same commit as its effect so a retry can never apply it twice.
type IdempotencyRecord struct {
	Key         string // scoped by the caller (for example "admin:<key>")
	RequestHash string // hex SHA-256 of method, path and body
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + a 26-character time-ordered random id (48 bits of
// milliseconds, 80 random bits), so ids sort roughly by creation time and never collide
// across nodes.
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("ledger: no randomness: " + err.Error())
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}
