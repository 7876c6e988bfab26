package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// DefaultIdempotencyWindow is how long the embedded store remembers an idempotency
// key: a request retried within it is answered from its record; after it, the key
// is forgotten and the record deleted.
const DefaultIdempotencyWindow = 24 * time.Hour

// keyIndex finds idempotency records by key. The records are an append-only table
// whose rowid is commit order; the index from key to rowid lives here, in memory,
// as a 64-bit hash of the key (the record's own key is compared on every lookup, so
// a collision costs a read, never a wrong answer).
//
// Why not a SQLite index: keys are clients' random strings, and a b-tree over them
// dirties a page per request in every commit, then again in every checkpoint;
// on the hot charge path that was half of the writer's time. An append touches one
// page per commit. The price is memory (about 40 bytes per remembered key) and a
// read of the keys of the window at start-up.
//
// Every writer of records holds SQLite's write lock (BEGIN IMMEDIATE) and adds the
// keys here before it commits, so a transaction that starts after the commit always
// finds them; a key added for a commit that then failed points at a row that does
// not exist, which a lookup treats as absent, and is removed right after.
type keyIndex struct {
	mu     sync.Mutex
	seed   maphash.Seed
	ids    map[uint64]int64   // hash of key -> rowid of its record
	extra  map[uint64][]int64 // more rowids whose different keys share that hash
	next   int64              // the rowid the next record gets
	window time.Duration
	oldest time.Time // created_at of the oldest record kept (zero: none)

	collide bool // tests: hash every key alike, to exercise the collision path
}

func (k *keyIndex) hash(key string) uint64 {
	if k.collide {
		return 1
	}
	return maphash.String(k.seed, key)
}

// add indexes a record; callers hold k.mu.
func (k *keyIndex) add(key string, id int64, created time.Time) {
	h := k.hash(key)
	if _, taken := k.ids[h]; taken {
		k.extra[h] = append(k.extra[h], id)
	} else {
		k.ids[h] = id
	}
	if k.oldest.IsZero() || created.Before(k.oldest) {
		k.oldest = created
	}
}

// remove drops a record from the index; callers hold k.mu.
func (k *keyIndex) remove(key string, id int64) {
	h := k.hash(key)
	if more := k.extra[h]; len(more) > 0 {
		if k.ids[h] == id {
			k.ids[h], more = more[0], more[1:]
		} else {
			for i, x := range more {
				if x == id {
					more = append(more[:i:i], more[i+1:]...)
					break
				}
			}
		}
		if len(more) == 0 {
			delete(k.extra, h)
		} else {
			k.extra[h] = more
		}
		return
	}
	if k.ids[h] == id {
		delete(k.ids, h)
	}
}

// candidates returns the rowids whose keys may equal one of keys.
func (k *keyIndex) candidates(keys []string) []int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []int64
	for _, key := range keys {
		h := k.hash(key)
		if id, ok := k.ids[h]; ok {
			out = append(out, id)
			out = append(out, k.extra[h]...)
		}
	}
	return out
}

// loadKeys indexes the records of the window, counted back from the newest record
// (so a server that was stopped for a while, or a test clock, forgets nothing
// early). Older records are left for later commits to delete (prune): a process
// that opens the file for something else, purse check say, deletes nothing.
func (s *Store) loadKeys(ctx context.Context) error {
	k := &s.keys
	k.seed = maphash.MakeSeed()
	k.ids, k.extra = map[uint64]int64{}, map[uint64][]int64{}
	if k.window <= 0 {
		k.window = DefaultIdempotencyWindow
	}
	k.next = 1
	var first, last, oldest, newest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(id), max(id), min(created_at), max(created_at) FROM idempotency`).
		Scan(&first, &last, &oldest, &newest); err != nil {
		return fmt.Errorf("sqlite: idempotency keys: %w", err)
	}
	if !last.Valid {
		return nil
	}
	k.next = last.Int64 + 1
	k.oldest = fromMicros(oldest.Int64)
	// Records are in commit order, so the old ones are a prefix of the table.
	var from sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(id) FROM idempotency WHERE created_at >= ?`,
		newest.Int64-k.window.Microseconds()).Scan(&from); err != nil {
		return fmt.Errorf("sqlite: idempotency keys: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, key FROM idempotency WHERE id >= ? ORDER BY id`, from.Int64)
	if err != nil {
		return fmt.Errorf("sqlite: idempotency keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("sqlite: idempotency keys: %w", err)
		}
		k.add(key, id, k.oldest)
	}
	return rows.Err()
}

// Option configures Open.
type Option func(*Store)

// WithIdempotencyWindow sets how long keys are remembered (at least a minute;
// default DefaultIdempotencyWindow). Records older than that are not indexed at
// start-up and are deleted inside later commits.
func WithIdempotencyWindow(d time.Duration) Option {
	return func(s *Store) { s.keys.window = max(d, time.Minute) }
}

// querier is what lookups read through: the database, or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// lookupKeys returns the stored records of those keys that have one.
func (s *Store) lookupKeys(ctx context.Context, q querier, keys []string) ([]ledger.IdempotencyRecord, error) {
	ids := s.keys.candidates(keys)
	if len(ids) == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(keys))
	for _, key := range keys {
		want[key] = true
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT key, request_hash, status, body, created_at FROM idempotency WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: idempotency: %w", err)
	}
	defer rows.Close()
	var out []ledger.IdempotencyRecord
	for rows.Next() {
		var rec ledger.IdempotencyRecord
		var created int64
		if err := rows.Scan(&rec.Key, &rec.RequestHash, &rec.Status, &rec.Body, &created); err != nil {
			return nil, fmt.Errorf("sqlite: idempotency: %w", err)
		}
		if want[rec.Key] {
			rec.CreatedAt = fromMicros(created)
			out = append(out, rec)
		}
	}
	return out, rows.Err()
}

// Idempotency returns the stored record for key, or nil when there is none.
func (s *Store) Idempotency(ctx context.Context, key string) (*ledger.IdempotencyRecord, error) {
	recs, err := s.lookupKeys(ctx, s.db, []string{key})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return &recs[0], nil
}

// pendingKeys are the records one write transaction adds: indexed before it
// commits, taken out again if it does not.
type pendingKeys struct {
	s    *Store
	keys []string
	ids  []int64
}

// appendKeys gives recs their rowids, indexes them, and, when the window has moved
// on, deletes the oldest records (up to a few thousand per commit), all in tx.
// The caller holds SQLite's write lock (tx began IMMEDIATE) and calls done with the
// outcome of its commit.
func (s *Store) appendKeys(ctx context.Context, tx *sql.Tx, recs []ledger.IdempotencyRecord) (*pendingKeys, error) {
	k := &s.keys
	p := &pendingKeys{s: s}
	if len(recs) == 0 {
		return p, nil
	}
	if err := s.prune(ctx, tx, recs[len(recs)-1].CreatedAt); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range recs {
		id := k.next
		k.next++
		k.add(r.Key, id, r.CreatedAt)
		p.keys, p.ids = append(p.keys, r.Key), append(p.ids, id)
	}
	return p, nil
}

// done takes the keys out of the index again when their commit failed.
func (p *pendingKeys) done(err error) {
	if err == nil || len(p.ids) == 0 {
		return
	}
	k := &p.s.keys
	k.mu.Lock()
	for i, id := range p.ids {
		k.remove(p.keys[i], id)
	}
	k.mu.Unlock()
}

// pruneBatch is the most old records one commit deletes.
const pruneBatch = 4096

// prune deletes records older than the window before now, oldest first, and drops
// them from the index. It is cheap when nothing is due: one comparison.
func (s *Store) prune(ctx context.Context, tx *sql.Tx, now time.Time) error {
	k := &s.keys
	k.mu.Lock()
	cutoff := now.Add(-k.window)
	due := !k.oldest.IsZero() && k.oldest.Before(cutoff)
	k.mu.Unlock()
	if !due {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, key, created_at FROM idempotency ORDER BY id LIMIT ?`, pruneBatch)
	if err != nil {
		return fmt.Errorf("sqlite: prune idempotency: %w", err)
	}
	type old struct {
		id  int64
		key string
	}
	var gone []old
	next := time.Time{} // created_at of the oldest record that stays
	for rows.Next() {
		var o old
		var created int64
		if err := rows.Scan(&o.id, &o.key, &created); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: prune idempotency: %w", err)
		}
		if t := fromMicros(created); !t.Before(cutoff) {
			next = t
			break
		}
		gone = append(gone, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: prune idempotency: %w", err)
	}
	if len(gone) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency WHERE id <= ?`, gone[len(gone)-1].id); err != nil {
			return fmt.Errorf("sqlite: prune idempotency: %w", err)
		}
	}
	// The index forgets them now: should the commit fail, the rows stay on disk
	// unindexed, and they were out of the window anyway.
	k.mu.Lock()
	for _, o := range gone {
		k.remove(o.key, o.id)
	}
	if len(gone) < pruneBatch || !next.IsZero() {
		k.oldest = next // zero when the table is now empty
	}
	k.mu.Unlock()
	return nil
}

// keyIn reports whether key has a committed record; the caller holds the write
// lock, so nobody can add one before it commits.
func (s *Store) keyIn(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	recs, err := s.lookupKeys(ctx, tx, []string{key})
	return len(recs) > 0, err
}
