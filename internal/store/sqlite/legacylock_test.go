package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOlderPurseKeepsTheStore: a purse from before the lock on the database file
// holds only "<path>.lock"; a new one started on the same file meanwhile (an
// upgrade that did not stop the old one) must be refused, not share the store.
func TestOlderPurseKeepsTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "purse.db")
	old, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600) // what an older purse held
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(old.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(context.Background(), path); !errors.Is(err, ErrLocked) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open beside an older purse: %v, want ErrLocked", err)
	}
	old.Close() // the older purse stopped
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// And an older purse started now is kept out by the same file.
	late, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	if err := syscall.Flock(int(late.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("an older purse's lock beside a running store: %v, want EWOULDBLOCK", err)
	}
}

// TestRelativePathOpens: a relative --db (the README's default, purse.db) names the
// same legacy lock file as its resolved path; taking it twice refused every start.
func TestRelativePathOpens(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, p := range []string{"purse.db", "./purse.db", "sub/../purse.db"} {
		if p == "sub/../purse.db" {
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(context.Background(), p)
		if err != nil {
			t.Fatalf("Open(%q): %v", p, err)
		}
		s.Close()
	}
}
