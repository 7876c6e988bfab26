package engine_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// plugged is an engine whose writer can be held still while requests queue, so
// that a test knows which requests share one batch.
type plugged struct {
	st      *sqlite.Store
	eng     *engine.Engine
	plug    atomic.Bool
	entered chan struct{} // the writer reached the plug
	release chan struct{}
	mu      sync.Mutex
	sizes   []int // committed batches' sizes
}

func openPlugged(t *testing.T) *plugged {
	t.Helper()
	p := &plugged{entered: make(chan struct{}, 1), release: make(chan struct{})}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time {
		if p.plug.CompareAndSwap(true, false) {
			p.entered <- struct{}{}
			<-p.release
		}
		return time.Now()
	}
	eng, err := engine.Open(context.Background(), st, engine.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
		OnBatch: func(n int, _ time.Duration) { p.mu.Lock(); p.sizes = append(p.sizes, n); p.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	p.st, p.eng = st, eng
	t.Cleanup(func() { eng.Close(); st.Close() })
	return p
}

// oneBatch runs cmds as one batch: the writer is held on a first request while
// they queue, then let go. It returns each command's result and error.
func (p *plugged) oneBatch(t *testing.T, cmds []engine.Command, idems []*engine.Idempotency) ([]engine.Result, []error) {
	t.Helper()
	p.plug.Store(true)
	go p.eng.Do(context.Background(), engine.CreateAccount{Name: "plug", Currency: "EUR"}, nil)
	<-p.entered
	res, errs := make([]engine.Result, len(cmds)), make([]error, len(cmds))
	var wg sync.WaitGroup
	for i := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var idem *engine.Idempotency
			if idems != nil {
				idem = idems[i]
			}
			res[i], errs[i] = p.eng.Do(context.Background(), cmds[i], idem)
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); p.eng.QueueDepth() < len(cmds); {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests queued", p.eng.QueueDepth(), len(cmds))
		}
		time.Sleep(time.Millisecond)
	}
	p.mu.Lock()
	p.sizes = nil
	p.mu.Unlock()
	p.release <- struct{}{}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sizes) < 2 || p.sizes[1] != len(cmds) {
		t.Errorf("committed batches %v: the %d requests did not commit as one batch", p.sizes, len(cmds))
	}
	return res, errs
}

// TestOverflowFailsOnlyTheRequestThatOverflows is issue #17's point 4: a request
// that would take an account (a platform account above all) out of the range of
// an Amount is refused on its own with ErrAmountOutOfRange, a final answer kept
// under its key, and every other request of its batch commits. Before, the
// platform account's settlement overflowed after the batch was applied and the
// whole batch was dropped: every request in it answered 503, the offender's
// retry included, which could never succeed.
func TestOverflowFailsOnlyTheRequestThatOverflows(t *testing.T) {
	big := ledger.Amount(9_000_000_000_000 * 1_000_000) // purse top-up $ACC 9000000000000
	maxMinus := ledger.Amount(math.MaxInt64)
	for _, c := range []struct {
		name  string
		setup func(usd1, usd2 string) []engine.Command
		bad   func(usd1, usd2 string) engine.Command
	}{
		{"a top-up past the funding account's range", func(usd1, _ string) []engine.Command {
			return []engine.Command{engine.TopUp{AccountID: usd1, Amount: big}}
		}, func(_, usd2 string) engine.Command { return engine.TopUp{AccountID: usd2, Amount: big} }},
		{"an adjustment past the funding account's range", func(usd1, _ string) []engine.Command {
			return []engine.Command{engine.TopUp{AccountID: usd1, Amount: big}}
		}, func(_, usd2 string) engine.Command { return engine.Adjust{AccountID: usd2, Amount: big, Reason: "r"} }},
		{"a charge past the revenue account's range", func(usd1, usd2 string) []engine.Command {
			return []engine.Command{
				engine.UpdateAccount{ID: usd1, AllowedMinus: &maxMinus}, engine.UpdateAccount{ID: usd2, AllowedMinus: &maxMinus},
				engine.Charge{AccountID: usd1, Amount: big},
			}
		}, func(_, usd2 string) engine.Command { return engine.Charge{AccountID: usd2, Amount: big} }},
		{"a top-up past the customer's range", func(usd1, _ string) []engine.Command {
			return []engine.Command{engine.TopUp{AccountID: usd1, Amount: big}}
		}, func(usd1, _ string) engine.Command { return engine.TopUp{AccountID: usd1, Amount: big} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := openPlugged(t)
			usd1, usd2 := createAccount(t, p.eng, "USD"), createAccount(t, p.eng, "USD")
			eur := createAccount(t, p.eng, "EUR")
			for _, cmd := range c.setup(usd1, usd2) {
				if _, err := p.eng.Do(context.Background(), cmd, nil); err != nil {
					t.Fatalf("setup %T: %v", cmd, err)
				}
			}
			before := map[string]ledger.Amount{}
			for _, id := range []string{usd1, usd2} {
				a, _ := p.eng.Account(id)
				before[id] = a.Balance
			}
			// The offender among unrelated EUR top-ups, all in one batch, the
			// offender with a key: its refusal is final, and a retry gets it again.
			const unrelated = 64
			cmds := []engine.Command{c.bad(usd1, usd2)}
			idems := []*engine.Idempotency{{Key: "overflow", RequestHash: "h"}}
			for i := 0; i < unrelated; i++ {
				cmds = append(cmds, engine.TopUp{AccountID: eur, Amount: 1})
				idems = append(idems, nil)
			}
			res, errs := p.oneBatch(t, cmds, idems)
			for i, err := range errs[1:] {
				if err != nil {
					t.Errorf("unrelated request %d: %v", i, err)
				}
			}
			if errs[0] != nil || res[0].Outcome == nil || res[0].Outcome.Refusal == nil {
				t.Fatalf("offender: err %v, result %+v; want a refusal kept as its outcome", errs[0], res[0])
			}
			if got, want := res[0].Outcome.Refusal.Code, ledger.RefusedAmountOutOfRange; got != want {
				t.Errorf("offender refused with %q, want %q", got, want)
			}
			if err := res[0].Outcome.Refusal.Err(); !errors.Is(err, ledger.ErrAmountOutOfRange) {
				t.Errorf("offender's refusal is %v, want ErrAmountOutOfRange", err)
			}
			again, err := p.eng.Do(context.Background(), cmds[0], idems[0])
			if err != nil || !again.Replayed || again.Outcome == nil || again.Outcome.Refusal == nil ||
				again.Outcome.Refusal.Code != ledger.RefusedAmountOutOfRange {
				t.Errorf("retry with the key: err %v, result %+v; want the stored refusal replayed", err, again)
			}
			// Without a key the refusal is the error itself.
			if _, err := p.eng.Do(context.Background(), cmds[0], nil); !errors.Is(err, ledger.ErrAmountOutOfRange) {
				t.Errorf("without a key: err = %v, want ErrAmountOutOfRange", err)
			}
			if a, _ := p.eng.Account(eur); a.Balance != unrelated {
				t.Errorf("EUR balance %d, want %d: the unrelated requests did not all commit", a.Balance, unrelated)
			}
			for _, id := range []string{usd1, usd2} {
				if a, _ := p.eng.Account(id); a.Balance != before[id] {
					t.Errorf("%s: balance %d, want %d: the refused request moved money", id, a.Balance, before[id])
				}
			}
			p.eng.Close()
			checkInvariants(t, p.st)
		})
	}
}
