package ledger

import "time"

// User is a Basic-auth login bound to one account. Usernames are unique across
// purse, as at Infobip. PasswordHash is an argon2id PHC string, never the password.
type User struct {
	Username     string
	AccountID    string
	PasswordHash string
	CreatedAt    time.Time
}

// APIKey is an `App <key>` credential bound to one account. Only the SHA-256 of
// the key is kept; the clear key exists once, in the response that created it.
// The admin API's keys and those customers manage over Infobip's
// /settings/2/api-keys are one set. OAuth2 clients share the type and use only
// its first fields (no address list, validity or Disabled).
//
// The restrictions are stored so that their zero values mean "none", so a key
// stored before they existed (and an OAuth2 client) works as before: no
// AllowedIPs is any address, nil ValidFrom/ValidTo is no bound, and Disabled (not
// "Enabled") is false.
type APIKey struct {
	ID        string
	AccountID string
	Name      string
	Hash      string // hex SHA-256 of the clear key
	Scopes    []string
	// AllowedIPs are the addresses and CIDR ranges (IPv4 and IPv6, canonical
	// prefix form: "10.0.0.0/8", "2001:db8::1/128") the key may be used from.
	AllowedIPs []string
	ValidFrom  *time.Time // the key is refused before it
	ValidTo    *time.Time // the key is refused from it on
	Disabled   bool
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Session is an IBSSO session: a token (kept as its SHA-256) that stands for a
// Basic user's login until it is deleted or goes unused for the idle timeout.
type Session struct {
	Hash      string // hex SHA-256 of the token
	AccountID string
	Username  string
	CreatedAt time.Time
	LastUsed  time.Time
	// Address is the client address that created the session; unless Unsafe, the
	// session is refused from any other (Infobip's create-session "unsafe").
	Address string
	Unsafe  bool
}
