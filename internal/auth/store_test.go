package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/storetest"
)

// The Authenticator on a real store of each kind, through ledger.Credentials:
// logins, revocation, sessions, and OAuth2 tokens one node issues and another
// accepts. (What each store must keep of credentials is storetest's.)
func TestAuthenticatorOnStores(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) func() storetest.Store
	}{
		{"sqlite", storetest.SQLite},
		{"postgres", func(t *testing.T) func() storetest.Store {
			storetest.PostgresURL(t)
			return storetest.Postgres(t)
		}},
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"credentials", testCredentials},
		{"sessions", testSessions},
		{"oauth2", testOAuth},
		{"bound credentials under concurrency", testBoundConcurrently},
	}
	for _, st := range stores {
		for _, tt := range tests {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) { tt.fn(t, start(t, st.open(t)())) })
		}
	}
}

// env is a store with an engine (to make accounts) and an authenticator.
type env struct {
	store storetest.Store
	eng   *engine.Engine
	auth  *auth.Authenticator
}

func start(t *testing.T, st storetest.Store) *env {
	t.Helper()
	eng, err := engine.Open(context.Background(), st, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	e := &env{store: st, eng: eng}
	// No TokenSecret: the OAuth2 key is kept in the store, so that a second
	// authenticator on it (another node) finds it.
	if e.auth, err = auth.New(st); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) account(t *testing.T, name string) string {
	t.Helper()
	r, err := e.eng.Do(context.Background(), engine.CreateAccount{Name: name, Currency: "EUR"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Value.(ledger.Account).ID
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func testSessions(t *testing.T, e *env) {
	a := e.account(t, "sess")
	ctx := context.Background()
	if _, err := e.auth.AddUser(ctx, a, "s", "password1", nil); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.auth.CreateSession(ctx, "s", "password1", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.auth.Authenticate(ctx, "IBSSO "+tok, ""); err != nil || p.AccountID != a {
		t.Fatalf("IBSSO: %+v %v", p, err)
	}
	if err := e.auth.RemoveUser(ctx, a, "s", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Authenticate(ctx, "IBSSO "+tok, ""); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("session of a removed user: %v", err)
	}
}

func testCredentials(t *testing.T, e *env) {
	a := e.account(t, "cred")
	ctx := context.Background()
	if _, err := e.auth.AddUser(ctx, a, "alice", "password1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.AddUser(ctx, a, "alice", "password2", nil); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("duplicate user: %v", err)
	}
	basic := "Basic " + b64("alice:password1")
	if p, err := e.auth.Authenticate(ctx, basic, ""); err != nil || p.AccountID != a {
		t.Fatalf("basic: %+v %v", p, err)
	}
	k, clear, err := e.auth.CreateAPIKey(ctx, a, "k", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.auth.Authenticate(ctx, "App "+clear, ""); err != nil || !p.HasScope(auth.ScopeAccountManage) {
		t.Fatalf("app: %+v %v", p, err)
	}
	rec := &ledger.IdempotencyRequest{Key: "cred-key", RequestHash: "h"}
	if err := e.auth.RevokeAPIKey(ctx, a, k.ID, rec); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.RevokeAPIKey(ctx, a, k.ID, rec); !errors.Is(err, ledger.ErrDuplicateIdempotencyKey) {
		t.Errorf("second use of a committed key: %v", err)
	}
	if _, err := e.auth.Authenticate(ctx, "App "+clear, ""); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("revoked key: %v", err)
	}
	if err := e.auth.RemoveUser(ctx, a, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Authenticate(ctx, basic, ""); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("removed user: %v", err)
	}
	if err := e.auth.RemoveUser(ctx, a, "alice", nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	keys, err := e.auth.APIKeys(ctx, a)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil || strings.Join(keys[0].Scopes, ",") != auth.ScopeAccountManage {
		t.Errorf("keys %+v %v", keys, err)
	}
}
func testOAuth(t *testing.T, e *env) {
	a := e.account(t, "oauth")
	ctx := context.Background()
	oc, secret, err := e.auth.CreateOAuthClient(ctx, a, "backend", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, ttl, err := e.auth.IssueToken(ctx, oc.ID, secret, "")
	if err != nil || ttl != time.Hour {
		t.Fatalf("IssueToken: %v %v", ttl, err)
	}
	if p, err := e.auth.Authenticate(ctx, "Bearer "+tok, ""); err != nil || p.AccountID != a || !p.HasScope(auth.ScopeAccountManage) {
		t.Fatalf("Bearer: %+v %v", p, err)
	}
	// A second authenticator on the same store (another node) accepts the token.
	other, err := auth.New(e.store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Authenticate(ctx, "Bearer "+tok, ""); err != nil {
		t.Errorf("token on another node: %v", err)
	}
	if _, _, err := e.auth.IssueToken(ctx, oc.ID, "wrong", ""); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := e.auth.RevokeOAuthClient(ctx, a, oc.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Authenticate(ctx, "Bearer "+tok, ""); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("revoked client's token: %v", err)
	}
	list, err := e.auth.OAuthClients(ctx, a)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Errorf("clients %+v %v", list, err)
	}
}

// testBoundConcurrently: requests with the same header from several addresses
// at once (so that some wait on another's check, or hit the cache it filled)
// are each judged by their own address: a bound session and an address-bound
// key never answer for an address they do not allow.
func testBoundConcurrently(t *testing.T, e *env) {
	a := e.account(t, "bound")
	ctx := context.Background()
	if _, err := e.auth.AddUser(ctx, a, "b", "password1", nil); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.auth.CreateSession(ctx, "b", "password1", "192.0.2.1", false)
	if err != nil {
		t.Fatal(err)
	}
	k, clearKey, err := e.auth.CreateKey(ctx, ledger.APIKey{AccountID: a, Name: "k", AllowedIPs: []string{"192.0.2.1"}}, nil)
	if err != nil || len(k.AllowedIPs) != 1 {
		t.Fatal(k, err)
	}
	for _, header := range []string{"IBSSO " + tok, "App " + clearKey} {
		for round := 0; round < 20; round++ {
			e.auth.Invalidate() // every round starts uncached, so requests meet in flight
			var wg sync.WaitGroup
			errs := make(chan string, 16)
			for i := 0; i < 16; i++ {
				client := "192.0.2.1"
				if i%2 == 1 {
					client = "198.51.100.1"
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.auth.Authenticate(ctx, header, client)
					if ok := err == nil; ok != (client == "192.0.2.1") {
						errs <- fmt.Sprintf("%s from %s: %v", header[:5], client, err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
		}
	}
}
