package fault

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Set is the rules in force. Its methods are safe for concurrent use.
type Set struct {
	now      func() time.Time
	log      *slog.Logger
	onInject func(listener, action string)

	mu    sync.Mutex
	rules []*rule
	next  int
	live  atomic.Int32 // len(rules): a request checks it before taking mu
}

// Options configure a Set.
type Options struct {
	// Now is the clock of the rules' expiry; nil: time.Now.
	Now func() time.Time
	// Log receives a "fault injected" line (fields fault, rule, listener, method,
	// path) for every faulted request; nil discards them.
	Log *slog.Logger
	// OnInject is called for every faulted request (purse's metrics count them).
	OnInject func(listener, action string)
}

// NewSet returns an empty Set.
func NewSet(o Options) *Set {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.OnInject == nil {
		o.OnInject = func(string, string) {}
	}
	return &Set{now: o.Now, log: o.Log, onInject: o.OnInject}
}

// Add validates spec and puts it in force after the rules already there (the
// first rule that matches a request and fires decides its fault).
func (s *Set) Add(spec Spec) (Rule, error) {
	r, err := check(spec, rand.Int64)
	if err != nil {
		return Rule{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if len(s.rules) >= MaxRules {
		return Rule{}, ledger.Invalid("body", "at most "+strconv.Itoa(MaxRules)+" fault rules may be in force; clear some")
	}
	s.next++
	r.ID = "flt_" + strconv.Itoa(s.next)
	r.CreatedAt = now.UTC().Format(time.RFC3339Nano)
	r.expires = now.Add(r.ttl)
	r.ExpiresAt = r.expires.UTC().Format(time.RFC3339Nano)
	s.rules = append(s.rules, r)
	s.live.Store(int32(len(s.rules)))
	return r.view(), nil
}

// List returns the rules in force, in the order they are tried.
func (s *Set) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(s.now())
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.view())
	}
	return out
}

// Remove ends one rule; a rule that is not in force is a NotFoundError.
func (s *Set) Remove(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(s.now())
	for i, r := range s.rules {
		if r.ID == id {
			r.dead = true
			s.rules = slices.Delete(s.rules, i, i+1)
			s.live.Store(int32(len(s.rules)))
			return nil
		}
	}
	return &ledger.NotFoundError{What: "fault rule", ID: id}
}

// Clear ends every rule and returns how many there were.
func (s *Set) Clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(s.now())
	n := len(s.rules)
	for _, r := range s.rules {
		r.dead = true
	}
	s.rules = nil
	s.live.Store(0)
	return n
}

// expire drops the rules whose TTL has passed. s.mu is held.
func (s *Set) expire(now time.Time) {
	s.rules = slices.DeleteFunc(s.rules, func(r *rule) bool {
		if !now.Before(r.expires) {
			r.dead = true
		}
		return r.dead
	})
	s.live.Store(int32(len(s.rules)))
}

// view is the rule as the API shows it. s.mu is held.
func (r *rule) view() Rule {
	v := r.Rule
	if r.Times > 0 {
		left := r.Times - r.Fired
		v.Remaining = &left
	}
	p := r.probability
	v.Probability = &p
	seed := *r.Seed
	v.Seed = &seed
	return v
}

// shot is one fault to inject: the rule's values at the moment it fired.
type shot struct {
	id, action string
	delay      time.Duration // delay: the wait, jitter drawn; slow: the pause
	spec       Spec
}

// fire decides whether a rule that matched a request faults it: it draws from
// the rule's random source (when its probability is below 1), counts the fault
// and ends a rule that has done its Times. s.mu is held.
func (s *Set) fire(r *rule) (shot, bool) {
	if r.dead {
		return shot{}, false
	}
	if r.probability < 1 && r.rng.Float64() >= r.probability {
		return shot{}, false
	}
	sh := shot{id: r.ID, action: r.Action, delay: r.delay, spec: r.Spec}
	if r.jitter > 0 {
		sh.delay += time.Duration(r.rng.Int64N(int64(r.jitter)))
	}
	r.Fired++
	if r.Times > 0 && r.Fired >= r.Times {
		r.dead = true
		s.rules = slices.DeleteFunc(s.rules, func(x *rule) bool { return x == r })
		s.live.Store(int32(len(s.rules)))
	}
	return sh, true
}
