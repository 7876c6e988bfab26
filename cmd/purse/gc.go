package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The garbage collector's target, kept near a fixed headroom.
//
// The live heap is mostly the balances in memory and requests allocate briefly, so
// the collector gets about gcHeadroom of growth between collections, or as much as
// the live heap once that is larger: GOGC = 100 × headroom / live, from 100 (Go's
// default; lower made a million-account store collect twice a second under charges)
// to 25600 (a tiny live heap still gets the whole headroom).
//
// GOGC is recomputed after every collection from the live heap it found: a value
// set for one heap size, left in force for the next, shrank the goal and made the
// runtime hand memory back and fault it in again under the next load.
//
// The headroom is 160 MiB. 64 collected about three times a second under the
// bench's overload flood, each mark 11-14 ms on two busy cores, and those marks
// made the refusals' and reads' tails (6c, 6d); 256 cost read latency where the
// kernel samples resident pages (DAMON here), which 160 did not (4a after the
// write targets). The measurements behind each number are in BENCHMARKS.md and
// its history (git log -p BENCHMARKS.md).
const (
	gcHeadroom = 160 << 20
	gcMin      = 100
	gcMax      = 25600
	gcLoading  = 1600 // while the store loads, before tuneGC runs
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

// tuneGC sets the GC percentage now and after every collection until ctx ends.
func tuneGC(ctx context.Context) {
	debug.SetGCPercent(gcPercentFor(liveHeap()))
	afterEachGC(ctx, func() { debug.SetGCPercent(gcPercentFor(liveHeap())) })
}

// afterEachGC calls f (on the runtime's finalizer goroutine) after every garbage
// collection until ctx ends: a finalizer on an object nothing references runs
// once a collection has found it unreachable, and arms the next one.
func afterEachGC(ctx context.Context, f func()) {
	type sentinel struct{ p *int } // a pointer: never tiny-allocated, so its finalizer runs
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
			if ctx.Err() == nil {
				f()
				arm()
			}
		})
	}
	arm()
}
