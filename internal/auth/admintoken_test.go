package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// TestAdminToken: the first token given is put in force and a later one is not;
// the actor names a token by a digest prefix, never the token; a rotation replaces
// the token on this node and, through Reload, on another.
func TestAdminToken(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "purse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := strings.Repeat("ab", 32)
	tok, inForce, err := auth.NewAdminToken(ctx, st, first)
	if err != nil || !inForce {
		t.Fatalf("first token: in force %v, err %v", inForce, err)
	}
	other, inForce, err := auth.NewAdminToken(ctx, st, strings.Repeat("cd", 32))
	if err != nil || inForce {
		t.Fatalf("second token: in force %v (want false), err %v", inForce, err)
	}
	actor, ok := other.Actor(first)
	if !ok || !strings.HasPrefix(actor, "token:") || len(actor) != len("token:")+12 || strings.Contains(actor, first[:12]) {
		t.Errorf("Actor(first) = %q, %v", actor, ok)
	}
	if tok.Valid("") || tok.Valid("wrong") {
		t.Error("an empty or wrong token is valid")
	}
	rotated, err := tok.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Valid(first) || !tok.Valid(rotated) {
		t.Error("after Rotate: the old token is valid or the new one is not")
	}
	if err := other.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := other.Valid(rotated), true; got != want {
		t.Errorf("the other copy after Reload: Valid(rotated) = %v, want %v", got, want)
	}
}
