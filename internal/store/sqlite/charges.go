package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Charges on the embedded store are not rows of their own: a charge is its entry
// (kind charge or capture), and charge_refunds keeps the amount refunded of the
// charges that have refunds. A charge is found from its id: the engine names a
// movement after its batch's time (ledger.NewIDAt), which is the created_at of its
// entry, so only the account's blocks of that millisecond are read. Ids made
// before that rule named the request's time, a little after the batch's: the
// search reaches back idWindow for them.

const idWindow = 10 * time.Second

func isCharge(k ledger.EntryKind) bool { return k == ledger.EntryCharge || k == ledger.EntryCapture }

// findEntry returns the entry of movement id on the account, or nil.
func (s *Store) findEntry(ctx context.Context, q querier, accountID, id string) (*ledger.Entry, error) {
	at, ok := ledger.IDTime(id)
	if !ok {
		return nil, nil // not an id purse made: no entry has it
	}
	rows, err := q.QueryContext(ctx, `SELECT `+blockColumns+` FROM entry_blocks
		WHERE account_id = ? AND last_at >= ? AND first_at < ? ORDER BY last_at DESC`,
		accountID, micros(at.Add(-idWindow)), micros(at.Add(time.Millisecond)))
	if err != nil {
		return nil, err
	}
	needle := []byte(id)
	var found *ledger.Entry
	err = scanBlocksIf(rows, func(data []byte) bool { return bytes.Contains(data, needle) }, func(es []ledger.Entry) bool {
		for i := range es {
			if es[i].MovementID == id {
				found = &es[i]
				return false
			}
		}
		return true
	})
	return found, err
}

// chargeOf is the charge an entry records.
func chargeOf(e *ledger.Entry, refunded ledger.Amount) ledger.Charge {
	return ledger.Charge{ID: e.MovementID, AccountID: e.AccountID, Amount: -e.Amount, Refunded: refunded,
		FreeMessage: e.FreeMessage, CreatedAt: e.CreatedAt}
}

// LockCharges reads the charges named (the engine is the file's only writer, so
// nothing needs locking).
func (b *batchTx) LockCharges(ctx context.Context, refs []ledger.ChargeRef) ([]ledger.Charge, error) {
	var out []ledger.Charge
	for _, r := range refs {
		e, err := b.s.findEntry(ctx, b.tx, r.AccountID, r.ID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: charges: %w", err)
		}
		if e == nil || !isCharge(e.Kind) {
			continue
		}
		var refunded int64
		err = b.tx.QueryRowContext(ctx, `SELECT refunded FROM charge_refunds WHERE charge_id = ?`, r.ID).Scan(&refunded)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlite: charges: %w", err)
		}
		out = append(out, chargeOf(e, ledger.Amount(refunded)))
	}
	return out, nil
}

// writeRefunds keeps the refunded amount of the batch's refunded charges.
func (b *batchTx) writeRefunds(ctx context.Context, charges []ledger.Charge) error {
	rows := make([][]any, len(charges))
	for i, c := range charges {
		rows[i] = []any{c.ID, c.AccountID, int64(c.Refunded)}
	}
	return b.insertRows(ctx, "INSERT INTO charge_refunds (charge_id, account_id, refunded)", 3, rows,
		"ON CONFLICT (charge_id) DO UPDATE SET refunded = excluded.refunded")
}

// MovementKind returns the kind of a movement's entry on the given account, or a
// NotFoundError.
func (s *Store) MovementKind(ctx context.Context, accountID, movementID string) (ledger.EntryKind, string, error) {
	e, err := s.findEntry(ctx, s.db, accountID, movementID)
	if err != nil {
		return "", "", fmt.Errorf("sqlite: movement: %w", err)
	}
	if e == nil {
		return "", "", &ledger.NotFoundError{What: "movement", ID: movementID}
	}
	return e.Kind, accountID, nil
}

// Charges returns every charge (purse check, export), in entry order.
func (s *Store) Charges(ctx context.Context) ([]ledger.Charge, error) {
	refunded := map[string]ledger.Amount{}
	rows, err := s.db.QueryContext(ctx, `SELECT charge_id, refunded FROM charge_refunds`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: charges: %w", err)
	}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: charges: %w", err)
		}
		refunded[id] = ledger.Amount(v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: charges: %w", err)
	}
	var out []ledger.Charge
	err = s.EachEntry(ctx, func(e ledger.Entry) error {
		if isCharge(e.Kind) {
			out = append(out, chargeOf(&e, refunded[e.MovementID]))
			delete(refunded, e.MovementID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(refunded) > 0 {
		return nil, fmt.Errorf("sqlite: charges: refunds recorded for %d movements that are no charges", len(refunded))
	}
	return out, nil
}
