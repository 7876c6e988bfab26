package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"
)

// Group commit across batches, as on the embedded store.
//
// The engine's batches commit with synchronous_commit off: the commit returns once
// its WAL record is written, before PostgreSQL flushes the WAL to disk, so the
// engine's writer goes on with the next batch at once. The engine then calls Sync,
// which commits a transaction of its own with the server's synchronous_commit (on,
// or whatever the operator chose, synchronous standbys included): PostgreSQL
// flushes the WAL in order, so when that commit returns, every batch committed
// before Sync began is as durable as if each had waited for its own flush. Only then
// does the engine acknowledge them; one flush covers every batch of the interval.
//
// The change feed moves with it: the accounts a batch changed are announced in the
// Sync transaction, so other nodes hear of a batch once it is durable. They can
// still read its rows earlier (a batch of theirs that locks the same account sees
// them), which is safe: their own batch commits after it, so it cannot be durable,
// nor acknowledged, before it.

// announce queues accounts a committed batch changed for the next Sync's notification.
func (s *Store) announce(ids []string) {
	if len(ids) == 0 {
		return
	}
	s.notifyMu.Lock()
	s.notify = append(s.notify, ids...)
	s.notifyMu.Unlock()
}

// Sync makes every batch committed so far durable and announces their accounts.
// When it fails (the connection or the server went away) their fate is unknown:
// the engine answers them with 503, as for a commit that failed in flight, and the
// announcements wait for the next Sync (announcing a batch that was lost only makes
// the other nodes read rows that did not change).
func (s *Store) Sync() error {
	s.notifyMu.Lock()
	ids := s.notify
	s.notify = nil
	s.notifyMu.Unlock()
	if err := s.flush(ids); err != nil {
		s.announce(ids)
		return wrap("sync", err)
	}
	return nil
}

// flush commits a durable transaction that announces ids: every batch this
// node committed before it is then durable.
func (s *Store) flush(ids []string) error {
	q := &pgx.Batch{}
	// The statements run as one implicit transaction. Its commit waits for the WAL
	// flush only if it wrote WAL (a transaction id alone writes none): hence a row.
	q.Queue(`INSERT INTO sync_marks (node, syncs, at) VALUES ($1, 1, $2)
		ON CONFLICT (node) DO UPDATE SET syncs = sync_marks.syncs + 1, at = excluded.at`, s.node, micros(time.Now()))
	queueNotify(q, s.channel, dedupe(ids))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.pool.SendBatch(ctx, q).Close()
}

// announceUncertain announces the accounts of a batch whose commit is uncertain
// (batch.go, mayHaveCommitted) at once, as a Sync would, since the engine
// syncs only for batches it committed: tried five times over about three
// seconds (the connection that failed may have taken the server with it),
// then left to the next Sync. Not through the queue: a Sync of the queue that
// failed here would hold back the announcements of batches the engine's own
// Sync was about to acknowledge.
func (s *Store) announceUncertain(ids []string) {
	wait := 100 * time.Millisecond
	for range 5 {
		if s.flush(ids) == nil {
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
	s.announce(ids)
}

// newNode names this process's row in sync_marks.
func newNode() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// dedupe drops repeated ids (a hot account is changed by every batch), keeping order.
func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
