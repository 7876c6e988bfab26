// Package sqlite is purse's embedded store: one SQLite file in WAL mode, opened
// through the pure-Go modernc.org/sqlite driver so purse builds without a C
// toolchain. Only one process may open a file at a time (an flock on the database
// file itself, lock.go), because the engine keeps balances in memory and must be
// the file's only writer.
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
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("database is in use by another purse process")

// Store is an open SQLite database. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	lock   *os.File   // the database file itself, flocked (lock.go)
	legacy []*os.File // the lock files of older versions, held too (lock.go legacyLock)
	path   string

	readOnly, mustExist, createDir bool // Open's options (lock.go)

	// seq is the newest entry sequence handed out; only the engine's loop uses it.
	seq     int64
	seqErr  error
	seqOnce sync.Once
	// eventsCommitted is the newest event sequence committed; eventsDurable the
	// newest one a Sync has made durable, beyond which readers see none (events.go).
	eventsCommitted, eventsDurable atomic.Int64

	stmts sync.Map // SQL -> *sql.Stmt: the batch statements, and the reads made hundreds of times a second

	keys keyIndex // idempotency keys -> records (idempotency.go)

	writeMu  sync.Mutex // held by the transaction using writer
	writerMu sync.Mutex // guards writer itself
	writer   *sql.Conn  // the engine's batches and the audit log commit here (sync.go)
	walMu    sync.Mutex
	wal      *os.File // the -wal file, for Sync

	ckptMu             sync.Mutex
	ckptStop, ckptDone chan struct{} // the checkpointer's (checkpoint.go)
}

// Open opens the database file at path, creating a new store when the file does
// not exist (in an existing directory; see Existing and CreateDir), takes the
// file's lock (lock.go), and applies pending migrations. A file that is not a purse
// store, or whose schema is newer than this build, is refused; so is a file purse
// cannot write.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	s := &Store{}
	for _, o := range opts {
		o(s)
	}
	lock, real, err := s.lockFile(path)
	if err != nil {
		return nil, err
	}
	// synchronous(FULL): a commit is on disk before the engine acknowledges it.
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so two
	// writers queue on busy_timeout instead of failing on lock upgrade.
	q := url.Values{}
	// cache_size: 8 MiB of page cache per pool connection (they read a page of
	// history or a credential; memory kept resident costs latency where the kernel
	// samples it, see cmd/purse/gc.go); the engine's connection has 64 MiB (sync.go).
	pragmas := []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(10000)", "cache_size(-8192)"}
	if s.readOnly {
		// Setting the journal mode writes the header; a reader leaves it as it is.
		pragmas = []string{"busy_timeout(10000)", "cache_size(-8192)"}
		q.Set("mode", "ro")
	}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+real+"?"+q.Encode())
	if err != nil {
		lock.Close()
		for _, f := range s.legacy {
			f.Close()
		}
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s.db, s.lock, s.path = db, lock, path
	if err := s.checkSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.readOnly {
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.probeWrite(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.convertEntries(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.backfillHours(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.convertEvents(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.convertDeliveries(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadKeys(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// What the file holds at start is what readers may see: the events of a
	// previous process's last commits survived it (the page cache has them).
	last, err := s.LastEventSeq(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.eventsCommitted.Store(last)
	s.eventsDurable.Store(last)
	return s, nil
}

// latestVersion is the newest schema version this build knows.
func latestVersion() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, name := range names {
		if v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0]); err == nil {
			latest = max(latest, v)
		}
	}
	return latest
}

// checkSchema refuses a file that is not a purse store: not SQLite at all, or a
// SQLite database with tables but no schema_migrations (an empty file is a new
// store, except to a reader). It refuses a schema newer than this build (an older
// purse must not write a store it does not understand), and, to a reader, an older
// one too (its queries are this build's).
func (s *Store) checkSchema(ctx context.Context) error {
	var tables, purse int
	err := s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = 'schema_migrations')
		FROM sqlite_master WHERE type = 'table'`).Scan(&tables, &purse)
	if err != nil {
		var coded interface{ Code() int }
		if errors.As(err, &coded) && coded.Code()&0xff == 26 { // SQLITE_NOTADB
			return fmt.Errorf("sqlite: %s: %w (not a SQLite database)", s.path, ErrNotPurse)
		}
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	switch {
	case purse == 0 && (tables > 0 || s.readOnly):
		return fmt.Errorf("sqlite: %s: %w (no purse schema in it)", s.path, ErrNotPurse)
	case purse == 0:
		return nil // a new store
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	latest := latestVersion()
	switch {
	case version > latest:
		return fmt.Errorf("sqlite: %s: %w: schema version %d is newer than this purse knows (%d); use a newer purse", s.path, ErrSchemaVersion, version, latest)
	case s.readOnly && version < latest:
		return fmt.Errorf("sqlite: %s: %w: schema version %d is older than this purse's (%d); start purse serve on it once to upgrade it, "+
			"or use the purse that wrote it", s.path, ErrSchemaVersion, version, latest)
	}
	return nil
}

// probeWrite writes and rolls back, so that a store purse cannot write (a
// read-only directory for the -wal file, a read-only mount) fails at start rather
// than on every request.
func (s *Store) probeWrite(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (-1, 0)`)
		tx.Rollback()
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w: %s (%v); purse must write its store and the -wal and -shm files beside it", ErrNotWritable, s.path, err)
	}
	return nil
}

// Close closes the database and releases the process lock.
func (s *Store) Close() error {
	s.closeWriter()
	err := s.db.Close()
	for _, f := range s.legacy {
		f.Close()
	}
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
