package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

const accountColumns = `id, kind, name, currency, status, balance, seq, created_at, updated_at,
	held, allowed_minus, monthly_limit, monthly_spent, spent_month, free_messages, version,
	parent_id, funding, disabled, alerts`

func scanAccount(r pgx.Row) (ledger.Account, error) {
	var a ledger.Account
	var kind, status string
	var balance, created, updated, held, minus, spent int64
	var limit *int64
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
	if limit != nil {
		a.MonthlyLimit, a.HasMonthlyLimit = ledger.Amount(*limit), true
	}
	return a, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func queryAccounts(ctx context.Context, q querier, sql string, args ...any) ([]ledger.Account, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("accounts", err)
	}
	return scanAccounts(rows)
}

// SubAccounts returns the sub-accounts of parentID, in id order (accounts_by_parent).
func (s *Store) SubAccounts(ctx context.Context, parentID string) ([]ledger.Account, error) {
	if parentID == "" {
		return nil, nil
	}
	return queryAccounts(ctx, s.pool, `SELECT `+accountColumns+` FROM accounts WHERE parent_id = $1 ORDER BY id`, parentID)
}

// LoadAccounts returns every account with its stored balance.
func (s *Store) LoadAccounts(ctx context.Context) ([]ledger.Account, error) {
	return queryAccounts(ctx, s.pool, `SELECT `+accountColumns+` FROM accounts`)
}

// AccountsByID returns the committed rows of some accounts (the change feed).
func (s *Store) AccountsByID(ctx context.Context, ids []string) ([]ledger.Account, error) {
	return queryAccounts(ctx, s.pool, `SELECT `+accountColumns+` FROM accounts WHERE id = ANY($1)`, ids)
}

// ListAccounts returns up to limit customer accounts with ids after the cursor.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]ledger.Account, error) {
	return queryAccounts(ctx, s.pool, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'customer' AND id > $1 ORDER BY id LIMIT $2`, after, limit)
}

// LastSeq returns the newest entry's sequence, 0 when there is none.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq *int64
	if err := s.pool.QueryRow(ctx, `SELECT max(seq) FROM entries`).Scan(&seq); err != nil {
		return 0, wrap("last seq", err)
	}
	if seq == nil {
		return 0, nil
	}
	return *seq, nil
}

// Idempotency returns the stored record for key, or nil.
func (s *Store) Idempotency(ctx context.Context, key string) (*ledger.IdempotencyRecord, error) {
	r := &ledger.IdempotencyRecord{Key: key}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT request_hash, status, body, created_at FROM idempotency WHERE key = $1`, key).
		Scan(&r.RequestHash, &r.Status, &r.Body, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("idempotency", err)
	}
	r.CreatedAt = fromMicros(created)
	return r, nil
}

const entryColumns = `seq, movement_id, account_id, kind, amount, balance_after, reference, idempotency_key, created_at,
	metadata, related_id, free_message, sub_account_id`

func scanEntry(r pgx.Row) (ledger.Entry, error) {
	var e ledger.Entry
	var kind, meta string
	var amount, after, created int64
	if err := r.Scan(&e.Seq, &e.MovementID, &e.AccountID, &kind, &amount, &after, &e.Reference, &e.IdempotencyKey, &created,
		&meta, &e.RelatedID, &e.FreeMessage, &e.SubAccountID); err != nil {
		return e, err
	}
	e.Kind, e.Amount, e.BalanceAfter, e.CreatedAt = ledger.EntryKind(kind), ledger.Amount(amount), ledger.Amount(after), fromMicros(created)
	m, err := codec.ParseMetadata(meta)
	if err != nil {
		return e, fmt.Errorf("entry %d metadata: %w", e.Seq, err)
	}
	e.Metadata = m
	return e, nil
}

func (s *Store) queryEntries(ctx context.Context, sql string, args ...any) ([]ledger.Entry, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("entries", err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, wrap("entries", err)
		}
		out = append(out, e)
	}
	return out, wrap("entries", rows.Err())
}

// Entries returns every entry of an account, oldest first.
func (s *Store) Entries(ctx context.Context, accountID string) ([]ledger.Entry, error) {
	return s.queryEntries(ctx, `SELECT `+entryColumns+` FROM entries WHERE account_id = $1 ORDER BY seq`, accountID)
}

// ListEntries pages an account's entries newest first, filtered by f.
func (s *Store) ListEntries(ctx context.Context, accountID string, f ledger.EntryFilter) ([]ledger.Entry, error) {
	var where strings.Builder
	args := []any{accountID}
	where.WriteString("account_id = $1")
	add := func(cond string, v any) {
		args = append(args, v)
		fmt.Fprintf(&where, " AND %s $%d", cond, len(args))
	}
	if f.BeforeSeq > 0 {
		add("seq <", f.BeforeSeq)
	}
	if !f.From.IsZero() {
		add("created_at >=", micros(f.From))
	}
	if !f.To.IsZero() {
		add("created_at <", micros(f.To))
	}
	if f.Kind != "" {
		add("kind =", string(f.Kind))
	}
	args = append(args, f.Limit)
	return s.queryEntries(ctx, fmt.Sprintf(`SELECT %s FROM entries WHERE %s ORDER BY seq DESC LIMIT $%d`, entryColumns, where.String(), len(args)), args...)
}

// LastEntryAt returns the account's newest entry created at or before t, or nil.
func (s *Store) LastEntryAt(ctx context.Context, accountID string, t time.Time) (*ledger.Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM entries
		WHERE account_id = $1 AND created_at <= $2 ORDER BY created_at DESC, seq DESC LIMIT 1`, accountID, micros(t)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("entry at", err)
	}
	return &e, nil
}

// MovementKind returns the kind and account of a movement's customer entry.
func (s *Store) MovementKind(ctx context.Context, accountID, movementID string) (ledger.EntryKind, string, error) {
	var kind, account string
	err := s.pool.QueryRow(ctx, `SELECT kind, account_id FROM entries WHERE movement_id = $1 ORDER BY seq LIMIT 1`, movementID).Scan(&kind, &account)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", &ledger.NotFoundError{What: "movement", ID: movementID}
	}
	if err != nil {
		return "", "", wrap("movement", err)
	}
	return ledger.EntryKind(kind), account, nil
}

// chargeSelect reads a charge from its entry e and its refunds c (charge_refunds).
const chargeSelect = `e.movement_id, e.account_id, -e.amount, COALESCE(c.refunded, 0), e.free_message, e.created_at`

func scanCharge(r pgx.Row) (ledger.Charge, error) {
	var c ledger.Charge
	var amount, refunded, created int64
	if err := r.Scan(&c.ID, &c.AccountID, &amount, &refunded, &c.FreeMessage, &created); err != nil {
		return c, err
	}
	c.Amount, c.Refunded, c.CreatedAt = ledger.Amount(amount), ledger.Amount(refunded), fromMicros(created)
	return c, nil
}

func queryCharges(ctx context.Context, q querier, sql string, args ...any) ([]ledger.Charge, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("charges", err)
	}
	defer rows.Close()
	var out []ledger.Charge
	for rows.Next() {
		c, err := scanCharge(rows)
		if err != nil {
			return nil, wrap("charges", err)
		}
		out = append(out, c)
	}
	return out, wrap("charges", rows.Err())
}

// Charges returns every charge (purse check, export), in entry order.
func (s *Store) Charges(ctx context.Context) ([]ledger.Charge, error) {
	var orphans int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM charge_refunds AS c WHERE NOT EXISTS (
			SELECT 1 FROM entries AS e WHERE e.movement_id = c.charge_id AND e.account_id = c.account_id
				AND e.kind IN ('charge', 'capture'))`).Scan(&orphans); err != nil {
		return nil, wrap("charges", err)
	}
	if orphans > 0 {
		return nil, fmt.Errorf("postgres: charges: refunds recorded for %d movements that are no charges", orphans)
	}
	return queryCharges(ctx, s.pool, `SELECT `+chargeSelect+` FROM entries AS e
		LEFT JOIN charge_refunds AS c ON c.charge_id = e.movement_id
		WHERE e.kind IN ('charge', 'capture') ORDER BY e.seq`)
}

const holdColumns = `id, account_id, amount, captured, status, reference, charge_id, expires_at, created_at, updated_at`

func scanHold(r pgx.Row) (ledger.Hold, error) {
	var h ledger.Hold
	var amount, captured, expires, created, updated int64
	var status string
	if err := r.Scan(&h.ID, &h.AccountID, &amount, &captured, &status, &h.Reference, &h.ChargeID, &expires, &created, &updated); err != nil {
		return h, err
	}
	h.Amount, h.Captured, h.Status = ledger.Amount(amount), ledger.Amount(captured), ledger.HoldStatus(status)
	h.ExpiresAt, h.CreatedAt, h.UpdatedAt = fromMicros(expires), fromMicros(created), fromMicros(updated)
	return h, nil
}

func queryHolds(ctx context.Context, q querier, sql string, args ...any) ([]ledger.Hold, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("holds", err)
	}
	defer rows.Close()
	var out []ledger.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, wrap("holds", err)
		}
		out = append(out, h)
	}
	return out, wrap("holds", rows.Err())
}

// Hold returns a stored hold, or a NotFoundError.
func (s *Store) Hold(ctx context.Context, id string) (ledger.Hold, error) {
	h, err := scanHold(s.pool.QueryRow(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return h, &ledger.NotFoundError{What: "hold", ID: id}
	}
	return h, wrap("hold", err)
}

// ActiveHolds returns every active hold.
func (s *Store) ActiveHolds(ctx context.Context) ([]ledger.Hold, error) {
	return queryHolds(ctx, s.pool, `SELECT `+holdColumns+` FROM holds WHERE status = 'active'`)
}

// DueHolds lists up to limit active holds whose expiry has come, whichever node
// made them.
func (s *Store) DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM holds WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, wrap("due holds", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, wrap("due holds", err)
}
