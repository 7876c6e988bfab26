package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Doer sends a request (an *http.Client).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaultClient(lanes int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Each lane keeps its connection to a receiver between deliveries (net/http
	// keeps 2 per host by default, and would dial the others again each time).
	t.MaxIdleConnsPerHost = max(lanes, 2)
	return &http.Client{Timeout: attemptTimeout, Transport: t,
		// A receiver's redirect is not followed: the signature is for its URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// saveEvery is how often, at most, a deliverer saves its cursor and log: a
// crash delivers at most this much again.
const saveEvery = 100 * time.Millisecond

// unsavedLogMax bounds the delivery log held between saves. Saving every
// saveEvery keeps it to about a page or a tenth of a second of deliveries; only
// a store that refuses saves (a full disk), while the deliverer delivers the
// same events again from the stored cursor, would grow it without end. Past the
// bound the oldest half goes, counted in the log (a variable for the tests).
var unsavedLogMax = 10_000

// saveTimeout bounds a save, so that a stop never waits long on a store that
// hangs: what it did not save is delivered again.
const saveTimeout = 5 * time.Second

// deliverer delivers one subscription's events, while it holds its lease.
type deliverer struct {
	m       *Manager
	id      string
	sub     ledger.Subscription // read-only while a round's lanes run
	savedAt time.Time
	dirty   bool       // the cursor moved or the log grew since the last save
	current bool       // sub's cursor and failures are this deliverer's, newer than the stored
	target  *url.URL   // sub.URL, parsed
	direct  bool       // deliveries go on lanes' own connections, not through Config.HTTP
	lanes   []laneConn // each lane's connection, kept between rounds

	mu      sync.Mutex // guards what the lanes share: the lease and the log
	leased  time.Time  // when the lease was last taken or renewed (wall clock)
	lost    bool       // a renewal failed: the lease is another's, or a redelivery ended it
	log     []ledger.Delivery
	dropped int // log lines let go since the last save (unsavedLogMax)
}

func (d *deliverer) cfg() *Config { return &d.m.cfg }

func (d *deliverer) run(ctx context.Context) {
	d.lanes = make([]laneConn, d.cfg().Lanes)
	defer func() {
		if d.dirty && d.current { // what was delivered since the last save
			d.save(ctx)
		}
		d.stopped()
		for i := range d.lanes {
			d.lanes[i].close()
		}
	}()
	for ctx.Err() == nil {
		if !d.holdLease(ctx) { // a write: not once a page
			// Lost, or ended by a redelivery: go on from the stored state, under a
			// lease taken anew if no other node holds one.
			d.drop()
			if !d.holdLease(ctx) {
				sleep(ctx, d.cfg().Lease/3)
				continue
			}
		}
		wake := d.cfg().Wake() // before the reads: a commit after them wakes us
		head, err := d.cfg().Store.EventHead(ctx)
		if err != nil {
			d.cfg().Log.Warn("webhooks: read events", "subscription", d.id, "err", err)
			sleep(ctx, d.cfg().Poll)
			continue
		}
		switch d.refresh(ctx) {
		case subGone:
			return // deleted or disabled: the manager starts a new one if it comes back
		case leaseEnded:
			d.drop()
			continue
		}
		if !d.page(ctx, wake, head) {
			d.drop()
		}
	}
}

// What refresh found.
const (
	subRead    = iota // the subscription, read
	subGone           // deleted or disabled
	leaseEnded        // its lease ended (a redelivery)
)

// refresh reads the subscription, after the page's head (run): an operator's
// change, disable or redelivery. The order matters for a change of filter: an
// event committed after it is above a head read before the subscription was, so
// it is not passed over (nor sent) by a page read with the old filter, which
// moves the cursor past what that filter does not want. One read by primary key
// a page; reading it every 100 ms instead let a filter go stale for that long.
func (d *deliverer) refresh(ctx context.Context) int {
	sub, err := d.cfg().Store.Subscription(ctx, d.id)
	if err != nil || !sub.Enabled {
		return subGone
	}
	if sub.LeaseOwner != d.cfg().Owner { // the lease was ended: take it again
		return leaseEnded
	}
	if d.current { // the progress since the last save is newer than the stored
		sub.Cursor, sub.Attempts, sub.FailingSince = d.sub.Cursor, d.sub.Attempts, d.sub.FailingSince
	}
	d.sub, d.current = sub, true
	d.aim()
	return subRead
}

// drop forgets the lease and the progress not saved: the stored state, written
// by a redelivery or another node meanwhile, is the one to go on from.
func (d *deliverer) drop() {
	d.leased, d.current, d.lost = time.Time{}, false, false
	d.stopped() // until it is delivered here again, if it is
}

// holdLease takes the lease, or renews it when a third of it has passed; false
// when another node holds it or (renewing) it was lost or ended by a
// redelivery, which the round's lanes then see in d.lost. The lanes call it
// before each attempt.
func (d *deliverer) holdLease(ctx context.Context) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lost {
		return false
	}
	if !d.leased.IsZero() && time.Since(d.leased) <= d.cfg().Lease/3 {
		return true
	}
	now := d.cfg().Now()
	if !d.leased.IsZero() {
		now = ledger.RenewOnly
	}
	held, err := d.cfg().Store.LeaseSubscription(ctx, d.id, d.cfg().Owner, now, d.cfg().Now().Add(d.cfg().Lease))
	if held && err == nil {
		d.leased = time.Now()
		return true
	}
	d.lost = !d.leased.IsZero()
	return false
}

// page delivers the next events after the cursor up to head, or waits for some
// (until wake, taken before head was read); false when the subscription was
// disabled or the lease lost.
func (d *deliverer) page(ctx context.Context, wake <-chan struct{}, head int64) bool {
	evs, err := d.cfg().Store.ListEvents(ctx, ledger.EventFilter{After: d.sub.Cursor, UpTo: head, Types: d.sub.Types,
		AccountID: d.sub.AccountID, WithChildren: d.sub.WithChildren, Limit: pageSize})
	if err != nil {
		d.cfg().Log.Warn("webhooks: read events", "subscription", d.id, "err", err)
		sleep(ctx, d.cfg().Poll)
		return true
	}
	if len(evs) > 0 {
		d.behind(evs[0].At)
		if !d.deliver(ctx, evs) {
			return false
		}
	}
	// Every wanted event up to the head is delivered: the cursor moves to the
	// head, past the unwanted ones, so that the next read does not scan them again.
	d.dirty = d.dirty || len(evs) > 0
	if len(evs) < pageSize && head > d.sub.Cursor {
		d.sub.Cursor, d.dirty = head, true
	}
	// The cursor and log are saved at most every saveEvery, working or waiting:
	// a deliverer keeping up with the commits (each lane caught up, the common
	// case) that saved before each wait would write and sync once for every batch
	// the engine commits. What is not saved yet is saved once saveEvery has
	// passed, while waiting for more, or as the deliverer stops (run).
	if d.dirty && time.Since(d.savedAt) >= saveEvery && !d.save(ctx) {
		return false
	}
	if len(evs) == 0 {
		d.behind(time.Time{})
		for i := range d.lanes { // not kept half-closed through a long quiet spell
			if d.lanes[i].c != nil && time.Since(d.lanes[i].used) > idleTimeout {
				d.lanes[i].close()
			}
		}
		wait := d.cfg().Poll
		if d.dirty {
			wait = min(wait, saveEvery-time.Since(d.savedAt))
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(wait):
		}
	}
	return true
}

// pageSize is how many events a deliverer reads at once.
const pageSize = 200

// behind reports the oldest event not yet delivered (zero: caught up); the
// metric's lag is its age when scraped.
func (d *deliverer) behind(oldest time.Time) {
	if d.cfg().OnBehind != nil {
		d.cfg().OnBehind(d.id, oldest)
	}
}

func (d *deliverer) stopped() {
	if d.cfg().OnStopped != nil {
		d.cfg().OnStopped(d.id)
	}
}

// deliver delivers a page of events, retrying the failed ones, until all are
// delivered; false when the subscription was disabled, the lease lost or the
// deliverer stopped. The cursor moves up to the first event not yet delivered.
func (d *deliverer) deliver(ctx context.Context, evs []ledger.Event) bool {
	rest := evs
	for ctx.Err() == nil {
		head := rest[0].Seq
		rest = d.round(ctx, rest)
		if len(rest) == 0 {
			d.sub.Cursor, d.sub.Attempts, d.sub.FailingSince = evs[len(evs)-1].Seq, 0, time.Time{}
			return true
		}
		if first := rest[0].Seq; first > evs[0].Seq {
			d.sub.Cursor = d.before(evs, first)
		}
		d.behind(rest[0].At)
		// The oldest undelivered event went through: this failure is a new one,
		// and the backoff starts again. Counted by rounds instead, a receiver
		// refusing one request in 200 at random made every page's round fail,
		// and the waits doubled to minutes while each round delivered hundreds.
		if rest[0].Seq > head {
			d.sub.Attempts, d.sub.FailingSince = 0, time.Time{}
		}
		switch {
		case ctx.Err() != nil: // stopping: count no failure; what was delivered is saved below
			continue
		case d.lost:
			return false
		case !d.failed(ctx):
			return false
		}
	}
	d.save(ctx) // stopping: keep what this page and earlier ones delivered
	return false
}

// before is the sequence of the event of evs just before seq.
func (d *deliverer) before(evs []ledger.Event, seq int64) int64 {
	i := sort.Search(len(evs), func(i int) bool { return evs[i].Seq >= seq })
	return evs[i-1].Seq
}

// round attempts each event once, in lanes that run at once: an account's
// events all go to one lane, in sequence order, and a lane stops at its first
// failure, so an account's events reach the receiver in order while a hot or
// failing account holds up only its lane. It returns the events not delivered,
// in sequence order.
func (d *deliverer) round(ctx context.Context, evs []ledger.Event) []ledger.Event {
	failed := make([]bool, len(evs))
	run := func(lane int, idx []int) {
		for k, i := range idx {
			if w := d.lanes[lane].pace.wait(time.Now(), d.cfg().Saturated(), d.cfg().SaturatedRate); w > 0 {
				slept := time.Now()
				sleep(ctx, w)
				d.cfg().OnPaced(time.Since(slept)) // what it took: timers overshoot
			}
			if ctx.Err() != nil || !d.holdLease(ctx) || !d.attempt(ctx, &evs[i], &d.lanes[lane]) {
				for _, j := range idx[k:] {
					failed[j] = true
				}
				return
			}
		}
	}
	// An account's lane is the same whatever the page holds (Lane with the
	// configured count), so that it keeps its connection, and Lane says which.
	byLane := make([][]int, len(d.lanes))
	var busy []int // the lanes with events
	for i := range evs {
		l := Lane(evs[i].AccountID, len(d.lanes))
		if len(byLane[l]) == 0 {
			busy = append(busy, l)
		}
		byLane[l] = append(byLane[l], i)
	}
	if len(busy) == 1 { // no goroutine for a page of one lane
		run(busy[0], byLane[busy[0]])
	} else {
		var wg sync.WaitGroup
		for _, lane := range busy {
			wg.Go(func() { run(lane, byLane[lane]) })
		}
		wg.Wait()
	}
	var rest []ledger.Event
	for i := range evs {
		if failed[i] {
			rest = append(rest, evs[i])
		}
	}
	return rest
}

// Lane is the lane, of lanes, that an account's events go in: FNV-1a of its id.
func Lane(account string, lanes int) int {
	h := uint32(2166136261)
	for i := 0; i < len(account); i++ {
		h = (h ^ uint32(account[i])) * 16777619
	}
	return int(h % uint32(lanes))
}

// failed counts a failed attempt, saves it, and waits before the next one; false
// when the subscription has failed too long and is now disabled.
func (d *deliverer) failed(ctx context.Context) bool {
	now := d.cfg().Now()
	d.sub.Attempts++
	if d.sub.FailingSince.IsZero() {
		d.sub.FailingSince = now
	}
	if now.Sub(d.sub.FailingSince) >= d.cfg().DisableAfter {
		d.sub.Enabled = false
		d.sub.DisabledReason = "failing since " + d.sub.FailingSince.UTC().Format(time.RFC3339) + ", " + strconv.Itoa(d.sub.Attempts) + " attempts"
		if d.save(ctx) && d.cfg().Disabled != nil {
			d.cfg().Disabled(ctx, d.sub)
		}
		return false
	}
	if !d.save(ctx) {
		return false
	}
	wait := d.cfg().backoff(d.sub.Attempts)
	for wait > 0 && ctx.Err() == nil { // renew the lease through a long wait
		step := min(wait, d.cfg().Lease/3)
		sleep(ctx, step)
		wait -= step
		if !d.holdLease(ctx) {
			return false
		}
	}
	return ctx.Err() == nil && d.retarget(ctx)
}

// retarget takes up, before a retry, the URL and secrets an operator may have
// changed meanwhile (fixing the URL of a receiver that is down, most often):
// the page's retries would otherwise go on to the old ones until the page is
// delivered. False when the subscription is gone, disabled, its lease ended, or
// its filter changed: the page ends, and the next one, read from the saved
// cursor with the new filter, leaves out what the operator took out (a failing
// account's events, say). A store that fails to answer changes nothing: the
// retry goes to the target it had.
func (d *deliverer) retarget(ctx context.Context) bool {
	sub, err := d.cfg().Store.Subscription(ctx, d.id)
	if errors.Is(err, ledger.ErrNotFound) {
		return false
	}
	if err != nil {
		d.cfg().Log.Warn("webhooks: read subscription", "subscription", d.id, "err", err)
		return true
	}
	if !sub.Enabled || sub.LeaseOwner != d.cfg().Owner || sub.AccountID != d.sub.AccountID ||
		sub.WithChildren != d.sub.WithChildren || !slices.Equal(sub.Types, d.sub.Types) {
		return false
	}
	d.sub.URL, d.sub.Secret, d.sub.PreviousSecret, d.sub.PreviousUntil = sub.URL, sub.Secret, sub.PreviousSecret, sub.PreviousUntil
	d.aim()
	return true
}

// save writes the cursor, the failure state and the log gathered since the last save.
func (d *deliverer) save(ctx context.Context) bool {
	d.sub.UpdatedAt = d.cfg().Now()
	// A save outlives a stop (it keeps what was delivered), but not by long.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	err := d.cfg().Store.SaveDelivery(sctx, d.cfg().Owner, d.sub, d.log)
	if d.dropped > 0 && err == nil {
		d.cfg().Log.Warn("webhooks: delivery log lines lost while saves failed", "subscription", d.id, "lines", d.dropped)
		d.dropped = 0
	}
	if err != nil {
		if !errors.Is(err, ledger.ErrLeaseLost) {
			d.cfg().Log.Warn("webhooks: save delivery", "subscription", d.id, "err", err, "unsaved_log_lines", len(d.log))
			// The deliverer goes on from the stored state and comes back here: a
			// store that refuses every save is tried every Poll, not in a loop.
			sleep(ctx, d.cfg().Poll)
		}
		return false
	}
	d.log, d.savedAt, d.dirty = d.log[:0], time.Now(), false
	return true
}

// attempt POSTs the event once, on the lane's connection, and logs the attempt.
func (d *deliverer) attempt(ctx context.Context, ev *ledger.Event, lane *laneConn) bool {
	m := message{id: ev.ID, timestamp: time.Now().Unix(), body: payload(ev)}
	sig, err := lane.signer.sign(d.sub.Secret, m.id, m.timestamp, m.body)
	if err == nil && d.sub.PreviousSecret != "" && d.cfg().Now().Before(d.sub.PreviousUntil) {
		// Rotated: the secret it replaced signs too, until the overlap ends.
		var previous string
		previous, err = lane.previous.sign(d.sub.PreviousSecret, m.id, m.timestamp, m.body)
		sig += " " + previous
	}
	if err != nil {
		return d.record(ev, 0, 0, false, err.Error())
	}
	m.signature = sig
	start := time.Now()
	a, err := d.send(ctx, lane, &m)
	latency := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return false // stopped: not the receiver's failure
	}
	if err != nil {
		return d.record(ev, 0, latency, false, err.Error())
	}
	return d.record(ev, a.status, latency, a.status/100 == 2, string(a.snippet))
}

// send posts m on the lane's connection; through Config.HTTP instead when one
// was given or the environment names a proxy for the URL (HTTPS_PROXY and the
// like, which net/http's client honours).
func (d *deliverer) send(ctx context.Context, lane *laneConn, m *message) (answer, error) {
	if d.target == nil {
		return answer{}, errors.New("webhook: the subscription's URL does not parse")
	}
	if d.direct {
		return lane.post(ctx, d.target, m, d.cfg().TLS)
	}
	rctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, d.target.String(), bytes.NewReader(m.body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "purse-webhooks")
	req.Header.Set("webhook-id", m.id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(m.timestamp, 10))
	req.Header.Set("webhook-signature", m.signature)
	doer := d.cfg().HTTP
	if doer == nil {
		doer = d.cfg().proxied
	}
	resp, err := doer.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	return answer{status: resp.StatusCode, snippet: snippet}, nil
}

// aim parses the subscription's URL when it changed, and decides whether its
// deliveries go on the lanes' own connections; when they no longer do, the
// lanes' connections close now rather than idle out. It runs between rounds,
// when no lane is at work.
func (d *deliverer) aim() {
	if d.target != nil && d.target.String() == d.sub.URL {
		return
	}
	d.target, d.direct = nil, false
	u, err := url.Parse(d.sub.URL)
	if err != nil {
		return
	}
	d.target = u
	if d.cfg().HTTP == nil {
		proxy, err := d.cfg().proxy(u)
		d.direct = err == nil && proxy == nil
	}
	if !d.direct {
		for i := range d.lanes {
			d.lanes[i].close()
		}
	}
}

// record logs an attempt (saved with the cursor) and reports ok.
func (d *deliverer) record(ev *ledger.Event, status int, latency time.Duration, ok bool, snippet string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.log) >= unsavedLogMax { // saves keep failing: the oldest half goes
		half := max(len(d.log)/2, 1)
		d.log, d.dropped = append(d.log[:0], d.log[half:]...), d.dropped+half
	}
	d.log = append(d.log, ledger.Delivery{SubscriptionID: d.id, EventID: ev.ID, EventSeq: ev.Seq, Attempt: d.sub.Attempts + 1,
		At: d.cfg().Now(), Status: status, Latency: latency, OK: ok, Snippet: cleanSnippet(snippet)})
	if d.cfg().OnDelivery != nil {
		d.cfg().OnDelivery(ok)
	}
	return ok
}

// cleanSnippet keeps a response's start as text that is safe to store and show:
// at most 200 bytes of valid UTF-8 without control characters.
func cleanSnippet(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 200 {
			break
		}
		switch {
		case r == utf8.RuneError, r < 0x20, r >= 0x7f && r < 0xa0:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// payload is what a delivery POSTs: Standard Webhooks' {"type","timestamp","data"}
// with the event's id, sequence and account beside them.
func payload(ev *ledger.Event) []byte {
	b := make([]byte, 0, len(ev.Data)+256)
	b = append(b, `{"type":"`...)
	b = append(b, ev.Type...)
	b = append(b, `","timestamp":"`...)
	b = ev.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","id":`...)
	b = strconv.AppendQuote(b, ev.ID) // ids are ASCII letters, digits, '_' and '-'
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, ev.Seq, 10)
	b = append(b, `,"accountId":`...)
	b = strconv.AppendQuote(b, ev.AccountID)
	if ev.ParentID != "" {
		b = append(b, `,"parentId":`...)
		b = strconv.AppendQuote(b, ev.ParentID)
	}
	b = append(b, `,"data":`...)
	b = append(b, ev.Data...)
	return append(b, '}')
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
