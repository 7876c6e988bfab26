// Package webhook delivers events to webhook subscriptions, outside the writer:
// a deliverer per subscription reads the stored events after the subscription's
// cursor, a page at a time, and POSTs them signed as Standard Webhooks specifies.
// A page's events go out in lanes that run at once (Config.Lanes); an account's
// events share a lane and go one at a time in sequence order, so each account's
// arrive in order. A failed event is retried with exponential backoff and jitter
// until it succeeds or the subscription has failed for longer than DisableAfter;
// the later events of its lane wait for it, the page's other lanes are
// delivered, and the next page waits for the retry. A receiver that is down
// holds up only its own subscription. While the writer is saturated, each lane
// keeps to SaturatedRate (pace.go): the charges come first.
//
// Delivery is at least once: the cursor is saved after the events it covers were
// delivered, so a crash delivers the events since the last save again, with the
// same webhook-id. On a shared store a lease on the subscription's row makes one
// node its deliverer; another takes over when the lease runs out.
package webhook

import (
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"hash"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Store is what delivery needs of a store.
type Store interface {
	ledger.EventLog
	ledger.Webhooks
}

// Config sets a Manager up. Zero durations take the defaults in brackets.
type Config struct {
	Store Store
	Owner string           // this node's name on leases
	Now   func() time.Time // [time.Now]
	// Wake returns a channel closed when this node next commits events (the
	// engine's EventsCommitted); other nodes' events are found by polling.
	Wake func() <-chan struct{}
	Log  *slog.Logger
	// HTTP, when set, sends every delivery; by default a lane posts on its own
	// connection (send.go), and an http.Client sends where a proxy is configured.
	HTTP Doer
	// TLS is the TLS set-up for https receivers [crypto/tls's: the system's roots].
	TLS *tls.Config
	// Lanes is how many deliveries of a subscription are in flight at once
	// [DefaultLanes].
	// An account's events always share a lane, so they arrive in order.
	Lanes int
	// Saturated reports that this node's writer is saturated (the engine's
	// Saturated); while it is, each lane delivers at most SaturatedRate events
	// a second (pace.go) [never saturated; SaturatedRate].
	Saturated     func() bool
	SaturatedRate float64

	RetryBase    time.Duration // first retry after about this long [100ms]: most failures are blips
	RetryMax     time.Duration // the longest wait between attempts [1h]
	DisableAfter time.Duration // disable a subscription failing this long [72h; at least 24h in production]
	Lease        time.Duration // a lease's length [30s]
	Poll         time.Duration // how often to look for other nodes' events and new subscriptions [200ms]

	// Disabled is called once a subscription is disabled for failing too long
	// (the app writes subscription.disabled and an audit record).
	Disabled func(ctx context.Context, s ledger.Subscription)
	// Metrics hooks (nil: none).
	OnDelivery func(ok bool)
	OnBehind   func(subscriptionID string, oldest time.Time) // its oldest event not yet delivered (zero: caught up)
	OnStopped  func(subscriptionID string)                   // this node stopped delivering it (deleted, disabled, another node's lease, stopping)
	OnDisabled func(disabled int)                            // how many subscriptions are disabled
	OnPaced    func(waited time.Duration)                    // a lane waited this long for its pace (pace.go)

	proxied Doer                             // sends through a proxy when HTTP is not set
	proxy   func(*url.URL) (*url.URL, error) // the proxy for a URL, nil for none [the environment's]
}

// DefaultLanes is how many of a subscription's deliveries are in flight at once.
const DefaultLanes = 8

// Manager runs a deliverer for each enabled subscription.
type Manager struct {
	cfg     Config
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	workers map[string]*handle
}

// handle is a running deliverer.
type handle struct{ cancel context.CancelFunc }

// Start starts delivering; Stop ends it.
func Start(cfg Config) *Manager {
	cfg.defaults()
	ctx, stop := context.WithCancel(context.Background())
	m := &Manager{cfg: cfg, ctx: ctx, stop: stop, workers: map[string]*handle{}}
	m.wg.Add(1)
	go m.run()
	return m
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.RetryBase, 100*time.Millisecond)
	set(&c.RetryMax, time.Hour)
	set(&c.DisableAfter, 72*time.Hour)
	set(&c.Lease, 30*time.Second)
	set(&c.Poll, 200*time.Millisecond)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Lanes <= 0 {
		c.Lanes = DefaultLanes
	}
	if c.proxied == nil {
		c.proxied = defaultClient(c.Lanes)
	}
	if c.proxy == nil {
		c.proxy = func(u *url.URL) (*url.URL, error) { return http.ProxyFromEnvironment(&http.Request{URL: u}) }
	}
	if c.Wake == nil {
		c.Wake = func() <-chan struct{} { return nil }
	}
	if c.Saturated == nil {
		c.Saturated = func() bool { return false }
	}
	if c.SaturatedRate <= 0 {
		c.SaturatedRate = SaturatedRate
	}
	if c.OnPaced == nil {
		c.OnPaced = func(time.Duration) {}
	}
}

// Stop ends every deliverer and waits for them.
func (m *Manager) Stop() {
	m.stop()
	m.wg.Wait()
}

// run starts and stops deliverers as subscriptions come, go, and are enabled or
// disabled.
func (m *Manager) run() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.Poll * 5)
	defer t.Stop()
	for {
		m.sync()
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) sync() {
	subs, err := m.cfg.Store.ListSubscriptions(m.ctx)
	if err != nil {
		if m.ctx.Err() == nil {
			m.cfg.Log.Warn("webhooks: list subscriptions", "err", err)
		}
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	live := map[string]bool{}
	disabled := 0
	for _, s := range subs {
		if !s.Enabled {
			disabled++
			continue
		}
		live[s.ID] = true
		if _, ok := m.workers[s.ID]; !ok {
			ctx, cancel := context.WithCancel(m.ctx)
			h := &handle{cancel: cancel}
			m.workers[s.ID] = h
			m.wg.Add(1)
			go func(id string) {
				defer m.wg.Done()
				(&deliverer{m: m, id: id}).run(ctx)
				m.mu.Lock()
				if m.workers[id] == h {
					delete(m.workers, id)
				}
				m.mu.Unlock()
			}(s.ID)
		}
	}
	for id, h := range m.workers {
		if !live[id] {
			h.cancel()
			delete(m.workers, id)
		}
	}
	if m.cfg.OnDisabled != nil {
		m.cfg.OnDisabled(disabled)
	}
}

// NewSecret makes a signing secret in Standard Webhooks' form: "whsec_" and the
// base64 of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	crand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// Sign is the webhook-signature header's value for a message: "v1," and the
// base64 HMAC-SHA256, under the secret's key, of "id.timestamp.body".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	var s signer
	return s.sign(secret, id, timestamp, body)
}

// signer signs as Sign does, keeping the keyed HMAC between messages: a lane
// signs every event it delivers, and decoding the key and hashing its pads
// again each time was a fifth of a delivery's work. Not for concurrent use.
type signer struct {
	secret string    // the secret mac is keyed with
	mac    hash.Hash // nil until the first message
	buf    []byte    // the signed prefix, then the header value
	sum    []byte
}

func (s *signer) sign(secret, id string, timestamp int64, body []byte) (string, error) {
	if s.mac == nil || secret != s.secret {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			return "", errors.New("webhook: the secret is not whsec_ and base64")
		}
		s.mac, s.secret = hmac.New(sha256.New, key), secret
	}
	s.mac.Reset()
	b := append(s.buf[:0], id...)
	b = append(b, '.')
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, '.')
	s.mac.Write(b)
	s.mac.Write(body)
	s.sum = s.mac.Sum(s.sum[:0])
	b = base64.StdEncoding.AppendEncode(append(b[:0], "v1,"...), s.sum)
	s.buf = b
	return string(b), nil
}

// backoff is the wait before the attempt after the n-th failure: RetryBase
// doubled per failure, at most RetryMax, with jitter (between half and all of it)
// so that receivers coming back are not hit by every deliverer at once.
func (c *Config) backoff(n int) time.Duration {
	d := c.RetryBase
	for i := 1; i < n && d < c.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.RetryMax)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
