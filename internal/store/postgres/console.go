package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Operators and the balance history the console reads (issue 19).

const operatorColumns = `name, role, password_hash, token_hash, created_at`

func scanOperator(r pgx.Row) (ledger.Operator, error) {
	var o ledger.Operator
	var role string
	var created int64
	err := r.Scan(&o.Name, &role, &o.PasswordHash, &o.TokenHash, &created)
	o.Role, o.CreatedAt = ledger.Role(role), fromMicros(created)
	return o, err
}

// InsertOperator adds an operator; a taken name is a ledger.ConflictError.
func (s *Store) InsertOperator(ctx context.Context, o ledger.Operator) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO operators (`+operatorColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		o.Name, string(o.Role), o.PasswordHash, o.TokenHash, o.CreatedAt.UnixMicro())
	if isUnique(err) {
		return &ledger.ConflictError{Reason: fmt.Sprintf("operator %q exists", o.Name)}
	}
	return wrap("insert operator", err)
}

func (s *Store) operatorWhere(ctx context.Context, where, arg, what string) (ledger.Operator, error) {
	o, err := scanOperator(s.pool.QueryRow(ctx, `SELECT `+operatorColumns+` FROM operators WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return o, &ledger.NotFoundError{What: what, ID: arg}
	}
	return o, wrap("operator", err)
}

// Operator returns one operator by name.
func (s *Store) Operator(ctx context.Context, name string) (ledger.Operator, error) {
	return s.operatorWhere(ctx, `name = $1`, name, "operator")
}

// OperatorByToken returns the holder of a personal admin token's SHA-256.
func (s *Store) OperatorByToken(ctx context.Context, tokenHash string) (ledger.Operator, error) {
	if tokenHash == "" {
		return ledger.Operator{}, &ledger.NotFoundError{What: "operator token", ID: ""}
	}
	o, err := s.operatorWhere(ctx, `token_hash = $1`, tokenHash, "operator token")
	var nf *ledger.NotFoundError
	if errors.As(err, &nf) {
		nf.ID = "" // never echo a credential's hash
	}
	return o, err
}

// ListOperators lists every operator by name.
func (s *Store) ListOperators(ctx context.Context) ([]ledger.Operator, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, wrap("operators", err)
	}
	defer rows.Close()
	var out []ledger.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, wrap("operators", err)
		}
		out = append(out, o)
	}
	return out, wrap("operators", rows.Err())
}

// UpdateOperator replaces an operator's role and hashes.
func (s *Store) UpdateOperator(ctx context.Context, o ledger.Operator) error {
	tag, err := s.pool.Exec(ctx, `UPDATE operators SET role = $1, password_hash = $2, token_hash = $3 WHERE name = $4`,
		string(o.Role), o.PasswordHash, o.TokenHash, o.Name)
	return changedOne(tag, err, "update operator", o.Name)
}

// DeleteOperator removes an operator.
func (s *Store) DeleteOperator(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM operators WHERE name = $1`, name)
	return changedOne(tag, err, "delete operator", name)
}

func changedOne(tag pgconn.CommandTag, err error, op, name string) error {
	if isUnique(err) {
		return &ledger.ConflictError{Reason: "that token is in use"}
	}
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return &ledger.NotFoundError{What: "operator", ID: name}
	}
	return nil
}

// queueHours adds a batch's entries to balance_hours: the sums grow, and the
// balance is the one of the newer last entry.
func queueHours(q *pgx.Batch, entries []ledger.Entry) {
	totals := ledger.HourTotals(entries)
	if len(totals) == 0 {
		return
	}
	n := len(totals)
	ids, hours, seqs, bals := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	charged, charges, topped, topUps := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, t := range totals {
		ids[i], hours[i], seqs[i], bals[i] = t.AccountID, t.Hour, t.LastSeq, int64(t.Balance)
		charged[i], charges[i], topped[i], topUps[i] = int64(t.Charged), t.Charges, int64(t.ToppedUp), t.TopUps
	}
	q.Queue(`INSERT INTO balance_hours AS h (account_id, hour, last_seq, balance, charged, charges, topped_up, top_ups)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
		ON CONFLICT (account_id, hour) DO UPDATE SET
		balance = CASE WHEN excluded.last_seq > h.last_seq THEN excluded.balance ELSE h.balance END,
		last_seq = GREATEST(excluded.last_seq, h.last_seq),
		charged = h.charged + excluded.charged, charges = h.charges + excluded.charges,
		topped_up = h.topped_up + excluded.topped_up, top_ups = h.top_ups + excluded.top_ups`,
		ids, hours, seqs, bals, charged, charges, topped, topUps)
}

// BalanceSeries reads an account's hours from balance_hours, grouped into buckets.
func (s *Store) BalanceSeries(ctx context.Context, accountID string, from, to time.Time, bucket time.Duration) (ledger.BalanceSeries, error) {
	var out ledger.BalanceSeries
	width := int64(bucket / ledger.SeriesHour)
	if width < 1 {
		width = 1
	}
	first, last := ledger.HourOf(from), ledger.HourOf(to)
	var opening int64
	err := s.pool.QueryRow(ctx, `SELECT balance FROM balance_hours WHERE account_id = $1 AND hour < $2 ORDER BY hour DESC LIMIT 1`,
		accountID, first).Scan(&opening)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return out, wrap("balance series", err)
	}
	out.Opening = ledger.Amount(opening)
	rows, err := s.pool.Query(ctx, `SELECT (hour - $1) / $2 AS b, (array_agg(balance ORDER BY last_seq DESC))[1],
		sum(charged)::bigint, sum(charges)::bigint, sum(topped_up)::bigint, sum(top_ups)::bigint
		FROM balance_hours WHERE account_id = $3 AND hour >= $1 AND hour <= $4 GROUP BY b ORDER BY b`, first, width, accountID, last)
	if err != nil {
		return out, wrap("balance series", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, bal, charged, charges, topped, topUps int64
		if err := rows.Scan(&b, &bal, &charged, &charges, &topped, &topUps); err != nil {
			return out, wrap("balance series", err)
		}
		out.Points = append(out.Points, ledger.BalancePoint{At: time.Unix((first+b*width)*3600, 0).UTC(), Balance: ledger.Amount(bal),
			Charged: ledger.Amount(charged), Charges: charges, ToppedUp: ledger.Amount(topped), TopUps: topUps})
	}
	return out, wrap("balance series", rows.Err())
}
