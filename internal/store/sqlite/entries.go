package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// scanEntry reads a row of the old entries table (convertEntries).
func scanEntry(r scanner) (ledger.Entry, error) {
	var e ledger.Entry
	var kind, meta string
	var amount, after, created int64
	if err := r.Scan(&e.Seq, &e.MovementID, &e.AccountID, &kind, &amount, &after, &e.Reference, &e.IdempotencyKey, &created,
		&meta, &e.RelatedID, &e.FreeMessage); err != nil {
		return e, err
	}
	e.Kind, e.Amount, e.BalanceAfter, e.CreatedAt = ledger.EntryKind(kind), ledger.Amount(amount), ledger.Amount(after), fromMicros(created)
	m, err := codec.ParseMetadata(meta)
	if err != nil {
		return e, fmt.Errorf("entry %d metadata: %w", e.Seq, err)
	}
	e.Metadata = m
	return e, nil
}

const holdColumns = `id, account_id, amount, captured, status, reference, charge_id, expires_at, created_at, updated_at`

func scanHold(r scanner) (ledger.Hold, error) {
	var h ledger.Hold
	var amount, captured, expires, created, updated int64
	var status string
	if err := r.Scan(&h.ID, &h.AccountID, &amount, &captured, &status, &h.Reference, &h.ChargeID, &expires, &created, &updated); err != nil {
		return h, err
	}
	h.Amount, h.Captured, h.Status = ledger.Amount(amount), ledger.Amount(captured), ledger.HoldStatus(status)
	h.ExpiresAt, h.CreatedAt, h.UpdatedAt = fromMicros(expires), fromMicros(created), fromMicros(updated)
	return h, nil
}

// Hold returns a stored hold, or a NotFoundError.
func (s *Store) Hold(ctx context.Context, id string) (ledger.Hold, error) {
	h, err := scanHold(s.db.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, &ledger.NotFoundError{What: "hold", ID: id}
	}
	if err != nil {
		return h, fmt.Errorf("sqlite: hold: %w", err)
	}
	return h, nil
}

// ActiveHolds returns every active hold; the engine loads them at start.
func (s *Store) ActiveHolds(ctx context.Context) ([]ledger.Hold, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE status = 'active'`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	defer rows.Close()
	var out []ledger.Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: holds: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
