package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/purse-ledger/purse/internal/ledger"
)

// AdminTokenSettingKey is where the admin token's SHA-256 is kept.
const AdminTokenSettingKey = "admin_token_sha256"

// AdminToken is the admin bearer token, kept as its SHA-256 only: a credential
// like the others here, which the admin API asks whether a bearer token is the one
// in force. The store holds the one in force, so every node agrees and a rotation
// reaches them all; a node's copy is reloaded when the store announces a change
// (Reload).
type AdminToken struct {
	store ledger.Settings
	mu    sync.RWMutex
	hash  [32]byte
	set   bool
}

// NewAdminToken loads the token in force. When the store has none yet, initial (the
// --admin-token value, the token file's, or a fresh one) becomes it; when it has one,
// initial is ignored and inForce reports false so the caller can say so.
func NewAdminToken(ctx context.Context, store ledger.Settings, initial string) (t *AdminToken, inForce bool, err error) {
	t = &AdminToken{store: store}
	if initial != "" {
		sum := sha256.Sum256([]byte(initial))
		if err := store.SetSetting(ctx, AdminTokenSettingKey, hex.EncodeToString(sum[:]), true); err != nil {
			return nil, false, err
		}
	}
	if err := t.Reload(ctx); err != nil {
		return nil, false, err
	}
	if initial != "" {
		inForce = t.Valid(initial)
	}
	return t, inForce, nil
}

// Reload reads the token in force from the store.
func (t *AdminToken) Reload(ctx context.Context) error {
	v, err := t.store.Setting(ctx, AdminTokenSettingKey)
	if err != nil {
		return err
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		if v == "" {
			t.mu.Lock()
			t.set = false
			t.mu.Unlock()
			return nil
		}
		return fmt.Errorf("admin token setting is malformed")
	}
	t.mu.Lock()
	copy(t.hash[:], b)
	t.set = true
	t.mu.Unlock()
	return nil
}

// Valid compares in constant time (fixed-size digests, whatever the length).
func (t *AdminToken) Valid(token string) bool {
	_, ok := t.check(token)
	return ok
}

// Actor names a valid token in the audit log without revealing it: "token:" and
// the first 12 hex digits of its SHA-256 (a rotation shows as a new actor). ok is
// false for a token that is not in force. One digest serves both.
func (t *AdminToken) Actor(token string) (actor string, ok bool) {
	sum, ok := t.check(token)
	if !ok {
		return "", false
	}
	return "token:" + hex.EncodeToString(sum[:6]), true
}

func (t *AdminToken) check(token string) (sum [sha256.Size]byte, ok bool) {
	if token == "" {
		return sum, false
	}
	sum = sha256.Sum256([]byte(token))
	t.mu.RLock()
	defer t.mu.RUnlock()
	return sum, t.set && subtle.ConstantTimeCompare(sum[:], t.hash[:]) == 1
}

// Rotate makes a new token, puts it in force on every node, and returns it: the
// only time it exists in clear.
func (t *AdminToken) Rotate(ctx context.Context) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	if err := t.store.SetSetting(ctx, AdminTokenSettingKey, hex.EncodeToString(sum[:]), false); err != nil {
		return "", err
	}
	t.mu.Lock()
	t.hash, t.set = sum, true
	t.mu.Unlock()
	return tok, nil
}
