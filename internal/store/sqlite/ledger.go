package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

const accountColumns = `id, kind, name, currency, status, balance, seq, created_at, updated_at,
	held, allowed_minus, monthly_limit, monthly_spent, spent_month, free_messages, version,
	parent_id, funding, disabled, alerts`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(r scanner) (ledger.Account, error) {
	var a ledger.Account
	var kind, status string
	var balance, created, updated, held, minus, spent int64
	var limit sql.NullInt64
	var funding, alerts string
	if err := r.Scan(&a.ID, &kind, &a.Name, &a.Currency, &status, &balance, &a.Seq, &created, &updated,
		&held, &minus, &limit, &spent, &a.SpentMonth, &a.FreeMessages, &a.Version,
		&a.ParentID, &funding, &a.Disabled, &alerts); err != nil {
		return a, err
	}
	al, err := ledger.ParseAlerts(alerts)
	if err != nil {
		return a, err
	}
	a.SetAlerts(al)
	a.Funding = ledger.FundingMode(funding)
	a.Kind, a.Status, a.Balance = ledger.AccountKind(kind), ledger.AccountStatus(status), ledger.Amount(balance)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.Held, a.AllowedMinus, a.MonthlySpent = ledger.Amount(held), ledger.Amount(minus), ledger.Amount(spent)
	a.MonthlyLimit, a.HasMonthlyLimit = ledger.Amount(limit.Int64), limit.Valid
	return a, nil
}

// loadColumns is every account column as one text value, the free-text name last
// so that a separator inside it stays in it.
const loadColumns = `id || '|' || kind || '|' || currency || '|' || status || '|' || balance || '|' || seq || '|' ||
	created_at || '|' || updated_at || '|' || held || '|' || allowed_minus || '|' || coalesce(monthly_limit, '') || '|' ||
	monthly_spent || '|' || spent_month || '|' || free_messages || '|' || version || '|' ||
	parent_id || '|' || funding || '|' || disabled || '|' || alerts || '|' || name`

// LoadAccounts returns every account with its stored balance, in rowid order.
// The engine calls it once at start instead of replaying entries. Each row comes
// as one concatenated text value: with a million accounts, handing sixteen values
// per row through database/sql was most of the start-up time (measured: 1.04 s
// against 0.53 s per 200,000 rows). SQLite building those values is most of what
// is left, so the two halves of the table (by rowid) are read and parsed at once,
// each on a connection of its own and into its own part of the result, which is
// sized up front so that it is never held twice (start-up with 1M accounts: 5.3-5.7
// s with one reader and a parser beside it, BENCHMARKS.md 5a).
func (s *Store) LoadAccounts(ctx context.Context) ([]ledger.Account, error) {
	var lo, hi, n int64
	// Each in a subquery of its own, so that each is a B-tree lookup or count,
	// not a scan.
	err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT min(rowid) FROM accounts), 0),
		coalesce((SELECT max(rowid) FROM accounts), 0), (SELECT count(*) FROM accounts)`).Scan(&lo, &hi, &n)
	mid := lo + (hi-lo)/2
	below := mid - lo + 1 // when no rowid is missing, as without deletes
	if err == nil && hi-lo+1 != n {
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE rowid <= ?`, mid).Scan(&below)
	}
	below = min(below, n) // no accounts: 0 of 0
	if err != nil {
		return nil, fmt.Errorf("sqlite: load accounts: %w", err)
	}
	out := make([]ledger.Account, n, n+16)
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = s.loadAccounts(ctx, "rowid <= ?", mid, out[:below]) })
	wg.Go(func() { errs[1] = s.loadAccounts(ctx, "rowid > ?", mid, out[below:]) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("sqlite: load accounts: %w", err)
	}
	return out, nil
}

// loadAccounts reads the accounts whose rowid meets cond into dst, which has
// room for exactly them.
func (s *Store) loadAccounts(ctx context.Context, cond string, mid int64, dst []ledger.Account) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+loadColumns+` FROM accounts WHERE `+cond+` ORDER BY rowid`, mid)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		if i == len(dst) {
			return errors.New("more accounts than counted: the table changed while it was read")
		}
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if dst[i], err = parseAccountLine(line); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if i != len(dst) {
		return errors.New("fewer accounts than counted: the table changed while it was read")
	}
	return nil
}

// parseAccountLine reads one loadColumns value.
func parseAccountLine(line string) (ledger.Account, error) {
	var a ledger.Account
	var f [20]string // split by hand: strings.SplitN's slice was a million allocations at start
	rest := line
	for i := range 19 {
		j := strings.IndexByte(rest, '|')
		if j < 0 {
			return a, fmt.Errorf("account row %q has %d fields", line, i+1)
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	f[19] = rest // the name, last: a '|' in it stays in it
	ints := make([]int64, 19)
	for _, i := range []int{4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 17} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return a, fmt.Errorf("account %s field %d: %w", f[0], i, err)
		}
		ints[i] = v
	}
	a.ID, a.Kind, a.Currency, a.Status, a.Name = f[0], ledger.AccountKind(f[1]), f[2], ledger.AccountStatus(f[3]), f[19]
	a.ParentID, a.Funding, a.Disabled = f[15], ledger.FundingMode(f[16]), ints[17] != 0
	a.Balance, a.Seq = ledger.Amount(ints[4]), ints[5]
	a.CreatedAt, a.UpdatedAt = fromMicros(ints[6]), fromMicros(ints[7])
	a.Held, a.AllowedMinus = ledger.Amount(ints[8]), ledger.Amount(ints[9])
	if f[10] != "" {
		v, err := strconv.ParseInt(f[10], 10, 64)
		if err != nil {
			return a, fmt.Errorf("account %s monthly limit: %w", f[0], err)
		}
		a.MonthlyLimit, a.HasMonthlyLimit = ledger.Amount(v), true
	}
	a.MonthlySpent, a.SpentMonth, a.FreeMessages, a.Version = ledger.Amount(ints[11]), int(ints[12]), ints[13], ints[14]
	alerts, err := ledger.ParseAlerts(f[18])
	if err != nil {
		return a, fmt.Errorf("account %s: %w", f[0], err)
	}
	a.SetAlerts(alerts)
	return a, nil
}

// Shared is false: one process owns the file, so the engine's memory is the truth.
func (s *Store) Shared() bool { return false }

// DueHolds is not needed for an exclusive store: the engine knows every hold.
func (s *Store) DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return nil, nil
}

// SubAccounts returns the sub-accounts of parentID, in id order (accounts_by_parent).
func (s *Store) SubAccounts(ctx context.Context, parentID string) ([]ledger.Account, error) {
	if parentID == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE parent_id = ? ORDER BY id`, parentID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sub-accounts: %w", err)
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sub-accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListAccounts returns up to limit customer accounts with ids after the cursor
// (an account id, or "" for the first page), in id order.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]ledger.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE kind = 'customer' AND id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
