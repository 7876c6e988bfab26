package sqlite

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/purse-ledger/purse/internal/ledger"
)

// The parts of ledger.Store that an exclusive store has no real use for: one
// process owns the file, so no other node commits anything to announce, and a
// query costs no network round trip to save. They keep the contract whole, so
// that purse serve and the engine run one code path on both stores.

var _ ledger.Store = (*Store)(nil)

// Ping reports whether the file answers a query: readiness.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.LastSeq(ctx)
	return err
}

// Follow is the change feed of a store no other process writes: the caches are
// current from the start and stay so. It reports that once and waits for ctx.
func (s *Store) Follow(ctx context.Context, h ledger.ChangeHandlers, log *slog.Logger) {
	h.Resynced()
	<-ctx.Done()
}

// AccountsByID returns the committed rows of some accounts. The feed announces
// none on this store; it is here for the contract, and reads like the others.
func (s *Store) AccountsByID(ctx context.Context, ids []string) ([]ledger.Account, error) {
	var out []ledger.Account
	for len(ids) > 0 {
		n := chunkSize(len(ids))
		rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id IN (`+placeholders(n)+`)`, anys(ids[:n])...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: accounts: %w", err)
		}
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: accounts: %w", err)
			}
			out = append(out, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: accounts: %w", err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// Prefetch does what its separate calls would: the engine never calls it on this
// store (a batch reads accounts from memory, and a query here is a function call,
// not a round trip), and sequence numbers are counted in memory anyway, so there
// is nothing to reserve ahead.
func (b *batchTx) Prefetch(ctx context.Context, accounts, platform, keys []string, seqs int) (locked, lockedPlatform []ledger.Account, recs []ledger.IdempotencyRecord, err error) {
	if locked, err = b.LockAccounts(ctx, accounts); err != nil {
		return nil, nil, nil, err
	}
	if lockedPlatform, err = b.LockAccounts(ctx, platform); err != nil {
		return nil, nil, nil, err
	}
	if recs, err = b.Idempotency(ctx, keys); err != nil {
		return nil, nil, nil, err
	}
	return locked, lockedPlatform, recs, nil
}
