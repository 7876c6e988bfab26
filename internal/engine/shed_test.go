package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// TestOverloadShedsInsteadOfQueueing is issue #17's point 9 at the engine: with
// more requests than the writer can commit, requests queued without bound and
// every one waited. With a queueing-delay target, once the head of the queue has
// waited past it for an interval, requests that would wait longer are refused at
// once with ErrOverloaded; the accepted ones commit, the refused ones change
// nothing and are not kept under their key, so the same key succeeds later.
func TestOverloadShedsInsteadOfQueueing(t *testing.T) {
	var slow atomic.Bool // a writer slowed to a batch every ~20 ms: far behind 256 eager clients
	now := func() time.Time {
		if slow.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		return time.Now()
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.Open(context.Background(), st, engine.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: now, MaxQueueDelay: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	acc := createAccount(t, eng, "EUR")

	slow.Store(true)
	var accepted, other atomic.Int64
	var mu sync.Mutex
	var shed []string
	var wg sync.WaitGroup
	stop := time.Now().Add(800 * time.Millisecond)
	for w := 0; w < 256; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				key := fmt.Sprintf("k%d-%d", w, i)
				_, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, &engine.Idempotency{Key: key, RequestHash: "h"})
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ledger.ErrOverloaded):
					mu.Lock()
					shed = append(shed, key)
					mu.Unlock()
				default:
					other.Add(1)
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	slow.Store(false)
	if len(shed) == 0 || accepted.Load() == 0 || other.Load() != 0 {
		t.Fatalf("%d accepted, %d shed, %d other errors: want some of each of the first two and none else", accepted.Load(), len(shed), other.Load())
	}
	t.Logf("%d accepted, %d shed", accepted.Load(), len(shed))
	// The overload is over once the delay has stayed low for an interval; a
	// lone request is never shed meanwhile.
	for deadline := time.Now().Add(5 * time.Second); eng.Shedding(); time.Sleep(time.Millisecond) {
		if _, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, nil); err != nil {
			t.Fatalf("after the load: %v", err)
		}
		accepted.Add(1)
		if time.Now().After(deadline) {
			t.Fatal("still shedding 5 s after the load")
		}
	}
	if a, _ := eng.Account(acc); int64(a.Balance) != accepted.Load() {
		t.Errorf("balance %d, want %d: a shed request moved money, or an accepted one did not", a.Balance, accepted.Load())
	}
	res, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, &engine.Idempotency{Key: shed[0], RequestHash: "h"})
	if err != nil || res.Replayed || res.Outcome == nil || res.Outcome.Entry == nil {
		t.Errorf("a shed key retried: err %v, result %+v; want a fresh success", err, res)
	}
}
