package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purse-ledger/purse/internal/ledger"
)

func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// withIdempotency runs fn in a transaction that also stores rec (when not nil) and
// announces a credential change to every node.
func (s *Store) withIdempotency(ctx context.Context, rec *ledger.IdempotencyRecord, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if rec != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency (key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
				rec.Key, rec.RequestHash, rec.Status, rec.Body, micros(rec.CreatedAt)); err != nil {
				if isUnique(err) {
					return ledger.ErrDuplicateIdempotencyKey
				}
				return wrap("idempotency", err)
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, notifyCredentials); err != nil {
			return wrap("notify", err)
		}
		return nil
	})
}

// InsertUser stores a new Basic user; a taken username is a ledger.ConflictError.
func (s *Store) InsertUser(ctx context.Context, u ledger.User, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (username, account_id, password_hash, created_at) VALUES ($1, $2, $3, $4)`,
			u.Username, u.AccountID, u.PasswordHash, micros(u.CreatedAt))
		if isUnique(err) {
			return &ledger.ConflictError{Reason: fmt.Sprintf("username %q is taken", u.Username)}
		}
		return wrap("insert user", err)
	})
}

// DeleteUser removes the user of that account.
func (s *Store) DeleteUser(ctx context.Context, accountID, username string, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE account_id = $1 AND username = $2`, accountID, username)
		if err != nil {
			return wrap("delete user", err)
		}
		if tag.RowsAffected() == 0 {
			return &ledger.NotFoundError{What: "user", ID: username}
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE username = $1`, username)
		return wrap("delete user sessions", err)
	})
}

// UserByName finds a user by username.
func (s *Store) UserByName(ctx context.Context, username string) (ledger.User, error) {
	u := ledger.User{Username: username}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT account_id, password_hash, created_at FROM users WHERE username = $1`, username).
		Scan(&u.AccountID, &u.PasswordHash, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, &ledger.NotFoundError{What: "user", ID: username}
	}
	if err != nil {
		return u, wrap("user", err)
	}
	u.CreatedAt = fromMicros(created)
	return u, nil
}

// UsersOf lists the users of an account.
func (s *Store) UsersOf(ctx context.Context, accountID string) ([]ledger.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, created_at FROM users WHERE account_id = $1 ORDER BY username`, accountID)
	if err != nil {
		return nil, wrap("users", err)
	}
	defer rows.Close()
	var out []ledger.User
	for rows.Next() {
		u := ledger.User{AccountID: accountID}
		var created int64
		if err := rows.Scan(&u.Username, &created); err != nil {
			return nil, wrap("users", err)
		}
		u.CreatedAt = fromMicros(created)
		out = append(out, u)
	}
	return out, wrap("users", rows.Err())
}

// AllUsers returns every user with its hash (purse migrate).
func (s *Store) AllUsers(ctx context.Context) ([]ledger.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, account_id, password_hash, created_at FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap("users", err)
	}
	defer rows.Close()
	var out []ledger.User
	for rows.Next() {
		var u ledger.User
		var created int64
		if err := rows.Scan(&u.Username, &u.AccountID, &u.PasswordHash, &created); err != nil {
			return nil, wrap("users", err)
		}
		u.CreatedAt = fromMicros(created)
		out = append(out, u)
	}
	return out, wrap("users", rows.Err())
}

// InsertAPIKey stores a new key (by its hash).
func (s *Store) InsertAPIKey(ctx context.Context, k ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		var revoked *int64
		if k.RevokedAt != nil {
			v := micros(*k.RevokedAt)
			revoked = &v
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, account_id, name, key_hash, scopes, created_at, revoked_at, allowed_ips, valid_from, valid_to, enabled)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			k.ID, k.AccountID, k.Name, k.Hash, strings.Join(k.Scopes, " "), micros(k.CreatedAt), revoked,
			strings.Join(k.AllowedIPs, " "), optMicros(k.ValidFrom), optMicros(k.ValidTo), !k.Disabled)
		if isUnique(err) {
			return &ledger.ConflictError{Reason: "api key already exists"}
		}
		return wrap("insert api key", err)
	})
}

// keyColumns are an API key's; OAuth clients (oauthColumns) have no
// restrictions and select constants in their place, so one scanKey reads both.
const keyColumns = `id, account_id, name, key_hash, scopes, created_at, revoked_at, allowed_ips, valid_from, valid_to, enabled`

func scanKey(r pgx.Row) (ledger.APIKey, error) {
	var k ledger.APIKey
	var scopes, allowed string
	var created int64
	var revoked, from, to *int64
	var enabled bool
	if err := r.Scan(&k.ID, &k.AccountID, &k.Name, &k.Hash, &scopes, &created, &revoked, &allowed, &from, &to, &enabled); err != nil {
		return k, err
	}
	k.Scopes = strings.Fields(scopes)
	if allowed != "" {
		k.AllowedIPs = strings.Fields(allowed)
	}
	k.CreatedAt = fromMicros(created)
	k.RevokedAt, k.ValidFrom, k.ValidTo = optTime(revoked), optTime(from), optTime(to)
	k.Disabled = !enabled
	return k, nil
}

func optTime(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

func optMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := micros(*t)
	return &v
}

// UpdateAPIKey replaces a key's changeable fields and tells every node.
func (s *Store) UpdateAPIKey(ctx context.Context, k ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET name = $1, scopes = $2, allowed_ips = $3, valid_from = $4, valid_to = $5, enabled = $6
			WHERE account_id = $7 AND id = $8`,
			k.Name, strings.Join(k.Scopes, " "), strings.Join(k.AllowedIPs, " "), optMicros(k.ValidFrom), optMicros(k.ValidTo), !k.Disabled,
			k.AccountID, k.ID)
		if err != nil {
			return wrap("update api key", err)
		}
		if tag.RowsAffected() == 0 {
			return &ledger.NotFoundError{What: "api key", ID: k.ID}
		}
		return nil
	})
}

// APIKeyByHash finds a key, revoked or not, by the SHA-256 of its clear text.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (ledger.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, &ledger.NotFoundError{What: "api key", ID: "(by hash)"}
	}
	return k, wrap("api key", err)
}

func (s *Store) queryKeys(ctx context.Context, sql string, args ...any) ([]ledger.APIKey, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("api keys", err)
	}
	defer rows.Close()
	var out []ledger.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("api keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("api keys", rows.Err())
}

// APIKeyByID finds a key, revoked or not, by its id.
func (s *Store) APIKeyByID(ctx context.Context, id string) (ledger.APIKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, &ledger.NotFoundError{What: "api key", ID: id}
	}
	return k, wrap("api key", err)
}

// APIKeysOf lists an account's keys, revoked ones included.
func (s *Store) APIKeysOf(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return s.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE account_id = $1 ORDER BY id`, accountID)
}

// AllAPIKeys returns every key (purse migrate).
func (s *Store) AllAPIKeys(ctx context.Context) ([]ledger.APIKey, error) {
	return s.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY id`)
}

// RevokeAPIKey marks a key revoked; revoking twice keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.revoke(ctx, "api_keys", "api key", accountID, keyID, at, rec)
}

// revoke marks a key or client revoked (the first time wins), with its
// idempotency record, and tells every node.
func (s *Store) revoke(ctx context.Context, table, what, accountID, id string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+table+` SET revoked_at = coalesce(revoked_at, $1) WHERE account_id = $2 AND id = $3`, micros(at), accountID, id)
		if err != nil {
			return wrap("revoke "+what, err)
		}
		if tag.RowsAffected() == 0 {
			return &ledger.NotFoundError{What: what, ID: id}
		}
		return nil
	})
}

// Setting reads a setting ("" when unset).
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, wrap("setting", err)
}

// SetSetting writes a setting; onlyIfUnset keeps an existing value (first node wins).
// A change of the admin token is announced to every node.
func (s *Store) SetSetting(ctx context.Context, key, value string, onlyIfUnset bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
		if onlyIfUnset {
			q = `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
		}
		if _, err := tx.Exec(ctx, q, key, value); err != nil {
			return wrap("setting", err)
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, notifyToken)
		return wrap("notify", err)
	})
}
