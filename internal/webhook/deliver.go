package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Doer sends a request (an *http.Client).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaultClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second,
		// A receiver's redirect is not followed: the signature is for its URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// saveEvery is how often a deliverer saves its cursor and log while it works
// through a backlog: a crash delivers at most this much again.
const saveEvery = 100 * time.Millisecond

// deliverer delivers one subscription's events, while it holds its lease.
type deliverer struct {
	m       *Manager
	id      string
	sub     ledger.Subscription
	leased  time.Time // when the lease was last taken or renewed (wall clock)
	log     []ledger.Delivery
	savedAt time.Time
}

func (d *deliverer) cfg() *Config { return &d.m.cfg }

func (d *deliverer) run(ctx context.Context) {
	for ctx.Err() == nil {
		if time.Since(d.leased) > d.cfg().Lease/3 { // a write: not once a page
			held, err := d.lease(ctx)
			if err != nil || !held {
				sleep(ctx, d.cfg().Lease/3)
				continue
			}
		}
		sub, err := d.cfg().Store.Subscription(ctx, d.id)
		if err != nil || !sub.Enabled {
			return // deleted or disabled: the manager starts a new one if it comes back
		}
		if sub.LeaseOwner != d.cfg().Owner { // the lease was ended (a redelivery): take it again
			d.leased = time.Time{}
			continue
		}
		d.sub = sub
		if !d.page(ctx) {
			d.leased = time.Time{}
		}
	}
}

// lease takes or renews the lease.
func (d *deliverer) lease(ctx context.Context) (bool, error) {
	now := d.cfg().Now()
	held, err := d.cfg().Store.LeaseSubscription(ctx, d.id, d.cfg().Owner, now, now.Add(d.cfg().Lease))
	if held {
		d.leased = time.Now()
	}
	return held, err
}

// page delivers the next events after the cursor, or waits for some; false when
// the subscription was disabled or the lease lost.
func (d *deliverer) page(ctx context.Context) bool {
	wake := d.cfg().Wake() // before the read: a commit after it wakes us
	head, err := d.cfg().Store.EventHead(ctx)
	var evs []ledger.Event
	if err == nil {
		evs, err = d.cfg().Store.ListEvents(ctx, ledger.EventFilter{After: d.sub.Cursor, UpTo: head, Types: d.sub.Types,
			AccountID: d.sub.AccountID, WithChildren: d.sub.WithChildren, Limit: pageSize})
	}
	if err != nil {
		d.cfg().Log.Warn("webhooks: read events", "subscription", d.id, "err", err)
		sleep(ctx, d.cfg().Poll)
		return true
	}
	for i := range evs {
		d.lag(d.cfg().Now().Sub(evs[i].At))
		if !d.deliver(ctx, &evs[i]) {
			return false
		}
	}
	// Every wanted event up to the head is delivered: the cursor moves to the
	// head, past the unwanted ones, so that the next read does not scan them again.
	moved := len(evs) > 0
	if len(evs) < pageSize && head > d.sub.Cursor {
		d.sub.Cursor, moved = head, true
	}
	if moved && !d.save(ctx) {
		return false
	}
	if len(evs) == 0 {
		d.lag(0)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(d.cfg().Poll):
		}
	}
	return true
}

// pageSize is how many events a deliverer reads at once.
const pageSize = 200

func (d *deliverer) lag(l time.Duration) {
	if d.cfg().OnLag != nil {
		d.cfg().OnLag(d.id, max(l, 0))
	}
}

// deliver sends one event until it is delivered; false when the subscription was
// disabled, the lease lost or the deliverer stopped.
func (d *deliverer) deliver(ctx context.Context, ev *ledger.Event) bool {
	body := payload(ev)
	for ctx.Err() == nil {
		if time.Since(d.leased) > d.cfg().Lease/3 {
			if held, err := d.lease(ctx); err != nil || !held {
				return false
			}
		}
		ok := d.attempt(ctx, ev, body)
		if ok {
			d.sub.Cursor, d.sub.Attempts, d.sub.FailingSince = ev.Seq, 0, time.Time{}
			if time.Since(d.savedAt) > saveEvery {
				return d.save(ctx)
			}
			return true
		}
		if !d.failed(ctx) {
			return false
		}
	}
	return false
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
		if held, err := d.lease(ctx); err != nil || !held {
			return false
		}
	}
	return ctx.Err() == nil
}

// save writes the cursor, the failure state and the log gathered since the last save.
func (d *deliverer) save(ctx context.Context) bool {
	d.sub.UpdatedAt = d.cfg().Now()
	err := d.cfg().Store.SaveDelivery(context.WithoutCancel(ctx), d.cfg().Owner, d.sub, d.log)
	if err != nil {
		if !errors.Is(err, ledger.ErrLeaseLost) {
			d.cfg().Log.Warn("webhooks: save delivery", "subscription", d.id, "err", err)
		}
		return false
	}
	d.log, d.savedAt = d.log[:0], time.Now()
	return true
}

// attempt POSTs the event once and logs the attempt.
func (d *deliverer) attempt(ctx context.Context, ev *ledger.Event, body []byte) bool {
	ts := time.Now().Unix()
	sig, err := Sign(d.sub.Secret, ev.ID, ts, body)
	if err != nil {
		return d.record(ev, 0, 0, false, err.Error())
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, d.sub.URL, bytes.NewReader(body))
	if err != nil {
		return d.record(ev, 0, 0, false, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "purse-webhooks")
	req.Header.Set("webhook-id", ev.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := d.cfg().HTTP.Do(req)
	latency := time.Since(start)
	if err != nil {
		return d.record(ev, 0, latency, false, err.Error())
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	resp.Body.Close()
	return d.record(ev, resp.StatusCode, latency, resp.StatusCode/100 == 2, string(snippet))
}

// record logs an attempt (saved with the cursor) and reports ok.
func (d *deliverer) record(ev *ledger.Event, status int, latency time.Duration, ok bool, snippet string) bool {
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
