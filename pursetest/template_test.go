package pursetest

import (
	"os"
	"testing"
)

// TestTemplate: servers start from the migrated template (the fast path
// BenchmarkNew measures), not by migrating their own store, and the copy is
// private to its owner as purse's own files are.
func TestTemplate(t *testing.T) {
	srv := New(t)
	if template.err != nil || template.db == nil {
		t.Fatalf("no template store (%v): every start migrates its own", template.err)
	}
	fi, err := os.Stat(srv.DB)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("store mode %v, want %v", got, want)
	}
}
