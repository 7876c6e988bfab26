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

const oauthColumns = `id, account_id, name, secret_hash, scopes, created_at, revoked_at, '', NULL, NULL, true`

// InsertOAuthClient stores a new OAuth client (Hash is its secret's SHA-256).
func (s *Store) InsertOAuthClient(ctx context.Context, c ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (id, account_id, name, secret_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.AccountID, c.Name, c.Hash, strings.Join(c.Scopes, " "), micros(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: insert oauth client: %w", err)
		}
		return nil
	})
}

// OAuthClient finds a client by id.
func (s *Store) OAuthClient(ctx context.Context, id string) (ledger.APIKey, error) {
	c, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+oauthColumns+` FROM oauth_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, &ledger.NotFoundError{What: "oauth client", ID: id}
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: oauth client: %w", err)
	}
	return c, nil
}

// OAuthClientsOf lists an account's clients, revoked ones included.
func (s *Store) OAuthClientsOf(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return s.queryKeys(ctx, `SELECT `+oauthColumns+` FROM oauth_clients WHERE account_id = ? ORDER BY id`, accountID)
}

// RevokeOAuthClient revokes a client; its tokens are refused from then on.
func (s *Store) RevokeOAuthClient(ctx context.Context, accountID, id string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.revoke(ctx, "oauth_clients", "oauth client", accountID, id, at, rec)
}
