package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

const accountColumns = `id, kind, name, currency, status, balance, seq, created_at, updated_at,
	held, allowed_minus, monthly_limit, monthly_spent, spent_month, free_messages`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(r scanner) (ledger.Account, error) {
	var a ledger.Account
	var kind, status string
	var balance, created, updated, held, minus, spent int64
	var limit sql.NullInt64
	if err := r.Scan(&a.ID, &kind, &a.Name, &a.Currency, &status, &balance, &a.Seq, &created, &updated,
		&held, &minus, &limit, &spent, &a.SpentMonth, &a.FreeMessages); err != nil {
		return a, err
	}
	a.Kind, a.Status, a.Balance = ledger.AccountKind(kind), ledger.AccountStatus(status), ledger.Amount(balance)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.Held, a.AllowedMinus, a.MonthlySpent = ledger.Amount(held), ledger.Amount(minus), ledger.Amount(spent)
	a.MonthlyLimit, a.HasMonthlyLimit = ledger.Amount(limit.Int64), limit.Valid
	return a, nil
}

// LoadAccounts returns every account with its stored balance. The engine calls it
// once at start instead of replaying entries.
func (s *Store) LoadAccounts(ctx context.Context) ([]ledger.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load accounts: %w", err)
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: load accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastSeq returns the sequence number of the newest entry, 0 when there is none.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(seq) FROM entries`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: last seq: %w", err)
	}
	return seq.Int64, nil
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

// Idempotency returns the stored record for key, or nil when there is none.
func (s *Store) Idempotency(ctx context.Context, key string) (*ledger.IdempotencyRecord, error) {
	r := &ledger.IdempotencyRecord{Key: key}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT request_hash, status, body, created_at FROM idempotency WHERE key = ?`, key).
		Scan(&r.RequestHash, &r.Status, &r.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: idempotency: %w", err)
	}
	r.CreatedAt = fromMicros(created)
	return r, nil
}

// Commit writes a whole batch in one transaction: one fsync for every request in it.
func (s *Store) Commit(ctx context.Context, b *ledger.Batch) (err error) {
	if b.Empty() {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if len(b.Accounts) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
				balance = excluded.balance, seq = excluded.seq, updated_at = excluded.updated_at,
				held = excluded.held, allowed_minus = excluded.allowed_minus, monthly_limit = excluded.monthly_limit,
				monthly_spent = excluded.monthly_spent, spent_month = excluded.spent_month, free_messages = excluded.free_messages`)
		if err != nil {
			return fmt.Errorf("sqlite: commit accounts: %w", err)
		}
		defer st.Close()
		for _, a := range b.Accounts {
			var limit any
			if a.HasMonthlyLimit {
				limit = int64(a.MonthlyLimit)
			}
			if _, err := st.ExecContext(ctx, a.ID, string(a.Kind), a.Name, a.Currency, string(a.Status), int64(a.Balance), a.Seq, micros(a.CreatedAt), micros(a.UpdatedAt),
				int64(a.Held), int64(a.AllowedMinus), limit, int64(a.MonthlySpent), a.SpentMonth, a.FreeMessages); err != nil {
				return fmt.Errorf("sqlite: commit account %s: %w", a.ID, err)
			}
		}
	}
	if len(b.Entries) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO entries (`+entryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: commit entries: %w", err)
		}
		defer st.Close()
		for _, e := range b.Entries {
			if _, err := st.ExecContext(ctx, e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter),
				e.Reference, e.IdempotencyKey, micros(e.CreatedAt), encodeMetadata(e.Metadata), e.RelatedID, e.FreeMessage); err != nil {
				return fmt.Errorf("sqlite: commit entry %d: %w", e.Seq, err)
			}
		}
	}
	for _, h := range b.Holds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO holds (id, account_id, amount, captured, status, reference, charge_id, expires_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET captured = excluded.captured, status = excluded.status,
				charge_id = excluded.charge_id, updated_at = excluded.updated_at`,
			h.ID, h.AccountID, int64(h.Amount), int64(h.Captured), string(h.Status), h.Reference, h.ChargeID,
			micros(h.ExpiresAt), micros(h.CreatedAt), micros(h.UpdatedAt)); err != nil {
			return fmt.Errorf("sqlite: commit hold %s: %w", h.ID, err)
		}
	}
	for _, c := range b.Charges {
		if _, err := tx.ExecContext(ctx, `INSERT INTO charges (id, account_id, amount, refunded, free_message, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET refunded = excluded.refunded`,
			c.ID, c.AccountID, int64(c.Amount), int64(c.Refunded), c.FreeMessage, micros(c.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: commit charge %s: %w", c.ID, err)
		}
	}
	for _, r := range b.Idempotency {
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency (key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			r.Key, r.RequestHash, r.Status, r.Body, micros(r.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: commit idempotency: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Entries returns every entry of one account, oldest first (purse check, tests).
func (s *Store) Entries(ctx context.Context, accountID string) ([]ledger.Entry, error) {
	return s.queryEntries(ctx, `SELECT `+entryColumns+` FROM entries WHERE account_id = ? ORDER BY seq`, accountID)
}
