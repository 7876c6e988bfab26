package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The garbage collector's target, kept near a fixed headroom.
//
// Requests allocate briefly and the live heap is mostly the balances in memory, so
// the collector is given about gcHeadroom of growth between collections, whatever
// the live heap: GOGC = 100 × headroom / live, between 25 and 1600. On a small
// store (tens of MiB live) that makes collections rare; each one takes a core's
// quarter for a while and shows in the read latency's tail (p99 at half the peak
// rate went from 6–10 ms to 3–4 ms when the ceiling rose from 400 to 1600). With a
// million accounts (a live heap near a gigabyte) GOGC=400 let the heap grow by four
// gigabytes before collecting, and every allocation in between took memory never
// touched before: page faults and zeroing cost a third of a balance read's CPU.
const (
	gcHeadroom = 256 << 20
	gcMin      = 25
	gcMax      = 1600
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
