package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

// eventLock is the transaction-level advisory lock under which a batch numbers its
// events. Nodes commit concurrently, and a sequence value taken early could commit
// after a larger one: a consumer that had read the larger and moved its cursor
// past it would never see the smaller. So the batch takes this lock as its last
// statement before COMMIT (after every row lock and unique insert, so it waits
// for nothing while holding it and cannot deadlock), numbers its events, and
// commits; PostgreSQL makes a commit visible before it releases the transaction's
// locks, so the next batch's numbers are taken only once this batch's are visible.
// Sequence order is then commit order, and what a reader sees above its cursor is
// a prefix of what will ever be committed there. The price is that batches with
// events commit one after another across nodes (the COMMIT round trip, without a
// flush: synchronous_commit is off); batches of one currency already did, on the
// platform accounts' rows.
const eventLock = 0x70757273_65657674 // "purseevt"

// queueEvents queues the batch's events, under eventLock.
func queueEvents(q *pgx.Batch, events []ledger.Event) {
	n := len(events)
	if n == 0 {
		return
	}
	ids, types, accs, parents, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at := make([]int64, n)
	// An entry.created's data is built from its entry here, every one into one
	// buffer that becomes one string (as the engine built them before): no
	// allocation per event.
	var buf []byte
	ends := make([]int, n)
	for i := range events {
		e := &events[i]
		ids[i], types[i], accs[i], parents[i], at[i], data[i] = e.ID, string(e.Type), e.AccountID, e.ParentID, micros(e.At), e.Data
		if e.Data == "" && e.Entry != nil {
			if buf == nil {
				buf = make([]byte, 0, n*400)
			}
			buf = ledger.AppendEntryEventData(buf, e.Entry)
		}
		ends[i] = len(buf)
	}
	all, start := string(buf), 0
	for i := range events {
		if ends[i] > start {
			data[i] = all[start:ends[i]]
		}
		start = ends[i]
	}
	q.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(eventLock))
	q.Queue(`INSERT INTO events (id, type, account_id, parent_id, at, data)
		SELECT id, type, account_id, parent_id, at, data
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
			AS e(id, type, account_id, parent_id, at, data, n)
		ORDER BY n`, ids, types, accs, parents, at, data)
}

// ListEvents returns committed events after f.After, oldest first. eventLock makes
// sequence order commit order, so no later commit can precede what this returns.
//
// Batches commit without waiting for the WAL flush (Sync makes them durable), so
// a reader could see a batch that a crash of the server then loses. Before it
// returns any event, ListEvents therefore commits a write of its own with the
// server's synchronous_commit: the WAL is flushed in order, so every commit it
// saw is durable when that returns. No consumer ever hears of a movement that
// was not kept.
func (s *Store) ListEvents(ctx context.Context, f ledger.EventFilter) ([]ledger.Event, error) {
	q := `SELECT seq, id, type, account_id, parent_id, at, data FROM events WHERE seq > $1`
	args := []any{f.After}
	switch {
	case f.AccountID != "" && f.WithChildren:
		args = append(args, f.AccountID)
		q += ` AND (account_id = $2 OR parent_id = $2)`
	case f.AccountID != "":
		args = append(args, f.AccountID)
		q += ` AND account_id = $2`
	}
	if f.UpTo > 0 {
		args = append(args, f.UpTo)
		q += ` AND seq <= $` + strconv.Itoa(len(args))
	}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		args = append(args, types)
		q += ` AND type = ANY($` + strconv.Itoa(len(args)) + `)`
	}
	args = append(args, max(f.Limit, 1))
	q += ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("events", err)
	}
	var out []ledger.Event
	for rows.Next() {
		var e ledger.Event
		var typ string
		var at int64
		if err := rows.Scan(&e.Seq, &e.ID, &typ, &e.AccountID, &e.ParentID, &at, &e.Data); err != nil {
			rows.Close()
			return nil, wrap("events", err)
		}
		e.Type, e.At = ledger.EventType(typ), fromMicros(at)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("events", err)
	}
	if len(out) > 0 && (f.UpTo == 0 || f.UpTo > s.flushedHead.Load()) { // EventHead flushed up to UpTo already
		if err := s.flushMark(ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// flushMark commits a one-row write with the server's synchronous_commit, which
// returns once the WAL up to it, and so every commit before it, is on disk.
func (s *Store) flushMark(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sync_marks (node, syncs, at) VALUES ($1, 1, $2)
		ON CONFLICT (node) DO UPDATE SET syncs = sync_marks.syncs + 1, at = excluded.at`, s.node+"-events", micros(time.Now()))
	return wrap("events flush", err)
}

// PruneEvents deletes, among the oldest limit events, those older than before.
//
// The newest event always stays, as on SQLite: the head (EventHead) never goes
// back, so a consumer's cursor is never past it on a store it came from.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT $1) AND at < $2
		AND seq < (SELECT max(seq) FROM events)`, limit, micros(before))
	if err != nil {
		return 0, wrap("prune events", err)
	}
	return int(tag.RowsAffected()), nil
}

// LastEventSeq is the newest event's sequence, 0 with none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq)
	return seq, wrap("last event", err)
}

// EventHead is the newest event, made durable first: eventLock makes every
// smaller sequence visible with it, and flushMark's synchronous commit flushes the
// WAL past all of them.
// An idle reader's head does not move: it flushes only past the last head flushed.
func (s *Store) EventHead(ctx context.Context) (int64, error) {
	head, err := s.LastEventSeq(ctx)
	if err != nil || head <= s.flushedHead.Load() {
		return head, err
	}
	if err := s.flushMark(ctx); err != nil {
		return 0, err
	}
	if head > s.flushedHead.Load() {
		s.flushedHead.Store(head) // a race only flushes once more
	}
	return head, nil
}
