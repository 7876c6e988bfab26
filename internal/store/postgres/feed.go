package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/ledger"
)

var _ ledger.Store = (*Store)(nil)

// Follow listens on the change feed (LISTEN, with NOTIFY in the transaction of each change) until ctx ends, on a connection of its own,
// reconnecting (and reloading every cache) whenever the connection drops.
func (s *Store) Follow(ctx context.Context, h ledger.ChangeHandlers, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, h, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("postgres change feed lost; serving 503 until it is back", "err", err)
		h.Lost()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

func (s *Store) listen(ctx context.Context, h ledger.ChangeHandlers, connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, s.url)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+s.channel); err != nil {
		return err
	}
	// Listening first, then reloading: nothing committed in between is missed.
	if err := h.Reload(ctx); err != nil {
		return err
	}
	h.Resynced()
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch p := n.Payload; {
		case strings.HasPrefix(p, notifyAccounts):
			if err := h.Accounts(strings.Split(strings.TrimPrefix(p, notifyAccounts), ",")); err != nil {
				return fmt.Errorf("read changed accounts: %w", err) // Follow reconnects, and Reload reads them all
			}
		case p == notifyCredentials:
			h.Credentials()
		case p == notifyToken:
			h.Token()
		}
	}
}
