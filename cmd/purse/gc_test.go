package main

import "testing"

func TestGCPercentKeepsHeadroom(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, gcMax},       // nothing measured yet
		{20 << 20, 1280}, // a small store: 256 MiB of growth too
		{8 << 20, gcMax}, // never above the ceiling
		{256 << 20, 100}, // 256 MiB live: grow by as much again
		{1 << 30, 25},    // a million accounts: about 256 MiB of growth
		{8 << 30, gcMin}, // never below the floor
	} {
		if got := gcPercentFor(tt.live); got != tt.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}
