package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// withIdempotency runs fn in a write transaction that also stores rec (when not
// nil), so a credential change and its idempotency record commit together.
func (s *Store) withIdempotency(ctx context.Context, rec *ledger.IdempotencyRecord, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if rec != nil {
		taken, kerr := s.keyIn(ctx, tx, rec.Key)
		if kerr != nil {
			return kerr
		}
		if taken {
			return ledger.ErrDuplicateIdempotencyKey
		}
		keys, kerr := s.appendKeys(ctx, tx, []ledger.IdempotencyRecord{*rec})
		if kerr != nil {
			return kerr
		}
		defer func() { keys.done(err) }() // err: withIdempotency's result
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency (id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			keys.ids[0], rec.Key, rec.RequestHash, rec.Status, rec.Body, micros(rec.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: idempotency: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// InsertUser stores a new Basic user; a taken username is a ledger.ConflictError.
func (s *Store) InsertUser(ctx context.Context, u ledger.User, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (username, account_id, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			u.Username, u.AccountID, u.PasswordHash, micros(u.CreatedAt))
		if isConstraint(err) {
			return &ledger.ConflictError{Reason: fmt.Sprintf("username %q is taken", u.Username)}
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert user: %w", err)
		}
		return nil
	})
}

// DeleteUser removes the user of that account.
func (s *Store) DeleteUser(ctx context.Context, accountID, username string, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE account_id = ? AND username = ?`, accountID, username)
		if err != nil {
			return fmt.Errorf("sqlite: delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &ledger.NotFoundError{What: "user", ID: username}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE username = ?`, username); err != nil {
			return fmt.Errorf("sqlite: delete user sessions: %w", err)
		}
		return nil
	})
}

// UserByName finds a user by username.
func (s *Store) UserByName(ctx context.Context, username string) (ledger.User, error) {
	u := ledger.User{Username: username}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, password_hash, created_at FROM users WHERE username = ?`, username).
		Scan(&u.AccountID, &u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, &ledger.NotFoundError{What: "user", ID: username}
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: user: %w", err)
	}
	u.CreatedAt = fromMicros(created)
	return u, nil
}

// UsersOf lists the users of an account.
func (s *Store) UsersOf(ctx context.Context, accountID string) ([]ledger.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username, created_at FROM users WHERE account_id = ? ORDER BY username`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	var out []ledger.User
	for rows.Next() {
		u := ledger.User{AccountID: accountID}
		var created int64
		if err := rows.Scan(&u.Username, &created); err != nil {
			return nil, fmt.Errorf("sqlite: users: %w", err)
		}
		u.CreatedAt = fromMicros(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// InsertAPIKey stores a new key (by its hash).
func (s *Store) InsertAPIKey(ctx context.Context, k ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, account_id, name, key_hash, scopes, created_at, allowed_ips, valid_from, valid_to, enabled)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, k.Name, k.Hash, strings.Join(k.Scopes, " "), micros(k.CreatedAt),
			strings.Join(k.AllowedIPs, " "), optMicros(k.ValidFrom), optMicros(k.ValidTo), !k.Disabled)
		if isConstraint(err) {
			return &ledger.ConflictError{Reason: "api key already exists"}
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert api key: %w", err)
		}
		return nil
	})
}

// keyColumns are an API key's; OAuth clients (oauthColumns) have no
// restrictions and select constants in their place, so one scanKey reads both.
const keyColumns = `id, account_id, name, key_hash, scopes, created_at, revoked_at, allowed_ips, valid_from, valid_to, enabled`

func scanKey(r scanner) (ledger.APIKey, error) {
	var k ledger.APIKey
	var scopes, allowed string
	var created int64
	var revoked, from, to sql.NullInt64
	var enabled bool
	if err := r.Scan(&k.ID, &k.AccountID, &k.Name, &k.Hash, &scopes, &created, &revoked, &allowed, &from, &to, &enabled); err != nil {
		return k, err
	}
	k.Scopes = strings.Fields(scopes)
	if allowed != "" {
		k.AllowedIPs = strings.Fields(allowed)
	}
	k.CreatedAt = fromMicros(created)
	k.RevokedAt, k.ValidFrom, k.ValidTo = nullTime(revoked), nullTime(from), nullTime(to)
	k.Disabled = !enabled
	return k, nil
}

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func optMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// UpdateAPIKey replaces a key's changeable fields.
func (s *Store) UpdateAPIKey(ctx context.Context, k ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET name = ?, scopes = ?, allowed_ips = ?, valid_from = ?, valid_to = ?, enabled = ?
			WHERE account_id = ? AND id = ?`,
			k.Name, strings.Join(k.Scopes, " "), strings.Join(k.AllowedIPs, " "), optMicros(k.ValidFrom), optMicros(k.ValidTo), !k.Disabled,
			k.AccountID, k.ID)
		if err != nil {
			return fmt.Errorf("sqlite: update api key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &ledger.NotFoundError{What: "api key", ID: k.ID}
		}
		return nil
	})
}

// APIKeyByHash finds a key, revoked or not, by the SHA-256 of its clear text.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (ledger.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, &ledger.NotFoundError{What: "api key", ID: "(by hash)"}
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: api key: %w", err)
	}
	return k, nil
}

// APIKeyByID finds a key, revoked or not, by its id.
func (s *Store) APIKeyByID(ctx context.Context, id string) (ledger.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, &ledger.NotFoundError{What: "api key", ID: id}
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: api key: %w", err)
	}
	return k, nil
}

// APIKeysOf lists an account's keys, revoked ones included, oldest first.
func (s *Store) APIKeysOf(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return s.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE account_id = ? ORDER BY id`, accountID)
}

// queryKeys reads API keys or OAuth clients (the same shape).
func (s *Store) queryKeys(ctx context.Context, q string, args ...any) ([]ledger.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var out []ledger.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey marks a key revoked; revoking twice keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.revoke(ctx, "api_keys", "api key", accountID, keyID, at, rec)
}

// revoke marks a key or client revoked (the first time wins), with its
// idempotency record in the same transaction.
func (s *Store) revoke(ctx context.Context, table, what, accountID, id string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revoked_at = coalesce(revoked_at, ?) WHERE account_id = ? AND id = ?`,
			micros(at), accountID, id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke %s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &ledger.NotFoundError{What: what, ID: id}
		}
		return nil
	})
}

// Setting reads a setting ("" when unset).
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: setting: %w", err)
	}
	return v, nil
}

// SetSetting writes a setting; onlyIfUnset keeps an existing value.
func (s *Store) SetSetting(ctx context.Context, key, value string, onlyIfUnset bool) error {
	q := `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	if onlyIfUnset {
		q = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
	}
	if _, err := s.db.ExecContext(ctx, q, key, value); err != nil {
		return fmt.Errorf("sqlite: setting: %w", err)
	}
	return nil
}
