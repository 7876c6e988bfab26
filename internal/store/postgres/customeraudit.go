package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AppendCustomerAudit writes customers' audit records in one round trip.
func (s *Store) AppendCustomerAudit(ctx context.Context, recs []ledger.CustomerAuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{r.ID, micros(r.At), r.AccountID, r.MainAccountID, r.Action, r.Item, r.Description, r.Username, r.IPAddress}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"customer_audit"},
		[]string{"id", "at", "account_id", "main_account_id", "action", "item", "description", "username", "ip_address"}, pgx.CopyFromRows(rows))
	return wrap("customer audit", err)
}

// ListCustomerAudit reads the records a customer may see, oldest first.
func (s *Store) ListCustomerAudit(ctx context.Context, f ledger.CustomerAuditFilter) ([]ledger.CustomerAuditRecord, error) {
	q := `SELECT id, at, account_id, main_account_id, action, item, description, username, ip_address FROM customer_audit
		WHERE (account_id = $1 OR main_account_id = $1)`
	args := []any{f.Account}
	next := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range []struct{ col, v string }{{"action", f.Action}, {"item", f.Item}, {"ip_address", f.IPAddress}, {"username", f.Username}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ` + next(c.v)
		}
	}
	if f.Description != "" {
		q += ` AND strpos(description, ` + next(f.Description) + `) > 0`
	}
	if f.From != nil {
		q += ` AND at >= ` + next(micros(*f.From))
	}
	if f.To != nil {
		q += ` AND at < ` + next(micros(*f.To))
	}
	q += ` ORDER BY seq LIMIT ` + next(f.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("customer audit", err)
	}
	defer rows.Close()
	var out []ledger.CustomerAuditRecord
	for rows.Next() {
		var r ledger.CustomerAuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.AccountID, &r.MainAccountID, &r.Action, &r.Item, &r.Description, &r.Username, &r.IPAddress); err != nil {
			return nil, wrap("customer audit", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	return out, wrap("customer audit", rows.Err())
}
