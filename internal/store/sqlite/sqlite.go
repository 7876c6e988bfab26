// Package sqlite is purse's embedded store: one SQLite file in WAL mode, opened
// through the pure-Go modernc.org/sqlite driver so purse builds without a C
// toolchain. Only one process may open a file at a time (an flock on "<db>.lock"),
// because the engine keeps balances in memory and must be the file's only writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("database is in use by another purse process")

// Store is an open SQLite database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	lock *os.File
	path string

	// seq is the newest entry sequence handed out; only the engine's loop uses it.
	seq     int64
	seqErr  error
	seqOnce sync.Once

	stmts sync.Map // SQL -> *sql.Stmt, the batch statements

	keys keyIndex // idempotency keys -> records (idempotency.go)

	writeMu  sync.Mutex // held by the transaction using writer
	writerMu sync.Mutex // guards writer itself
	writer   *sql.Conn  // the engine's batches and the audit log commit here (sync.go)
	walMu    sync.Mutex
	wal      *os.File // the -wal file, for Sync

	ckptMu             sync.Mutex
	ckptStop, ckptDone chan struct{} // the checkpointer's (checkpoint.go)
}

// Open opens (creating if needed) the database file at path, takes its process
// lock, and applies pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (lock %s.lock)", ErrLocked, path, path)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	// synchronous(FULL): a commit is on disk before the engine acknowledges it.
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so two
	// writers queue on busy_timeout instead of failing on lock upgrade.
	q := url.Values{}
	// cache_size: 8 MiB of page cache per pool connection (they read a page of
	// history or a credential; memory kept resident costs latency where the kernel
	// samples it, see cmd/purse/gc.go); the engine's connection has 64 MiB (sync.go).
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(10000)", "cache_size(-8192)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, lock: lock, path: path}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.convertEntries(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadKeys(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database and releases the process lock.
func (s *Store) Close() error {
	s.closeWriter()
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: bad name", base)
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, micros(time.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		// SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
		return coded.Code() == 2067 || coded.Code() == 1555
	}
	return false
}

// createPrivate makes the database file 0600 before SQLite first opens it: SQLite
// creates a new file 0644 and gives its -wal and -shm files the database file's own
// mode, so a private database file is what keeps all three private. The explicit
// chmod undoes a umask that would narrow the mode so far that purse could not use it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // an existing store keeps its mode; serve warns when it is open to others (Exposed)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Exposed lists what other local users could read or change: the database, its
// -wal and -shm files when readable by anyone but the owner, and their directory
// when others may enter it or anyone but the owner may write it. Each line says how
// to fix it; serve logs them as warnings. A store purse created itself has none.
func (s *Store) Exposed() []string {
	var out []string
	for _, f := range []string{s.path, s.path + "-wal", s.path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			continue // -wal and -shm exist only while the store is open and written
		}
		if fi.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s is readable by others (mode %v): chmod 600 %s", filepath.Base(f), fi.Mode().Perm(), f))
		}
	}
	dir := filepath.Dir(s.path)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o027 != 0 {
		abs, _ := filepath.Abs(dir)
		out = append(out, fmt.Sprintf("the directory %s is open to other users (mode %v): chmod 700 %s", filepath.Base(abs), fi.Mode(), abs))
	}
	return out
}
