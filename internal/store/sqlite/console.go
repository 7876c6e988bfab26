package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Operators and the balance history the console reads (issue 19).

const operatorColumns = `name, role, password_hash, token_hash, created_at`

func scanOperator(r scanner) (ledger.Operator, error) {
	var o ledger.Operator
	var role string
	var created int64
	err := r.Scan(&o.Name, &role, &o.PasswordHash, &o.TokenHash, &created)
	o.Role, o.CreatedAt = ledger.Role(role), fromMicros(created)
	return o, err
}

// InsertOperator adds an operator; a taken name is a ledger.ConflictError.
func (s *Store) InsertOperator(ctx context.Context, o ledger.Operator) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO operators (`+operatorColumns+`) VALUES (?, ?, ?, ?, ?)`,
		o.Name, string(o.Role), o.PasswordHash, o.TokenHash, micros(o.CreatedAt))
	if isConstraint(err) {
		return &ledger.ConflictError{Reason: fmt.Sprintf("operator %q exists", o.Name)}
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert operator: %w", err)
	}
	return nil
}

func (s *Store) operatorWhere(ctx context.Context, where, arg, what string) (ledger.Operator, error) {
	o, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return o, &ledger.NotFoundError{What: what, ID: arg}
	}
	if err != nil {
		return o, fmt.Errorf("sqlite: operator: %w", err)
	}
	return o, nil
}

// Operator returns one operator by name.
func (s *Store) Operator(ctx context.Context, name string) (ledger.Operator, error) {
	return s.operatorWhere(ctx, `name = ?`, name, "operator")
}

// OperatorByToken returns the holder of a personal admin token's SHA-256.
func (s *Store) OperatorByToken(ctx context.Context, tokenHash string) (ledger.Operator, error) {
	if tokenHash == "" {
		return ledger.Operator{}, &ledger.NotFoundError{What: "operator token", ID: ""}
	}
	o, err := s.operatorWhere(ctx, `token_hash = ?`, tokenHash, "operator token")
	var nf *ledger.NotFoundError
	if errors.As(err, &nf) {
		nf.ID = "" // never echo a credential's hash
	}
	return o, err
}

// ListOperators lists every operator by name.
func (s *Store) ListOperators(ctx context.Context) ([]ledger.Operator, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: operators: %w", err)
	}
	return scanAll(rows, "operators", scanOperator)
}

// UpdateOperator replaces an operator's role and hashes.
func (s *Store) UpdateOperator(ctx context.Context, o ledger.Operator) error {
	res, err := s.db.ExecContext(ctx, `UPDATE operators SET role = ?, password_hash = ?, token_hash = ? WHERE name = ?`,
		string(o.Role), o.PasswordHash, o.TokenHash, o.Name)
	return s.changedOne(res, err, "update operator", o.Name)
}

// DeleteOperator removes an operator, but not the last admin: one statement
// counts and deletes, and SQLite runs one writer at a time.
func (s *Store) DeleteOperator(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM operators WHERE name = ?
		AND (role <> 'admin' OR (SELECT count(*) FROM operators WHERE role = 'admin') > 1)`, name)
	err = s.changedOne(res, err, "delete operator", name)
	if errors.Is(err, ledger.ErrNotFound) {
		if _, gerr := s.Operator(ctx, name); gerr == nil {
			return &ledger.ConflictError{Reason: ledger.LastAdminReason}
		}
	}
	return err
}

func (s *Store) changedOne(res sql.Result, err error, op, name string) error {
	if isConstraint(err) {
		return &ledger.ConflictError{Reason: "that token is in use"}
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	} else if n == 0 {
		return &ledger.NotFoundError{What: "operator", ID: name}
	}
	return nil
}

// hourColumns are balance_hours' columns in the order hourRow fills them.
const hourColumns = `account_id, hour, last_seq, balance, charged, charges, topped_up, top_ups`

// hourUpsert adds a batch's hours to the ones stored: the sums grow, and the
// balance is the one of the newer last entry.
const hourUpsert = `ON CONFLICT (account_id, hour) DO UPDATE SET
	balance = CASE WHEN excluded.last_seq > balance_hours.last_seq THEN excluded.balance ELSE balance_hours.balance END,
	last_seq = max(excluded.last_seq, balance_hours.last_seq),
	charged = balance_hours.charged + excluded.charged, charges = balance_hours.charges + excluded.charges,
	topped_up = balance_hours.topped_up + excluded.topped_up, top_ups = balance_hours.top_ups + excluded.top_ups`

func hourRows(entries []ledger.Entry) [][]any {
	totals := ledger.HourTotals(entries)
	rows := make([][]any, len(totals))
	for i, t := range totals {
		rows[i] = []any{t.AccountID, t.Hour, t.LastSeq, int64(t.Balance), int64(t.Charged), t.Charges, int64(t.ToppedUp), t.TopUps}
	}
	return rows
}

// writeHours adds a batch's entries to balance_hours, in the batch's transaction.
func (b *batchTx) writeHours(ctx context.Context, entries []ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return b.insertRows(ctx, `INSERT INTO balance_hours (`+hourColumns+`)`, 8, hourRows(entries), hourUpsert)
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
	err := s.db.QueryRowContext(ctx, `SELECT balance FROM balance_hours WHERE account_id = ? AND hour < ? ORDER BY hour DESC LIMIT 1`,
		accountID, first).Scan(&opening)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("sqlite: balance series: %w", err)
	}
	out.Opening = ledger.Amount(opening)
	// SQLite takes the bare column balance from the row whose max(last_seq) it is.
	rows, err := s.db.QueryContext(ctx, `SELECT (hour - ?) / ? AS b, max(last_seq), balance, sum(charged), sum(charges), sum(topped_up), sum(top_ups)
		FROM balance_hours WHERE account_id = ? AND hour >= ? AND hour <= ? GROUP BY b ORDER BY b`, first, width, accountID, first, last)
	if err != nil {
		return out, fmt.Errorf("sqlite: balance series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, seq, bal, charged, charges, topped, topUps int64
		if err := rows.Scan(&b, &seq, &bal, &charged, &charges, &topped, &topUps); err != nil {
			return out, fmt.Errorf("sqlite: balance series: %w", err)
		}
		out.Points = append(out.Points, ledger.BalancePoint{At: time.Unix((first+b*width)*3600, 0).UTC(), Balance: ledger.Amount(bal),
			Charged: ledger.Amount(charged), Charges: charges, ToppedUp: ledger.Amount(topped), TopUps: topUps})
	}
	return out, rows.Err()
}

// backfillHours fills balance_hours from the entries written before it existed
// (migration 0015 marks the work pending), in one transaction, once.
func (s *Store) backfillHours(ctx context.Context) error {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'balance_hours_backfill'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: backfill balance hours: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: backfill balance hours: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+blockColumns+` FROM entry_blocks ORDER BY first_seq`)
	if err != nil {
		return fmt.Errorf("sqlite: backfill balance hours: %w", err)
	}
	b := &batchTx{s: s, tx: tx}
	var run []ledger.Entry
	var werr error
	err = scanBlocks(rows, func(es []ledger.Entry) bool {
		run = append(run, es...)
		if len(run) >= 4096 {
			werr, run = b.writeHours(ctx, run), run[:0]
		}
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = b.writeHours(ctx, run)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE key = 'balance_hours_backfill'`)
	}
	if err != nil {
		return fmt.Errorf("sqlite: backfill balance hours: %w", err)
	}
	return tx.Commit()
}

// accountOrders are the sorts SearchAccounts knows (a whitelist: they are SQL).
var accountOrders = map[string]string{"": "lower(name), id", "name": "lower(name), id", "balance": "balance, id", "-balance": "balance DESC, id"}

// SearchAccounts pages the customer accounts q selects.
func (s *Store) SearchAccounts(ctx context.Context, q ledger.AccountQuery) ([]ledger.Account, int, error) {
	order, ok := accountOrders[q.Sort]
	if !ok {
		return nil, 0, ledger.Invalid("sort", "must be name, balance or -balance")
	}
	where := ` FROM accounts WHERE kind = 'customer' AND (? = '' OR instr(lower(name), lower(?)) > 0 OR instr(lower(id), lower(?)) > 0)
		AND (? = '' OR status = ?) AND (? = '' OR currency = ?)`
	args := []any{q.Text, q.Text, q.Text, string(q.Status), string(q.Status), q.Currency, q.Currency}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: search accounts: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: search accounts: %w", err)
	}
	out, err := scanAccounts(rows)
	return out, total, err
}

func scanAccounts(rows *sql.Rows) ([]ledger.Account, error) {
	return scanAll(rows, "accounts", scanAccount)
}

// scanAll reads every row with scan and closes rows; what names the rows in
// errors.
func scanAll[T any](rows *sql.Rows, what string, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Depleted lists open customer accounts with nothing available, lowest first.
func (s *Store) Depleted(ctx context.Context, limit int) ([]ledger.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'customer' AND status <> 'closed'
		AND balance + allowed_minus - held <= 0 ORDER BY balance + allowed_minus - held, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: depleted accounts: %w", err)
	}
	return scanAccounts(rows)
}

// LowBalance lists open customer accounts whose low-balance alert has fired and
// not re-armed, lowest available first. The flags are the stored alerts' first
// number (ledger.Alerts.Encode: 1 set, 16 fired); SQLite's CAST reads the
// number before the next comma.
func (s *Store) LowBalance(ctx context.Context, limit int) ([]ledger.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'customer' AND status <> 'closed'
		AND alerts LIKE 'a1,%' AND (CAST(substr(alerts, 4) AS INTEGER) & 17) = 17
		ORDER BY balance + allowed_minus - held, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: low-balance accounts: %w", err)
	}
	return scanAccounts(rows)
}

// CurrencyTotals sums the customer accounts per currency, and their hours of
// the day and the month.
func (s *Store) CurrencyTotals(ctx context.Context, dayStart, monthStart time.Time) ([]ledger.CurrencyTotal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT currency, count(*), sum(balance), sum(held), sum(balance + allowed_minus - held)
		FROM accounts WHERE kind = 'customer' GROUP BY currency ORDER BY currency`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: currency totals: %w", err)
	}
	var out []ledger.CurrencyTotal
	idx := map[string]int{}
	for rows.Next() {
		var t ledger.CurrencyTotal
		var bal, held, avail int64
		if err := rows.Scan(&t.Currency, &t.Accounts, &bal, &held, &avail); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: currency totals: %w", err)
		}
		t.Balance, t.Held, t.Available = ledger.Amount(bal), ledger.Amount(held), ledger.Amount(avail)
		idx[t.Currency] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: currency totals: %w", err)
	}
	day := ledger.HourOf(dayStart)
	rows, err = s.db.QueryContext(ctx, `SELECT a.currency,
		sum(CASE WHEN h.hour >= ? THEN h.charged ELSE 0 END), sum(CASE WHEN h.hour >= ? THEN h.charges ELSE 0 END),
		sum(CASE WHEN h.hour >= ? THEN h.topped_up ELSE 0 END), sum(h.charged), sum(h.charges), sum(h.topped_up)
		FROM balance_hours h JOIN accounts a ON a.id = h.account_id
		WHERE h.hour >= ? AND a.kind = 'customer' GROUP BY a.currency`, day, day, day, ledger.HourOf(monthStart))
	if err != nil {
		return nil, fmt.Errorf("sqlite: currency totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cur string
		var cd, nd, td, cm, nm, tm int64
		if err := rows.Scan(&cur, &cd, &nd, &td, &cm, &nm, &tm); err != nil {
			return nil, fmt.Errorf("sqlite: currency totals: %w", err)
		}
		if i, ok := idx[cur]; ok {
			t := &out[i]
			t.ChargedToday, t.ChargesToday, t.ToppedUpToday = ledger.Amount(cd), nd, ledger.Amount(td)
			t.ChargedMonth, t.ChargesMonth, t.ToppedUpMonth = ledger.Amount(cm), nm, ledger.Amount(tm)
		}
	}
	return out, rows.Err()
}
