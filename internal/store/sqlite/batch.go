package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/purse-ledger/purse/internal/ledger"
)

// batchTx is one engine batch: a write transaction (BEGIN IMMEDIATE) that the
// engine reads through and commits once.
type batchTx struct {
	s         *Store
	tx        *sql.Tx
	unlock    func() // releases the writer connection (nil: nothing to release)
	lastEvent int64  // the rowid of the batch's last event (0: none)
}

// done releases the writer connection, once.
func (b *batchTx) done() {
	if b.unlock != nil {
		b.unlock()
		b.unlock = nil
	}
}

// Begin starts a batch transaction on the engine's connection. Its commit is
// visible at once and durable after the next Sync (sync.go).
func (s *Store) Begin(ctx context.Context) (ledger.BatchTx, error) {
	tx, unlock, err := s.beginWriter(ctx)
	if err != nil {
		return nil, err
	}
	return &batchTx{s: s, tx: tx, unlock: unlock}, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func (b *batchTx) LockAccounts(ctx context.Context, ids []string) ([]ledger.Account, error) {
	var out []ledger.Account
	err := b.queryIn(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id IN (%s)`, ids, func(r scanner) error {
		a, err := scanAccount(r)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	return out, nil
}

func (b *batchTx) HoldAccounts(ctx context.Context, holdIDs []string) (map[string]string, error) {
	out := map[string]string{}
	err := b.queryIn(ctx, `SELECT id, account_id FROM holds WHERE id IN (%s)`, holdIDs, func(r scanner) error {
		var id, acc string
		err := r.Scan(&id, &acc)
		out[id] = acc
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	return out, nil
}

func (b *batchTx) LockHolds(ctx context.Context, ids []string) ([]ledger.Hold, error) {
	var out []ledger.Hold
	err := b.queryIn(ctx, `SELECT `+holdColumns+` FROM holds WHERE id IN (%s)`, ids, func(r scanner) error {
		h, err := scanHold(r)
		out = append(out, h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	return out, nil
}

func (b *batchTx) Idempotency(ctx context.Context, keys []string) ([]ledger.IdempotencyRecord, error) {
	return b.s.lookupKeys(ctx, b.tx, keys)
}

// ReserveSeqs counts on from the newest entry: this process is the file's only writer.
func (b *batchTx) ReserveSeqs(ctx context.Context, n int) ([]int64, error) {
	s := b.s
	s.seqOnce.Do(func() { s.seq, s.seqErr = s.LastSeq(ctx) })
	if s.seqErr != nil {
		err := s.seqErr
		s.seqOnce = sync.Once{}
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		s.seq++
		out[i] = s.seq
	}
	return out, nil
}

func (b *batchTx) Rollback(ctx context.Context) {
	b.tx.Rollback()
	b.done()
}

// Commit writes a whole batch and commits it (without an fsync: see Sync).
//
// Its statements run without the caller's deadline: for every statement given a
// context that can end, the driver starts a goroutine to watch it and installs a
// progress handler, which cost the writer more than some of the statements. Nothing
// here waits on another process but SQLite's busy timeout, which bounds itself.
func (b *batchTx) Commit(ctx context.Context, bt *ledger.Batch) (err error) {
	ctx = context.WithoutCancel(ctx)
	tx := b.tx
	defer func() {
		if err != nil {
			tx.Rollback()
		}
		b.done()
	}()
	if err := b.writeAccounts(ctx, bt); err != nil {
		return fmt.Errorf("sqlite: commit accounts: %w", err)
	}
	entriesLo, entriesHi, err := b.insertBlocks(ctx, bt.Entries)
	if err != nil {
		return fmt.Errorf("sqlite: commit entries: %w", err)
	}
	if err := b.writeHours(ctx, bt.Entries); err != nil {
		return fmt.Errorf("sqlite: commit balance hours: %w", err)
	}
	holds := make([][]any, len(bt.Holds))
	for i, h := range bt.Holds {
		holds[i] = []any{h.ID, h.AccountID, int64(h.Amount), int64(h.Captured), string(h.Status), h.Reference, h.ChargeID,
			micros(h.ExpiresAt), micros(h.CreatedAt), micros(h.UpdatedAt)}
	}
	if err := b.insertRows(ctx, "INSERT INTO holds ("+holdColumns+")", 10, holds, `ON CONFLICT (id) DO UPDATE SET captured = excluded.captured,
		status = excluded.status, charge_id = excluded.charge_id, updated_at = excluded.updated_at`); err != nil {
		return fmt.Errorf("sqlite: commit holds: %w", err)
	}
	if err := b.writeRefunds(ctx, bt.Charges); err != nil {
		return fmt.Errorf("sqlite: commit charges: %w", err)
	}
	keys, err := b.s.appendKeys(ctx, tx, bt.Idempotency)
	if err != nil {
		return err
	}
	defer func() { keys.done(err) }()
	recs := make([][]any, len(bt.Idempotency))
	for i, r := range bt.Idempotency {
		recs[i] = []any{keys.ids[i], r.Key, r.RequestHash, r.Status, r.Body, micros(r.CreatedAt)}
	}
	if err := b.insertRows(ctx, "INSERT INTO idempotency (id, key, request_hash, status, body, created_at)", 6, recs, ""); err != nil {
		return fmt.Errorf("sqlite: commit idempotency: %w", err)
	}
	if err := b.insertEvents(ctx, bt.Events, entriesLo, entriesHi); err != nil {
		return fmt.Errorf("sqlite: commit events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if b.lastEvent > 0 {
		b.s.eventsCommitted.Store(b.lastEvent)
	}
	return nil
}

// chunkSizes are the row counts of the multi-row statements a batch uses: every
// count is written as a sum of these (its binary digits, so at most one statement
// of each size), so only a handful of statements exist, each prepared once per
// connection and reused by every batch.
var chunkSizes = []int{256, 128, 64, 32, 16, 8, 4, 2, 1}

// chunkSize is the largest of chunkSizes that n rows fill.
func chunkSize(n int) int {
	for _, size := range chunkSizes {
		if n >= size {
			return size
		}
	}
	return 1
}

// stmt returns the prepared statement for q, preparing it on first use.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// insertRows writes rows with multi-row INSERT statements: crossing into SQLite
// once per statement rather than once per row, and never parsing SQL twice, is
// most of the cost of a large batch.
func (b *batchTx) insertRows(ctx context.Context, head string, ncols int, rows [][]any, tail string) error {
	one := "(" + placeholders(ncols) + ")"
	for len(rows) > 0 {
		n := chunkSize(len(rows))
		q := head + " VALUES " + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + " " + tail
		st, err := b.s.stmt(ctx, q)
		if err != nil {
			return err
		}
		args := make([]any, 0, n*ncols)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := b.tx.StmtContext(ctx, st).ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// queryIn runs q (with one IN list, written as "IN (%s)") over ids in fixed-size
// chunks of cached statements, calling each for every row.
func (b *batchTx) queryIn(ctx context.Context, q string, ids []string, each func(scanner) error) error {
	for len(ids) > 0 {
		n := chunkSize(len(ids))
		st, err := b.s.stmt(ctx, fmt.Sprintf(q, placeholders(n)))
		if err != nil {
			return err
		}
		rows, err := b.tx.StmtContext(ctx, st).QueryContext(ctx, anys(ids[:n])...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := each(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// writeAccounts stores the batch's accounts: an UPDATE for the ones that exist
// (nearly every batch: the account charged and the platform's revenue account) and
// one INSERT for the ones the batch creates. An upsert of the same rows cost 12%
// more of the whole commit (BenchmarkCommitChargeBatch: 226 -> 198 µs a batch): it
// evaluates every CHECK constraint of the row it would insert.
//
// The UPDATE first tried is moneyUpdate, which leaves the settings (name, status,
// allowed minus, monthly limit) alone and names them in its WHERE clause instead:
// an UPDATE that sets status evaluates status's CHECK constraint, whose IN list
// SQLite builds into a temporary b-tree on every execution (open, fill, close: a
// quarter of the accounts' cost). A batch that did change a setting matches no row
// there and writes the account with the full UPDATE.
func (b *batchTx) writeAccounts(ctx context.Context, bt *ledger.Batch) error {
	var inserts [][]any
	for _, a := range bt.Accounts {
		var limit any
		if a.HasMonthlyLimit {
			limit = int64(a.MonthlyLimit)
		}
		alerts := a.AlertsOrZero().Encode()
		if !bt.Created[a.ID] {
			n, err := b.exec(ctx, moneyUpdate, int64(a.Balance), a.Seq, micros(a.UpdatedAt), int64(a.Held), int64(a.MonthlySpent),
				a.SpentMonth, a.FreeMessages, a.Version, alerts, a.ID, a.Name, string(a.Status), int64(a.AllowedMinus), limit, a.Disabled)
			if err == nil && n == 0 {
				n, err = b.exec(ctx, updateAccount, a.Name, string(a.Status), int64(a.Balance), a.Seq, micros(a.UpdatedAt),
					int64(a.Held), int64(a.AllowedMinus), limit, int64(a.MonthlySpent), a.SpentMonth, a.FreeMessages, a.Version, a.Disabled, alerts, a.ID)
			}
			if err != nil {
				return err
			}
			if n == 1 {
				continue
			}
			// Not there after all (a batch written by hand, an import): insert it.
		}
		inserts = append(inserts, []any{a.ID, string(a.Kind), a.Name, a.Currency, string(a.Status), int64(a.Balance), a.Seq, micros(a.CreatedAt), micros(a.UpdatedAt),
			int64(a.Held), int64(a.AllowedMinus), limit, int64(a.MonthlySpent), a.SpentMonth, a.FreeMessages, a.Version,
			a.ParentID, string(a.Funding), a.Disabled, alerts})
	}
	return b.insertRows(ctx, `INSERT INTO accounts (`+accountColumns+`)`, 20, inserts, "")
}

// exec runs the cached statement q in the batch and returns the rows it changed.
func (b *batchTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := b.s.stmt(ctx, q)
	if err != nil {
		return 0, err
	}
	res, err := b.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// moneyUpdate writes what batches change all the time, if the settings are as given.
const moneyUpdate = `UPDATE accounts SET balance = ?, seq = ?, updated_at = ?, held = ?, monthly_spent = ?,
	spent_month = ?, free_messages = ?, version = ?, alerts = ?
	WHERE id = ? AND name = ? AND status = ? AND allowed_minus = ? AND monthly_limit IS ? AND disabled = ?`

const updateAccount = `UPDATE accounts SET name = ?, status = ?, balance = ?, seq = ?, updated_at = ?,
	held = ?, allowed_minus = ?, monthly_limit = ?, monthly_spent = ?, spent_month = ?, free_messages = ?, version = ?,
	disabled = ?, alerts = ?
	WHERE id = ?`
