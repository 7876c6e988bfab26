package webhook

import "time"

// Pacing. Deliveries are background work: while this node's writer is
// saturated (Config.Saturated), the processor time a lane spends posting,
// and its receiver's when that runs here too, is taken from the charges. A
// lane then delivers at most SaturatedRate events a second, and catches up
// at full speed once the peak has passed. Measured on W1 of the benchmark (one
// account charged as fast as 64 connections go, a receiver on loopback
// answering at once): a lane posting flat out delivered ~40% of the events
// while the charges ran and cost them 10-14%; one held to about a thousand a
// second (a receiver answering after 1 ms) delivered 4% and cost 0-3%.
//
// SaturatedRate is what a receiver answering in half a millisecond allows
// anyway; one nearer may be held to it. It is per lane, so events spread over
// accounts (Config.Lanes of them at once) go that much faster, and per
// subscription: each subscription's lanes keep to it on their own. An
// account's events never go faster than its lane.
const (
	SaturatedRate  = 2000 // events a second, a lane, while the writer is saturated [Config.SaturatedRate]
	saturatedBurst = 20   // what a lane may send at once when the writer becomes saturated
)

// pacer is a lane's token bucket, used only while the writer is saturated.
type pacer struct {
	tokens float64
	at     time.Time
}

// wait is how long the lane waits before its next delivery, which it counts.
// Time slept counts to the bucket, so a sleep that overshoots (timers are
// coarse under a millisecond) does not slow the lane below the rate.
func (p *pacer) wait(now time.Time, saturated bool, rate float64) time.Duration {
	if !saturated {
		p.tokens, p.at = saturatedBurst, now
		return 0
	}
	// A lane never paced before has a zero at: the longest gap, a full bucket.
	p.tokens = min(saturatedBurst, p.tokens+now.Sub(p.at).Seconds()*rate)
	p.at = now
	p.tokens--
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / rate * float64(time.Second))
}
