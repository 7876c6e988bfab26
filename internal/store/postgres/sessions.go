package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

// InsertSession stores a new session.
func (s *Store) InsertSession(ctx context.Context, se ledger.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, username, created_at, last_used, address, unsafe) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		se.Hash, se.AccountID, se.Username, micros(se.CreatedAt), micros(se.LastUsed), se.Address, se.Unsafe)
	return wrap("session", err)
}

// SessionByHash finds a session, or returns a NotFoundError.
func (s *Store) SessionByHash(ctx context.Context, hash string) (ledger.Session, error) {
	se := ledger.Session{Hash: hash}
	var created, used int64
	err := s.pool.QueryRow(ctx, `SELECT account_id, username, created_at, last_used, address, unsafe FROM sessions WHERE token_hash = $1`, hash).
		Scan(&se.AccountID, &se.Username, &created, &used, &se.Address, &se.Unsafe)
	if errors.Is(err, pgx.ErrNoRows) {
		return se, &ledger.NotFoundError{What: "session", ID: "(by hash)"}
	}
	if err != nil {
		return se, wrap("session", err)
	}
	se.CreatedAt, se.LastUsed = fromMicros(created), fromMicros(used)
	return se, nil
}

// TouchSession records a use of a session (never moving it back in time).
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessions SET last_used = greatest(last_used, $1) WHERE token_hash = $2`, micros(at), hash)
	return wrap("session", err)
}

// DeleteSession ends a session and tells every node to drop it from its cache.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
		if err != nil {
			return wrap("session", err)
		}
		if tag.RowsAffected() == 0 {
			return &ledger.NotFoundError{What: "session", ID: "(by hash)"}
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, notifyCredentials)
		return wrap("notify", err)
	})
}
