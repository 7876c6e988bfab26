package main

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestGCPercentKeepsHeadroom(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, gcMax},         // nothing measured yet
		{20 << 20, 800},    // a small store: 160 MiB of growth
		{2 << 20, 8000},    // a tiny live heap: 160 MiB as well
		{128 << 10, gcMax}, // never above the ceiling
		{160 << 20, 100},   // 160 MiB live: grow by as much again
		{80 << 20, 200},    // 80 MiB live: 160 MiB, twice as much
		{380 << 20, gcMin}, // a million accounts: as much again as the live heap
		{8 << 30, gcMin},   // never below the floor
	} {
		if got := gcPercentFor(tt.live); got != tt.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}

// TestAfterEachGC: the callback runs after each collection, and no more once its
// context ends.
func TestAfterEachGC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	afterEachGC(ctx, func() { n.Add(1) })
	waitFor := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); n.Load() < want; {
			if time.Now().After(deadline) {
				t.Fatalf("called %d times after the collections, want %d", n.Load(), want)
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(1)
	waitFor(3)
	cancel()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	stopped := n.Load()
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := n.Load(); got > stopped+1 { // one finalizer may have been queued before cancel
		t.Errorf("called %d times after its context ended", got-stopped)
	}
}
