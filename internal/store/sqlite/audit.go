package sqlite

import (
	"context"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AppendAudit writes audit records in one transaction, with multi-row INSERTs: it
// shares the single SQLite write lock with the engine, so it must be short.
func (s *Store) AppendAudit(ctx context.Context, recs []ledger.AuditRecord) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{micros(r.At), r.Actor, r.Action, r.Target, r.Remote, r.Status}
	}
	b := &batchTx{s: s, tx: tx}
	if err := b.insertRows(ctx, "INSERT INTO audit (at, actor, action, target, remote, status)", 6, rows, ""); err != nil {
		tx.Rollback()
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return nil
}

// ListAudit pages the audit log, newest first.
func (s *Store) ListAudit(ctx context.Context, f ledger.AuditFilter) ([]ledger.AuditRecord, error) {
	q := `SELECT seq, at, actor, action, target, remote, status FROM audit`
	args := []any{}
	if f.BeforeSeq > 0 {
		q += ` WHERE seq < ?`
		args = append(args, f.BeforeSeq)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	var out []ledger.AuditRecord
	for rows.Next() {
		var r ledger.AuditRecord
		var at int64
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.Action, &r.Target, &r.Remote, &r.Status); err != nil {
			return nil, fmt.Errorf("sqlite: audit: %w", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
