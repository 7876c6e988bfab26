package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The garbage collector's target, kept near a fixed headroom.
//
// Requests allocate briefly and the live heap is mostly the balances in memory, so
// the collector is given about gcHeadroom of growth between collections, or as much
// as the live heap itself once that is larger: GOGC = 100 × headroom / live, between
// 100 (Go's default) and 25600. On a small store (a few MiB live) that makes
// collections rare; each one takes a core's quarter for a while and shows in the read
// latency's tail (p99 at half the peak rate went from 6–10 ms to 3–4 ms when the
// ceiling rose from 400 to 1600). With a million accounts (a live heap near a
// gigabyte then) GOGC=400 let the heap grow by four gigabytes before collecting, and
// every allocation in between took memory never touched before: page faults and
// zeroing cost a third of a balance read's CPU. The floor was 25 after that; with the
// live heap down to ~380 MiB it meant a collection every ~95 MiB allocated, twice a
// second under a charge load, each marking the whole heap: charges on the million-
// account store took 78-95 µs of CPU against 64-72 µs with the floor at 100 (same
// store, alternating runs), for ~300 MiB more resident (700 -> 980 MiB, under target
// 5b's 1.5 GiB).
//
// GOGC is recomputed after every collection, from the live heap it found. A
// percentage set for one live heap is wrong for the next: set every 5 s, a busy
// spell's value (live 20 MiB, GOGC 1280) outlived it, the goal shrank to a third
// once the live heap fell back to 5 MiB, and the runtime returned the difference
// to the OS page by page, then faulted it back in under the next load: the read
// p99 at half the peak rate after the write targets was 7-20 ms against 3-4 ms
// without them. For the same reason the ceiling lets a live heap of a quarter MiB
// have the whole headroom.
//
// The headroom is 64 MiB, not more, because resident memory costs latency where
// the kernel samples memory: on this machine DAMON (kdamond, a pageout scheme,
// sampling every 0.5 s) stalls the processes whose pages it samples, and purse's
// stalls were the longer, the more memory it had resident. With 256 MiB of
// headroom the read p99 after the write targets was 9.4-12.9 ms, with 64 MiB
// 7.1-8.4 ms, and 2.4 ms with DAMON switched off for one run; reads alone and
// their throughput did not change (BENCHMARKS.md).
const (
	gcHeadroom = 64 << 20
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
