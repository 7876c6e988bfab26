package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handlers receive the changes other nodes announce (and this node's own, which
// are harmless to apply twice).
type Handlers struct {
	Accounts    func(ids []string) // accounts changed
	Credentials func()             // a user or API key changed
	Token       func()             // the admin token changed
	// Lost is called when the feed drops: the node can no longer know its caches
	// are current. Resynced is called once it listens again, after Reload.
	Lost     func()
	Reload   func(ctx context.Context) error // reload every cache from the store
	Resynced func()
}

// Follow listens on the change feed until ctx ends, on a connection of its own,
// reconnecting (and reloading every cache) whenever the connection drops.
func (s *Store) Follow(ctx context.Context, h Handlers, log *slog.Logger) {
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

func (s *Store) listen(ctx context.Context, h Handlers, connected func()) error {
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
			h.Accounts(strings.Split(strings.TrimPrefix(p, notifyAccounts), ","))
		case p == notifyCredentials:
			h.Credentials()
		case p == notifyToken:
			h.Token()
		}
	}
}
