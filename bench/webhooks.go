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
	srv  *http.Server
	url  string
}

func newHookSink() (*hookSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &hookSink{url: "http://" + l.Addr().String() + "/hook"}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ Timestamp time.Time }
		if json.Unmarshal(body, &ev) == nil && !ev.Timestamp.IsZero() {
			lag := time.Since(ev.Timestamp)
			s.mu.Lock()
			s.lags = append(s.lags, lag)
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
// the receiver).
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
	without := measure(p.admin, post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, "wn"), 0)
	var hook struct{ ID string }
	if err := p.call("POST", "/v1/webhooks", `{"url":"`+sink.url+`"}`, "", &hook); err != nil {
		return err
	}
	settle()
	with := measure(p.admin, post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, "ww"), 0)
	// Let delivery catch up (bounded), so the lag counts every event of the load.
	want := int(with.rpsOf(201) * dur.Seconds())
	for deadline := time.Now().Add(30 * time.Second); sink.count() < want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	add(row{name: "W1. charges with a webhook on every event vs none (charges/s)", measured: with.rps(), ref: without.rps(), unit: "charges/s", want: 0.90,
		note: statuses(with) + fmt.Sprintf("; %d deliveries", sink.count())})
	add(row{name: "W2. webhook delivery lag p99 under that load (ms)", measured: ms(sink.p(0.99)), unit: "ms", want: 1000, absolute: true, atMost: true,
		note: fmt.Sprintf("p50 %.1f ms", ms(sink.p(0.5)))})
	return nil
}
