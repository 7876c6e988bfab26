package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AppendAudit writes audit records in one round trip.
func (s *Store) AppendAudit(ctx context.Context, recs []ledger.AuditRecord) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{micros(r.At), r.Actor, r.Action, r.Target, r.Remote, int32(r.Status)}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit"}, []string{"at", "actor", "action", "target", "remote", "status"}, pgx.CopyFromRows(rows))
	return wrap("audit", err)
}

// ListAudit pages the audit log, newest first.
func (s *Store) ListAudit(ctx context.Context, f ledger.AuditFilter) ([]ledger.AuditRecord, error) {
	before := f.BeforeSeq
	if before <= 0 {
		before = 1<<63 - 1
	}
	// "" matches every actor, and every action as a prefix.
	rows, err := s.pool.Query(ctx, `SELECT seq, at, actor, action, target, remote, status FROM audit
		WHERE seq < $1 AND ($3 = '' OR actor = $3) AND starts_with(action, $4) ORDER BY seq DESC LIMIT $2`, before, f.Limit, f.Actor, f.Action)
	if err != nil {
		return nil, wrap("audit", err)
	}
	defer rows.Close()
	var out []ledger.AuditRecord
	for rows.Next() {
		var r ledger.AuditRecord
		var at int64
		var status int32
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.Action, &r.Target, &r.Remote, &status); err != nil {
			return nil, wrap("audit", err)
		}
		r.At, r.Status = fromMicros(at), int(status)
		out = append(out, r)
	}
	return out, wrap("audit", rows.Err())
}
