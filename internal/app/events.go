package app

import (
	"context"
	"sync"
	"time"
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

// events is the background work on the outbox: pruning (and the webhooks'
// deliverers). It stops with the App.
type events struct {
	stop context.CancelFunc
	wg   sync.WaitGroup
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
}

func (a *App) stopEvents() {
	if a.events != nil {
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

// PruneEvents deletes the events older than retention now (the prune loop's one
// round; tests call it with an injected clock).
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
			return total
		}
	}
	return total
}
