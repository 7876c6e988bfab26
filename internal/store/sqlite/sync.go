package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Group commit across batches.
//
// The engine's batches commit on one dedicated connection with synchronous=NORMAL:
// in WAL mode a commit then writes its frames to the -wal file and returns without
// an fsync. The engine calls Sync (one fdatasync of the -wal file) before it
// acknowledges a batch, and one Sync covers every batch committed before it began,
// so the writer goes on committing the next batch while the previous ones reach
// the disk. An acknowledged batch is exactly as durable as with synchronous=FULL;
// SQLite itself still syncs the WAL before every checkpoint and its header when the
// file is reused. Every other write (credentials, settings, the audit log) commits
// on the pool's connections with synchronous=FULL.

// beginWriter starts a write transaction on the writer connection, which it holds
// until unlock is called (after the commit or rollback). Writes that are frequent
// (the engine's batches, the audit log) share this one connection: a write from
// another connection would make the writer's next transaction drop its whole page
// cache (SQLite resets a connection's cache when the WAL changed under it), and
// freeing 64 MiB of pages took a tenth of the writer's time.
func (s *Store) beginWriter(ctx context.Context) (*sql.Tx, func(), error) {
	s.writeMu.Lock()
	conn, err := s.writerConn(ctx)
	if err != nil {
		s.writeMu.Unlock()
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		s.dropWriter(conn) // a broken connection is replaced on the next Begin
		s.writeMu.Unlock()
		return nil, nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return tx, s.writeMu.Unlock, nil
}

// writerConn returns the engine's connection, opening it on first use.
func (s *Store) writerConn(ctx context.Context) (*sql.Conn, error) {
	s.writerMu.Lock()
	defer s.writerMu.Unlock()
	if s.writer != nil {
		return s.writer, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	// No automatic checkpoints here: the checkpointer does them (checkpoint.go).
	// 64 MiB of page cache: SQLite's default 2 MiB thrashes on a large batch.
	if _, err := c.ExecContext(ctx, `PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536`); err != nil {
		c.Close()
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	s.writer = c
	s.startCheckpointer()
	return c, nil
}

// dropWriter forgets the engine's connection c after an error.
func (s *Store) dropWriter(c *sql.Conn) {
	s.writerMu.Lock()
	if s.writer == c {
		c.Close()
		s.writer = nil
	}
	s.writerMu.Unlock()
}

// Sync makes every batch committed so far durable: one fdatasync of the -wal file.
func (s *Store) Sync() error {
	s.walMu.Lock()
	defer s.walMu.Unlock()
	events := s.eventsCommitted.Load() // committed before the fdatasync: durable after it
	if err := s.syncWAL(); err != nil {
		return err
	}
	if events > s.eventsDurable.Load() {
		s.eventsDurable.Store(events)
	}
	return nil
}

// syncWAL makes the -wal file durable (walMu held).
func (s *Store) syncWAL() error {
	for attempt := 0; ; attempt++ {
		if s.wal == nil {
			f, err := os.Open(s.path + "-wal")
			if errors.Is(err, os.ErrNotExist) {
				return nil // nothing was written in WAL mode yet
			}
			if err != nil {
				return fmt.Errorf("sqlite: sync: %w", err)
			}
			s.wal = f
		}
		// A -wal file that was deleted (the last connection closed) and made again is
		// another file: sync the one that is there now.
		var st syscall.Stat_t
		if err := syscall.Fstat(int(s.wal.Fd()), &st); err == nil && st.Nlink == 0 && attempt == 0 {
			s.wal.Close()
			s.wal = nil
			continue
		}
		if err := syscall.Fdatasync(int(s.wal.Fd())); err != nil {
			return fmt.Errorf("sqlite: sync: %w", err)
		}
		return nil
	}
}

// closeWriter releases the engine's connection and the -wal handle.
func (s *Store) closeWriter() {
	s.stopCheckpointer()
	s.writerMu.Lock()
	if s.writer != nil {
		s.writer.Close()
		s.writer = nil
	}
	s.writerMu.Unlock()
	s.walMu.Lock()
	if s.wal != nil {
		s.wal.Close()
		s.wal = nil
	}
	s.walMu.Unlock()
}
