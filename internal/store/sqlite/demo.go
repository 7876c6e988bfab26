package sqlite

import (
	"context"
	"fmt"
)

// MarkDemo records that an account is a demo account (its credentials are
// published); marking it again is a no-op.
func (s *Store) MarkDemo(ctx context.Context, accountID string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO demo_accounts (account_id) VALUES (?) ON CONFLICT DO NOTHING`, accountID); err != nil {
		return fmt.Errorf("sqlite: mark demo account: %w", err)
	}
	return nil
}

// DemoAccounts lists the accounts marked as demo accounts.
func (s *Store) DemoAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id FROM demo_accounts ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: demo accounts: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: demo accounts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
