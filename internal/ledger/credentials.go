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
type APIKey struct {
	ID        string
	AccountID string
	Name      string
	Hash      string // hex SHA-256 of the clear key
	Scopes    []string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Session is an IBSSO session: a token (kept as its SHA-256) that stands for a
// Basic user's login until it is deleted or goes unused for the idle timeout.
type Session struct {
	Hash      string // hex SHA-256 of the token
	AccountID string
	Username  string
	CreatedAt time.Time
	LastUsed  time.Time
}
