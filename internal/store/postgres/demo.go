package postgres

import (
	"context"
)

// MarkDemo records that an account is a demo account (its credentials are
// published); marking it again is a no-op.
func (s *Store) MarkDemo(ctx context.Context, accountID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO demo_accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING`, accountID)
	return wrap("mark demo account", err)
}

// DemoAccounts lists the accounts marked as demo accounts.
func (s *Store) DemoAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT account_id FROM demo_accounts ORDER BY account_id`)
	if err != nil {
		return nil, wrap("demo accounts", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("demo accounts", err)
		}
		ids = append(ids, id)
	}
	return ids, wrap("demo accounts", rows.Err())
}
