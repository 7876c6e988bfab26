package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// follow connects the change feed. Another node's writes reach this one through
// it; until it is connected (and after it drops) this node answers 503 rather than
// serve a balance it cannot vouch for. A store no other process writes says at
// once that memory is current. follow waits up to 10 s for that.
func (a *App) follow(ctx context.Context) {
	a.eng.SetStale(true)
	fresh := make(chan struct{}, 1)
	fctx, stop := context.WithCancel(context.Background())
	a.stopFeed = stop
	go a.store.Follow(fctx, feedHandlers(a.store, a.eng, a.auth, a.token, a.log, fresh), a.log)
	waitFresh(ctx, fresh, 10*time.Second)
}

// waitFresh waits, up to max, until the change feed reports the caches current.
func waitFresh(ctx context.Context, fresh <-chan struct{}, max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-fresh:
	case <-t.C:
	case <-ctx.Done():
	}
}

// feedHandlers applies the other nodes' changes to this node's caches, and tells
// fresh each time they are current again.
func feedHandlers(store ledger.Store, eng *engine.Engine, authn *auth.Authenticator, token *auth.AdminToken, log *slog.Logger, fresh chan<- struct{}) ledger.ChangeHandlers {
	return ledger.ChangeHandlers{
		Accounts: func(ids []string) error {
			accts, err := store.AccountsByID(context.Background(), ids)
			if err != nil {
				return err // the feed drops (Lost: stale), reconnects and reloads
			}
			eng.Refresh(accts)
			return nil
		},
		Credentials: authn.Invalidate,
		Token: func() { // a setting changed: the admin token or the OAuth2 key generation
			authn.DropTokenKey()
			if err := token.Reload(context.Background()); err != nil {
				log.Warn("reload admin token", "err", err)
			}
		},
		Lost: func() {
			eng.SetStale(true)
			authn.Invalidate()
			authn.DropTokenKey()
		},
		Reload: func(ctx context.Context) error {
			accts, err := store.LoadAccounts(ctx)
			if err != nil {
				return err
			}
			holds, err := store.ActiveHolds(ctx)
			if err != nil {
				return err
			}
			eng.Refresh(accts)
			eng.RefreshHolds(holds)
			authn.Invalidate()
			authn.DropTokenKey()
			return token.Reload(ctx)
		},
		Resynced: func() {
			eng.SetStale(false)
			select {
			case fresh <- struct{}{}:
			default:
			}
		},
	}
}
