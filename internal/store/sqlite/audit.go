package sqlite

import (
	"context"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AppendAudit writes audit records in one transaction, with multi-row INSERTs, on
// the engine's connection (see beginWriter): it must be short.
func (s *Store) AppendAudit(ctx context.Context, recs []ledger.AuditRecord) error {
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{micros(r.At), r.Actor, r.Action, r.Target, r.Remote, r.Status}
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	if err := b.insertRows(ctx, "INSERT INTO audit (at, actor, action, target, remote, status)", 6, rows, ""); err != nil {
		b.Rollback(ctx)
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	err = tx.Commit()
	b.done()
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return s.Sync() // the writer connection commits without an fsync
}

// ListAudit pages the audit log, newest first.
func (s *Store) ListAudit(ctx context.Context, f ledger.AuditFilter) ([]ledger.AuditRecord, error) {
	q := `SELECT seq, at, actor, action, target, remote, status FROM audit`
	before := f.BeforeSeq
	if before <= 0 {
		before = 1<<63 - 1
	}
	q += ` WHERE seq < ?`
	args := []any{before}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		q += ` AND instr(action, ?) = 1`
		args = append(args, f.Action)
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
