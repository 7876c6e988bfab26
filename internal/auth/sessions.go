package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/purse-ledger/purse/internal/ledger"
)

// DefaultSessionIdle ends an IBSSO session after an hour without use, as at Infobip.
const DefaultSessionIdle = 60 * time.Minute

// touchEvery bounds session writes: a session in use is written back at most once
// a minute, so the idle timeout is exact to within a minute and a busy session
// costs no write per request.
const touchEvery = time.Minute

// sessionEntry is a session this node has seen, with when it was last used here.
type sessionEntry struct {
	p                     Principal
	lastUsed, lastTouched time.Time
	address               string // where it was made; "" with unsafe
	unsafe                bool
}

// sessionRate allows 10 session requests per second per user, as at Infobip.
type sessionRate struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func (s *sessionRate) wait(user string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*rate.Limiter{}
	}
	l, ok := s.m[user]
	if !ok {
		if len(s.m) >= maxTracked {
			clear(s.m)
		}
		l = rate.NewLimiter(10, 10)
		s.m[user] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// CreateSession logs a Basic user in (with the same checks, cache and failure
// limits as a Basic request from client) and returns a new IBSSO token. Unless
// unsafe, the session is bound to client: from any other address it is refused
// as an unknown token would be (Infobip's create-session "unsafe").
func (a *Authenticator) CreateSession(ctx context.Context, username, password, client string, unsafe bool) (string, Principal, error) {
	if d := a.sessionRate.wait(username, a.now()); d > 0 {
		return "", Principal{}, &TooManyAttemptsError{RetryAfter: d}
	}
	if username == "" || password == "" {
		return "", Principal{}, ErrUnauthorized
	}
	header := "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
	p, err := a.Authenticate(ctx, header, client)
	if err != nil {
		return "", Principal{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Principal{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := a.now().UTC()
	addr := client
	if unsafe {
		addr = ""
	}
	if err := a.store.InsertSession(ctx, ledger.Session{Hash: HashAPIKey(token), AccountID: p.AccountID, Username: p.Subject,
		CreatedAt: now, LastUsed: now, Address: addr, Unsafe: unsafe}); err != nil {
		return "", Principal{}, err
	}
	return token, p, nil
}

// DeleteSession ends the session of an IBSSO token.
func (a *Authenticator) DeleteSession(ctx context.Context, token string) error {
	err := a.store.DeleteSession(ctx, HashAPIKey(token))
	a.Invalidate()
	if errors.Is(err, ledger.ErrNotFound) {
		return ErrUnauthorized
	}
	return err
}

// session resolves an IBSSO token. Unlike other credentials it is not kept in the
// header cache: every use moves its idle deadline.
func (a *Authenticator) session(ctx context.Context, token, client string) (Principal, error) {
	hash := HashAPIKey(token)
	now := a.now()
	a.mu.Lock()
	e := a.sessions[hash]
	a.mu.Unlock()
	if e == nil || now.Sub(e.lastUsed) > a.sessionIdle {
		// Not seen here, or idle as far as this node knows: the store decides
		// (another node may have used it since).
		se, err := a.store.SessionByHash(ctx, hash)
		if errors.Is(err, ledger.ErrNotFound) {
			return Principal{}, ErrUnauthorized
		}
		if err != nil {
			return Principal{}, err
		}
		if now.Sub(se.LastUsed) > a.sessionIdle {
			a.store.DeleteSession(ctx, hash) //nolint:errcheck // expired either way
			return Principal{}, ErrUnauthorized
		}
		e = &sessionEntry{p: Principal{AccountID: se.AccountID, Scheme: SchemeIBSSO, Subject: se.Username, Scopes: KnownScopes},
			lastUsed: se.LastUsed, lastTouched: se.LastUsed, address: se.Address, unsafe: se.Unsafe}
	}
	p := e.p
	if !e.unsafe {
		// admit refuses the request from another address, this one's and any
		// waiting on this check alike (each by its own address), so the
		// principal is returned bound rather than refused here.
		p.boundTo = e.address
		if e.address != client {
			// Not counted as a use: a stolen token used elsewhere must not keep
			// the owner's session alive.
			return p, nil
		}
	}
	a.mu.Lock()
	e.lastUsed = now
	touch := now.Sub(e.lastTouched) >= touchEvery
	if touch {
		e.lastTouched = now
	}
	if len(a.sessions) >= maxCached {
		clear(a.sessions)
	}
	a.sessions[hash] = e
	a.mu.Unlock()
	if touch {
		if err := a.store.TouchSession(ctx, hash, now.UTC()); err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}
