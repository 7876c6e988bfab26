package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"slices"
	"strings"
)

// ScopeAccountManage is Infobip's scope for the account endpoints; it reads the balance.
const ScopeAccountManage = "account-management:manage"

// ScopeAuditRead is Infobip's scope for the audit logs (with ScopeAccountManage).
const ScopeAuditRead = "audit-logs:read"

// scopesTSV is Infobip's list of scopes, as its OpenAPI files name them in
// x-scopes (a copy of ../shared/infobip/scopes.tsv: a header line, then one scope
// per line and the products that use it). purse checks only the account family's
// two, but a credential may carry any of them, so that a key made for purse is
// made as it would be for Infobip.
//
//go:embed scopes.tsv
var scopesTSV string

// KnownScopes are the scopes a credential may carry: Infobip's 129, sorted.
var KnownScopes = loadScopes(scopesTSV)

func loadScopes(tsv string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(tsv))
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		if name, _, _ := strings.Cut(sc.Text(), "\t"); name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ValidScope reports whether s is a scope purse knows.
func ValidScope(s string) bool {
	_, ok := slices.BinarySearch(KnownScopes, s)
	return ok
}

// legacyScopes are what a key or client stored without scopes carries: full
// account-management access, which is what every credential had before scopes
// could be chosen, so such a credential keeps working after an upgrade.
var legacyScopes = []string{ScopeAccountManage}

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
