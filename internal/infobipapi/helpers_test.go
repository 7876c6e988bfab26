package infobipapi_test

import (
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// insertScopelessKey stores an API key with no scope that reads the balance.
func insertScopelessKey(t *testing.T, s *testkit.Stack, accountID, clear string) {
	t.Helper()
	err := s.Store.InsertAPIKey(t.Context(), ledger.APIKey{ID: ledger.NewID("key"), AccountID: accountID, Name: "scopeless",
		Hash: auth.HashAPIKey(clear), Scopes: []string{"messages:send"}, CreatedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Auth.Invalidate()
}

// insertScopelessOAuth stores an OAuth client whose scopes do not read the balance.
func insertScopelessOAuth(t *testing.T, s *testkit.Stack, accountID string, id, secret *string) {
	t.Helper()
	*id, *secret = ledger.NewID("oc"), "weak-secret"
	err := s.Store.InsertOAuthClient(t.Context(), ledger.APIKey{ID: *id, AccountID: accountID, Name: "weak",
		Hash: auth.HashAPIKey(*secret), Scopes: []string{"messages:send"}, CreatedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
}
