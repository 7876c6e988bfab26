package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

const subscriptionColumns = `id, url, types, account_id, with_children, secret, enabled, disabled_reason, created_at, updated_at,
	after_seq, attempts, failing_since, lease_owner, lease_until, previous_secret, previous_until`

func scanSubscription(r scanner) (ledger.Subscription, error) {
	var s ledger.Subscription
	var types string
	var created, updated, failing, lease, previousUntil int64
	err := r.Scan(&s.ID, &s.URL, &types, &s.AccountID, &s.WithChildren, &s.Secret, &s.Enabled, &s.DisabledReason, &created, &updated,
		&s.Cursor, &s.Attempts, &failing, &s.LeaseOwner, &lease, &s.PreviousSecret, &previousUntil)
	s.Types, s.CreatedAt, s.UpdatedAt, s.LeaseUntil = ledger.SplitEventTypes(types), fromMicros(created), fromMicros(updated), fromMicros(lease)
	if failing != 0 {
		s.FailingSince = fromMicros(failing)
	}
	if previousUntil != 0 {
		s.PreviousUntil = fromMicros(previousUntil)
	}
	return s, err
}

func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// write runs fn in a short transaction on the writer connection (SQLite has one
// writer; the engine's batches share it).
func (s *Store) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	b := &batchTx{s: s, tx: tx, unlock: unlock}
	if err := fn(tx); err != nil {
		b.Rollback(ctx)
		if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	err = tx.Commit()
	b.done()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// CreateSubscription stores a new subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub ledger.Subscription) error {
	return s.write(ctx, "create subscription", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			sub.ID, sub.URL, ledger.JoinEventTypes(sub.Types), sub.AccountID, sub.WithChildren, sub.Secret, sub.Enabled, sub.DisabledReason,
			micros(sub.CreatedAt), micros(sub.UpdatedAt), sub.Cursor, sub.Attempts, microsOrZero(sub.FailingSince), "", 0,
			sub.PreviousSecret, microsOrZero(sub.PreviousUntil))
		return err
	})
}

// UpdateSubscription writes a subscription's settings, and with resetCursor its
// delivery state.
func (s *Store) UpdateSubscription(ctx context.Context, sub ledger.Subscription, resetCursor bool) error {
	return s.write(ctx, "update subscription", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET url = ?, types = ?, account_id = ?, with_children = ?, enabled = ?,
			disabled_reason = ?, updated_at = ?,
			after_seq = CASE WHEN ? THEN ? ELSE after_seq END, attempts = CASE WHEN ? THEN ? ELSE attempts END,
			failing_since = CASE WHEN ? THEN ? ELSE failing_since END,
			lease_owner = CASE WHEN ? THEN '' ELSE lease_owner END, lease_until = CASE WHEN ? THEN 0 ELSE lease_until END WHERE id = ?`,
			sub.URL, ledger.JoinEventTypes(sub.Types), sub.AccountID, sub.WithChildren, sub.Enabled, sub.DisabledReason, micros(sub.UpdatedAt),
			resetCursor, sub.Cursor, resetCursor, sub.Attempts, resetCursor, microsOrZero(sub.FailingSince), resetCursor, resetCursor, sub.ID)
		return notFoundIfNone(res, err, sub.ID)
	})
}

func notFoundIfNone(res sql.Result, err error, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &ledger.NotFoundError{What: "subscription", ID: id}
	}
	return nil
}

// Subscription reads one subscription.
func (s *Store) Subscription(ctx context.Context, id string) (ledger.Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, &ledger.NotFoundError{What: "subscription", ID: id}
	}
	if err != nil {
		return sub, fmt.Errorf("sqlite: subscription: %w", err)
	}
	return sub, nil
}

// ListSubscriptions reads every subscription, in id order.
func (s *Store) ListSubscriptions(ctx context.Context) ([]ledger.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscriptions: %w", err)
	}
	return scanAll(rows, "subscriptions", scanSubscription)
}

// DeleteSubscription removes a subscription and its delivery log.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.write(ctx, "delete subscription", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = ?`, id)
		if err := notFoundIfNone(res, err, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM delivery_blocks WHERE subscription_id = ?`, id)
		return err
	})
}

// RotateSecret makes secret the signing secret, keeping the one it replaces
// until previousUntil, if ifSecret is "" or still the secret.
func (s *Store) RotateSecret(ctx context.Context, id, ifSecret, secret string, previousUntil, now time.Time) (ledger.Subscription, error) {
	var sub ledger.Subscription
	err := s.write(ctx, "rotate secret", func(tx *sql.Tx) error {
		var err error
		sub, err = scanSubscription(tx.QueryRowContext(ctx, `UPDATE subscriptions SET
			previous_secret = CASE WHEN ? > ? THEN secret ELSE '' END, previous_until = ?, secret = ?, updated_at = ?
			WHERE id = ? AND (? = '' OR secret = ?) RETURNING `+subscriptionColumns,
			micros(previousUntil), micros(now), micros(previousUntil), secret, micros(now), id, ifSecret, ifSecret))
		if errors.Is(err, sql.ErrNoRows) {
			return rotateMissed(ctx, tx.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE id = ?`, id), id)
		}
		return err
	})
	return sub, err
}

// ForgetEndedSecrets blanks the previous secrets whose overlap ended by now.
func (s *Store) ForgetEndedSecrets(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "forget ended secrets", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET previous_secret = '' WHERE previous_secret <> '' AND previous_until <= ?`, micros(now))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// rotateMissed says why a rotation changed no row: the subscription is gone, or
// its secret is no longer the one the rotation was made against.
func rotateMissed(ctx context.Context, count scanner, id string) error {
	var n int
	if err := count.Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return &ledger.NotFoundError{What: "subscription", ID: id}
	}
	return &ledger.ConflictError{Reason: "its signing secret was rotated since it was read; read it again"}
}

// LeaseSubscription takes or renews the subscription's lease for owner.
func (s *Store) LeaseSubscription(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	var held bool
	err := s.write(ctx, "lease subscription", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET lease_owner = ?, lease_until = ?
			WHERE id = ? AND enabled AND (lease_owner = ? OR lease_until < ?)`, owner, micros(until), id, owner, micros(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		held = n == 1
		return nil
	})
	return held, err
}

// SaveDelivery writes a deliverer's progress and log while it holds the lease.
func (s *Store) SaveDelivery(ctx context.Context, owner string, sub ledger.Subscription, log []ledger.Delivery) error {
	return s.write(ctx, "save delivery", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET after_seq = ?, attempts = ?, failing_since = ?, enabled = enabled AND ?,
			disabled_reason = CASE WHEN ? THEN disabled_reason ELSE ? END, updated_at = ? WHERE id = ? AND lease_owner = ?`,
			sub.Cursor, sub.Attempts, microsOrZero(sub.FailingSince), sub.Enabled, sub.Enabled, sub.DisabledReason, micros(sub.UpdatedAt), sub.ID, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ledger.ErrLeaseLost
		}
		return appendDeliveries(ctx, tx, sub.ID, log)
	})
}

// appendDeliveries appends log as one block, numbered on from the newest.
func appendDeliveries(ctx context.Context, tx *sql.Tx, subscriptionID string, log []ledger.Delivery) error {
	if len(log) == 0 {
		return nil
	}
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT last_seq FROM delivery_blocks ORDER BY first_seq DESC LIMIT 1`).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return insertDeliveryBlock(ctx, tx, last+1, subscriptionID, log)
}

// insertDeliveryBlock stores log's lines as the block first..first+len(log)-1.
func insertDeliveryBlock(ctx context.Context, tx *sql.Tx, first int64, subscriptionID string, log []ledger.Delivery) error {
	var at int64
	for i := range log {
		at = max(at, micros(log[i].At))
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_blocks (first_seq, last_seq, subscription_id, at, data) VALUES (?, ?, ?, ?, ?)`,
		first, first+int64(len(log))-1, subscriptionID, at, codec.AppendDeliveries(nil, log))
	return err
}

// ListDeliveries pages a subscription's log, newest first: the lines before
// beforeSeq (0: from the newest), from the blocks that hold them.
func (s *Store) ListDeliveries(ctx context.Context, id string, beforeSeq int64, limit int) ([]ledger.Delivery, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, `SELECT first_seq, last_seq, data FROM delivery_blocks
		WHERE subscription_id = ? AND first_seq < ? ORDER BY first_seq DESC`, id, beforeSeq)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	defer rows.Close()
	var out []ledger.Delivery
	for len(out) < limit && rows.Next() {
		var first, last int64
		var data []byte
		if err := rows.Scan(&first, &last, &data); err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		block, err := codec.DecodeDeliveries(data, id, first, int(last-first+1))
		if err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		for i := len(block) - 1; i >= 0 && len(out) < limit; i-- {
			if block[i].Seq < beforeSeq {
				out = append(out, block[i])
			}
		}
	}
	return out, rows.Err()
}

// PruneDeliveries deletes, among the oldest blocks of log lines that hold about
// limit lines (one at least), those all older than before; it counts the lines.
// Bounded by lines, not blocks: a block holds a save's lines, up to thousands,
// and the writer the charges wait for is held while it runs.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.write(ctx, "prune deliveries", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT first_seq, last_seq, at FROM delivery_blocks ORDER BY first_seq LIMIT ?`, max(limit, 1))
		if err != nil {
			return err
		}
		var old []any
		seen := 0
		for seen < max(limit, 1) && rows.Next() {
			var first, last, at int64
			if err := rows.Scan(&first, &last, &at); err != nil {
				rows.Close()
				return err
			}
			seen += int(last - first + 1)
			if at < micros(before) {
				old, n = append(old, first), n+int(last-first+1)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for len(old) > 0 {
			k := min(len(old), 500)
			if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_blocks WHERE first_seq IN (`+placeholders(k)+`)`, old[:k]...); err != nil {
				return err
			}
			old = old[k:]
		}
		return nil
	})
	if err != nil {
		n = 0
	}
	return n, err
}

// convertDeliveries moves the rows of migration 0018's deliveries table into
// blocks (runs of one subscription's consecutive sequences, at most 1,000 lines
// and convertSpan each, keeping every sequence) and drops the table, in one
// transaction.
func (s *Store) convertDeliveries(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	return s.write(ctx, "convert deliveries", func(tx *sql.Tx) error {
		if err := convertDeliveryRows(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DROP TABLE deliveries`)
		return err
	})
}

func convertDeliveryRows(ctx context.Context, tx *sql.Tx) error {
	var run []ledger.Delivery // the run being gathered, carried from one read to the next
	after := int64(-1 << 62)
	for { // a read at a time: the log of a busy week does not fit in memory whole
		page, err := oldDeliveries(ctx, tx, after)
		if err != nil {
			return err
		}
		for _, d := range page {
			if k := len(run); k > 0 && (d.Seq != run[k-1].Seq+1 || d.SubscriptionID != run[k-1].SubscriptionID || k == 1000 ||
				d.At.Sub(run[0].At).Abs() > convertSpan) {
				if err := insertDeliveryBlock(ctx, tx, run[0].Seq, run[0].SubscriptionID, run); err != nil {
					return err
				}
				run = run[:0]
			}
			run = append(run, d)
			after = d.Seq
		}
		if len(page) < oldDeliveriesPage {
			break
		}
	}
	if len(run) == 0 {
		return nil
	}
	return insertDeliveryBlock(ctx, tx, run[0].Seq, run[0].SubscriptionID, run)
}

// convertSpan is the most time a converted block covers: a block is pruned when
// its newest line is, so a quiet subscription's week of lines in one block would
// outlive the retention by most of that week (a deliverer's own blocks cover
// one save, about 100 ms).
const convertSpan = time.Hour

// oldDeliveriesPage is how many rows of the 0018 table a conversion reads at
// once (a variable for the tests).
var oldDeliveriesPage = 10_000

// oldDeliveries reads the 0018 table's rows after seq after, in seq order.
func oldDeliveries(ctx context.Context, tx *sql.Tx, after int64) ([]ledger.Delivery, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, subscription_id, event_id, event_seq, attempt, at, status, latency_us, ok, snippet
		FROM deliveries WHERE seq > ? ORDER BY seq LIMIT ?`, after, oldDeliveriesPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Delivery
	for rows.Next() {
		var d ledger.Delivery
		var at, lat int64
		if err := rows.Scan(&d.Seq, &d.SubscriptionID, &d.EventID, &d.EventSeq, &d.Attempt, &at, &d.Status, &lat, &d.OK, &d.Snippet); err != nil {
			return nil, err
		}
		d.At, d.Latency = fromMicros(at), time.Duration(lat)*time.Microsecond
		out = append(out, d)
	}
	return out, rows.Err()
}

// EachDelivery calls fn with every delivery log line, in sequence order (purse
// migrate writes them as PostgreSQL's rows, a row a line).
func (s *Store) EachDelivery(ctx context.Context, fn func(ledger.Delivery) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT first_seq, last_seq, subscription_id, data FROM delivery_blocks ORDER BY first_seq`)
	if err != nil {
		return fmt.Errorf("sqlite: export deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var first, last int64
		var sub string
		var data []byte
		if err := rows.Scan(&first, &last, &sub, &data); err != nil {
			return fmt.Errorf("sqlite: export deliveries: %w", err)
		}
		block, err := codec.DecodeDeliveries(data, sub, first, int(last-first+1))
		if err != nil {
			return fmt.Errorf("sqlite: export deliveries: %w", err)
		}
		for _, d := range block {
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}
