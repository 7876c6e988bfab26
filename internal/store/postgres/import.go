package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Import copies a whole store into this one, in one transaction: all of it or none.
// The target must hold no account yet. entries streams the entries in sequence
// order; the entry sequence continues after the last one.
func (s *Store) Import(ctx context.Context, d *ledger.Dump, entries func(func(ledger.Entry) error) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
			return wrap("import", err)
		}
		if n > 0 {
			return fmt.Errorf("postgres: the target already holds %d accounts; purse migrate needs an empty database", n)
		}
		copyRows := func(table string, cols []string, rows [][]any) error {
			if len(rows) == 0 {
				return nil
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return wrap("import "+table, err)
		}
		var rows [][]any
		for _, a := range d.Accounts {
			var limit *int64
			if a.HasMonthlyLimit {
				v := int64(a.MonthlyLimit)
				limit = &v
			}
			rows = append(rows, []any{a.ID, string(a.Kind), a.Name, a.Currency, string(a.Status), int64(a.Balance), a.Seq,
				micros(a.CreatedAt), micros(a.UpdatedAt), int64(a.Held), int64(a.AllowedMinus), limit, int64(a.MonthlySpent),
				int32(a.SpentMonth), a.FreeMessages, a.Version})
		}
		if err := copyRows("accounts", columns(accountColumns), rows); err != nil {
			return err
		}
		var last int64
		batch := make([][]any, 0, 5000)
		flush := func() error {
			err := copyRows("entries", columns(entryColumns), batch)
			batch = batch[:0]
			return err
		}
		if err := entries(func(e ledger.Entry) error {
			batch = append(batch, []any{e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter),
				e.Reference, e.IdempotencyKey, micros(e.CreatedAt), codec.Metadata(e.Metadata), e.RelatedID, e.FreeMessage})
			last = max(last, e.Seq)
			if len(batch) == cap(batch) {
				return flush()
			}
			return nil
		}); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if last > 0 {
			if _, err := tx.Exec(ctx, `SELECT setval('entry_seq', $1)`, last); err != nil {
				return wrap("import sequence", err)
			}
		}
		rows = rows[:0]
		for _, h := range d.Holds {
			rows = append(rows, []any{h.ID, h.AccountID, int64(h.Amount), int64(h.Captured), string(h.Status), h.Reference, h.ChargeID,
				micros(h.ExpiresAt), micros(h.CreatedAt), micros(h.UpdatedAt)})
		}
		if err := copyRows("holds", columns(holdColumns), rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, c := range d.Charges { // a charge is its entry: only refunds are kept
			if c.Refunded > 0 {
				rows = append(rows, []any{c.ID, c.AccountID, int64(c.Refunded)})
			}
		}
		if err := copyRows("charge_refunds", []string{"charge_id", "account_id", "refunded"}, rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, u := range d.Users {
			rows = append(rows, []any{u.Username, u.AccountID, u.PasswordHash, micros(u.CreatedAt)})
		}
		if err := copyRows("users", []string{"username", "account_id", "password_hash", "created_at"}, rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, k := range d.APIKeys {
			var revoked *int64
			if k.RevokedAt != nil {
				v := micros(*k.RevokedAt)
				revoked = &v
			}
			rows = append(rows, []any{k.ID, k.AccountID, k.Name, k.Hash, strings.Join(k.Scopes, " "), micros(k.CreatedAt), revoked})
		}
		if err := copyRows("api_keys", columns(keyColumns), rows); err != nil {
			return err
		}
		rows = rows[:0]
		for _, r := range d.Idempotency {
			rows = append(rows, []any{r.Key, r.RequestHash, int32(r.Status), r.Body, micros(r.CreatedAt)})
		}
		if err := copyRows("idempotency", []string{"key", "request_hash", "status", "body", "created_at"}, rows); err != nil {
			return err
		}
		for k, v := range d.Settings {
			if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
				return wrap("import settings", err)
			}
		}
		return nil
	})
}

// columns splits a column list constant.
func columns(list string) []string {
	var out []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
