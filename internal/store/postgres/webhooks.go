package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

const subscriptionColumns = `id, url, types, account_id, with_children, secret, enabled, disabled_reason, created_at, updated_at,
	after_seq, attempts, failing_since, lease_owner, lease_until, previous_secret, previous_until`

func scanSubscription(r pgx.Row) (ledger.Subscription, error) {
	var s ledger.Subscription
	var types string
	var created, updated, failing, lease, previousUntil, attempts int64
	err := r.Scan(&s.ID, &s.URL, &types, &s.AccountID, &s.WithChildren, &s.Secret, &s.Enabled, &s.DisabledReason, &created, &updated,
		&s.Cursor, &attempts, &failing, &s.LeaseOwner, &lease, &s.PreviousSecret, &previousUntil)
	s.Types, s.CreatedAt, s.UpdatedAt, s.LeaseUntil = ledger.SplitEventTypes(types), fromMicros(created), fromMicros(updated), fromMicros(lease)
	s.Attempts = int(attempts)
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

// CreateSubscription stores a new subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub ledger.Subscription) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,'',0,$14,$15)`,
		sub.ID, sub.URL, ledger.JoinEventTypes(sub.Types), sub.AccountID, sub.WithChildren, sub.Secret, sub.Enabled, sub.DisabledReason,
		micros(sub.CreatedAt), micros(sub.UpdatedAt), sub.Cursor, sub.Attempts, microsOrZero(sub.FailingSince),
		sub.PreviousSecret, microsOrZero(sub.PreviousUntil))
	return wrap("create subscription", err)
}

// UpdateSubscription writes a subscription's settings, and with resetCursor its
// delivery state.
func (s *Store) UpdateSubscription(ctx context.Context, sub ledger.Subscription, resetCursor bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE subscriptions SET url = $1, types = $2, account_id = $3, with_children = $4, enabled = $5,
		disabled_reason = $6, updated_at = $7,
		after_seq = CASE WHEN $8 THEN $9 ELSE after_seq END, attempts = CASE WHEN $8 THEN $10 ELSE attempts END,
		failing_since = CASE WHEN $8 THEN $11 ELSE failing_since END,
		lease_owner = CASE WHEN $8 THEN '' ELSE lease_owner END, lease_until = CASE WHEN $8 THEN 0 ELSE lease_until END WHERE id = $12`,
		sub.URL, ledger.JoinEventTypes(sub.Types), sub.AccountID, sub.WithChildren, sub.Enabled, sub.DisabledReason, micros(sub.UpdatedAt),
		resetCursor, sub.Cursor, int64(sub.Attempts), microsOrZero(sub.FailingSince), sub.ID)
	if err != nil {
		return wrap("update subscription", err)
	}
	if tag.RowsAffected() == 0 {
		return &ledger.NotFoundError{What: "subscription", ID: sub.ID}
	}
	return nil
}

// Subscription reads one subscription.
func (s *Store) Subscription(ctx context.Context, id string) (ledger.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, &ledger.NotFoundError{What: "subscription", ID: id}
	}
	return sub, wrap("subscription", err)
}

// ListSubscriptions reads every subscription, in id order.
func (s *Store) ListSubscriptions(ctx context.Context) ([]ledger.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, wrap("subscriptions", err)
	}
	defer rows.Close()
	var out []ledger.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, wrap("subscriptions", err)
		}
		out = append(out, sub)
	}
	return out, wrap("subscriptions", rows.Err())
}

// DeleteSubscription removes a subscription and its delivery log.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1`, id)
		if err != nil {
			return wrap("delete subscription", err)
		}
		if tag.RowsAffected() == 0 {
			return &ledger.NotFoundError{What: "subscription", ID: id}
		}
		_, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE subscription_id = $1`, id)
		return wrap("delete subscription", err)
	})
}

// RotateSecret makes secret the signing secret, keeping the one it replaces
// until previousUntil, if ifSecret is "" or still the secret.
func (s *Store) RotateSecret(ctx context.Context, id, ifSecret, secret string, previousUntil, now time.Time) (ledger.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `UPDATE subscriptions SET
		previous_secret = CASE WHEN $1::bigint > $2::bigint THEN secret ELSE '' END, previous_until = $1, secret = $3, updated_at = $2
		WHERE id = $4 AND ($5 = '' OR secret = $5) RETURNING `+subscriptionColumns,
		micros(previousUntil), micros(now), secret, id, ifSecret))
	if !errors.Is(err, pgx.ErrNoRows) {
		return sub, wrap("rotate secret", err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM subscriptions WHERE id = $1`, id).Scan(&n); err != nil {
		return sub, wrap("rotate secret", err)
	}
	if n == 0 {
		return sub, &ledger.NotFoundError{What: "subscription", ID: id}
	}
	return sub, &ledger.ConflictError{Reason: "its signing secret was rotated since it was read; read it again"}
}

// ForgetEndedSecrets blanks the previous secrets whose overlap ended by now.
func (s *Store) ForgetEndedSecrets(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE subscriptions SET previous_secret = '' WHERE previous_secret <> '' AND previous_until <= $1`, micros(now))
	if err != nil {
		return 0, wrap("forget ended secrets", err)
	}
	return int(tag.RowsAffected()), nil
}

// LeaseSubscription takes or renews the subscription's lease for owner: the
// UPDATE's row lock serialises two nodes asking at once, and the loser matches
// no row. Each event is thus delivered by one node, unless the lease holder dies
// mid-delivery (its lease then runs out and another node resumes at the cursor).
func (s *Store) LeaseSubscription(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE subscriptions SET lease_owner = $1, lease_until = $2
		WHERE id = $3 AND enabled AND (lease_owner = $1 OR lease_until < $4)`, owner, micros(until), id, micros(now))
	if err != nil {
		return false, wrap("lease subscription", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SaveDelivery writes a deliverer's progress and log while it holds the lease.
func (s *Store) SaveDelivery(ctx context.Context, owner string, sub ledger.Subscription, log []ledger.Delivery) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET after_seq = $1, attempts = $2, failing_since = $3, enabled = enabled AND $4,
			disabled_reason = CASE WHEN $4 THEN disabled_reason ELSE $5 END, updated_at = $6 WHERE id = $7 AND lease_owner = $8`,
			sub.Cursor, int64(sub.Attempts), microsOrZero(sub.FailingSince), sub.Enabled, sub.DisabledReason, micros(sub.UpdatedAt), sub.ID, owner)
		if err != nil {
			return wrap("save delivery", err)
		}
		if tag.RowsAffected() == 0 {
			return ledger.ErrLeaseLost
		}
		if len(log) == 0 {
			return nil
		}
		n := len(log)
		subs, evIDs, snippets := make([]string, n), make([]string, n), make([]string, n)
		seqs, attempts, at, status, lat := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		ok := make([]bool, n)
		for i, d := range log {
			subs[i], evIDs[i], snippets[i], seqs[i], attempts[i] = d.SubscriptionID, d.EventID, d.Snippet, d.EventSeq, int64(d.Attempt)
			at[i], status[i], lat[i], ok[i] = micros(d.At), int64(d.Status), d.Latency.Microseconds(), d.OK
		}
		_, err = tx.Exec(ctx, `INSERT INTO deliveries (subscription_id, event_id, event_seq, attempt, at, status, latency_us, ok, snippet)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bool[], $9::text[])`,
			subs, evIDs, seqs, attempts, at, status, lat, ok, snippets)
		return wrap("save delivery", err)
	})
}

// ListDeliveries pages a subscription's log, newest first.
func (s *Store) ListDeliveries(ctx context.Context, id string, beforeSeq int64, limit int) ([]ledger.Delivery, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1 << 62
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, subscription_id, event_id, event_seq, attempt, at, status, latency_us, ok, snippet
		FROM deliveries WHERE subscription_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, id, beforeSeq, limit)
	if err != nil {
		return nil, wrap("deliveries", err)
	}
	defer rows.Close()
	var out []ledger.Delivery
	for rows.Next() {
		var d ledger.Delivery
		var at, lat, attempt, status int64
		if err := rows.Scan(&d.Seq, &d.SubscriptionID, &d.EventID, &d.EventSeq, &attempt, &at, &status, &lat, &d.OK, &d.Snippet); err != nil {
			return nil, wrap("deliveries", err)
		}
		d.At, d.Latency, d.Attempt, d.Status = fromMicros(at), time.Duration(lat)*time.Microsecond, int(attempt), int(status)
		out = append(out, d)
	}
	return out, wrap("deliveries", rows.Err())
}

// PruneDeliveries deletes, among the oldest limit log lines, those older than before.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries ORDER BY seq LIMIT $1) AND at < $2`, limit, micros(before))
	if err != nil {
		return 0, wrap("prune deliveries", err)
	}
	return int(tag.RowsAffected()), nil
}
