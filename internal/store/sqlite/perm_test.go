package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFilesArePrivate opens a new store under a permissive umask and writes to it:
// the database and its -wal and -shm files must be 0600 whatever the umask (they
// hold password hashes and, before #17, the OAuth2 signing key), and so must the
// lock file.
func TestFilesArePrivate(t *testing.T) {
	for _, umask := range []int{0o022, 0o000, 0o077} {
		t.Run(os.FileMode(umask).String(), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o700); err != nil { // t.TempDir's mode follows the umask
				t.Fatal(err)
			}
			path := filepath.Join(dir, "purse.db")
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.SetSetting(context.Background(), "k", "v", false); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path, path + "-wal", path + "-shm", path + ".lock"} { // .lock: older versions' lock, still held (lock.go)
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
					t.Errorf("%s: mode %v, want %v", filepath.Base(f), got, want)
				}
			}
			if got := s.Exposed(); len(got) != 0 {
				t.Errorf("Exposed() = %q on private files", got)
			}
		})
	}
}

// TestExposedNamesWideFiles reports a store whose files or directory others can
// read, as an older purse left them (0644 under a usual umask).
func TestExposedNamesWideFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "purse.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetSetting(context.Background(), "k", "v", false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(s.Exposed(), "\n")
	for _, want := range []string{"purse.db is readable by others (mode -rw-r--r--)", "purse.db-wal is readable by others", "data is open to other users (mode drwxr-xr-x)"} {
		if !strings.Contains(got, want) {
			t.Errorf("Exposed() lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "-shm") {
		t.Errorf("Exposed() names the private -shm file:\n%s", got)
	}
}
