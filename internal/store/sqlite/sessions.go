package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// InsertSession stores a new session.
func (s *Store) InsertSession(ctx context.Context, se ledger.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, username, created_at, last_used, address, unsafe) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		se.Hash, se.AccountID, se.Username, micros(se.CreatedAt), micros(se.LastUsed), se.Address, se.Unsafe)
	if err != nil {
		return fmt.Errorf("sqlite: session: %w", err)
	}
	return nil
}

// SessionByHash finds a session, or returns a NotFoundError.
func (s *Store) SessionByHash(ctx context.Context, hash string) (ledger.Session, error) {
	se := ledger.Session{Hash: hash}
	var created, used int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, username, created_at, last_used, address, unsafe FROM sessions WHERE token_hash = ?`, hash).
		Scan(&se.AccountID, &se.Username, &created, &used, &se.Address, &se.Unsafe)
	if errors.Is(err, sql.ErrNoRows) {
		return se, &ledger.NotFoundError{What: "session", ID: "(by hash)"}
	}
	if err != nil {
		return se, fmt.Errorf("sqlite: session: %w", err)
	}
	se.CreatedAt, se.LastUsed = fromMicros(created), fromMicros(used)
	return se, nil
}

// TouchSession records a use of a session (never moving it back in time).
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_used = max(last_used, ?) WHERE token_hash = ?`, micros(at), hash)
	if err != nil {
		return fmt.Errorf("sqlite: session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; a NotFoundError when there is none.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
	if err != nil {
		return fmt.Errorf("sqlite: session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &ledger.NotFoundError{What: "session", ID: "(by hash)"}
	}
	return nil
}
