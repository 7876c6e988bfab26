package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one load run measured.
type result struct {
	requests int64
	elapsed  time.Duration
	statuses map[int]int64
	lat      []time.Duration         // a sample of latencies
	latBy    map[int][]time.Duration // the same sample by status
	// lag is, at a fixed rate, how late each request left the load generator
	// after it could have: after its due time (from which its latency counts) or
	// the previous answer on its connection, whichever came last. It is the
	// generator's own share of the latency, on processors it shares with purse.
	lag []time.Duration
}

// pOf is the q-quantile of the sampled latencies of answers with that status.
func (r result) pOf(status int, q float64) time.Duration {
	return result{lat: r.latBy[status]}.p(q)
}

// rpsOf is how many answers a second had that status.
func (r result) rpsOf(status int) float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.statuses[status]) / r.elapsed.Seconds()
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func (r result) p(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), r.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}

// request builds the bytes of one HTTP/1.1 request; n numbers the request within
// its connection (warmUp for the one sent before the clock starts), conn the
// connection.
type request func(conn, n int) []byte

const warmUp = 1 << 30

// load drives addr with conns keep-alive connections for d, as fast as they go
// (rate 0), or at rate requests per second in all (open loop: latency counts from
// when a request was due, so a stall is not hidden). It speaks HTTP/1.1 over raw
// sockets: a lean client, so the server, not the generator, is what is measured.
// Every connection is opened and has had one request answered (not counted)
// before the clock starts: what is measured is a steady population of keep-alive
// clients, not 64 TCP handshakes and the server's first-request set-up.
func load(addr string, conns int, d time.Duration, rate float64, mk request) (result, error) {
	return loadRamp(addr, conns, 0, d, rate, mk, nil, nil)
}

// pace is when the next request is due: now in a closed loop (rate 0); in an open
// loop, the next slot of the connection's schedule, slept until.
func pace(rate float64, next *time.Time, interval time.Duration) time.Time {
	if rate <= 0 {
		return time.Now()
	}
	if wait := time.Until(*next); wait > 0 {
		time.Sleep(wait)
	}
	due := *next
	*next = next.Add(interval)
	return due
}

// backOff sleeps the client's back-off after an answer of status, if it has one. A
// client that would next send after the measured time is done: sleeping on would
// stretch the time that the requests counted are divided by (a Retry-After of
// 1-1.5 s made 5 s of charges count as 6.5 s).
func backOff(pause func(status int) time.Duration, status int, deadline time.Time) {
	if pause == nil {
		return
	}
	if p := pause(status); p > 0 {
		time.Sleep(min(p, max(0, time.Until(deadline))))
	}
}

// dialWarm opens connection c and has one request answered on it (not counted).
func dialWarm(addr string, c int, mk request) (net.Conn, *bufio.Reader, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	if _, err = nc.Write(mk(c, warmUp)); err == nil {
		_, err = readResponse(br)
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, br, nil
}

// loadRamp is load that runs for ramp before it starts counting (a steady state,
// not its onset, is measured), and calls started, if given, when its connections
// are open and the load begins. pause, if given, is how long a connection waits
// after an answer with that status before its next request (a client's back-off;
// not counted in any latency).
func loadRamp(addr string, conns int, ramp, d time.Duration, rate float64, mk request, started func(), pause func(status int) time.Duration) (result, error) {
	var total atomic.Int64
	var mu sync.Mutex
	res := result{statuses: map[int]int64{}, latBy: map[int][]time.Duration{}}
	var wg, ready sync.WaitGroup
	errc := make(chan error, conns)
	var start, counting, deadline time.Time
	go1 := make(chan struct{})
	for c := 0; c < conns; c++ {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			nc, br, err := dialWarm(addr, c, mk)
			ready.Done()
			if err != nil {
				errc <- err
				return
			}
			defer nc.Close()
			<-go1
			statuses := map[int]int64{}
			var lat, lag []time.Duration
			var answered time.Time // the previous answer on this connection
			latBy := map[int][]time.Duration{}
			var interval time.Duration
			if rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(conns) / rate)
			}
			next := time.Now().Add(time.Duration(c) * interval / time.Duration(conns))
			for n := 0; ; n++ {
				due := pace(rate, &next, interval)
				if time.Now().After(deadline) {
					break
				}
				sent := time.Now()
				late := sent.Sub(latest(due, answered))
				if _, err := nc.Write(mk(c, n)); err != nil {
					errc <- err
					return
				}
				status, err := readResponse(br)
				if err != nil {
					errc <- err
					return
				}
				answered = time.Now()
				l := answered.Sub(due)
				backOff(pause, status, deadline)
				if ramp > 0 && due.Before(counting) {
					continue
				}
				statuses[status]++
				total.Add(1)
				if rate > 0 || n%16 == 0 {
					lat = append(lat, l)
					latBy[status] = append(latBy[status], l)
				}
				if rate > 0 {
					lag = append(lag, late)
				}
			}
			mu.Lock()
			for k, v := range statuses {
				res.statuses[k] += v
			}
			res.lat = append(res.lat, lat...)
			res.lag = append(res.lag, lag...)
			for k, v := range latBy {
				res.latBy[k] = append(res.latBy[k], v...)
			}
			mu.Unlock()
		}()
	}
	ready.Wait()
	start = time.Now()
	counting = start.Add(ramp)
	deadline = counting.Add(d)
	close(go1)
	if started != nil {
		started()
	}
	wg.Wait()
	res.elapsed = time.Since(counting)
	res.requests = total.Load()
	select {
	case err := <-errc:
		return res, err
	default:
	}
	return res, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// readResponse reads one response with a Content-Length body and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("short status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length := 0
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 16 && bytes.EqualFold(h[:15], []byte("Content-Length:")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(h[15:])))
		}
	}
	if _, err := br.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

// get is a GET request with an Authorization header.
func get(path, authz string) request {
	b := []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nAuthorization: " + authz + "\r\nAccept: application/json\r\n\r\n")
	return func(int, int) []byte { return b }
}

// post is a POST with a fresh Idempotency-Key per request.
func post(path, token, body, keyPrefix string) request {
	head := "POST " + path + " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nIdempotency-Key: "
	return func(c, n int) []byte {
		b := make([]byte, 0, len(head)+len(body)+48)
		b = append(b, head...)
		b = append(b, keyPrefix...)
		b = strconv.AppendInt(b, int64(c), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, "\r\n\r\n"...)
		return append(b, body...)
	}
}
