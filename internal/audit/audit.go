// Package audit keeps the admin audit log's records on their way to the store:
// it queues them and writes them in one transaction every 100 ms, and it
// aggregates requests made without a valid admin token so that a flood of them
// cannot grow the log without bound. The admin API decides what is recorded (its
// middleware sees the request); this package decides how it is written.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Auditor records every admin action. Records are queued and written in one
// transaction every 100 ms (and on Close), so an action does not pay a second
// commit: a crash can lose the last 100 ms of records, never an action's effect,
// which is in the ledger. While the store is down, records wait (up to 100,000).
type Auditor struct {
	store ledger.AuditAppender
	log   *slog.Logger

	mu       sync.Mutex
	pending  []ledger.AuditRecord
	customer []ledger.CustomerAuditRecord // the customers' log, written with the operator's
	// Requests without a valid token, this minute, by address (see Unauthenticated).
	unauth       map[string]*unauthCount
	unauthMinute time.Time
	now          func() time.Time
	flushMu      sync.Mutex
	stop         chan struct{}
	done         chan struct{}
}

const maxPendingAudit = 100_000

// New starts an auditor writing to store.
func New(store ledger.AuditAppender, log *slog.Logger) *Auditor {
	a := &Auditor{store: store, log: log, stop: make(chan struct{}), done: make(chan struct{}),
		unauth: map[string]*unauthCount{}, now: time.Now}
	go func() {
		defer close(a.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				a.Flush(context.Background())
			case <-a.stop:
				a.mu.Lock()
				a.flushUnauthLocked() // the minute ends early: keep its counts
				a.mu.Unlock()
				a.Flush(context.Background())
				return
			}
		}
	}()
	return a
}

// Record queues one record.
func (a *Auditor) Record(r ledger.AuditRecord) {
	a.mu.Lock()
	a.pendLocked(r)
	a.mu.Unlock()
}

// unauthCount is one address's requests without a valid token in a minute: the
// first is recorded as it comes, the rest are counted.
type unauthCount struct {
	remote string // the address, or its /64, or maxUnauthAddresses' catch-all
	n      int    // after the first
}

// maxUnauthAddresses bounds the addresses counted per minute; requests from
// further ones share one count. With it, a flood of bad tokens adds at most two
// records per address and minute, for at most this many addresses.
const maxUnauthAddresses = 1000

// Unauthenticated records a request made without a valid admin token, aggregated
// per address and minute so a flood cannot grow the audit log without bound: the
// first request of a minute from an address is recorded at once, the others are
// counted and written as one record when the minute ends (or the auditor closes).
// IPv6 addresses count per /64, which one host usually holds whole.
func (a *Auditor) Unauthenticated(r ledger.AuditRecord) {
	key := r.Remote
	if ip, err := netip.ParseAddr(r.Remote); err == nil && ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		key = p.String()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rollLocked(r.At)
	if c := a.unauth[key]; c != nil {
		c.n++
		return
	}
	if len(a.unauth) >= maxUnauthAddresses {
		key = "(further addresses)"
		if c := a.unauth[key]; c != nil {
			c.n++
			return
		}
	}
	a.unauth[key] = &unauthCount{remote: key}
	a.pendLocked(r)
}

// rollLocked writes the counts of a minute that has ended by now.
func (a *Auditor) rollLocked(now time.Time) {
	minute := now.Truncate(time.Minute)
	if !minute.After(a.unauthMinute) {
		return
	}
	a.flushUnauthLocked()
	a.unauthMinute = minute
}

func (a *Auditor) flushUnauthLocked() {
	for key, c := range a.unauth {
		if c.n > 0 {
			a.pendLocked(ledger.AuditRecord{At: a.unauthMinute.Add(time.Minute).UTC(), Actor: "unauthenticated",
				Action: "unauthenticated requests (aggregated)", Remote: c.remote, Status: http.StatusUnauthorized,
				Target: fmt.Sprintf("%d more unauthenticated requests in the minute from %s", c.n, a.unauthMinute.UTC().Format("2006-01-02T15:04Z"))})
		}
		delete(a.unauth, key)
	}
}

func (a *Auditor) pendLocked(r ledger.AuditRecord) {
	if len(a.pending) >= maxPendingAudit {
		a.pending = a.pending[1:]
		a.log.Warn("audit: store unreachable for long; oldest record dropped")
	}
	a.pending = append(a.pending, r)
}

// Customer queues one record of the customers' audit log (Infobip's
// /audit/1/logs), written with the next flush like the operator's records. This
// is the one way to add to that log: code that does something to a customer's
// account that the customer should be able to read back (a sub-account change,
// a transfer) calls it with the account acted on, its main account (the parent,
// or the account itself), Infobip's Action and Item names, a description, who
// acted and from where. A record without ID or time gets them here.
func (a *Auditor) Customer(r ledger.CustomerAuditRecord) {
	if r.ID == "" {
		r.ID = ledger.NewID("aud")
	}
	if r.At.IsZero() {
		r.At = a.now().UTC()
	}
	if r.MainAccountID == "" {
		r.MainAccountID = r.AccountID
	}
	a.mu.Lock()
	if len(a.customer) >= maxPendingAudit {
		a.customer = a.customer[1:]
		a.log.Warn("audit: store unreachable for long; oldest customer record dropped")
	}
	a.customer = append(a.customer, r)
	a.mu.Unlock()
}

// Flush writes what is queued.
func (a *Auditor) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	a.rollLocked(a.now())
	recs, cust := a.pending, a.customer
	a.pending, a.customer = nil, nil
	a.mu.Unlock()
	if len(cust) > 0 {
		if err := a.store.AppendCustomerAudit(ctx, cust); err != nil {
			a.mu.Lock()
			a.customer = append(cust, a.customer...)
			a.mu.Unlock()
			a.log.Warn("audit: customer records' write failed; will retry", "records", len(cust), "err", err)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := a.store.AppendAudit(ctx, recs); err != nil {
		a.mu.Lock()
		a.pending = append(recs, a.pending...) // keep them for the next try
		a.mu.Unlock()
		a.log.Warn("audit: write failed; will retry", "records", len(recs), "err", err)
		return err
	}
	return nil
}

// Close writes what is queued and stops.
func (a *Auditor) Close() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
}
