package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

const accountColumns = `id, kind, name, currency, status, balance, seq, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(r scanner) (ledger.Account, error) {
	var a ledger.Account
	var kind, status string
	var balance, created, updated int64
	if err := r.Scan(&a.ID, &kind, &a.Name, &a.Currency, &status, &balance, &a.Seq, &created, &updated); err != nil {
		return a, err
	}
	a.Kind, a.Status, a.Balance = ledger.AccountKind(kind), ledger.AccountStatus(status), ledger.Amount(balance)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
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
		st, err := tx.PrepareContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
				balance = excluded.balance, seq = excluded.seq, updated_at = excluded.updated_at`)
		if err != nil {
			return fmt.Errorf("sqlite: commit accounts: %w", err)
		}
		defer st.Close()
		for _, a := range b.Accounts {
			if _, err := st.ExecContext(ctx, a.ID, string(a.Kind), a.Name, a.Currency, string(a.Status), int64(a.Balance), a.Seq, micros(a.CreatedAt), micros(a.UpdatedAt)); err != nil {
				return fmt.Errorf("sqlite: commit account %s: %w", a.ID, err)
			}
		}
	}
	if len(b.Entries) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO entries (seq, movement_id, account_id, kind, amount, balance_after, reference, idempotency_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: commit entries: %w", err)
		}
		defer st.Close()
		for _, e := range b.Entries {
			if _, err := st.ExecContext(ctx, e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter), e.Reference, e.IdempotencyKey, micros(e.CreatedAt)); err != nil {
				return fmt.Errorf("sqlite: commit entry %d: %w", e.Seq, err)
			}
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

// Entries returns the entries of one account, oldest first. purse check and tests
// use it; the history API of the ledger issue will page it.
func (s *Store) Entries(ctx context.Context, accountID string) ([]ledger.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, movement_id, account_id, kind, amount, balance_after, reference, idempotency_key, created_at
		FROM entries WHERE account_id = ? ORDER BY seq`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries: %w", err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		var e ledger.Entry
		var kind string
		var amount, after, created int64
		if err := rows.Scan(&e.Seq, &e.MovementID, &e.AccountID, &kind, &amount, &after, &e.Reference, &e.IdempotencyKey, &created); err != nil {
			return nil, fmt.Errorf("sqlite: entries: %w", err)
		}
		e.Kind, e.Amount, e.BalanceAfter, e.CreatedAt = ledger.EntryKind(kind), ledger.Amount(amount), ledger.Amount(after), fromMicros(created)
		out = append(out, e)
	}
	return out, rows.Err()
}
