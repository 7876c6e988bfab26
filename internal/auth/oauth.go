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

// The OAuth2 signing key. Access tokens are HMAC-SHA256 signed with a key derived
// from two parts:
//
//   - a secret given to purse from outside the store (Options.TokenSecret: the
//     --oauth-secret-file, by default a 0600 file beside the SQLite database), so a
//     copy of the database (a backup, a file another user could read) is not
//     enough to forge a token; and
//   - a generation kept in the store (oauthGenerationSetting), not secret, which
//     purse oauth-key rotate replaces: every node derives the new key from it as
//     soon as the change feed tells it, so every outstanding token is refused.
//
// Without a TokenSecret (PostgreSQL nodes not given --oauth-secret-file, tests) the
// secret is kept in the store itself (oauthSecretSetting): every node agrees on it,
// but a dump of the database holds it.
const (
	legacySigningKeySetting = "oauth_signing_key" // before #17: the key itself, in the store
	oauthGenerationSetting  = "oauth_key_generation"
	oauthSecretSetting      = "oauth_token_secret"
	oauthSecretCheckSetting = "oauth_secret_check" // HMAC(secret, fixed text): tells nodes given different secrets apart
)

// MinTokenSecret is the shortest secret Options.TokenSecret may be.
const MinTokenSecret = 32

// ErrTokenSecretMismatch means this node was given another OAuth2 token secret
// than the nodes that share its store, so tokens issued by one would be refused by
// the other.
var ErrTokenSecretMismatch = errors.New("auth: this node's OAuth2 token secret differs from the one the store's other nodes use")

// PrepareTokenKey readies the signing key at start: it removes a signing key an
// older purse kept in the store, makes the first generation, and checks that the
// secret this node was given is the one its store's other nodes use.
func (a *Authenticator) PrepareTokenKey(ctx context.Context) error {
	if v, err := a.store.Setting(ctx, legacySigningKeySetting); err != nil {
		return err
	} else if v != "" {
		// Tokens signed with it stop working; clients ask for new ones.
		if err := a.store.SetSetting(ctx, legacySigningKeySetting, "", false); err != nil {
			return err
		}
	}
	if a.tokenSecret != nil {
		check := secretCheck(a.tokenSecret)
		if err := a.store.SetSetting(ctx, oauthSecretCheckSetting, check, true); err != nil {
			return err
		}
		v, err := a.store.Setting(ctx, oauthSecretCheckSetting)
		if err != nil {
			return err
		}
		if v != check {
			return ErrTokenSecretMismatch
		}
	}
	if a.tokenSecret == nil {
		// Nodes given a secret derive other keys than one keeping it in the store.
		v, err := a.store.Setting(ctx, oauthSecretCheckSetting)
		if err != nil {
			return err
		}
		if v != "" {
			return ErrTokenSecretMismatch
		}
	}
	a.DropTokenKey()
	_, err := a.signingKey(ctx)
	return err
}

// ResetTokenKey is the offline way to replace the token secret: it forgets which
// secret the nodes agreed on and starts a new generation. Every node must then be
// given the new secret.
func ResetTokenKey(ctx context.Context, store ledger.Settings) error {
	if err := store.SetSetting(ctx, oauthSecretCheckSetting, "", false); err != nil {
		return err
	}
	gen, err := randomHex()
	if err != nil {
		return err
	}
	return store.SetSetting(ctx, oauthGenerationSetting, gen, false)
}

// RotateTokenKey starts a new key generation: every access token issued so far is
// refused, on this node at once and on the others once the change feed reaches
// them (they call DropTokenKey). Clients get new tokens with their credentials.
func (a *Authenticator) RotateTokenKey(ctx context.Context) error {
	gen, err := randomHex()
	if err != nil {
		return err
	}
	if err := a.store.SetSetting(ctx, oauthGenerationSetting, gen, false); err != nil {
		return err
	}
	a.DropTokenKey()
	return nil
}

// DropTokenKey forgets the cached signing key: the next token check derives it
// again from the store's generation. Call it when another node may have rotated it.
func (a *Authenticator) DropTokenKey() {
	a.mu.Lock()
	a.tokenKey = nil
	a.tokenEpoch++
	a.mu.Unlock()
}

func secretCheck(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("purse oauth2 token secret check v1"))
	return hex.EncodeToString(m.Sum(nil))
}

func randomHex() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw), nil
}

// storedOnce reads a setting, making it first (random) when unset; when nodes race,
// the first one's value wins and every node reads that.
func (a *Authenticator) storedOnce(ctx context.Context, key string) (string, error) {
	v, err := a.store.Setting(ctx, key)
	if err != nil || v != "" {
		return v, err
	}
	fresh, err := randomHex()
	if err != nil {
		return "", err
	}
	if err := a.store.SetSetting(ctx, key, fresh, true); err != nil {
		return "", err
	}
	return a.store.Setting(ctx, key)
}

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
	scopes := legacyScopes
	if parts[2] != "" {
		scopes = strings.Split(parts[2], ",")
	}
	return Principal{AccountID: c.AccountID, Scheme: SchemeBearer, Subject: c.ID, Scopes: scopes}, nil
}

// signingKey returns the key tokens are signed with: derived from the secret and
// the store's generation, cached until DropTokenKey.
func (a *Authenticator) signingKey(ctx context.Context) ([]byte, error) {
	a.mu.RLock()
	k, epoch := a.tokenKey, a.tokenEpoch
	a.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	secret := a.tokenSecret
	if secret == nil {
		v, err := a.storedOnce(ctx, oauthSecretSetting)
		if err != nil {
			return nil, err
		}
		secret = []byte(v)
	}
	gen, err := a.storedOnce(ctx, oauthGenerationSetting)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("purse oauth2 access token key v1|" + gen))
	k = m.Sum(nil)
	a.mu.Lock()
	if a.tokenEpoch == epoch { // not dropped meanwhile: the generation read is current
		a.tokenKey = k
	}
	a.mu.Unlock()
	return k, nil
}
