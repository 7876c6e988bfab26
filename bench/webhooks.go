package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// hookSink is the webhook receiver of the webhooks target: it answers 204 at once
// and keeps each delivery's lag, from the event's commit (its "timestamp") to
// its arrival.
type hookSink struct {
	mu   sync.Mutex
	lags []time.Duration
	seen map[string]bool // webhook-ids
	dups int
	srv  *http.Server
	url  string
}

func newHookSink() (*hookSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &hookSink{url: "http://" + l.Addr().String() + "/hook", seen: map[string]bool{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ Timestamp time.Time }
		if json.Unmarshal(body, &ev) == nil && !ev.Timestamp.IsZero() {
			lag := time.Since(ev.Timestamp)
			id := r.Header.Get("webhook-id")
			s.mu.Lock()
			if s.seen[id] {
				s.dups++
			} else {
				s.seen[id] = true
				s.lags = append(s.lags, lag)
			}
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go s.srv.Serve(l)
	return s, nil
}

func (s *hookSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lags)
}

// reset forgets the lags measured so far.
func (s *hookSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lags, s.dups = s.lags[:0], 0
}

func (s *hookSink) duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

func (s *hookSink) p(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lags) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), s.lags...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

// webhookTargets: hot-account charges with one webhook subscription on every
// event against none, in the same run on the same store (issue #16: >= 0.90), and
// the delivery lag's p99 under that load (the age of an event when it reaches
// the receiver); then the lag with the charges spread over 64 accounts, which
// the deliverer's lanes deliver at once.
func webhookTargets(bin, dir string) error {
	if !want("webhooks") {
		return nil
	}
	p, err := startPurse(bin, filepath.Join(dir, "hooks.db"))
	if err != nil {
		return err
	}
	defer p.stop()
	sink, err := newHookSink()
	if err != nil {
		return err
	}
	defer sink.srv.Close()
	acc := p.account("hooked")
	p.topUp(acc, "1000000000")
	phase := 0
	charge := func() request { // fresh Idempotency-Keys each phase: a key used before is a replay
		phase++
		return post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, fmt.Sprintf("w%d-", phase))
	}
	measure(p.admin, charge(), 0) // warm-up: the first phase would otherwise pay for a new store
	// Alternately without and with a subscription, three times each, keeping the
	// best of each (as pair does): one run of each swung by 0.3 with the machine.
	var with, without result
	delivered := 0
	for i := 0; i < 3; i++ {
		settle()
		if r := measure(p.admin, charge(), 0); r.rps() > without.rps() {
			without = r
		}
		n, err := subscribed(p, sink, func() result {
			r := measure(p.admin, charge(), 0)
			if r.rps() > with.rps() {
				with = r
			}
			return r
		})
		if err != nil {
			return err
		}
		delivered += n
	}
	add(row{name: "W1. charges with a webhook on every event vs none (charges/s)", measured: with.rps(), ref: without.rps(), unit: "charges/s", want: 0.90,
		note: statuses(with) + fmt.Sprintf("; %d events delivered in the three runs with it, %d twice", delivered, sink.duplicates())})
	add(row{name: "W2. webhook delivery lag p99, one hot account (ms)", measured: ms(sink.p(0.99)), unit: "ms", info: true,
		note: fmt.Sprintf("p50 %.1f ms; an account's events go one at a time, in order", ms(sink.p(0.5)))})

	// The same load spread over 64 accounts, one per connection mod 64.
	accs := make([]string, 64)
	for i := range accs {
		accs[i] = p.account(fmt.Sprintf("spread%d", i))
		p.topUp(accs[i], "1000000000")
	}
	spreadCharge := func(prefix string) request { // connection c charges account c mod 64
		each := make([]request, len(accs))
		for i, a := range accs {
			each[i] = post("/v1/accounts/"+a+"/charges", token, `{"amount":"0.000001"}`, prefix)
		}
		return func(c, n int) []byte { return each[c%len(each)](c, n) }
	}
	sink.reset()
	settle()
	bare := measure(p.admin, spreadCharge("s1-"), 0)
	settle()
	var spread result
	if _, err := subscribed(p, sink, func() result { spread = measure(p.admin, spreadCharge("s2-"), 0); return spread }); err != nil {
		return err
	}
	add(row{name: "W3. webhook delivery lag p99, 64 accounts (ms)", measured: ms(sink.p(0.99)), unit: "ms", want: 1000, absolute: true, atMost: true,
		note: fmt.Sprintf("p50 %.1f ms; %.0f charges/s, and %.0f without the subscription; %s", ms(sink.p(0.5)), spread.rps(), bare.rps(), statuses(spread))})
	return nil
}

// subscribed runs load with a subscription on every event, waits (bounded) until
// the receiver has every event the load made, deletes the subscription, and
// returns how many deliveries arrived.
func subscribed(p *purse, sink *hookSink, load func() result) (int, error) {
	var hook struct{ ID string }
	if err := p.call("POST", "/v1/webhooks", `{"url":"`+sink.url+`"}`, "", &hook); err != nil {
		return 0, err
	}
	before := sink.count()
	r := load()
	want := before + int(r.rpsOf(201)*r.elapsed.Seconds())
	for deadline := time.Now().Add(60 * time.Second); sink.count() < want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.call("DELETE", "/v1/webhooks/"+hook.ID, "", "", nil); err != nil {
		return 0, err
	}
	return sink.count() - before, nil
}
