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

// DeleteOperator removes an operator, but not the last admin. The admins' rows
// are locked first: a second node removing another admin at the same time
// waits, then counts without the row this one deleted.
func (s *Store) DeleteOperator(ctx context.Context, name string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("delete operator", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT name FROM operators WHERE role = 'admin' ORDER BY name FOR UPDATE`)
	if err != nil {
		return wrap("delete operator", err)
	}
	admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return wrap("delete operator", err)
	}
	if len(admins) == 1 && admins[0] == name {
		return &ledger.ConflictError{Reason: ledger.LastAdminReason}
	}
	tag, err := tx.Exec(ctx, `DELETE FROM operators WHERE name = $1`, name)
	if err = changedOne(tag, err, "delete operator", name); err != nil {
		return err
	}
	return wrap("delete operator", tx.Commit(ctx))
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

// accountOrders are the sorts SearchAccounts knows (a whitelist: they are SQL).
var accountOrders = map[string]string{"": "lower(name), id", "name": "lower(name), id", "balance": "balance, id", "-balance": "balance DESC, id"}

// SearchAccounts pages the customer accounts q selects.
func (s *Store) SearchAccounts(ctx context.Context, q ledger.AccountQuery) ([]ledger.Account, int, error) {
	order, ok := accountOrders[q.Sort]
	if !ok {
		return nil, 0, ledger.Invalid("sort", "must be name, balance or -balance")
	}
	where := ` FROM accounts WHERE kind = 'customer' AND ($1 = '' OR strpos(lower(name), lower($1)) > 0 OR strpos(lower(id), lower($1)) > 0)
		AND ($2 = '' OR status = $2) AND ($3 = '' OR currency = $3)`
	args := []any{q.Text, string(q.Status), q.Currency}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("search accounts", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+where+` ORDER BY `+order+` LIMIT $4 OFFSET $5`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, wrap("search accounts", err)
	}
	out, err := scanAccounts(rows)
	return out, total, err
}

func scanAccounts(rows pgx.Rows) ([]ledger.Account, error) {
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, wrap("accounts", err)
		}
		out = append(out, a)
	}
	return out, wrap("accounts", rows.Err())
}

// Depleted lists open customer accounts with nothing available, lowest first.
func (s *Store) Depleted(ctx context.Context, limit int) ([]ledger.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'customer' AND status <> 'closed'
		AND balance + allowed_minus - held <= 0 ORDER BY balance + allowed_minus - held, id LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("depleted accounts", err)
	}
	return scanAccounts(rows)
}

// LowBalance lists open customer accounts whose low-balance alert has fired and
// not re-armed, lowest available first. The flags are the stored alerts' first
// number (ledger.Alerts.Encode: 1 set, 16 fired); the CASE keeps the cast off
// rows without alerts (PostgreSQL may evaluate an AND's sides in any order).
func (s *Store) LowBalance(ctx context.Context, limit int) ([]ledger.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'customer' AND status <> 'closed'
		AND (CASE WHEN alerts LIKE 'a1,%' THEN split_part(alerts, ',', 2)::bigint & 17 ELSE 0 END) = 17
		ORDER BY balance + allowed_minus - held, id LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("low-balance accounts", err)
	}
	return scanAccounts(rows)
}

// CurrencyTotals sums the customer accounts per currency, and their hours of
// the day and the month.
func (s *Store) CurrencyTotals(ctx context.Context, dayStart, monthStart time.Time) ([]ledger.CurrencyTotal, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.currency, count(*), sum(a.balance)::bigint, sum(a.held)::bigint,
		sum(a.balance + a.allowed_minus - a.held)::bigint,
		coalesce(sum(h.cd), 0)::bigint, coalesce(sum(h.nd), 0)::bigint, coalesce(sum(h.td), 0)::bigint,
		coalesce(sum(h.cm), 0)::bigint, coalesce(sum(h.nm), 0)::bigint, coalesce(sum(h.tm), 0)::bigint
		FROM accounts a LEFT JOIN (
			SELECT account_id,
				sum(charged) FILTER (WHERE hour >= $1) AS cd, sum(charges) FILTER (WHERE hour >= $1) AS nd,
				sum(topped_up) FILTER (WHERE hour >= $1) AS td, sum(charged) AS cm, sum(charges) AS nm, sum(topped_up) AS tm
			FROM balance_hours WHERE hour >= $2 GROUP BY account_id) h ON h.account_id = a.id
		WHERE a.kind = 'customer' GROUP BY a.currency ORDER BY a.currency`, ledger.HourOf(dayStart), ledger.HourOf(monthStart))
	if err != nil {
		return nil, wrap("currency totals", err)
	}
	defer rows.Close()
	var out []ledger.CurrencyTotal
	for rows.Next() {
		var t ledger.CurrencyTotal
		var bal, held, avail, cd, td, cm, tm int64
		if err := rows.Scan(&t.Currency, &t.Accounts, &bal, &held, &avail, &cd, &t.ChargesToday, &td, &cm, &t.ChargesMonth, &tm); err != nil {
			return nil, wrap("currency totals", err)
		}
		t.Balance, t.Held, t.Available = ledger.Amount(bal), ledger.Amount(held), ledger.Amount(avail)
		t.ChargedToday, t.ToppedUpToday, t.ChargedMonth, t.ToppedUpMonth = ledger.Amount(cd), ledger.Amount(td), ledger.Amount(cm), ledger.Amount(tm)
		out = append(out, t)
	}
	return out, wrap("currency totals", rows.Err())
}
