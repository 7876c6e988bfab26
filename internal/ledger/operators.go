package ledger

import (
	"context"
	"time"
)

// Role is what an operator of the console and the admin API may do. Each role
// includes the ones before it.
type Role string

// The roles, weakest first.
const (
	RoleViewer   Role = "viewer"   // reads everything
	RoleOperator Role = "operator" // also moves money, suspends and closes
	RoleAdmin    Role = "admin"    // also manages credentials, operators and settings
)

// LastAdminReason is the ConflictError reason a store gives when it refuses to remove the last admin.
const LastAdminReason = "the last admin cannot be removed: add another admin first"

// Roles are the roles, weakest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether r may do what need may: an unknown role allows nothing.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Operator is a person who runs purse: they log in to the console with a
// password, and may hold a personal admin API token. Only hashes are kept: the
// password's argon2id PHC string and the token's SHA-256 (hex), "" when none.
type Operator struct {
	Name         string
	Role         Role
	PasswordHash string
	TokenHash    string
	CreatedAt    time.Time
}

// Operators are the console's and the admin API's people (OperatorByToken finds
// the holder of a personal admin token).
type Operators interface {
	// InsertOperator adds an operator; a name already taken is a ConflictError.
	InsertOperator(ctx context.Context, o Operator) error
	// Operator returns one operator by name (a NotFoundError when none).
	Operator(ctx context.Context, name string) (Operator, error)
	// OperatorByToken returns the holder of a token's SHA-256 (a NotFoundError when none).
	OperatorByToken(ctx context.Context, tokenHash string) (Operator, error)
	// ListOperators lists every operator by name.
	ListOperators(ctx context.Context) ([]Operator, error)
	// UpdateOperator replaces an operator's role and hashes (a NotFoundError when none).
	UpdateOperator(ctx context.Context, o Operator) error
	// DeleteOperator removes an operator (a NotFoundError when none). Removing
	// the last admin is a ConflictError, decided in one transaction with the
	// delete, so that two admins removed at once on two nodes leave one: with no
	// admin left only the shared admin token could manage operators again.
	DeleteOperator(ctx context.Context, name string) error
}

// BalancePoint is one bucket of an account's history: its balance at the end of
// the bucket (after its last entry) and the charges and top-ups booked in it.
type BalancePoint struct {
	At       time.Time // the bucket's start
	Balance  Amount    // after the bucket's last entry
	Charged  Amount    // charges and captures, as a positive sum
	Charges  int64
	ToppedUp Amount
	TopUps   int64
}

// BalanceSeries is an account's history between two times, in buckets.
type BalanceSeries struct {
	Opening Amount         // the balance at the series' start (0 before the first entry)
	Points  []BalancePoint // only the buckets with entries, oldest first
}

// SeriesHour is the grain of the stored history: stores keep one row per account
// per hour with entries (balance_hours), so a chart of any range reads at most one
// row per hour of it, however many entries the account has.
const SeriesHour = time.Hour

// Charts is what the console reads, aggregated by the store so that no page
// reads every account or every entry.
type Charts interface {
	// BalanceSeries returns an account's buckets of width bucket (a whole number
	// of hours, at least one) from from (rounded down to the hour) to to.
	BalanceSeries(ctx context.Context, accountID string, from, to time.Time, bucket time.Duration) (BalanceSeries, error)
	// SearchAccounts returns a page of the customer accounts q selects, and how
	// many it selects in all.
	SearchAccounts(ctx context.Context, q AccountQuery) ([]Account, int, error)
	// CurrencyTotals sums the customer accounts per currency, with their charges
	// and top-ups since dayStart and since monthStart (whole hours).
	CurrencyTotals(ctx context.Context, dayStart, monthStart time.Time) ([]CurrencyTotal, error)
	// Depleted lists up to limit customer accounts, not closed, with nothing
	// available (balance + allowed minus - held <= 0), lowest first.
	Depleted(ctx context.Context, limit int) ([]Account, error)
	// LowBalance lists up to limit customer accounts, not closed, whose
	// low-balance threshold has fired and not yet re-armed (Alerts.LowFired),
	// lowest available first. The store reads the flag from the stored alerts
	// (Alerts.Encode's first number) rather than the caller reading every account.
	LowBalance(ctx context.Context, limit int) ([]Account, error)
}

// AccountQuery selects customer accounts for the console's list.
type AccountQuery struct {
	Text     string // in the name or the id, any case; "" for all
	Status   AccountStatus
	Currency string
	Sort     string // "name" (default), "balance" (lowest first) or "-balance"
	Offset   int
	Limit    int
}

// CurrencyTotal is one currency's customer accounts summed.
type CurrencyTotal struct {
	Currency                    string
	Accounts                    int64
	Balance, Held, Available    Amount
	ChargedToday, ToppedUpToday Amount
	ChargesToday                int64
	ChargedMonth, ToppedUpMonth Amount
	ChargesMonth                int64
}

// HourTotal is what one batch adds to one account's hour of history.
type HourTotal struct {
	AccountID string
	Hour      int64 // hours since the Unix epoch, UTC
	LastSeq   int64 // the newest entry's sequence, whose balance is Balance
	Balance   Amount
	Charged   Amount
	Charges   int64
	ToppedUp  Amount
	TopUps    int64
}

// HourTotals sums a batch's entries per account and hour, for the stores to add
// to balance_hours in the batch's own commit.
func HourTotals(entries []Entry) []HourTotal {
	type key struct {
		id   string
		hour int64
	}
	idx := map[key]int{}
	var out []HourTotal
	var last key
	i := -1
	for _, e := range entries {
		k := key{e.AccountID, HourOf(e.CreatedAt)}
		// A batch's entries come in runs of one account and hour: the map only
		// at the start of a run (it was a lookup per entry on the writer's path).
		if i < 0 || k != last {
			var ok bool
			if i, ok = idx[k]; !ok {
				i = len(out)
				idx[k] = i
				out = append(out, HourTotal{AccountID: k.id, Hour: k.hour})
			}
			last = k
		}
		t := &out[i]
		if e.Seq > t.LastSeq || t.LastSeq == 0 {
			t.LastSeq, t.Balance = e.Seq, e.BalanceAfter
		}
		switch e.Kind {
		case EntryCharge, EntryCapture:
			t.Charged -= e.Amount
			t.Charges++
		case EntryTopUp:
			t.ToppedUp += e.Amount
			t.TopUps++
		}
	}
	return out
}

// HourOf is the hour since the Unix epoch that t falls in (rounded down, also
// before 1970).
func HourOf(t time.Time) int64 {
	s := t.Unix()
	h := s / 3600
	if s < 0 && s%3600 != 0 {
		h--
	}
	return h
}
