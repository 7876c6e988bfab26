package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// ScopeAccountManage is Infobip's scope for the account endpoints; it reads the balance.
const ScopeAccountManage = "account-management:manage"

// KnownScopes are the scopes a credential may carry.
var KnownScopes = []string{ScopeAccountManage}

// ValidScope reports whether s is a scope purse knows.
func ValidScope(s string) bool { return slices.Contains(KnownScopes, s) }

// NewAPIKey returns a fresh clear key (256 random bits, hex) and its stored hash.
func NewAPIKey() (clear, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	clear = hex.EncodeToString(b)
	return clear, HashAPIKey(clear), nil
}

// HashAPIKey is the SHA-256 (hex) under which a key is stored and looked up. A plain
// hash is enough here: the key has 256 bits of entropy, so nothing is gained by
// slowing the lookup down as a password hash must.
func HashAPIKey(clear string) string {
	sum := sha256.Sum256([]byte(clear))
	return hex.EncodeToString(sum[:])
}
