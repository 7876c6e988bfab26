package sqlite

import (
	"context"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Export reads the whole store but its entries (see EachEntry), for purse migrate.
func (s *Store) Export(ctx context.Context) (*ledger.Dump, error) {
	d := &ledger.Dump{Settings: map[string]string{}}
	var err error
	if d.Accounts, err = s.LoadAccounts(ctx); err != nil {
		return nil, err
	}
	holds, err := s.queryAll(ctx, `SELECT `+holdColumns+` FROM holds`, func(r scanner) error {
		h, err := scanHold(r)
		d.Holds = append(d.Holds, h)
		return err
	})
	_ = holds
	if err != nil {
		return nil, err
	}
	if d.Charges, err = s.Charges(ctx); err != nil {
		return nil, err
	}
	if _, err = s.queryAll(ctx, `SELECT username, account_id, password_hash, created_at FROM users`, func(r scanner) error {
		var u ledger.User
		var created int64
		err := r.Scan(&u.Username, &u.AccountID, &u.PasswordHash, &created)
		u.CreatedAt = fromMicros(created)
		d.Users = append(d.Users, u)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err = s.queryAll(ctx, `SELECT `+keyColumns+` FROM api_keys`, func(r scanner) error {
		k, err := scanKey(r)
		d.APIKeys = append(d.APIKeys, k)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err = s.queryAll(ctx, `SELECT key, request_hash, status, body, created_at FROM idempotency`, func(r scanner) error {
		var rec ledger.IdempotencyRecord
		var created int64
		err := r.Scan(&rec.Key, &rec.RequestHash, &rec.Status, &rec.Body, &created)
		rec.CreatedAt = fromMicros(created)
		d.Idempotency = append(d.Idempotency, rec)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err = s.queryAll(ctx, `SELECT key, value FROM settings`, func(r scanner) error {
		var k, v string
		err := r.Scan(&k, &v)
		d.Settings[k] = v
		return err
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Store) queryAll(ctx context.Context, q string, each func(scanner) error) (int, error) {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sqlite: export: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := each(rows); err != nil {
			return n, fmt.Errorf("sqlite: export: %w", err)
		}
		n++
	}
	return n, rows.Err()
}
