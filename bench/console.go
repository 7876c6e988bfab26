package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

var consoleEntries = flag.Int("console-entries", 1_000_000, "entries of the console target's account (spread over 30 days)")

// seedConsole writes an account with n charges spread evenly over the 30 days
// before now (batches of 1,000 through the engine of internal/app, on a clock
// that moves), so its balance_hours rows are those of a real month.
func seedConsole(path string, n int, now time.Time) (string, error) {
	ctx := context.Background()
	start := now.Add(-30 * 24 * time.Hour)
	var clock atomic.Int64 // the engine's writer reads it, its expiry ticker too
	clock.Store(start.UnixNano())
	a, err := app.New(ctx, app.Config{DB: path, AdminToken: token, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	if err != nil {
		return "", err
	}
	defer a.Close()
	eng := a.Engine()
	r, err := eng.Do(ctx, engine.CreateAccount{Name: "Console bench", Currency: "EUR"}, nil)
	if err != nil {
		return "", err
	}
	id := r.Value.(ledger.Account).ID
	if _, err := eng.Do(ctx, engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("100000000")}, nil); err != nil {
		return "", err
	}
	batches := max(1, n/engine.MaxBatchOps)
	ops := make([]engine.Command, min(n, engine.MaxBatchOps))
	for i := range ops {
		ops[i] = engine.Charge{AccountID: id, Amount: ledger.MustParseAmount("0.001")}
	}
	for b := 0; b < batches; b++ {
		clock.Store(start.Add(time.Duration(b) * 30 * 24 * time.Hour / time.Duration(batches)).UnixNano())
		if _, err := eng.Do(ctx, engine.Batch{Ops: ops}, nil); err != nil {
			return "", err
		}
	}
	return id, nil
}

// consolePage logs in as an operator and times the account page with its 30-day
// chart: the median and the slowest of tries, from the request's start to the
// page's last byte over loopback.
func consolePage(p *purse, id string, tries int) (median, worst time.Duration, err error) {
	if err := p.call("POST", "/v1/operators", `{"name":"bench","role":"viewer","password":"bench-password"}`, "", nil); err != nil {
		return 0, 0, err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(p.admin+"/console/login", url.Values{"name": {"bench"}, "password": {"bench-password"}})
	if err != nil {
		return 0, 0, err
	}
	resp.Body.Close()
	var times []time.Duration
	for i := 0; i < tries; i++ {
		t0 := time.Now()
		resp, err := c.Get(p.admin + "/console/accounts/" + id + "?range=30d")
		if err != nil {
			return 0, 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `id="balance-chart"`) {
			return 0, 0, fmt.Errorf("account page: %d", resp.StatusCode)
		}
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], times[len(times)-1], nil
}

// consoleTarget: issue 19's "an account with 1,000,000 entries renders its page
// with a 30-day chart in under 300 ms of server time".
func consoleTarget(bin, dir string) error {
	if !want("console") {
		return nil
	}
	db := filepath.Join(dir, "console.db")
	t0 := time.Now()
	id, err := seedConsole(db, *consoleEntries, time.Now())
	if err != nil {
		return err
	}
	seeded := time.Since(t0)
	p, err := startPurse(bin, db)
	if err != nil {
		return err
	}
	defer p.stop()
	median, worst, err := consolePage(p, id, 20)
	if err != nil {
		return err
	}
	add(row{name: fmt.Sprintf("C. console account page, %d entries, 30-day chart (ms)", *consoleEntries), measured: ms(median), unit: "ms",
		want: 300, absolute: true, atMost: true, note: fmt.Sprintf("median of 20 over loopback; slowest %.1f ms; seeded in %s", ms(worst), seeded.Round(time.Second))})
	return nil
}
