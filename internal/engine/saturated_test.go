package engine_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestSaturatedOnlyUnderALoad: requests one at a time never saturate the
// writer, unless they are bulk requests of gatherAfter operations or more; 64 at
// once do, and the writer stops being saturated soon after they end. Webhook deliveries slow down while it is (internal/webhook/pace.go), so a
// false "saturated" would slow them for nothing and a missing one would let
// them take the charges' processor time.
func TestSaturatedOnlyUnderALoad(t *testing.T) {
	st, eng := open(t, filepath.Join(t.TempDir(), "purse.db"))
	defer st.Close()
	defer eng.Close()
	ctx := context.Background()
	acc := createAccount(t, eng, "EUR")
	topUp := func() error {
		_, err := eng.Do(ctx, engine.TopUp{AccountID: acc, Amount: ledger.MustParseAmount("1")}, nil)
		return err
	}
	for i := range 30 {
		if err := topUp(); err != nil {
			t.Fatal(err)
		}
		if eng.Saturated() {
			t.Fatalf("saturated after %d top-ups made one at a time", i+1)
		}
	}

	// One bulk request at a time: each of its operations counts.
	ops := make([]engine.Command, 10)
	for i := range ops {
		ops[i] = engine.TopUp{AccountID: acc, Amount: ledger.MustParseAmount("1")}
	}
	var sawBulk atomic.Bool
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // the window is 20 ms from the batch's start; the answer comes after its sync
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if eng.Saturated() {
				sawBulk.Store(true)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for range 5 {
		if _, err := eng.Do(ctx, engine.Batch{Ops: ops}, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-watched
	if !sawBulk.Load() {
		t.Error("five bulk requests of ten top-ups each, one at a time, never saturated the writer")
	}
	for end := time.Now().Add(5 * time.Second); eng.Saturated(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("still saturated 5 s after the bulk requests")
		}
	}

	var saw atomic.Bool
	var failed atomic.Int32
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for range 64 {
		wg.Go(func() {
			for !saw.Load() && time.Now().Before(deadline) {
				if err := topUp(); err != nil {
					failed.Add(1)
					return
				}
				if eng.Saturated() {
					saw.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d top-ups failed", failed.Load())
	}
	if !saw.Load() {
		t.Fatal("64 connections' top-ups for 10 s never saturated the writer")
	}
	for end := time.Now().Add(5 * time.Second); eng.Saturated(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("still saturated 5 s after the load ended")
		}
	}
}
