package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// openTemp opens a fresh store in the test's temporary directory, closed when the
// test ends.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "p.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
