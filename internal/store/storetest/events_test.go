package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestPostgresEventCursorMissesNothing: two nodes commit events at once, in two
// currencies (so no platform row orders their batches), while a consumer follows
// the feed with a cursor. If a sequence value could commit after a larger one
// the consumer had read, the consumer would skip it; it must have read every
// event the store holds.
func TestPostgresEventCursorMissesNothing(t *testing.T) {
	u := FreshSchema(t)
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	open := postgresAt(t, u)
	n1, n2 := start(t, open, c), start(t, open, c)
	accs := []string{n1.account("eur", "EUR"), n2.account("usd", "USD")}
	ctx := context.Background()
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for i, n := range []*env{n1, n2} {
		for w := 0; w < 4; w++ {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					n.eng.Do(ctx, engine.TopUp{AccountID: accs[i], Amount: amt("1")}, nil)
				}
			}()
		}
	}
	seen := map[int64]bool{}
	var cursor int64
	read := func() {
		evs, err := n1.store.ListEvents(ctx, ledger.EventFilter{After: cursor, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			seen[ev.Seq] = true
			cursor = ev.Seq
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		read()
	}
	close(stop)
	writers.Wait()
	for before := -1; before != len(seen); {
		before = len(seen)
		read()
	}
	all := n1.events(ledger.EventFilter{Limit: 1 << 20})
	if len(all) < 100 {
		t.Fatalf("only %d events written", len(all))
	}
	missed := 0
	for _, ev := range all {
		if !seen[ev.Seq] {
			missed++
		}
	}
	if missed > 0 || len(seen) != len(all) {
		t.Fatalf("the consumer missed %d of %d events (saw %d)", missed, len(all), len(seen))
	}
	t.Logf("%d events, none missed", len(all))
}
