package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/storefiles"
)

// adminToken puts an admin token in force: the store's when it has one; else
// Config.AdminToken, else the token file beside the database (made on first start).
func (a *App) adminToken(ctx context.Context) (*auth.AdminToken, error) {
	initial := a.cfg.AdminToken
	if initial == "" {
		stored, err := a.store.Setting(ctx, auth.AdminTokenSettingKey)
		if err != nil {
			return nil, err
		}
		if stored == "" {
			if a.cfg.DB == "" {
				return nil, errors.New("app: the store holds no admin token: set Config.AdminToken or Config.DB")
			}
			path := storefiles.AdminTokenPath(a.cfg.DB)
			if initial, err = loadOrCreateSecret(path, "admin token"); err != nil {
				return nil, err
			}
			a.log.Info("admin token file", "path", path)
		}
	}
	tok, inForce, err := auth.NewAdminToken(ctx, a.store, initial)
	if err != nil {
		return nil, err
	}
	if a.cfg.AdminToken != "" && !inForce {
		a.log.Warn("--admin-token is not the admin token in force: the store already holds one (rotated or set first); " +
			"use that one, or reset it with purse admin-token reset")
	}
	return tok, nil
}

// oauthSecret is the secret OAuth2 signing keys are derived from: Config.OAuthSecret,
// else (SQLite) the file beside the database, made on first start. On PostgreSQL
// without one it is nil: the nodes then share a secret kept in the database,
// because a file each node made for itself would differ between them.
func (a *App) oauthSecret() ([]byte, error) {
	if a.cfg.OAuthSecret != nil {
		return a.cfg.OAuthSecret, nil
	}
	if postgres.IsURL(a.cfg.DB) {
		a.log.Warn("OAuth2 token secret kept in the database: every dump of it can sign tokens; give every node the same --oauth-secret-file")
		return nil, nil
	}
	if a.cfg.DB == "" {
		return nil, nil // an open store without a file: its database keeps the secret
	}
	path := OAuthSecretPath(a.cfg.DB)
	v, err := loadOrCreateSecret(path, "OAuth2 token secret")
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		a.log.Warn("a secret file is readable by other users", "path", path, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+path)
	}
	return []byte(v), nil
}

// prepareTokenKey makes sure this node signs OAuth2 tokens with the key the store's
// other nodes use.
func prepareTokenKey(ctx context.Context, authn *auth.Authenticator) error {
	err := authn.PrepareTokenKey(ctx)
	switch {
	case errors.Is(err, auth.ErrTokenSecretMismatch):
		return fmt.Errorf("%w: give every node the same --oauth-secret-file (after purse migrate, the SQLite store's DB.oauth-secret); "+
			"to replace the secret on purpose, stop every node, run purse oauth-key reset --db URL (outstanding OAuth2 tokens are then refused), and start them with the new file or none", err)
	case err != nil:
		return fmt.Errorf("OAuth2 signing key: %w", err)
	}
	return nil
}

// OAuthSecretPath is where purse keeps the OAuth2 token secret of an SQLite store:
// beside it, outside the database file, so a copy of the database cannot sign tokens.
func OAuthSecretPath(db string) string { return db + ".oauth-secret" }

// loadOrCreateSecret reads a secret file, or makes it (0600, 32 random bytes in hex)
// when there is none.
func loadOrCreateSecret(path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("%s file %s is empty; delete it to make a new one", what, path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}
