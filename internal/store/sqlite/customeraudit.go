package sqlite

import (
	"context"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AppendCustomerAudit writes customers' audit records in one transaction on the
// engine's connection (see AppendAudit).
func (s *Store) AppendCustomerAudit(ctx context.Context, recs []ledger.CustomerAuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: customer audit: %w", err)
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{r.ID, micros(r.At), r.AccountID, r.MainAccountID, r.Action, r.Item, r.Description, r.Username, r.IPAddress}
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	if err := b.insertRows(ctx, "INSERT INTO customer_audit (id, at, account_id, main_account_id, action, item, description, username, ip_address)", 9, rows, ""); err != nil {
		b.Rollback(ctx)
		return fmt.Errorf("sqlite: customer audit: %w", err)
	}
	err = tx.Commit()
	b.done()
	if err != nil {
		return fmt.Errorf("sqlite: customer audit: %w", err)
	}
	return s.Sync()
}

// ListCustomerAudit reads the records a customer may see, oldest first.
func (s *Store) ListCustomerAudit(ctx context.Context, f ledger.CustomerAuditFilter) ([]ledger.CustomerAuditRecord, error) {
	q := `SELECT id, at, account_id, main_account_id, action, item, description, username, ip_address FROM customer_audit
		WHERE (account_id = ? OR main_account_id = ?)`
	args := []any{f.Account, f.Account}
	for _, c := range []struct{ col, v string }{{"action", f.Action}, {"item", f.Item}, {"ip_address", f.IPAddress}, {"username", f.Username}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.Description != "" {
		q += ` AND instr(description, ?) > 0`
		args = append(args, f.Description)
	}
	if f.From != nil {
		q += ` AND at >= ?`
		args = append(args, micros(*f.From))
	}
	if f.To != nil {
		q += ` AND at < ?`
		args = append(args, micros(*f.To))
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: customer audit: %w", err)
	}
	defer rows.Close()
	var out []ledger.CustomerAuditRecord
	for rows.Next() {
		var r ledger.CustomerAuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.AccountID, &r.MainAccountID, &r.Action, &r.Item, &r.Description, &r.Username, &r.IPAddress); err != nil {
			return nil, fmt.Errorf("sqlite: customer audit: %w", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
