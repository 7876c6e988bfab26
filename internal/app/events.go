package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/webhook"
)

// DefaultEventRetention is how long events are kept (the 7 days): long
// enough for a webhook receiver that was down over a weekend to catch up from the
// feed, short enough that the outbox stays a small share of the store.
const DefaultEventRetention = 7 * 24 * time.Hour

// pruneEvery is how often old events are pruned, and pruneBatch how many go in
// one transaction at most (a short write on SQLite's one writer connection).
const (
	pruneEvery = time.Minute
	pruneBatch = 5000
)

// events is the background work on the outbox: pruning and the webhooks'
// deliverers. It stops with the App.
type events struct {
	stop     context.CancelFunc
	wg       sync.WaitGroup
	webhooks *webhook.Manager
}

// WebhookOptions tune webhook delivery; zero values are webhook.Config's
// defaults (retries from 100 ms doubling to 1 h, disabled after failing 72 h).
type WebhookOptions struct {
	RetryBase, RetryMax, DisableAfter, Poll time.Duration
	// Lease is how long a node holds a subscription's lease (30 s): another node
	// takes over a dead node's subscriptions that long after its last renewal.
	Lease time.Duration
}

// now is the App's clock.
func (a *App) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

func (a *App) startEvents() {
	ctx, stop := context.WithCancel(context.Background())
	a.events = &events{stop: stop}
	a.events.wg.Add(1)
	go func() {
		defer a.events.wg.Done()
		a.pruneLoop(ctx)
	}()
	m := a.metrics
	o := a.cfg.Webhooks
	// On an exclusive store this process is the only deliverer there can be: a
	// fixed name lets it take its leases back at once after a crash.
	owner := "local"
	if a.store.Shared() {
		owner = ledger.NewID("node")
	}
	a.events.webhooks = webhook.Start(webhook.Config{Store: a.store, Owner: owner, Now: a.now, Wake: a.eng.EventsCommitted, Saturated: a.eng.Saturated,
		Log: a.log, RetryBase: o.RetryBase, RetryMax: o.RetryMax, DisableAfter: o.DisableAfter, Poll: o.Poll, Lease: o.Lease,
		Disabled: a.subscriptionDisabled,
		OnDelivery: func(ok bool) {
			if ok {
				m.Deliveries.WithLabelValues("delivered").Inc()
			} else {
				m.Deliveries.WithLabelValues("failed").Inc()
			}
		},
		OnBehind:   m.Behind,
		OnStopped:  m.Forget,
		OnDisabled: func(n int) { m.Disabled.Set(float64(n)) },
		OnPaced:    func(d time.Duration) { m.Paced.Add(d.Seconds()) },
	})
}

// subscriptionDisabled records a subscription disabled for failing too long: a
// subscription.disabled event (through the writer, so in commit order) and an
// audit record.
func (a *App) subscriptionDisabled(ctx context.Context, s ledger.Subscription) {
	data, _ := json.Marshal(map[string]any{"subscriptionId": s.ID, "url": s.URL, "reason": s.DisabledReason, "attempts": s.Attempts})
	if _, err := a.eng.Do(ctx, engine.Emit{Type: ledger.EventSubscriptionDisabled, AccountID: s.AccountID, Data: string(data)}, nil); err != nil {
		a.log.Warn("webhooks: record a disabled subscription", "subscription", s.ID, "err", err)
	}
	if a.audit != nil {
		a.audit.Record(ledger.AuditRecord{At: a.now(), Actor: "purse", Action: "webhook.disabled", Target: s.ID, Status: 0})
	}
	a.log.Warn("webhooks: subscription disabled", "subscription", s.ID, "reason", s.DisabledReason)
}

func (a *App) stopEvents() {
	if a.events != nil {
		a.events.webhooks.Stop()
		a.events.stop()
		a.events.wg.Wait()
		a.events = nil
	}
}

// pruneLoop deletes events older than the retention, never anything of the
// ledger, every pruneEvery, in transactions of at most pruneBatch events.
func (a *App) pruneLoop(ctx context.Context) {
	retention := a.cfg.EventRetention
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		a.PruneEvents(ctx, retention)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneEvents deletes the events older than retention now and the delivery log
// with them, and forgets rotated-out webhook secrets whose overlap has ended
// (the prune loop's one round; tests call it with an injected clock).
func (a *App) PruneEvents(ctx context.Context, retention time.Duration) int {
	before := a.now().Add(-retention)
	total := 0
	for ctx.Err() == nil {
		n, err := a.store.PruneEvents(ctx, before, pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("prune events", "err", err)
			}
			return total
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	// A rotated-out secret is kept only for its overlap (docs/operations.md).
	if _, err := a.store.ForgetEndedSecrets(ctx, a.now()); err != nil && ctx.Err() == nil {
		a.log.Warn("forget ended webhook secrets", "err", err)
	}
	// The webhooks' delivery log goes with the events it is about.
	for ctx.Err() == nil {
		n, err := a.store.PruneDeliveries(ctx, before, pruneBatch)
		if err != nil || n < pruneBatch {
			if err != nil && ctx.Err() == nil {
				a.log.Warn("prune webhook deliveries", "err", err)
			}
			break
		}
	}
	return total
}
