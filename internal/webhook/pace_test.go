package webhook

import (
	"testing"
	"time"
)

// TestPacerHoldsASaturatedLaneToItsRate: a lane that would post every 100 µs
// posts at SaturatedRate while the writer is saturated, after a first burst;
// the same when its sleeps overshoot to a millisecond (the time slept counts);
// and at once whenever the writer is not saturated.
func TestPacerHoldsASaturatedLaneToItsRate(t *testing.T) {
	for _, c := range []struct {
		name     string
		minSleep time.Duration // what a sleep takes at least
	}{{"exact sleeps", 0}, {"sleeps of at least 1 ms", time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			var p pacer
			now := time.Unix(1_800_000_000, 0)
			end := now.Add(time.Second)
			posts := 0
			for now.Before(end) {
				if w := p.wait(now, true, SaturatedRate); w > 0 { // the lane sleeps, then posts
					now = now.Add(max(w, c.minSleep))
				}
				posts++
				now = now.Add(100 * time.Microsecond) // the post itself
			}
			if most := saturatedBurst + SaturatedRate + 1; posts > most {
				t.Errorf("%d posts in a second while saturated, want at most %d", posts, most)
			}
			if least := SaturatedRate * 9 / 10; posts < least {
				t.Errorf("%d posts in a second while saturated, want at least %d", posts, least)
			}
		})
	}
	var p pacer
	now := time.Unix(1_800_000_000, 0)
	for i := range 10 * SaturatedRate {
		if w := p.wait(now, false, SaturatedRate); w != 0 {
			t.Fatalf("post %d while not saturated waits %v", i, w)
		}
		now = now.Add(time.Microsecond)
	}
	for i := range saturatedBurst {
		if w := p.wait(now, true, SaturatedRate); w != 0 {
			t.Fatalf("post %d of the burst when the writer becomes saturated waits %v", i, w)
		}
	}
	if w := p.wait(now, true, SaturatedRate); w <= 0 {
		t.Fatal("the post after the burst does not wait")
	}
}
