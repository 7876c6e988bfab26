package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The garbage collector's target, kept near a fixed headroom.
//
// Requests allocate briefly and the live heap is mostly the balances in memory. A
// high GC percentage (400) makes collections rare while that heap is small; with a
// million accounts (a live heap near a gigabyte) it would let the heap grow by four
// gigabytes before collecting, and every allocation in between would take memory
// never touched before: page faults and zeroing cost a third of the CPU of a
// balance read. So the percentage is set for about gcHeadroom of growth between
// collections, between 25 and 400, and adjusted as the live heap changes.
const (
	gcHeadroom = 256 << 20
	gcMin      = 25
	gcMax      = 400
)

// gcPercentFor is the GC percentage that gives a live heap of live bytes about
// gcHeadroom to grow into.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return gcMax
	}
	return int(max(gcMin, min(gcMax, 100*gcHeadroom/live)))
}

// liveHeap is the heap marked live by the last collection, or, before any, the
// bytes of all heap objects.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 && x.Value.Uint64() > 0 {
			return x.Value.Uint64()
		}
	}
	return 0
}

// tuneGC sets the GC percentage now and every few seconds until ctx ends.
func tuneGC(ctx context.Context) {
	debug.SetGCPercent(gcPercentFor(liveHeap()))
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			debug.SetGCPercent(gcPercentFor(liveHeap()))
		}
	}
}
