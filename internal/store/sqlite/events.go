package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

const eventColumns = `seq, id, type, account_id, parent_id, at, data`

// insertEvents writes the batch's events with multi-row INSERTs, their arguments
// in one flat slice per statement (no slice per row: a batch has an event per
// entry). seq is left to SQLite: the rowid, in insertion order, which on the one
// writer is commit order.
func (b *batchTx) insertEvents(ctx context.Context, events []ledger.Event) error {
	const ncols = 6
	one := "(" + placeholders(ncols) + ")"
	for len(events) > 0 {
		n := chunkSize(len(events))
		q := "INSERT INTO events (id, type, account_id, parent_id, at, data) VALUES " + strings.TrimSuffix(strings.Repeat(one+",", n), ",")
		st, err := b.s.stmt(ctx, q)
		if err != nil {
			return err
		}
		args := make([]any, 0, n*ncols)
		for i := range events[:n] {
			e := &events[i]
			args = append(args, e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), e.Data)
		}
		res, err := b.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		if b.lastEvent, err = res.LastInsertId(); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// ListEvents returns committed events after f.After, oldest first. Every commit
// is the one writer's, in rowid order, so what a reader sees is a prefix of what
// will ever be committed above its cursor: no later commit can take a smaller seq.
// It returns only events a Sync has made durable (eventsDurable): a batch is
// visible once committed, before its fdatasync, and a machine that crashed then
// would lose it, so no consumer may hear of it before.
func (s *Store) ListEvents(ctx context.Context, f ledger.EventFilter) ([]ledger.Event, error) {
	upTo := s.eventsDurable.Load()
	if f.UpTo > 0 {
		upTo = min(upTo, f.UpTo)
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE seq > ? AND seq <= ?`
	args := []any{f.After, upTo}
	switch {
	case f.AccountID != "" && f.WithChildren:
		q += ` AND (account_id = ? OR parent_id = ?)`
		args = append(args, f.AccountID, f.AccountID)
	case f.AccountID != "":
		q += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if len(f.Types) > 0 {
		q += ` AND type IN (` + placeholders(len(f.Types)) + `)`
		for _, t := range f.Types {
			args = append(args, string(t))
		}
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, max(f.Limit, 1))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	var out []ledger.Event
	for rows.Next() {
		var e ledger.Event
		var typ string
		var at int64
		if err := rows.Scan(&e.Seq, &e.ID, &typ, &e.AccountID, &e.ParentID, &at, &e.Data); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		e.Type, e.At = ledger.EventType(typ), fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneEvents deletes, among the oldest limit events, those older than before:
// events are written in time order, so the oldest come first and the query reads
// no more than limit rows whatever the table holds. It writes on the engine's
// connection (SQLite has one writer), in a short transaction of its own.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	// The newest event always stays: seq is the rowid, and an empty table would
	// start it again from 1 under every consumer's cursor.
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?) AND at < ?
		AND seq < (SELECT max(seq) FROM events)`, limit, micros(before))
	if err != nil {
		b.Rollback(ctx)
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	n, _ := res.RowsAffected()
	err = tx.Commit()
	b.done()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	return int(n), nil
}

// LastEventSeq is the newest event's sequence, 0 with none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: last event: %w", err)
	}
	return seq, nil
}

// EventHead is the newest event a Sync has made durable.
func (s *Store) EventHead(context.Context) (int64, error) { return s.eventsDurable.Load(), nil }
