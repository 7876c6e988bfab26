package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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

// insertEvents writes the batch's events as one block. An entry.created refers to
// its entry, in the batch's entry blocks (whose first sequences are entriesLo to
// entriesHi), rather than holding its JSON.
func (b *batchTx) insertEvents(ctx context.Context, events []ledger.Event, entriesLo, entriesHi int64) error {
	if len(events) == 0 {
		return nil
	}
	first := b.s.eventsCommitted.Load() + 1
	last := first + int64(len(events)) - 1
	h := codec.EventHeader{Prefix: idPrefix(events[0].ID), EntriesLo: entriesLo, EntriesHi: entriesHi}
	var at int64
	size := 32
	for i := range events {
		e := &events[i]
		at = max(at, micros(e.At))
		if e.ID == "" {
			h.Prefix = "" // an empty id is written out, in a block without a prefix
		}
		size += len(e.Data) + 16
		if i == 0 || e.AccountID != events[i-1].AccountID {
			size += len(e.AccountID) + len(e.ParentID)
		}
	}
	w := codec.NewEventWriter(make([]byte, 0, size), h)
	for i := range events {
		e := &events[i]
		w.Add(e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), at, e.Data, entrySeq(e))
	}
	if _, err := b.exec(ctx, `INSERT INTO event_blocks (first_seq, last_seq, at, data) VALUES (?, ?, ?, ?)`, first, last, at, w.B); err != nil {
		return err
	}
	b.lastEvent = last
	return nil
}

// idPrefix is the batch id an engine's event id starts with (evt_...-n), "" for another.
func idPrefix(id string) string {
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return ""
}

// entrySeq is the sequence of the entry an event is made of, 0 for none.
func entrySeq(e *ledger.Event) int64 {
	if e.Entry != nil && e.Data == "" {
		return e.Entry.Seq
	}
	return 0
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

// storedEvent is an event as read from its block: an entry.created still without
// its data, only its entry's sequence (resolved by resolveEntries).
type storedEvent struct {
	ledger.Event
	entrySeq             int64
	entriesLo, entriesHi int64
}

func eventOf(seq int64, v *codec.EventView) storedEvent {
	h := v.Block
	return storedEvent{Event: ledger.Event{Seq: seq, ID: string(v.ID), Type: ledger.EventType(v.Type), AccountID: string(v.AccountID),
		ParentID: string(v.ParentID), At: fromMicros(v.At), Data: string(v.Data)}, entrySeq: v.EntrySeq, entriesLo: h.EntriesLo, entriesHi: h.EntriesHi}
}

// resolveEntries gives every entry.created its data, from its entry: the entry
// blocks of each range are read once.
func (s *Store) resolveEntries(ctx context.Context, evs []storedEvent) ([]ledger.Event, error) {
	out := make([]ledger.Event, len(evs))
	var entries map[int64]*ledger.Entry
	var loaded [2]int64 // the range entries holds
	for i := range evs {
		e := &evs[i]
		out[i] = e.Event
		if e.entrySeq == 0 {
			continue
		}
		if entries == nil || loaded != [2]int64{e.entriesLo, e.entriesHi} {
			var err error
			if entries, err = s.entriesIn(ctx, e.entriesLo, e.entriesHi); err != nil {
				return nil, err
			}
			loaded = [2]int64{e.entriesLo, e.entriesHi}
		}
		en, ok := entries[e.entrySeq]
		if !ok {
			return nil, fmt.Errorf("event %d: %w (entry %d not found)", e.Seq, codec.ErrBadEventBlock, e.entrySeq)
		}
		out[i].Data = string(ledger.AppendEntryEventData(nil, en))
	}
	return out, nil
}

// entriesIn reads the entry blocks whose first sequences are lo to hi, by sequence.
func (s *Store) entriesIn(ctx context.Context, lo, hi int64) (map[int64]*ledger.Entry, error) {
	st, err := s.stmt(ctx, `SELECT `+blockColumns+` FROM entry_blocks WHERE first_seq BETWEEN ? AND ?`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	out := map[int64]*ledger.Entry{}
	err = scanBlocks(rows, func(es []ledger.Entry) bool {
		for i := range es {
			out[es[i].Seq] = &es[i]
		}
		return true
	})
	return out, err
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
	// Prepared once: a deliverer reads a page this way hundreds of times a second.
	st, err := s.stmt(ctx, `SELECT first_seq, last_seq, at, data FROM event_blocks
		WHERE first_seq >= coalesce((SELECT max(first_seq) FROM event_blocks WHERE first_seq <= ?), 0) AND first_seq <= ?
		ORDER BY first_seq`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	rows, err := st.QueryContext(ctx, f.After+1, upTo)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	var out []storedEvent
	for len(out) < limit && rows.Next() {
		var first, last, at int64
		var data []byte
		if err := rows.Scan(&first, &last, &at, &data); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		_, err := codec.DecodeEvents(data, int(last-first+1), at, func(i int, v *codec.EventView) bool {
			seq := first + int64(i)
			if seq > upTo {
				return false
			}
			if seq > f.After && m.match(v) {
				out = append(out, eventOf(seq, v))
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: events %d-%d: %w", first, last, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	rows.Close() // before the entries are read: a connection back in the pool
	evs, err := s.resolveEntries(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return evs, nil
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
	// Without their data: only a block that is cut is read whole (cutBlock).
	rows, err := b.tx.QueryContext(ctx, `SELECT first_seq, last_seq, at FROM event_blocks ORDER BY first_seq LIMIT ?`, limit)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var bl eventBlock
		if err := rows.Scan(&bl.first, &bl.last, &bl.at); err != nil {
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
	if err := b.tx.QueryRowContext(ctx, `SELECT data FROM event_blocks WHERE first_seq = ?`, bl.first).Scan(&bl.data); err != nil {
		return 0, err
	}
	var evs []storedEvent
	h, err := codec.DecodeEvents(bl.data, n, bl.at, func(i int, v *codec.EventView) bool {
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
	rest := encodeEventBlock(h, evs[cut:])
	if _, err := b.tx.ExecContext(ctx, `DELETE FROM event_blocks WHERE first_seq = ?`, bl.first); err != nil {
		return 0, err
	}
	if _, err := b.tx.ExecContext(ctx, `INSERT INTO event_blocks (first_seq, last_seq, at, data) VALUES (?, ?, ?, ?)`,
		rest.first, rest.last, rest.at, rest.data); err != nil {
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
	var run []storedEvent
	var blocks []eventBlock
	flush := func() {
		if len(run) > 0 {
			blocks = append(blocks, encodeEventBlock(codec.EventHeader{}, run))
			run = run[:0]
		}
	}
	for rows.Next() {
		var e storedEvent
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
func encodeEventBlock(h codec.EventHeader, evs []storedEvent) eventBlock {
	bl := eventBlock{first: evs[0].Seq, last: evs[len(evs)-1].Seq}
	for i := range evs {
		bl.at = max(bl.at, micros(evs[i].At))
	}
	w := codec.NewEventWriter(nil, h)
	for i := range evs {
		e := &evs[i]
		w.Add(e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), bl.at, e.Data, e.entrySeq)
	}
	bl.data = w.B
	return bl
}
