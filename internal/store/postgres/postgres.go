// Package postgres is purse's scale-out store: several purse nodes share one
// PostgreSQL database, which is the source of truth and the coordinator. Each node's
// engine batches requests; a batch transaction locks the rows it touches in sorted
// order, decides, writes and commits, and announces what it changed with NOTIFY so
// the other nodes refresh their caches (Follow).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purse-ledger/purse/internal/ledger"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an open PostgreSQL store, safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	url     string
	channel string

	node     string // this process's row in sync_marks (sync.go)
	notifyMu sync.Mutex
	notify   []string // accounts changed by batches committed since the last Sync (sync.go)

	flushedHead atomic.Int64 // the newest event EventHead has made durable (events.go)
}

// IsURL reports whether a --db value names PostgreSQL rather than a SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// migrationLock is the advisory lock that serialises migrations across nodes.
const migrationLock = 0x70757273 // "purs"

// Option configures Open.
type Option func(*options)

type options struct{ readOnly bool }

// ReadOnly opens for reading only: every transaction is READ ONLY, no migration
// runs, and the database must hold purse's schema of exactly this build's version.
// For purse check, which must never change what it checks.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// ErrSchemaVersion: the database's schema is missing or of a version this build
// cannot use.
var ErrSchemaVersion = errors.New("unknown schema version")

// Open connects (retrying until ctx ends while the server is not up yet), and
// applies pending migrations under an advisory lock, so nodes starting together
// do not race. A schema newer than this build is refused.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if o.readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// The change feed is per database; a schema of its own (search_path) gets a
	// channel of its own, so tests sharing a server do not hear each other.
	s := &Store{pool: pool, url: url, channel: channel, node: newNode()}
	if sp := cfg.ConnConfig.RuntimeParams["search_path"]; sp != "" {
		s.channel = channel + "_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
				return r
			}
			return '_'
		}, strings.ToLower(sp))
	}
	if o.readOnly {
		if err := s.checkVersion(ctx, pool, true); err != nil {
			pool.Close()
			return nil, err
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	// Rows of processes gone for a day (a live one bumps its row with every batch).
	if _, err := pool.Exec(ctx, `DELETE FROM sync_marks WHERE at < $1`, micros(time.Now().Add(-24*time.Hour))); err != nil {
		pool.Close()
		return nil, wrap("sync marks", err)
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Shared is true: other nodes write the same rows.
func (s *Store) Shared() bool { return true }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.pool.Ping(ctx))
}

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap("migrate", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return wrap("migrate lock", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return wrap("migrate", err)
	}
	if err := s.checkVersion(ctx, conn, false); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: bad name", base)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
			return wrap("migrate", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", base, err)
		}
	}
	return nil
}

// latestVersion is the newest schema version this build knows.
func latestVersion() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, name := range names {
		if v, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0]); err == nil {
			latest = max(latest, v)
		}
	}
	return latest
}

// checkVersion refuses a schema newer than this build (an older purse must not
// write a store it does not understand) and, when exact, any other version than
// this build's, or no purse schema at all.
func (s *Store) checkVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, exact bool) error {
	var version *int
	err := q.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return fmt.Errorf("postgres: %w: no purse schema in this database", ErrSchemaVersion)
	}
	if err != nil {
		return wrap("schema version", err)
	}
	latest := latestVersion()
	switch {
	case version == nil && exact:
		return fmt.Errorf("postgres: %w: no purse schema in this database", ErrSchemaVersion)
	case version != nil && *version > latest:
		return fmt.Errorf("postgres: %w: schema version %d is newer than this purse knows (%d); use a newer purse", ErrSchemaVersion, *version, latest)
	case exact && *version < latest:
		return fmt.Errorf("postgres: %w: schema version %d is older than this purse's (%d); start purse serve on it once to upgrade it",
			ErrSchemaVersion, *version, latest)
	}
	return nil
}

// wrap turns errors that mean "the database is not reachable right now" into
// ledger.ErrUnavailable (503), and marks lost races as ledger.ErrRetry.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" || pgErr.Code == "40001" || pgErr.Code == "40P01":
			return fmt.Errorf("%w: postgres %s: %v", ledger.ErrRetry, op, err)
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "57P"), pgErr.Code == "53300":
			return fmt.Errorf("%w: postgres %s: %v", ledger.ErrUnavailable, op, err)
		}
		return fmt.Errorf("postgres %s: %w", op, err)
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("postgres %s: %w", op, err)
	}
	// No PostgreSQL error: the connection itself failed (refused, reset, timed out).
	return fmt.Errorf("%w: postgres %s: %v", ledger.ErrUnavailable, op, err)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
