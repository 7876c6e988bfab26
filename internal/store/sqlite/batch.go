package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/purse-ledger/purse/internal/ledger"
)

// batchTx is one engine batch: a write transaction (BEGIN IMMEDIATE) that the
// engine reads through and commits once.
type batchTx struct {
	s  *Store
	tx *sql.Tx
}

// Begin starts a batch transaction.
func (s *Store) Begin(ctx context.Context) (ledger.BatchTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &batchTx{s: s, tx: tx}, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func (b *batchTx) LockAccounts(ctx context.Context, ids []string) ([]ledger.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := b.tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (b *batchTx) HoldAccounts(ctx context.Context, holdIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(holdIDs) == 0 {
		return out, nil
	}
	rows, err := b.tx.QueryContext(ctx, `SELECT id, account_id FROM holds WHERE id IN (`+placeholders(len(holdIDs))+`)`, anys(holdIDs)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, acc string
		if err := rows.Scan(&id, &acc); err != nil {
			return nil, err
		}
		out[id] = acc
	}
	return out, rows.Err()
}

func (b *batchTx) LockHolds(ctx context.Context, ids []string) ([]ledger.Hold, error) {
	rows, err := b.tx.QueryContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	defer rows.Close()
	var out []ledger.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (b *batchTx) LockCharges(ctx context.Context, ids []string) ([]ledger.Charge, error) {
	rows, err := b.tx.QueryContext(ctx, `SELECT id, account_id, amount, refunded, free_message, created_at FROM charges WHERE id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: charges: %w", err)
	}
	defer rows.Close()
	var out []ledger.Charge
	for rows.Next() {
		var c ledger.Charge
		var amount, refunded, created int64
		if err := rows.Scan(&c.ID, &c.AccountID, &amount, &refunded, &c.FreeMessage, &created); err != nil {
			return nil, err
		}
		c.Amount, c.Refunded, c.CreatedAt = ledger.Amount(amount), ledger.Amount(refunded), fromMicros(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (b *batchTx) Idempotency(ctx context.Context, keys []string) ([]ledger.IdempotencyRecord, error) {
	rows, err := b.tx.QueryContext(ctx, `SELECT key, request_hash, status, body, created_at FROM idempotency WHERE key IN (`+placeholders(len(keys))+`)`, anys(keys)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: idempotency: %w", err)
	}
	defer rows.Close()
	var out []ledger.IdempotencyRecord
	for rows.Next() {
		var r ledger.IdempotencyRecord
		var created int64
		if err := rows.Scan(&r.Key, &r.RequestHash, &r.Status, &r.Body, &created); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMicros(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReserveSeqs counts on from the newest entry: this process is the file's only writer.
func (b *batchTx) ReserveSeqs(ctx context.Context, n int) ([]int64, error) {
	s := b.s
	s.seqOnce.Do(func() { s.seq, s.seqErr = s.LastSeq(ctx) })
	if s.seqErr != nil {
		err := s.seqErr
		s.seqOnce = sync.Once{}
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		s.seq++
		out[i] = s.seq
	}
	return out, nil
}

func (b *batchTx) Rollback(ctx context.Context) { b.tx.Rollback() }

// Commit writes a whole batch and commits: one fsync for every request in it.
func (b *batchTx) Commit(ctx context.Context, bt *ledger.Batch) (err error) {
	tx := b.tx
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if len(bt.Accounts) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
				balance = excluded.balance, seq = excluded.seq, updated_at = excluded.updated_at,
				held = excluded.held, allowed_minus = excluded.allowed_minus, monthly_limit = excluded.monthly_limit,
				monthly_spent = excluded.monthly_spent, spent_month = excluded.spent_month, free_messages = excluded.free_messages,
				version = excluded.version`)
		if err != nil {
			return fmt.Errorf("sqlite: commit accounts: %w", err)
		}
		defer st.Close()
		for _, a := range bt.Accounts {
			var limit any
			if a.HasMonthlyLimit {
				limit = int64(a.MonthlyLimit)
			}
			if _, err := st.ExecContext(ctx, a.ID, string(a.Kind), a.Name, a.Currency, string(a.Status), int64(a.Balance), a.Seq, micros(a.CreatedAt), micros(a.UpdatedAt),
				int64(a.Held), int64(a.AllowedMinus), limit, int64(a.MonthlySpent), a.SpentMonth, a.FreeMessages, a.Version); err != nil {
				return fmt.Errorf("sqlite: commit account %s: %w", a.ID, err)
			}
		}
	}
	entries := make([][]any, len(bt.Entries))
	for i, e := range bt.Entries {
		entries[i] = []any{e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter),
			e.Reference, e.IdempotencyKey, micros(e.CreatedAt), encodeMetadata(e.Metadata), e.RelatedID, e.FreeMessage}
	}
	if err := insertRows(ctx, tx, "INSERT INTO entries ("+entryColumns+")", 12, entries, ""); err != nil {
		return fmt.Errorf("sqlite: commit entries: %w", err)
	}
	holds := make([][]any, len(bt.Holds))
	for i, h := range bt.Holds {
		holds[i] = []any{h.ID, h.AccountID, int64(h.Amount), int64(h.Captured), string(h.Status), h.Reference, h.ChargeID,
			micros(h.ExpiresAt), micros(h.CreatedAt), micros(h.UpdatedAt)}
	}
	if err := insertRows(ctx, tx, "INSERT INTO holds ("+holdColumns+")", 10, holds, `ON CONFLICT (id) DO UPDATE SET captured = excluded.captured,
		status = excluded.status, charge_id = excluded.charge_id, updated_at = excluded.updated_at`); err != nil {
		return fmt.Errorf("sqlite: commit holds: %w", err)
	}
	charges := make([][]any, len(bt.Charges))
	for i, c := range bt.Charges {
		charges[i] = []any{c.ID, c.AccountID, int64(c.Amount), int64(c.Refunded), c.FreeMessage, micros(c.CreatedAt)}
	}
	if err := insertRows(ctx, tx, "INSERT INTO charges (id, account_id, amount, refunded, free_message, created_at)", 6, charges,
		"ON CONFLICT (id) DO UPDATE SET refunded = excluded.refunded"); err != nil {
		return fmt.Errorf("sqlite: commit charges: %w", err)
	}
	recs := make([][]any, len(bt.Idempotency))
	for i, r := range bt.Idempotency {
		recs[i] = []any{r.Key, r.RequestHash, r.Status, r.Body, micros(r.CreatedAt)}
	}
	if err := insertRows(ctx, tx, "INSERT INTO idempotency (key, request_hash, status, body, created_at)", 5, recs, ""); err != nil {
		return fmt.Errorf("sqlite: commit idempotency: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// insertRows writes rows with multi-row INSERT statements (a few hundred rows each):
// crossing into SQLite once per statement rather than once per row is most of the
// cost of a large batch.
func insertRows(ctx context.Context, tx *sql.Tx, head string, ncols int, rows [][]any, tail string) error {
	const perStatement = 256
	one := "(" + placeholders(ncols) + ")"
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		var b strings.Builder
		b.Grow(len(head) + n*(len(one)+1) + len(tail) + 16)
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, n*ncols)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(one)
			args = append(args, rows[i]...)
		}
		b.WriteByte(' ')
		b.WriteString(tail)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
