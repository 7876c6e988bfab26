package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"github.com/purse-ledger/purse/internal/codec"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// DefaultTokenTTL is how long an OAuth2 access token lives.
const DefaultTokenTTL = time.Hour

// signingKeySetting is where the key that signs OAuth2 access tokens is kept, in
// the store, so every node issues and accepts the same tokens.
const signingKeySetting = "oauth_signing_key"

// CreateOAuthClient makes an OAuth2 client for an account and returns it with its
// secret, which is kept only as a SHA-256 (and not in idem's outcome).
func (a *Authenticator) CreateOAuthClient(ctx context.Context, accountID, name string, scopes []string, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error) {
	scopes, err := validateKey(name, scopes)
	if err != nil {
		return ledger.APIKey{}, "", err
	}
	secret, hash, err := NewAPIKey()
	if err != nil {
		return ledger.APIKey{}, "", err
	}
	c := ledger.APIKey{ID: ledger.NewID("oc"), AccountID: accountID, Name: name, Hash: hash, Scopes: scopes, CreatedAt: time.Now().UTC()}
	if err := a.store.InsertOAuthClient(ctx, c, codec.Record(idem, &ledger.Outcome{Op: ledger.OpCreateOAuthClient, APIKey: &c}, c.CreatedAt)); err != nil {
		return ledger.APIKey{}, "", err
	}
	a.Invalidate()
	return c, secret, nil
}

// OAuthClients lists an account's OAuth2 clients (without secrets).
func (a *Authenticator) OAuthClients(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return a.store.OAuthClientsOf(ctx, accountID)
}

// RevokeOAuthClient revokes a client: its tokens are refused from the next request.
func (a *Authenticator) RevokeOAuthClient(ctx context.Context, accountID, id string, idem *ledger.IdempotencyRequest) error {
	now := time.Now().UTC()
	err := a.store.RevokeOAuthClient(ctx, accountID, id, now, codec.Record(idem, &ledger.Outcome{Op: ledger.OpRevokeOAuthClient}, now))
	a.Invalidate()
	return err
}

// IssueToken runs the client credentials grant: a valid, unrevoked client gets an
// access token for its account and scopes. Failures count against the limits of
// the client id and of the caller's address, like failed logins.
func (a *Authenticator) IssueToken(ctx context.Context, clientID, secret, client string) (string, time.Duration, error) {
	if d := max(a.byIP.wait(client), a.byUser.wait("oauth:"+clientID)); d > 0 {
		return "", 0, &TooManyAttemptsError{RetryAfter: d}
	}
	c, err := a.store.OAuthClient(ctx, clientID)
	ok := err == nil && c.RevokedAt == nil && subtle.ConstantTimeCompare([]byte(HashAPIKey(secret)), []byte(c.Hash)) == 1
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return "", 0, err
	}
	if !ok {
		a.byIP.fail(client)
		a.byUser.fail("oauth:" + clientID)
		return "", 0, ErrUnauthorized
	}
	key, err := a.signingKey(ctx)
	if err != nil {
		return "", 0, err
	}
	exp := a.now().Add(a.tokenTTL)
	payload := strings.Join([]string{c.ID, c.AccountID, strings.Join(c.Scopes, ","), strconv.FormatInt(exp.Unix(), 10)}, "|")
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	token := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return token, a.tokenTTL, nil
}

// bearer checks an access token: its signature, its expiry, and that its client
// is not revoked (clients are cached until a credential changes).
func (a *Authenticator) bearer(ctx context.Context, token string) (Principal, error) {
	body, sig, ok := strings.Cut(token, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return Principal{}, ErrUnauthorized
	}
	key, err := a.signingKey(ctx)
	if err != nil {
		return Principal{}, err
	}
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)) {
		return Principal{}, ErrUnauthorized
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 4 {
		return Principal{}, ErrUnauthorized
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || !a.now().Before(time.Unix(exp, 0)) {
		return Principal{}, ErrUnauthorized
	}
	a.mu.RLock()
	c, cached := a.clients[parts[0]]
	a.mu.RUnlock()
	if !cached {
		c, err = a.store.OAuthClient(ctx, parts[0])
		if errors.Is(err, ledger.ErrNotFound) {
			return Principal{}, ErrUnauthorized
		}
		if err != nil {
			return Principal{}, err
		}
		a.mu.Lock()
		a.clients[c.ID] = c
		a.mu.Unlock()
	}
	if c.RevokedAt != nil || c.AccountID != parts[1] {
		return Principal{}, ErrUnauthorized
	}
	var scopes []string
	if parts[2] != "" {
		scopes = strings.Split(parts[2], ",")
	}
	return Principal{AccountID: c.AccountID, Scheme: SchemeBearer, Subject: c.ID, Scopes: scopes}, nil
}

// signingKey loads (or, the first time any node needs it, makes) the token key.
func (a *Authenticator) signingKey(ctx context.Context) ([]byte, error) {
	a.mu.RLock()
	k := a.tokenKey
	a.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	v, err := a.store.Setting(ctx, signingKeySetting)
	if err != nil {
		return nil, err
	}
	if v == "" {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		if err := a.store.SetSetting(ctx, signingKeySetting, hex.EncodeToString(raw), true); err != nil {
			return nil, err
		}
		if v, err = a.store.Setting(ctx, signingKeySetting); err != nil { // another node may have won
			return nil, err
		}
	}
	k, err = hex.DecodeString(v)
	if err != nil || len(k) < 32 {
		return nil, errors.New("auth: malformed token signing key in the store")
	}
	a.mu.Lock()
	a.tokenKey = k
	a.mu.Unlock()
	return k, nil
}
