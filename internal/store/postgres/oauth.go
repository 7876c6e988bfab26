package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

const oauthColumns = `id, account_id, name, secret_hash, scopes, created_at, revoked_at, '', NULL, NULL, true`

// InsertOAuthClient stores a new OAuth client (Hash is its secret's SHA-256).
func (s *Store) InsertOAuthClient(ctx context.Context, c ledger.APIKey, rec *ledger.IdempotencyRecord) error {
	return s.withIdempotency(ctx, rec, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO oauth_clients (id, account_id, name, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.ID, c.AccountID, c.Name, c.Hash, strings.Join(c.Scopes, " "), micros(c.CreatedAt))
		return wrap("insert oauth client", err)
	})
}

// OAuthClient finds a client by id.
func (s *Store) OAuthClient(ctx context.Context, id string) (ledger.APIKey, error) {
	c, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+oauthColumns+` FROM oauth_clients WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, &ledger.NotFoundError{What: "oauth client", ID: id}
	}
	return c, wrap("oauth client", err)
}

// OAuthClientsOf lists an account's clients, revoked ones included.
func (s *Store) OAuthClientsOf(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return s.queryKeys(ctx, `SELECT `+oauthColumns+` FROM oauth_clients WHERE account_id = $1 ORDER BY id`, accountID)
}

// RevokeOAuthClient revokes a client; every node refuses its tokens from then on.
func (s *Store) RevokeOAuthClient(ctx context.Context, accountID, id string, at time.Time, rec *ledger.IdempotencyRecord) error {
	return s.revoke(ctx, "oauth_clients", "oauth client", accountID, id, at, rec)
}
