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

// slowEngine opens an engine whose writer can be slowed to a batch every ~20 ms
// (its clock sleeps while slow is set): far behind a few hundred eager clients.
func slowEngine(t *testing.T, opts engine.Options) (*engine.Engine, *atomic.Bool) {
	t.Helper()
	slow := new(atomic.Bool)
	opts.Now = func() time.Time {
		if slow.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		return time.Now()
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := engine.Open(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return eng, slow
}

// watchQueue samples the writer's queue until stop is closed and returns the
// deepest it saw.
func watchQueue(eng *engine.Engine, stop <-chan struct{}) <-chan int {
	deepest := make(chan int, 1)
	go func() {
		d := 0
		for {
			d = max(d, eng.QueueDepth())
			select {
			case <-stop:
				deepest <- d
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	return deepest
}

// TestOverloadShedsInsteadOfQueueing is issue #17's point 9 at the engine: with
// more requests than the writer can commit, requests queued without bound and
// every one waited. Now at most MaxInFlight requests are in the engine at once;
// one that finds no place waits up to MaxQueueDelay for one and is then refused
// with ErrOverloaded. The accepted ones commit, the refused ones change nothing
// and are not kept under their key, so the same key succeeds later.
func TestOverloadShedsInsteadOfQueueing(t *testing.T) {
	const places = 32
	eng, slow := slowEngine(t, engine.Options{MaxQueueDelay: 2 * time.Millisecond, MaxInFlight: places})
	acc := createAccount(t, eng, "EUR")

	slow.Store(true)
	var accepted, other atomic.Int64
	var mu sync.Mutex
	var shed []string
	var wg sync.WaitGroup
	stopWatch := make(chan struct{})
	deepest := watchQueue(eng, stopWatch)
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
	close(stopWatch)
	slow.Store(false)
	if len(shed) == 0 || accepted.Load() == 0 || other.Load() != 0 {
		t.Fatalf("%d accepted, %d shed, %d other errors: want some of each of the first two and none else", accepted.Load(), len(shed), other.Load())
	}
	if got := eng.Refused(); got != int64(len(shed)) {
		t.Errorf("Refused() = %d, want %d", got, len(shed))
	}
	if got := <-deepest; got > places {
		t.Errorf("the writer's queue held %d requests, want at most %d (MaxInFlight)", got, places)
	}
	t.Logf("%d accepted, %d shed", accepted.Load(), len(shed))
	// Once the load is gone, a lone request is admitted at once.
	if _, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, nil); err != nil {
		t.Fatalf("after the load: %v", err)
	}
	accepted.Add(1)
	if a, _ := eng.Account(acc); int64(a.Balance) != accepted.Load() {
		t.Errorf("balance %d, want %d: a shed request moved money, or an accepted one did not", a.Balance, accepted.Load())
	}
	res, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, &engine.Idempotency{Key: shed[0], RequestHash: "h"})
	if err != nil || res.Replayed || res.Outcome == nil || res.Outcome.Entry == nil {
		t.Errorf("a shed key retried: err %v, result %+v; want a fresh success", err, res)
	}
}

// TestOverloadWaitsForAPlace: a request that finds every place taken is not
// refused at once but waits for one, up to MaxQueueDelay. Places free a batch at
// a time; refusing a request that arrives a moment before a batch is answered
// sent its client away for a second, and under a flood left the writer idle. 8
// requests at once through 4 places, with batches ~20 ms apart, all commit when
// they may wait a second, and some are refused when they may wait 1 ms. More than
// 4 waiting would need a second batch answered within the wait: of 16, some are
// refused even when they may wait a second.
func TestOverloadWaitsForAPlace(t *testing.T) {
	for _, c := range []struct {
		name        string
		requests    int
		wait        time.Duration
		wantRefused bool
	}{
		{"a wait longer than the batches", 8, time.Second, false},
		{"a wait shorter than a batch", 8, time.Millisecond, true},
		{"more waiting than a batch frees", 16, time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			const places = 4
			eng, slow := slowEngine(t, engine.Options{MaxQueueDelay: c.wait, MaxInFlight: places})
			acc := createAccount(t, eng, "EUR")
			slow.Store(true)
			defer slow.Store(false)
			stopWatch := make(chan struct{})
			deepest := watchQueue(eng, stopWatch)
			var accepted, refused atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range c.requests {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: 1}, nil)
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, ledger.ErrOverloaded):
						refused.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			close(start)
			wg.Wait()
			close(stopWatch)
			if got, want := refused.Load() > 0, c.wantRefused; got != want {
				t.Errorf("%d accepted, %d refused: some refused %v, want %v", accepted.Load(), refused.Load(), got, want)
			}
			if got := <-deepest; got > places {
				t.Errorf("the writer's queue held %d requests, want at most %d", got, places)
			}
			if a, _ := eng.Account(acc); int64(a.Balance) != accepted.Load() {
				t.Errorf("balance %d, want %d", a.Balance, accepted.Load())
			}
		})
	}
}
