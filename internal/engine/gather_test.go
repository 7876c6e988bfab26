package engine

import (
	"testing"
	"time"
)

// TestGatherWaitsOnlyWhenBusy: the writer waits for more requests only after a
// batch of at least gatherAfter, and never once a batch is large already; a
// request that finds the writer idle is taken at once.
func TestGatherWaitsOnlyWhenBusy(t *testing.T) {
	for _, c := range []struct {
		previous, queued int
		want             time.Duration
	}{
		{0, 1, 0},
		{1, 1, 0},
		{gatherAfter - 1, 5, 0},
		{gatherAfter, 1, gatherFor},
		{500, gatherUpTo - 1, gatherFor},
		{500, gatherUpTo, 0},
		{500, 1024, 0},
	} {
		if got := gatherWait(c.previous, c.queued); got != c.want {
			t.Errorf("gatherWait(%d, %d) = %v, want %v", c.previous, c.queued, got, c.want)
		}
	}
}
