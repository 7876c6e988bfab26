// Package auth checks Infobip-style credentials and manages them: Basic users with
// argon2id passwords and `App` API keys stored as SHA-256. Successful checks are
// cached under a keyed hash of the whole Authorization header, so a busy client pays
// for argon2id once, and every change to any credential drops the cache at once.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/purse-ledger/purse/internal/codec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Principal is who a request acts for.
type Principal struct {
	AccountID string
	Scheme    Scheme
	Subject   string // username or api key id
	Scopes    []string
	// rule is an API key's address list and validity, checked on every request
	// (a cached key too: the address and the time change, the header does not).
	rule *keyRule
	// boundTo is the address a bound IBSSO session works from ("" for any).
	boundTo string
}

// HasScope reports whether the principal carries scope s.
func (p Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// ErrUnauthorized means the credential is missing, malformed or wrong.
var ErrUnauthorized = errors.New("auth: invalid login details")

// maxCached bounds the cache; when full it is emptied rather than grown.
const maxCached = 100_000

// Authenticator checks credentials and manages them.
type Authenticator struct {
	store     ledger.Credentials
	cacheKey  []byte
	dummyHash string    // verified for unknown users so they take as long as known ones
	cost      argonCost // of new password hashes

	mu    sync.RWMutex
	gen   uint64
	cache map[[32]byte]Principal

	hits, misses atomic.Uint64
	byUser, byIP *failures

	now         func() time.Time
	sessionIdle time.Duration
	sessions    map[string]*sessionEntry // guarded by mu
	sessionRate sessionRate
	tokenTTL    time.Duration
	tokenKey    []byte                   // guarded by mu
	tokenEpoch  uint64                   // DropTokenKey calls, guarded by mu
	tokenSecret []byte                   // Options.TokenSecret; nil: kept in the store
	clients     map[string]ledger.APIKey // OAuth clients by id, guarded by mu

	flightMu sync.Mutex
	inflight map[[32]byte]*flight // checks under way, by header key
	argon    chan struct{}        // bounds concurrent argon2id verifications
}

// flight is one credential check that concurrent requests with the same header
// wait for, instead of each running argon2id.
type flight struct {
	done chan struct{}
	p    Principal
	err  error
}

// CacheStats returns how many checks the cache answered and how many it did not.
func (a *Authenticator) CacheStats() (hits, misses uint64) { return a.hits.Load(), a.misses.Load() }

// Options tune an Authenticator; the zero value means the defaults.
type Options struct {
	Limits      *Limits          // nil: DefaultLimits; a zero Limits switches limiting off
	Now         func() time.Time // the limiters' and sessions' clock
	SessionIdle time.Duration    // IBSSO idle timeout; 0: DefaultSessionIdle
	TokenTTL    time.Duration    // OAuth2 access token lifetime; 0: DefaultTokenTTL
	// TokenSecret, at least MinTokenSecret bytes, is what OAuth2 signing keys are
	// derived from (see PrepareTokenKey); nil keeps a secret in the store instead.
	TokenSecret []byte
	// CheapPasswordHashes hashes new passwords (and the dummy that unknown users
	// are verified against) with argon2id's cheapest parameters instead of OWASP's:
	// microseconds instead of tens of milliseconds, for a throwaway store in other
	// people's tests (pursetest). Such a hash is no protection: never for a store
	// that holds a real password. purse serve never sets it.
	CheapPasswordHashes bool
}

// New returns an Authenticator over store.
func New(store ledger.Credentials, opts ...Options) (*Authenticator, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Limits == nil {
		l := DefaultLimits
		o.Limits = &l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.TokenSecret != nil && len(o.TokenSecret) < MinTokenSecret {
		return nil, fmt.Errorf("auth: the OAuth2 token secret is %d bytes; at least %d are needed", len(o.TokenSecret), MinTokenSecret)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	cost := defaultCost
	if o.CheapPasswordHashes {
		cost = cheapCost
	}
	// Made with the cost of new hashes, so an unknown user costs what a known one does.
	dummy, err := hashPassword("purse-dummy-password", cost)
	if err != nil {
		return nil, err
	}
	return &Authenticator{store: store, cacheKey: key, dummyHash: dummy, cost: cost, cache: map[[32]byte]Principal{},
		inflight: map[[32]byte]*flight{}, argon: make(chan struct{}, runtime.GOMAXPROCS(0)),
		byUser: newFailures(o.Limits.PerUser, o.Limits.UserBurst, o.Now),
		byIP:   newFailures(o.Limits.PerIP, o.Limits.IPBurst, o.Now),
		now:    o.Now, sessionIdle: o.SessionIdle, sessions: map[string]*sessionEntry{},
		tokenTTL: o.TokenTTL, clients: map[string]ledger.APIKey{}, tokenSecret: o.TokenSecret}, nil
}

// headerKey is the cache key of a header: SHA-256 over a random per-process secret
// and the header, so the map holds no credential and its keys cannot be predicted.
// (A plain keyed hash is enough: nothing is authenticated by this digest.)
func (a *Authenticator) headerKey(h string) [32]byte {
	var stack [512]byte
	b := append(append(stack[:0], a.cacheKey...), h...)
	return sha256.Sum256(b)
}

// Invalidate drops every cached credential. Every credential change calls it, so
// a revoked key or removed user is refused from the next request on.
func (a *Authenticator) Invalidate() {
	a.mu.Lock()
	a.gen++
	clear(a.cache)
	clear(a.sessions)
	clear(a.clients)
	a.mu.Unlock()
}

// Authenticate resolves an Authorization header sent from client (an address,
// "" when unknown) to a principal, or returns ErrUnauthorized, a
// TooManyAttemptsError, or a store error as it is.
func (a *Authenticator) Authenticate(ctx context.Context, header, client string) (Principal, error) {
	if header == "" || len(header) > MaxHeaderLen {
		return Principal{}, ErrUnauthorized
	}
	k := a.headerKey(header)
	a.mu.RLock()
	p, ok := a.cache[k]
	gen := a.gen
	a.mu.RUnlock()
	if ok {
		a.hits.Add(1)
		return p, a.admit(p, client)
	}
	a.misses.Add(1)
	cred, perr := ParseAuthorization(header) // parsed once; perr is answered by check
	// Sessions and tokens are checked every time: a session's use moves its
	// deadline, a token expires.
	uncached := perr == nil && (cred.Scheme == SchemeIBSSO || cred.Scheme == SchemeBearer)
	user := ""
	if perr == nil && cred.Scheme == SchemeBasic {
		user = cred.Username
	}
	if d := max(a.byIP.wait(client), a.byUser.wait(user)); d > 0 {
		return Principal{}, &TooManyAttemptsError{RetryAfter: d}
	}
	// One check per header at a time: a burst of requests with the same new
	// credential runs argon2id once, and the others wait for its answer.
	a.flightMu.Lock()
	if f, ok := a.inflight[k]; ok {
		a.flightMu.Unlock()
		return a.await(ctx, f, client)
	}
	f := &flight{done: make(chan struct{})}
	a.inflight[k] = f
	a.flightMu.Unlock()
	defer func() {
		a.flightMu.Lock()
		delete(a.inflight, k)
		a.flightMu.Unlock()
		close(f.done)
	}()
	p, err := a.check(ctx, cred, perr, client)
	f.p, f.err = p, err
	if err == nil {
		err = a.admit(p, client)
	}
	if errors.Is(err, ErrUnauthorized) {
		a.byIP.fail(client)
		a.byUser.fail(user)
	}
	if err != nil {
		return Principal{}, err
	}
	if uncached {
		return p, nil
	}
	a.mu.Lock()
	if a.gen == gen { // a credential changed while we checked: do not cache the old answer
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
		a.cache[k] = p
	}
	a.mu.Unlock()
	return p, nil
}

// await waits for another request's check of the same header, and applies
// this request's own address and time to its answer.
func (a *Authenticator) await(ctx context.Context, f *flight, client string) (Principal, error) {
	select {
	case <-f.done:
		if f.err != nil {
			return Principal{}, f.err
		}
		return f.p, a.admit(f.p, client)
	case <-ctx.Done():
		return Principal{}, ctx.Err()
	}
}

func (a *Authenticator) check(ctx context.Context, cred Credential, parseErr error, client string) (Principal, error) {
	if parseErr != nil {
		return Principal{}, ErrUnauthorized
	}
	switch cred.Scheme {
	case SchemeBasic:
		return a.basic(ctx, cred)
	case SchemeApp:
		return a.apiKey(ctx, cred.Token)
	case SchemeIBSSO:
		return a.session(ctx, cred.Token, client)
	case SchemeBearer:
		return a.bearer(ctx, cred.Token)
	}
	return Principal{}, ErrUnauthorized
}

// verify runs argon2id with at most GOMAXPROCS verifications at once: each takes
// 19 MiB, so a flood of logins queues instead of exhausting memory.
func (a *Authenticator) verify(ctx context.Context, hash, password string) (bool, error) {
	select {
	case a.argon <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.argon }()
	return VerifyPassword(hash, password)
}

func (a *Authenticator) basic(ctx context.Context, cred Credential) (Principal, error) {
	u, err := a.store.UserByName(ctx, cred.Username)
	if errors.Is(err, ledger.ErrNotFound) {
		a.verify(ctx, a.dummyHash, cred.Password) //nolint:errcheck // timing only
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	ok, err := a.verify(ctx, u.PasswordHash, cred.Password)
	if err != nil || !ok {
		return Principal{}, ErrUnauthorized
	}
	// A Basic user acts as its account's owner, with every scope.
	return Principal{AccountID: u.AccountID, Scheme: SchemeBasic, Subject: u.Username, Scopes: KnownScopes}, nil
}

func (a *Authenticator) apiKey(ctx context.Context, clear string) (Principal, error) {
	k, err := a.store.APIKeyByHash(ctx, HashAPIKey(clear))
	if errors.Is(err, ledger.ErrNotFound) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	if k.RevokedAt != nil || k.Disabled {
		return Principal{}, ErrUnauthorized
	}
	rule, err := newKeyRule(k)
	if err != nil { // a stored address list this build cannot read: refuse, never widen
		return Principal{}, ErrUnauthorized
	}
	scopes := k.Scopes
	if len(scopes) == 0 {
		scopes = legacyScopes
	}
	return Principal{AccountID: k.AccountID, Scheme: SchemeApp, Subject: k.ID, Scopes: scopes, rule: rule}, nil
}

// ValidateUsername checks a new username: 1-100 bytes of text as
// ledger.CheckText allows it, without ':' (which Basic auth cannot carry) or
// spaces.
func ValidateUsername(s string) error {
	switch {
	case s == "":
		return errors.New("is required")
	case len(s) > 100:
		return errors.New("is longer than 100 bytes")
	case strings.ContainsAny(s, ": "):
		return errors.New("must not contain ':' or white space")
	}
	return ledger.CheckText(s)
}

// ValidatePassword checks a new password: 8-256 bytes of UTF-8.
func ValidatePassword(s string) error {
	switch {
	case len(s) < 8:
		return errors.New("must be at least 8 bytes")
	case len(s) > 256:
		return errors.New("is longer than 256 bytes")
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	}
	return nil
}

// AddUser creates a Basic user for an account (the caller has checked the account).
// idem, when not nil, is stored with the user in one commit.
func (a *Authenticator) AddUser(ctx context.Context, accountID, username, password string, idem *ledger.IdempotencyRequest) (ledger.User, error) {
	v := &ledger.ValidationError{}
	if err := ValidateUsername(username); err != nil {
		v.Add("username", err.Error())
	}
	if err := ValidatePassword(password); err != nil {
		v.Add("password", err.Error())
	}
	if err := v.Err(); err != nil {
		return ledger.User{}, err
	}
	hash, err := hashPassword(password, a.cost)
	if err != nil {
		return ledger.User{}, err
	}
	u := ledger.User{Username: username, AccountID: accountID, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := a.store.InsertUser(ctx, u, codec.Record(idem, &ledger.Outcome{Op: ledger.OpAddUser, User: &u}, u.CreatedAt)); err != nil {
		return ledger.User{}, err
	}
	a.Invalidate()
	return u, nil
}

// RemoveUser deletes a user; its cached logins stop working at once.
func (a *Authenticator) RemoveUser(ctx context.Context, accountID, username string, idem *ledger.IdempotencyRequest) error {
	err := a.store.DeleteUser(ctx, accountID, username, codec.Record(idem, &ledger.Outcome{Op: ledger.OpRemoveUser}, time.Now().UTC()))
	a.Invalidate()
	return err
}

// Users lists an account's users.
func (a *Authenticator) Users(ctx context.Context, accountID string) ([]ledger.User, error) {
	return a.store.UsersOf(ctx, accountID)
}

// CreateAPIKey makes a key for an account and returns it with its clear text, which
// is not kept anywhere, nor in idem's outcome.
func (a *Authenticator) CreateAPIKey(ctx context.Context, accountID, name string, scopes []string, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error) {
	return a.CreateKey(ctx, ledger.APIKey{AccountID: accountID, Name: name, Scopes: scopes}, idem)
}

// CreateKey makes a key as spec says (account, name, scopes, allowed addresses,
// validity, disabled; its ID, hash and times are made here) and returns it with
// its clear text, which is not kept anywhere, nor in idem's outcome.
func (a *Authenticator) CreateKey(ctx context.Context, spec ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, string, error) {
	k, err := checkKey(spec)
	if err != nil {
		return ledger.APIKey{}, "", err
	}
	clearKey, hash, err := NewAPIKey()
	if err != nil {
		return ledger.APIKey{}, "", err
	}
	k.ID, k.Hash, k.CreatedAt, k.RevokedAt = ledger.NewID("key"), hash, a.now().UTC(), nil
	if err := a.store.InsertAPIKey(ctx, k, codec.Record(idem, &ledger.Outcome{Op: ledger.OpCreateAPIKey, APIKey: &k}, k.CreatedAt)); err != nil {
		return ledger.APIKey{}, "", err
	}
	a.Invalidate()
	return k, clearKey, nil
}

// UpdateKey replaces the changeable fields of key k.ID of k.AccountID (name,
// scopes, allowed addresses, validity, disabled) with k's, and returns the key
// as stored. The change reaches every node's cache at once: this node's here,
// the others' through the store's change feed.
func (a *Authenticator) UpdateKey(ctx context.Context, k ledger.APIKey, idem *ledger.IdempotencyRequest) (ledger.APIKey, error) {
	k, err := checkKey(k)
	if err != nil {
		return ledger.APIKey{}, err
	}
	if err := a.store.UpdateAPIKey(ctx, k, codec.Record(idem, &ledger.Outcome{Op: ledger.OpUpdateAPIKey, APIKey: &k}, a.now().UTC())); err != nil {
		return ledger.APIKey{}, err
	}
	a.Invalidate()
	return a.APIKey(ctx, k.AccountID, k.ID)
}

// APIKey returns key id of an account, or a NotFoundError (also when the key is
// another account's: which keys exist is nobody else's business).
func (a *Authenticator) APIKey(ctx context.Context, accountID, id string) (ledger.APIKey, error) {
	keys, err := a.store.APIKeysOf(ctx, accountID)
	if err != nil {
		return ledger.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return ledger.APIKey{}, &ledger.NotFoundError{What: "api key", ID: id}
}

// checkKey validates a key's name, scopes, addresses and validity, and returns
// it with the addresses in canonical prefix form and the times in UTC.
func checkKey(k ledger.APIKey) (ledger.APIKey, error) {
	scopes, err := validateKey(k.Name, k.Scopes)
	v := &ledger.ValidationError{}
	var ve *ledger.ValidationError
	if errors.As(err, &ve) {
		v = ve
	} else if err != nil {
		return k, err
	}
	k.Scopes = scopes
	if k.AllowedIPs, err = CanonicalPrefixes(k.AllowedIPs); err != nil {
		v.Add("allowedIPs", err.Error())
	}
	if k.ValidFrom != nil {
		t := k.ValidFrom.UTC().Truncate(time.Microsecond)
		k.ValidFrom = &t
	}
	if k.ValidTo != nil {
		t := k.ValidTo.UTC().Truncate(time.Microsecond)
		k.ValidTo = &t
	}
	if k.ValidFrom != nil && k.ValidTo != nil && !k.ValidTo.After(*k.ValidFrom) {
		v.Add("validTo", "must be after validFrom")
	}
	return k, v.Err()
}

// validateKey checks the name and scopes of a new API key or OAuth client; nil
// scopes mean account-management:manage.
func validateKey(name string, scopes []string) ([]string, error) {
	v := &ledger.ValidationError{}
	if name == "" {
		v.Add("name", "is required")
	} else if len(name) > 200 {
		v.Add("name", "must be at most 200 bytes of UTF-8")
	} else if err := ledger.CheckText(name); err != nil {
		v.Add("name", err.Error())
	}
	if scopes == nil {
		scopes = []string{ScopeAccountManage}
	}
	if len(scopes) == 0 {
		v.Add("scopes", "must list at least one scope")
	}
	seen := map[string]bool{}
	for _, s := range scopes {
		if !ValidScope(s) {
			v.Add("scopes", fmt.Sprintf("unknown scope %q (the known ones are Infobip's, as its API documents name them, such as %q)", s, ScopeAccountManage))
		} else if seen[s] {
			v.Add("scopes", fmt.Sprintf("scope %q is listed twice", s))
		}
		seen[s] = true
	}
	return scopes, v.Err()
}

// APIKeys lists an account's keys (without their clear text, which is not kept).
func (a *Authenticator) APIKeys(ctx context.Context, accountID string) ([]ledger.APIKey, error) {
	return a.store.APIKeysOf(ctx, accountID)
}

// RevokeAPIKey revokes a key; it is refused from the next request on.
func (a *Authenticator) RevokeAPIKey(ctx context.Context, accountID, keyID string, idem *ledger.IdempotencyRequest) error {
	now := time.Now().UTC()
	err := a.store.RevokeAPIKey(ctx, accountID, keyID, now, codec.Record(idem, &ledger.Outcome{Op: ledger.OpRevokeAPIKey}, now))
	a.Invalidate()
	return err
}
