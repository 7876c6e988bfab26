package pursetest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/purse-ledger/purse/client"
)

// AccountSpec describes an account to make. Every field is optional.
type AccountSpec struct {
	// Name is the account's name; "": "pursetest account N".
	Name string
	// Currency is an ISO 4217 code; "": EUR.
	Currency string
	// Balance is an exact decimal string ("47.79134") booked as one top-up; "": 0.
	Balance string
	// Username makes a Basic user with Password (or, when Password is "", a random
	// one: see Account.Password). Usernames are unique across a Server's accounts.
	// "": no user.
	Username, Password string
	// AllowedMinus is how far below zero charges may take the balance; "": 0.
	AllowedMinus string
	// MonthlyLimit is the most charged per UTC month; "": no limit.
	MonthlyLimit string
	// FreeMessages is the number of free SMS the account has left.
	FreeMessages int64
}

// Account is an account made by CreateAccount, with its credentials.
type Account struct {
	ID       string
	Currency string
	// Username and Password are the Basic user's; "" when the spec named none.
	Username, Password string
	// Basic is the Authorization header value of the Basic user,
	// "Basic " + base64(username:password); "" without a user.
	Basic string
	// APIKey is an API key of the account, with account-management:manage (every
	// account gets one); App is its Authorization header value, "App " + APIKey.
	APIKey, App string
	// APIKeyID names the key in the admin API (to revoke it, say).
	APIKeyID string
}

// Account makes an account as spec says (see CreateAccount) and fails the test if
// purse refuses any part of it.
func (s *Server) Account(t testing.TB, spec AccountSpec) Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// CreateAccount makes an account through the admin API: the account, its limits,
// its balance (one top-up), a Basic user when the spec names one, and an API key.
// It stops at the first refusal and returns it (a *client.Error for purse's
// answers), leaving what it made so far.
func (s *Server) CreateAccount(ctx context.Context, spec AccountSpec) (Account, error) {
	s.mu.Lock()
	s.accounts++
	n := s.accounts
	s.mu.Unlock()
	if spec.Name == "" {
		spec.Name = fmt.Sprintf("pursetest account %d", n)
	}
	if spec.Currency == "" {
		spec.Currency = "EUR"
	}
	acc, err := s.Admin.CreateAccount(ctx, spec.Name, spec.Currency)
	if err != nil {
		return Account{}, fmt.Errorf("pursetest: create account: %w", err)
	}
	out := Account{ID: acc.ID, Currency: acc.Currency}
	if u, ok := spec.update(); ok {
		if _, err := s.Admin.UpdateAccount(ctx, acc.ID, u); err != nil {
			return out, fmt.Errorf("pursetest: account %s limits: %w", acc.ID, err)
		}
	}
	if spec.Balance != "" {
		if _, err := s.Admin.TopUp(ctx, acc.ID, spec.Balance, client.TopUpOptions{Reference: "pursetest balance"}); err != nil {
			return out, fmt.Errorf("pursetest: account %s balance: %w", acc.ID, err)
		}
	}
	if spec.Username != "" {
		password := spec.Password
		if password == "" {
			password = hex.EncodeToString(random(12))
		}
		if _, err := s.Admin.AddUser(ctx, acc.ID, spec.Username, password); err != nil {
			return out, fmt.Errorf("pursetest: account %s user %q: %w", acc.ID, spec.Username, err)
		}
		out.Username, out.Password = spec.Username, password
		out.Basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(spec.Username+":"+password))
	}
	key, err := s.Admin.CreateAPIKey(ctx, acc.ID, "pursetest", nil)
	if err != nil {
		return out, fmt.Errorf("pursetest: account %s API key: %w", acc.ID, err)
	}
	out.APIKey, out.App, out.APIKeyID = key.Key, "App "+key.Key, key.ID
	return out, nil
}

// update is the PATCH the spec's limits need, if any.
func (spec AccountSpec) update() (client.AccountUpdate, bool) {
	var u client.AccountUpdate
	if spec.AllowedMinus != "" {
		u.AllowedMinus = &spec.AllowedMinus
	}
	if spec.MonthlyLimit != "" {
		u.MonthlyLimit = &spec.MonthlyLimit
	}
	if spec.FreeMessages != 0 {
		u.FreeMessages = &spec.FreeMessages
	}
	return u, u.AllowedMinus != nil || u.MonthlyLimit != nil || u.FreeMessages != nil
}
