package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Events are stored in blocks, one row of event_blocks per batch (migration 0022):
// the batch's events have consecutive sequences first_seq..last_seq, and the row
// holds them in codec's event block format; an entry.created keeps its entry
// (codec's entry format) and its JSON is built on read. A row per event with its index entry
// was the writer's largest cost (half of a batch of 1,000 charges); a block is one
// row and the events are appended to a byte slice in Go.
//
// Sequences are the store's: the one writer numbers each batch's events on from
// the newest committed (eventsCommitted, read from the file at open), so they
// increase in commit order; a rolled-back batch took none.

// insertEvents writes the batch's events as one block.
func (b *batchTx) insertEvents(ctx context.Context, events []ledger.Event) error {
	if len(events) == 0 {
		return nil
	}
	first := b.s.eventsCommitted.Load() + 1
	last := first + int64(len(events)) - 1
	var at int64
	size := 1
	for i := range events {
		e := &events[i]
		at = max(at, micros(e.At))
		size += len(e.ID) + len(e.Type) + len(e.AccountID) + len(e.ParentID) + len(e.Data) + 24
		if e.Entry != nil {
			size += len(e.Entry.MovementID) + len(e.Entry.Reference) + len(e.Entry.IdempotencyKey) + len(e.Entry.RelatedID) + 32
		}
	}
	data := codec.AppendEventHeader(make([]byte, 0, size))
	for i := range events {
		e := &events[i]
		data = codec.AppendEvent(data, e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), at, e.Data, e.Entry)
	}
	if _, err := b.exec(ctx, `INSERT INTO event_blocks (first_seq, last_seq, at, data) VALUES (?, ?, ?, ?)`, first, last, at, data); err != nil {
		return err
	}
	b.lastEvent = last
	return nil
}

// eventMatcher is an EventFilter's test of one event, on its undecoded bytes.
type eventMatcher struct {
	account []byte
	parent  bool // the account's sub-accounts too
	types   [][]byte
}

func newEventMatcher(f ledger.EventFilter) eventMatcher {
	m := eventMatcher{account: []byte(f.AccountID), parent: f.WithChildren}
	for _, t := range f.Types {
		m.types = append(m.types, []byte(t))
	}
	return m
}

func (m *eventMatcher) match(v *codec.EventView) bool {
	if len(m.account) > 0 && !bytes.Equal(v.AccountID, m.account) && !(m.parent && bytes.Equal(v.ParentID, m.account)) {
		return false
	}
	if len(m.types) == 0 {
		return true
	}
	for _, t := range m.types {
		if bytes.Equal(v.Type, t) {
			return true
		}
	}
	return false
}

// eventOf is a stored event, an entry.created with its entry rather than its data.
func eventOf(seq int64, v *codec.EventView) ledger.Event {
	return ledger.Event{Seq: seq, ID: string(v.ID), Type: ledger.EventType(v.Type), AccountID: string(v.AccountID),
		ParentID: string(v.ParentID), At: fromMicros(v.At), Data: string(v.Data), Entry: v.Entry}
}

// readEvent is a stored event as readers see it: with its data, built from its
// entry when it was stored as one.
func readEvent(seq int64, v *codec.EventView) ledger.Event {
	e := eventOf(seq, v)
	if e.Entry != nil {
		e.Data, e.Entry = string(ledger.AppendEntryEventData(nil, e.Entry)), nil
	}
	return e
}

// ListEvents returns committed events after f.After, oldest first, reading the
// blocks that hold them in order and filtering in Go. Every commit is the one
// writer's, numbered in commit order, so what a reader sees is a prefix of what
// will ever be committed above its cursor: no later commit can take a smaller seq.
// It returns only events a Sync has made durable (eventsDurable): a batch is
// visible once committed, before its fdatasync, and a machine that crashed then
// would lose it, so no consumer may hear of it before.
func (s *Store) ListEvents(ctx context.Context, f ledger.EventFilter) ([]ledger.Event, error) {
	upTo := s.eventsDurable.Load()
	if f.UpTo > 0 {
		upTo = min(upTo, f.UpTo)
	}
	limit := max(f.Limit, 1)
	m := newEventMatcher(f)
	// The block holding f.After+1 starts at or before it: from the last block that
	// starts at or before it (an index seek on the primary key), then onwards.
	rows, err := s.db.QueryContext(ctx, `SELECT first_seq, last_seq, at, data FROM event_blocks
		WHERE first_seq >= coalesce((SELECT max(first_seq) FROM event_blocks WHERE first_seq <= ?), 0) AND first_seq <= ?
		ORDER BY first_seq`, f.After+1, upTo)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	var out []ledger.Event
	for len(out) < limit && rows.Next() {
		var first, last, at int64
		var data []byte
		if err := rows.Scan(&first, &last, &at, &data); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		err := codec.DecodeEvents(data, int(last-first+1), at, func(i int, v *codec.EventView) bool {
			seq := first + int64(i)
			if seq > upTo {
				return false
			}
			if seq > f.After && m.match(v) {
				out = append(out, readEvent(seq, v))
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: events %d-%d: %w", first, last, err)
		}
	}
	return out, rows.Err()
}

// PruneEvents deletes, among the oldest limit events, the leading ones older than
// before. Whole blocks go with one DELETE; a block only partly old, or larger than
// what is left of limit, is cut: its remaining events are written again as a block
// starting at their first sequence (pruning is off the writer's hot path). It
// writes on the engine's connection (SQLite has one writer), in a short
// transaction of its own.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	n, err := b.pruneEvents(ctx, micros(before), limit)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		b.Rollback(ctx)
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	b.done()
	return n, nil
}

type eventBlock struct {
	first, last, at int64
	data            []byte
}

func (b *batchTx) pruneEvents(ctx context.Context, before int64, limit int) (int, error) {
	var blocks []eventBlock
	rows, err := b.tx.QueryContext(ctx, `SELECT first_seq, last_seq, at, data FROM event_blocks ORDER BY first_seq LIMIT ?`, limit)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var bl eventBlock
		if err := rows.Scan(&bl.first, &bl.last, &bl.at, &bl.data); err != nil {
			rows.Close()
			return 0, err
		}
		blocks = append(blocks, bl)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(blocks) == 0 {
		return 0, err
	}
	var newest int64
	if err := b.tx.QueryRowContext(ctx, `SELECT max(first_seq) FROM event_blocks`).Scan(&newest); err != nil {
		return 0, err
	}
	pruned := 0
	for _, bl := range blocks {
		// The newest event always stays: the sequence goes on from it at the next open.
		keepLast := bl.first == newest
		n := int(bl.last - bl.first + 1)
		if bl.at < before && n <= limit-pruned && !keepLast {
			if _, err := b.tx.ExecContext(ctx, `DELETE FROM event_blocks WHERE first_seq = ?`, bl.first); err != nil {
				return 0, err
			}
			pruned += n
			continue
		}
		cut, err := b.cutBlock(ctx, bl, before, limit-pruned, keepLast)
		return pruned + cut, err
	}
	return pruned, nil
}

// cutBlock removes up to limit leading events older than before from bl, keeping
// at least its last one with keepLast.
func (b *batchTx) cutBlock(ctx context.Context, bl eventBlock, before int64, limit int, keepLast bool) (int, error) {
	n := int(bl.last - bl.first + 1)
	var evs []ledger.Event
	err := codec.DecodeEvents(bl.data, n, bl.at, func(i int, v *codec.EventView) bool {
		evs = append(evs, eventOf(bl.first+int64(i), v))
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("events %d-%d: %w", bl.first, bl.last, err)
	}
	cut := 0
	for cut < len(evs) && cut < limit && micros(evs[cut].At) < before && !(keepLast && cut == len(evs)-1) {
		cut++
	}
	if cut == 0 {
		return 0, nil
	}
	rest := evs[cut:]
	data := codec.AppendEventHeader(nil)
	for i := range rest {
		e := &rest[i]
		data = codec.AppendEvent(data, e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), bl.at, e.Data, e.Entry)
	}
	if _, err := b.tx.ExecContext(ctx, `DELETE FROM event_blocks WHERE first_seq = ?`, bl.first); err != nil {
		return 0, err
	}
	if _, err := b.tx.ExecContext(ctx, `INSERT INTO event_blocks (first_seq, last_seq, at, data) VALUES (?, ?, ?, ?)`,
		rest[0].Seq, bl.last, bl.at, data); err != nil {
		return 0, err
	}
	return cut, nil
}

// LastEventSeq is the newest event's sequence, 0 with none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM event_blocks ORDER BY first_seq DESC LIMIT 1`).Scan(&seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: last event: %w", err)
	}
	return seq, nil
}

// EventHead is the newest event a Sync has made durable.
func (s *Store) EventHead(context.Context) (int64, error) { return s.eventsDurable.Load(), nil }

// convertEvents moves the rows of migration 0014's events table into blocks (runs
// of consecutive sequences, at most 1,000 events each, keeping every sequence and
// id) and drops the table, in one transaction: an upgrade keeps every event a
// webhook has not been sent yet.
func (s *Store) convertEvents(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: convert events: %w", err)
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	err = b.convertEvents(ctx)
	if err == nil {
		_, err = tx.ExecContext(ctx, `DROP TABLE events`)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		b.Rollback(ctx)
		return fmt.Errorf("sqlite: convert events: %w", err)
	}
	b.done()
	return nil
}

func (b *batchTx) convertEvents(ctx context.Context) error {
	rows, err := b.tx.QueryContext(ctx, `SELECT seq, id, type, account_id, parent_id, at, data FROM events ORDER BY seq`)
	if err != nil {
		return err
	}
	var run []ledger.Event
	var blocks []eventBlock
	flush := func() {
		if len(run) > 0 {
			blocks = append(blocks, encodeEventBlock(run))
			run = run[:0]
		}
	}
	for rows.Next() {
		var e ledger.Event
		var typ string
		var at int64
		if err := rows.Scan(&e.Seq, &e.ID, &typ, &e.AccountID, &e.ParentID, &at, &e.Data); err != nil {
			rows.Close()
			return err
		}
		e.Type, e.At = ledger.EventType(typ), fromMicros(at)
		if len(run) > 0 && (e.Seq != run[len(run)-1].Seq+1 || len(run) == 1000) {
			flush()
		}
		run = append(run, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	for _, bl := range blocks {
		if _, err := b.tx.ExecContext(ctx, `INSERT INTO event_blocks (first_seq, last_seq, at, data) VALUES (?, ?, ?, ?)`,
			bl.first, bl.last, bl.at, bl.data); err != nil {
			return err
		}
	}
	return nil
}

// encodeEventBlock encodes events of consecutive sequences (their Seq set).
func encodeEventBlock(evs []ledger.Event) eventBlock {
	bl := eventBlock{first: evs[0].Seq, last: evs[len(evs)-1].Seq}
	for i := range evs {
		bl.at = max(bl.at, micros(evs[i].At))
	}
	bl.data = codec.AppendEventHeader(nil)
	for i := range evs {
		e := &evs[i]
		bl.data = codec.AppendEvent(bl.data, e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), bl.at, e.Data, e.Entry)
	}
	return bl
}
