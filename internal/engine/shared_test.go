package engine_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/storetest"
)

// syncGate is a PostgreSQL store whose next Sync, once armed, waits until
// released: the moment a node's batch is committed, and so visible to the other
// node and its change feed, but not yet published to the node's own memory.
type syncGate struct {
	*postgres.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *syncGate) Sync() error {
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Store.Sync()
}

// TestPublishKeepsANewerRefresh: node B commits a top-up; before B publishes it,
// node A tops the account up again and B's change feed installs A's newer row.
// B's publish of its own older batch must not put the older balance back: B
// would serve it until the account next changed (TestClusterStress's node B,
// not converging within 5 s, twice in CI under load).
func TestPublishKeepsANewerRefresh(t *testing.T) {
	db := storetest.FreshSchema(t)
	ctx := context.Background()
	quiet := engine.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	open := func(st ledger.BatchStore) *engine.Engine {
		t.Helper()
		eng, err := engine.Open(ctx, st, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		return eng
	}
	sa, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	nodeA := open(sa)
	acc := createAccount(t, nodeA, "EUR")
	sb, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	gate := &syncGate{Store: sb, entered: make(chan struct{}), release: make(chan struct{})}
	nodeB := open(gate)

	gate.armed.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := nodeB.Do(ctx, engine.TopUp{AccountID: acc, Amount: 5}, nil)
		done <- err
	}()
	select {
	case <-gate.entered: // B's top-up is committed; its publish waits
	case <-time.After(10 * time.Second):
		t.Fatal("node B's batch never reached its sync")
	}
	if _, err := nodeA.Do(ctx, engine.TopUp{AccountID: acc, Amount: 7}, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := sb.AccountsByID(ctx, []string{acc}) // what B's change feed reads on A's notification
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	nodeB.Refresh(rows)
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := nodeB.Account(acc); got.Balance != rows[0].Balance || got.Version != rows[0].Version {
		t.Fatalf("node B serves balance %d (version %d); the database holds %d (version %d)",
			got.Balance, got.Version, rows[0].Balance, rows[0].Version)
	}
}
