package engine

import (
	"container/heap"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Pipelining. A store's batch commits are visible at once but durable only after
// Sync (ledger.BatchStore), which makes every commit made before it durable. The
// engine therefore pipelines: the writer commits batch after batch without waiting
// for the disk, and a second goroutine syncs and then publishes and acknowledges
// every batch committed before that sync began. One fsync thus covers several
// batches, and the writer's CPU work overlaps the disk's. Nothing changes for
// clients: a request is acknowledged, and readers see its effect, only once it is
// durable. The writer applies the next batch on top of the committed-but-not-yet-
// durable ones through the staged overlay below.

// maxInFlight is how many committed batches may wait for the syncer beyond the one
// it is syncing. Zero: the writer hands a batch over only when the syncer is free,
// so while one batch reaches the disk the next is built, and requests arriving
// meanwhile gather into it. Deeper pipelines (tried up to 64) made batches smaller
// and every request dearer in CPU, which is what this machine runs out of first.
const maxInFlight = 0

// committed is a batch waiting for its sync.
type committed struct {
	t     *txn
	batch []*request
	resps []response
}

// stage makes a committed batch's changes the writer's view until it is published.
// Only the writer calls it.
func (e *Engine) stage(t *txn) {
	e.stagedMu.Lock()
	for id, a := range t.accounts {
		e.stagedAccounts[id] = a
	}
	for id, h := range t.holds {
		e.stagedHolds[id] = h
	}
	e.stagedMu.Unlock()
}

// unstage drops a published batch's changes from the overlay, unless a later
// batch changed the same row again. Called after publish, so a reader of the
// overlay that misses finds the row published.
func (e *Engine) unstage(t *txn) {
	e.stagedMu.Lock()
	for id, a := range t.accounts {
		if e.stagedAccounts[id] == a {
			delete(e.stagedAccounts, id)
		}
	}
	for id, h := range t.holds {
		if e.stagedHolds[id] == h {
			delete(e.stagedHolds, id)
		}
	}
	e.stagedMu.Unlock()
}

// headAccount is the newest committed state of an account: staged, else published.
func (e *Engine) headAccount(id string) (*ledger.Account, bool) {
	return head(e, e.stagedAccounts, &e.accounts, id)
}

// headHold is the newest committed state of a hold that memory knows: staged (any
// status), else active and published. ok is false for holds only the store knows.
func (e *Engine) headHold(id string) (*ledger.Hold, bool) {
	return head(e, e.stagedHolds, &e.holds, id)
}

// head looks id up in the staged overlay, then in published memory (read under
// e.mu: RefreshHolds replaces the map itself).
func head[V any](e *Engine, staged map[string]*V, published *map[string]*V, id string) (*V, bool) {
	e.stagedMu.Lock()
	v, ok := staged[id]
	e.stagedMu.Unlock()
	if ok {
		return v, true
	}
	e.mu.RLock()
	v, ok = (*published)[id]
	e.mu.RUnlock()
	return v, ok
}

// track puts the holds a batch created on the expiry heap. Only the writer calls
// it (the heap is the writer's), before the batch is staged or published.
func (e *Engine) track(t *txn) {
	for id, h := range t.holds {
		if h.Status != ledger.HoldActive {
			continue
		}
		if _, known := e.headHold(id); !known {
			heap.Push(&e.expiries, expiry{at: h.ExpiresAt, id: id})
		}
	}
}

// syncLoop makes committed batches durable, then publishes and acknowledges them in
// commit order. What a failed sync means depends on who holds the truth
// (rows.syncFailed): a local file's stops the process, a shared store's answers
// the batches 503.
func (e *Engine) syncLoop() {
	defer close(e.synced)
	for c := range e.pipe {
		group := []committed{c}
	more:
		for {
			select {
			case c2, ok := <-e.pipe:
				if !ok {
					break more
				}
				group = append(group, c2)
			default:
				break more
			}
		}
		if err := e.store.Sync(); err != nil {
			e.rows.syncFailed(group, err)
			continue
		}
		events := false
		for _, g := range group {
			e.publish(g.t)
			e.unstage(g.t)
			e.ack(g.batch, g.resps)
			events = events || g.t.hasEvents
		}
		if events {
			e.wakeEventReaders()
		}
	}
}

// ack answers every request of a batch.
func (e *Engine) ack(batch []*request, resps []response) {
	for i, r := range batch {
		if p := resps[i].replayOf; p != nil {
			resps[i] = response{res: Result{Outcome: p.outcome, Replayed: true}}
		}
		e.answer(r, resps[i])
	}
}
