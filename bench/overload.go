package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	floodConns  = flag.Int("flood", 2000, "overload: keep-alive connections charging one account")
	readRate    = flag.Float64("read-rate", 2000, "overload: balance reads a second, on their own connections, during the flood")
	maxDelay    = flag.String("max-queue-delay", "", "overload: purse serve --max-queue-delay (default: purse's own)")
	floodRamp   = 2 * time.Second // the flood runs this long before it is measured
	readConns   = 32
	withoutShed = flag.Bool("unshed", true, "overload: also run the flood against a purse that never sheds (--max-queue-delay 0), and one of clients that ignore Retry-After, for comparison")
)

// retryAfter is how the flood's clients treat a 503: they wait the Retry-After
// they were given (purse says 1 s) with full jitter, from half to one and a half
// times it, as a client library with back-off does. Clients that resend at once
// are measured too, for comparison (ignoreRetryAfter): with 2,000 of them and no
// pause, Little's law fixes their mean time per answer at 2,000 divided by the
// answers a second the machine can give, whatever the server does.
func retryAfter(status int) time.Duration {
	if status != 503 {
		return 0
	}
	return time.Duration((0.5 + rand.Float64()) * float64(time.Second))
}

func ignoreRetryAfter(int) time.Duration { return 0 }

// overloadTargets are issue #17's point 9: 2,000 connections charging one account
// with fresh keys, while balance reads go on at a steady rate on other connections.
// Accepted charges must keep near the rate 64 connections get from the same purse
// in the same run, and their latency; refusals must be quick; reads must not queue
// behind writes; memory must stay bounded.
func overloadTargets(bin, dir string) error {
	if !want("overload") {
		return nil
	}
	raiseOpenFiles(2*(*floodConns+readConns) + 256)
	var extra []string
	if *maxDelay != "" {
		extra = append(extra, "--max-queue-delay", *maxDelay)
	}
	fmt.Printf("overload: %d connections charging one account, %.0f balance reads/s on %d more; measured after %v of flood\n",
		*floodConns, *readRate, readConns, floodRamp)
	p, err := startPurse(bin, filepath.Join(dir, "overload.db"), append([]string{"--demo"}, extra...)...)
	if err != nil {
		return err
	}
	acc := p.account("hot")
	p.topUp(acc, "1000000000")
	// Each run its own keys: a key used twice would be a replay, not a charge.
	charge := func(prefix string) request {
		return post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, prefix)
	}
	settle()
	st := p.engineStats()
	base := measureConns(p.admin, 64, charge("b"), 0)
	baseEngine := p.engineStats().since(st)
	flood, reads, rss, engine := floodWithReads(p, charge("f"), retryAfter)
	var rude result
	if *withoutShed {
		settle()
		rude, _, _, _ = floodWithReads(p, charge("r"), ignoreRetryAfter)
	}
	p.stop()

	shedNote := fmt.Sprintf("%.0f refused/s", flood.rpsOf(503))
	add(row{name: "6a. overload: accepted charges/s, 2,000 conns vs 64", measured: flood.rpsOf(201), ref: base.rps(), unit: "charges/s", want: 0.80,
		note: statuses(flood) + "; " + shedNote + engine + "; with 64 connections" + strings.TrimPrefix(baseEngine, ";")})
	add(row{name: "6b. overload: p99 of accepted charges (ms)", measured: ms(flood.pOf(201, 0.99)), unit: "ms", want: 50, absolute: true, atMost: true,
		note: fmt.Sprintf("p50 %.2f ms; with 64 connections p50 %.2f ms, p99 %.2f ms", ms(flood.pOf(201, 0.5)), ms(base.p(0.5)), ms(base.p(0.99)))})
	add(row{name: "6c. overload: p99 of refused charges, 503 (ms)", measured: ms(flood.pOf(503, 0.99)), unit: "ms", want: 5, absolute: true, atMost: true,
		note: fmt.Sprintf("p50 %.2f ms", ms(flood.pOf(503, 0.5)))})
	add(row{name: "6d. overload: p99 balance read during the flood (ms)", measured: ms(reads.p(0.99)), unit: "ms", want: 10, absolute: true, atMost: true,
		note: fmt.Sprintf("%.0f reads/s offered; p50 %.2f ms; %s; sent late by the load generator: p50 %.2f ms, p99 %.2f ms",
			*readRate, ms(reads.p(0.5)), statuses(reads), ms(result{lat: reads.lag}.p(0.5)), ms(result{lat: reads.lag}.p(0.99)))})
	add(row{name: "6e. overload: purse's peak resident memory (MiB)", measured: rss.peak, unit: "MiB", want: 512, absolute: true, atMost: true,
		note: fmt.Sprintf("%.0f MiB before the flood, %.0f MiB after it", rss.before, rss.after)})

	if *withoutShed {
		fmt.Printf("%-58s %s\n", "   for comparison, clients that ignore Retry-After:",
			fmt.Sprintf("%.0f charges/s, p50 %.1f ms, p99 %.1f ms; refused p50 %.1f ms, p99 %.1f ms [%s]",
				rude.rpsOf(201), ms(rude.pOf(201, 0.5)), ms(rude.pOf(201, 0.99)), ms(rude.pOf(503, 0.5)), ms(rude.pOf(503, 0.99)), statuses(rude)))
		settle()
		q, err := startPurse(bin, filepath.Join(dir, "unshed.db"), "--demo", "--max-queue-delay", "0")
		if err != nil {
			return err
		}
		acc := q.account("hot")
		q.topUp(acc, "1000000000")
		charge := post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, "u")
		f, r, m, _ := floodWithReads(q, charge, retryAfter)
		q.stop()
		fmt.Printf("%-58s %s\n", "   for comparison, the same flood without shedding:",
			fmt.Sprintf("%.0f charges/s, p50 %.1f ms, p99 %.1f ms; reads p99 %.2f ms; peak RSS %.0f MiB [%s]",
				f.rpsOf(201), ms(f.pOf(201, 0.5)), ms(f.pOf(201, 0.99)), ms(r.p(0.99)), m.peak, statuses(f)))
	}
	return nil
}

type rssFigures struct{ before, peak, after float64 }

// floodWithReads runs the flood of charges and, once it has ramped up, the
// balance reads beside it; it samples purse's resident memory all the while.
func floodWithReads(p *purse, charge request, pause func(int) time.Duration) (flood, reads result, rss rssFigures, engine string) {
	rss.before = p.rssMiB()
	// The writer's batches and the processors used, over the measured time.
	var stats sync.WaitGroup
	var statsFrom, statsTo engineStats
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if m := p.rssMiB(); m > rss.peak {
				rss.peak = m
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	started := func() {
		stats.Add(1)
		time.AfterFunc(floodRamp, func() {
			profileFor("flood-"+p.admin, *dur)
			statsFrom = p.engineStats()
			time.AfterFunc(*dur, func() { statsTo = p.engineStats(); stats.Done() })
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			reads, err = readsBeside(p.public)
			if err != nil {
				fmt.Println("  read load error:", err)
			}
		}()
	}
	var err error
	flood, err = loadRamp(trim(p.admin), *floodConns, floodRamp, *dur, 0, charge, started, pause)
	if err != nil {
		fmt.Println("  flood load error:", err)
	}
	wg.Wait()
	stats.Wait()
	close(stop)
	sampler.Wait()
	rss.after = p.rssMiB()
	return flood, reads, rss, statsTo.since(statsFrom)
}

// readsBeside runs the balance reads in a process of their own (this program,
// with -reads-from): in the flood's process they waited for its 2,000 goroutines,
// and their requests left up to 12-20 ms late (p99), which counted as purse's
// latency. A reader is a client of its own, not one of the flood's.
func readsBeside(public string) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-reads-from", trim(public), "-d", dur.String(), "-read-rate", fmt.Sprint(*readRate))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r readFigures
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, err
	}
	return result{requests: r.Requests, elapsed: r.Elapsed, statuses: r.Statuses, lat: r.Lat, latBy: map[int][]time.Duration{}, lag: r.Lag}, nil
}

// readFigures is what the reads' process reports.
type readFigures struct {
	Requests int64
	Elapsed  time.Duration
	Statuses map[int]int64
	Lat, Lag []time.Duration
}

// readsChild is the reads' process: they start once the flood's connections are
// open (when it is started) and are measured over the flood's measured time, less
// a second at the end.
func readsChild(addr string) error {
	r, err := loadRamp(addr, readConns, floodRamp, *dur-time.Second, *readRate, get("/account/1/balance", docAuth), nil, nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(readFigures{Requests: r.requests, Elapsed: r.elapsed, Statuses: r.statuses, Lat: r.lat, Lag: r.lag})
}

func trim(url string) string { return url[len("http://"):] }

// raiseOpenFiles lifts this process's open-file limit to n where the hard limit
// allows (purse, a Go program, lifts its own to its hard limit).
func raiseOpenFiles(n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur >= uint64(n) {
		return
	}
	lim.Cur = min(uint64(n), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(n) {
		fmt.Printf("  open files limited to %d, %d wanted: raise the hard limit (ulimit -Hn)\n", lim.Cur, n)
	}
}
