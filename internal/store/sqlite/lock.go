package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// One file, one writer. The engine keeps balances in memory and trusts that it is
// the only writer of its file, so the lock must hold for the file itself, not for
// one name of it. It is an flock on the database file: a second name (a symlink, a
// hard link, a path through "./" or "../", a bind mount) reaches the same inode and
// so the same lock, where the lock file "<path>.lock" of earlier versions did not.
// flock locks are independent of the POSIX locks SQLite takes on the same file on a
// local file system. (On NFS, Linux emulates flock with POSIX locks; SQLite in WAL
// mode needs a local file system anyway, for its shared-memory index.)

// Errors of Open that an operator can act on.
var (
	// ErrNoDirectory: the database's directory does not exist (see CreateDir).
	ErrNoDirectory = errors.New("the database's directory does not exist")
	// ErrNotWritable: purse cannot write the database file.
	ErrNotWritable = errors.New("the database file is not writable")
	// ErrNotPurse: the file is not a purse store (not SQLite, or SQLite without
	// purse's schema).
	ErrNotPurse = errors.New("not a purse store")
	// ErrSchemaVersion: the store's schema is of a version this build cannot use.
	ErrSchemaVersion = errors.New("unknown schema version")
)

// Existing makes Open refuse a missing file instead of creating a new store:
// for commands that act on a store that must already be there.
func Existing() Option { return func(s *Store) { s.mustExist = true } }

// CreateDir makes Open create the database's missing directory (mode 0700);
// without it a missing directory is ErrNoDirectory, because it is more often a
// typo than a wish for a new, empty ledger.
func CreateDir() Option { return func(s *Store) { s.createDir = true } }

// ReadOnly opens an existing store for reading only: SQLite's read-only mode, no
// migration, no conversion, a shared lock (several readers, no writer). The store
// must be purse's, of exactly this build's schema version. For purse check.
func ReadOnly() Option { return func(s *Store) { s.readOnly, s.mustExist = true, true } }

// lockFile opens the database file (creating it, mode 0600, when allowed), takes
// its flock, and returns it with the file's real path, symlinks resolved, which is
// the name SQLite must open so that its -wal and -shm are always the same files.
func (s *Store) lockFile(path string) (*os.File, string, error) {
	if err := s.checkDir(filepath.Dir(path)); err != nil {
		return nil, "", err
	}
	f, err := s.openFile(path)
	if err != nil {
		return nil, "", err
	}
	real, err := s.lockOpen(f, path)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, real, nil
}

// checkDir makes sure the database's directory is there, creating it (mode 0700)
// when CreateDir allows it.
func (s *Store) checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if !s.createDir || s.mustExist {
			return fmt.Errorf("sqlite: %w: %s", ErrNoDirectory, dir)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("sqlite: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("sqlite: %s is not a directory", dir)
	}
	return nil
}

// openFile opens the database file as the options ask: read-only, read-write, or
// read-write and created when missing. A new store is made exactly 0600 whatever
// the umask, since SQLite gives its -wal and -shm the database file's mode.
func (s *Store) openFile(path string) (*os.File, error) {
	flags := os.O_RDWR
	switch {
	case s.readOnly:
		flags = os.O_RDONLY
	case !s.mustExist:
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if !s.readOnly && (errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			return nil, fmt.Errorf("sqlite: %w: %s (%v); purse must write its store", ErrNotWritable, path, err)
		}
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 && !s.readOnly {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	return f, nil
}

// lockOpen takes the flock of the open database file f (shared when read-only)
// and, for a writer, the lock files of earlier versions, and returns the file's
// real path. The caller closes f on an error.
func (s *Store) lockOpen(f *os.File, path string) (string, error) {
	if err := s.flock(f, path); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	if !s.readOnly {
		legacy, err := legacyLock(real, path)
		if err != nil {
			return "", err
		}
		s.legacy = legacy
	}
	return real, nil
}

// flock locks f, which must be a regular file with one name.
func (s *Store) flock(f *os.File, path string) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return fmt.Errorf("sqlite: %s is not a regular file", path)
	}
	how := syscall.LOCK_EX
	if s.readOnly {
		how = syscall.LOCK_SH
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	// Checked under the lock, so that a live server's file is reported as in use.
	// SQLite names its write-ahead log after the path it opens: through a second
	// hard link, the transactions committed to the other name's log would be
	// invisible, and then overwritten.
	if st.Nlink > 1 {
		return fmt.Errorf("sqlite: %s has %d hard links; SQLite keeps its write-ahead log by name, so purse opens a store "+
			"only through its one name (remove the other links)", path, st.Nlink)
	}
	return nil
}

// legacyLock also takes the lock file of purse versions before this lock
// ("<path>.lock", 0600), under the real name and the name given: a purse of such a
// version, still running on the file while a new one starts (an upgrade done
// without stopping it first), holds only that file's lock, and would otherwise
// share the store with the new one; one started later is kept out the same way.
// Keep it for a few releases after every node has moved on.
func legacyLock(names ...string) ([]*os.File, error) {
	var held []*os.File
	release := func() {
		for _, f := range held {
			f.Close()
		}
	}
	seen := map[string]bool{}
	for _, name := range names {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs // "purse.db" and its resolved real name are one lock file
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		f, err := os.OpenFile(name+".lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			release()
			return nil, fmt.Errorf("sqlite: open %s.lock: %w", name, err)
		}
		held = append(held, f)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			release()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %s (an older purse holds %s.lock; stop it first)", ErrLocked, name, name)
			}
			return nil, fmt.Errorf("sqlite: lock %s.lock: %w", name, err)
		}
	}
	return held, nil
}
