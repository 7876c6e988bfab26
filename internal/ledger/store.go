package ledger

import (
	"context"
	"log/slog"
	"time"
)

// The store contract. Persistence is declared here, beside the types it carries,
// as small role interfaces that each consumer asks for by name (the engine a
// BatchStore, auth Credentials, the admin API History and Settings, the checker
// Records), composed into the one Store that both stores implement: SQLite, which
// one process owns, and PostgreSQL, which several nodes share. Stores import this
// package (and codec), never the packages that use them, so imports point one way:
// api packages -> engine -> ledger <- store.
//
// Every method is required. Where one kind of store has no use for an ability the
// other needs (a change feed, prefetching), it implements it trivially and says
// why, so no consumer has to ask which store it holds.

// Store is everything purse asks of a store.
type Store interface {
	BatchStore
	History
	Credentials
	AuditAppender
	CustomerAudit
	Records
	Feed
	Demo
	Operators
	Charts
	EventLog
	Webhooks
	// Ping reports whether the store answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// BatchStore is what the engine's writer needs: the committed state it starts
// from, a transaction per batch, and Sync.
//
// A store is exclusive (Shared false: one process owns it, so the engine's memory
// is the truth and a batch reads accounts and active holds from memory) or shared
// (Shared true: several nodes write it, so every batch locks the rows it touches
// and applies its commands to what it read under those locks). The engine asks
// once, when it opens.
type BatchStore interface {
	Shared() bool
	LoadAccounts(ctx context.Context) ([]Account, error)
	ActiveHolds(ctx context.Context) ([]Hold, error)
	Hold(ctx context.Context, id string) (Hold, error)
	// MovementKind tells what a movement of an account is (refunds of non-charges).
	MovementKind(ctx context.Context, accountID, movementID string) (EntryKind, string, error)
	// DueHolds lists active holds expired at now (a shared store: holds other nodes made).
	DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error)
	Begin(ctx context.Context) (BatchTx, error)
	// Sync makes every batch committed before it durable. A batch's commit is
	// visible at once and durable only after the next Sync (SQLite's WAL with
	// synchronous=NORMAL and an fdatasync of the log; PostgreSQL's commits with
	// synchronous_commit off and a synchronous commit after them), so the engine
	// pipelines: it builds the next batch while the previous one reaches the disk,
	// and one Sync covers several batches.
	Sync() error
}

// History is the committed history the engine does not keep in memory, read by the
// admin API.
type History interface {
	ListAccounts(ctx context.Context, after string, limit int) ([]Account, error)
	// SubAccounts returns the sub-accounts of an account, in id order.
	SubAccounts(ctx context.Context, parentID string) ([]Account, error)
	ListEntries(ctx context.Context, accountID string, f EntryFilter) ([]Entry, error)
	LastEntryAt(ctx context.Context, accountID string, t time.Time) (*Entry, error)
	Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
}

// Settings are values every node of a store shares: the admin token's hash, the
// OAuth2 signing key's generation.
type Settings interface {
	// Setting returns the value of key, "" when it is unset.
	Setting(ctx context.Context, key string) (string, error)
	// SetSetting sets key; with onlyIfUnset it keeps a value already there.
	SetSetting(ctx context.Context, key, value string, onlyIfUnset bool) error
}

// Credentials are the logins bound to accounts: Basic users, API keys, IBSSO
// sessions and OAuth2 clients, with the settings the OAuth2 keys derive from.
// A change that carries an IdempotencyRecord stores it in the same transaction,
// and fails with ErrDuplicateIdempotencyKey when its key is already stored.
type Credentials interface {
	Settings
	InsertUser(ctx context.Context, u User, rec *IdempotencyRecord) error
	DeleteUser(ctx context.Context, accountID, username string, rec *IdempotencyRecord) error
	UserByName(ctx context.Context, username string) (User, error)
	UsersOf(ctx context.Context, accountID string) ([]User, error)
	InsertAPIKey(ctx context.Context, k APIKey, rec *IdempotencyRecord) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	APIKeysOf(ctx context.Context, accountID string) ([]APIKey, error)
	// APIKeyByID finds a key, revoked or not, by its id (a NotFoundError when none).
	APIKeyByID(ctx context.Context, id string) (APIKey, error)
	RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time, rec *IdempotencyRecord) error
	// UpdateAPIKey replaces the changeable fields of key k.ID of k.AccountID (name,
	// scopes, allowed addresses, validity, disabled) and tells every node.
	UpdateAPIKey(ctx context.Context, k APIKey, rec *IdempotencyRecord) error
	InsertSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// TouchSession moves a session's last use forward to at (never back).
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	InsertOAuthClient(ctx context.Context, c APIKey, rec *IdempotencyRecord) error
	OAuthClient(ctx context.Context, id string) (APIKey, error)
	OAuthClientsOf(ctx context.Context, accountID string) ([]APIKey, error)
	RevokeOAuthClient(ctx context.Context, accountID, id string, at time.Time, rec *IdempotencyRecord) error
}

// AuditAppender appends records to the admin audit log (ListAudit reads them)
// and to the customers' audit log (ListCustomerAudit reads them).
type AuditAppender interface {
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	AppendCustomerAudit(ctx context.Context, recs []CustomerAuditRecord) error
}

// CustomerAudit reads the customers' audit log (Infobip's /audit/1/logs).
type CustomerAudit interface {
	ListCustomerAudit(ctx context.Context, f CustomerAuditFilter) ([]CustomerAuditRecord, error)
}

// Records is the whole stored ledger read back, for Check.
type Records interface {
	LoadAccounts(ctx context.Context) ([]Account, error)
	// Entries returns every entry of an account, oldest first.
	Entries(ctx context.Context, accountID string) ([]Entry, error)
	ActiveHolds(ctx context.Context) ([]Hold, error)
	Charges(ctx context.Context) ([]Charge, error)
}

// Demo marks the accounts that purse serve --demo seeded, whose credentials are
// in Infobip's public documentation.
type Demo interface {
	MarkDemo(ctx context.Context, accountID string) error
	DemoAccounts(ctx context.Context) ([]string, error)
}

// Feed tells a node what the other nodes of a shared store commit.
type Feed interface {
	// AccountsByID returns the committed rows of some accounts (what a change
	// announced).
	AccountsByID(ctx context.Context, ids []string) ([]Account, error)
	// Follow delivers changes to h until ctx ends. It calls h.Resynced once the
	// node's caches are current (a shared store first calls h.Reload), and h.Lost
	// whenever it can no longer know that they are. It returns when ctx ends.
	Follow(ctx context.Context, h ChangeHandlers, log *slog.Logger)
}

// ChangeHandlers receive the changes a Feed announces (a node's own included,
// which are harmless to apply twice).
type ChangeHandlers struct {
	// Accounts: accounts changed. An error (their rows could not be read) makes
	// the feed drop and reconnect (Lost, then Reload): the change is not lost.
	Accounts    func(ids []string) error
	Credentials func() // a user, API key, session or OAuth2 client changed
	Token       func() // a setting changed: the admin token or the OAuth2 key generation
	// Lost is called when the feed drops: the node can no longer know its caches
	// are current. Resynced is called once it listens again, after Reload.
	Lost     func()
	Reload   func(ctx context.Context) error // reload every cache from the store
	Resynced func()
}
