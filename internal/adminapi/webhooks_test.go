package adminapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/testkit"
	"github.com/purse-ledger/purse/internal/webhook"
)

// receiver is a real webhook receiver over loopback: it verifies every
// delivery's signature with the client's helper and keeps what it got.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret atomic.Value // string
	fail   atomic.Int32 // answer 503 to this many more requests
	mu     sync.Mutex
	got    []delivered
}

type delivered struct {
	webhookID string
	Type      string `json:"type"`
	ID        string `json:"id"`
	Sequence  int64  `json:"sequence"`
	AccountID string `json:"accountId"`
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.secret.Store("")
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.fail.Load() > 0 {
			r.fail.Add(-1)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if err := client.VerifyWebhook(r.secret.Load().(string), req.Header, body, 0); err != nil {
			t.Errorf("delivery %s: %v", req.Header.Get("webhook-id"), err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var d delivered
		if err := json.Unmarshal(body, &d); err != nil {
			t.Errorf("delivery body %s: %v", body, err)
		}
		d.webhookID = req.Header.Get("webhook-id")
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(n int) []delivered {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]delivered(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("receiver got %d deliveries, want %d", len(r.got), n)
	return nil
}

// TestWebhooks: a subscription's deliveries are signed (Standard Webhooks,
// checked by client.VerifyWebhook), in sequence order, retried through 503s with
// webhook-id kept, logged; a redelivery sends them again; a subscription failing
// past DisableAfter is disabled, with an event and an audit record; bad settings
// are 400 with the field's error.
func TestWebhooks(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now,
		Webhooks: app.WebhookOptions{RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, DisableAfter: 24 * time.Hour, Poll: 20 * time.Millisecond}})
	acc := s.CreateAccount("Hooked", "EUR")
	rcv := newReceiver(t)
	var sub struct {
		ID, Secret, URL string
		Types           []string
		Enabled         bool
	}
	s.MustAdmin(201, "POST", "/v1/webhooks", `{"url":"`+rcv.srv.URL+`/hook","types":["entry.created","balance.low"],"accountId":"`+acc+`"}`, nil).JSON(t, &sub)
	if sub.Secret == "" || sub.ID == "" || !sub.Enabled {
		t.Fatalf("created %+v", sub)
	}
	rcv.secret.Store(sub.Secret)
	var got struct{ Secret string }
	s.MustAdmin(200, "GET", "/v1/webhooks/"+sub.ID, "", nil).JSON(t, &got)
	if got.Secret != "" {
		t.Fatal("the secret is shown again")
	}
	rcv.fail.Store(3) // the first attempts meet a receiver that is down
	for i := 0; i < 5; i++ {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("k"+string(rune('a'+i))))
	}
	d := rcv.wait(5)
	for i := range d {
		if d[i].Type != "entry.created" || d[i].AccountID != acc || d[i].webhookID != d[i].ID || (i > 0 && d[i].Sequence <= d[i-1].Sequence) {
			t.Fatalf("delivery %d: %+v", i, d[i])
		}
	}
	var log struct {
		Deliveries []struct {
			Status            int
			OK                bool
			EventID, Response string
		}
	}
	waitFor(t, func() bool {
		s.MustAdmin(200, "GET", "/v1/webhooks/"+sub.ID+"/deliveries?limit=100", "", nil).JSON(t, &log)
		return len(log.Deliveries) == 8
	})
	if last := log.Deliveries[7]; last.OK || last.Status != 503 || last.EventID != d[0].ID || last.Response == "" {
		t.Errorf("the first attempt in the log: %+v", last)
	}

	// A redelivery sends them again, under the same ids.
	s.MustAdmin(200, "POST", "/v1/webhooks/"+sub.ID+"/redeliver", `{"after":0}`, nil)
	again := rcv.wait(10)[5:]
	for i := range again {
		if again[i].webhookID != d[i].webhookID {
			t.Errorf("redelivery %d: id %s, first %s", i, again[i].webhookID, d[i].webhookID)
		}
	}

	// Failing for longer than DisableAfter disables it, with an event and an audit record.
	rcv.fail.Store(1 << 30)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("kz"))
	// While it fails, its lag is the undelivered event's age, growing between
	// retries, not the value of the last page read.
	lagLine := `purse_webhook_delivery_lag_seconds{subscription="` + sub.ID + `"} `
	lag := func() float64 {
		for _, line := range strings.Split(string(s.MustAdmin(200, "GET", "/metrics", "", nil).Body), "\n") {
			if v, ok := strings.CutPrefix(line, lagLine); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		return -1
	}
	waitFor(t, func() bool { return rcv.fail.Load() < 1<<30 && lag() >= 0 }) // refused once at least
	clock.Advance(time.Hour)
	if got := lag(); got < 3600 {
		t.Errorf("lag %v s an hour into a receiver's failure, want at least 3600", got)
	}
	time.Sleep(100 * time.Millisecond)
	clock.Advance(24 * time.Hour)
	waitFor(t, func() bool {
		var w struct {
			Enabled        bool
			DisabledReason string
		}
		s.MustAdmin(200, "GET", "/v1/webhooks/"+sub.ID, "", nil).JSON(t, &w)
		return !w.Enabled && w.DisabledReason != ""
	})
	var page eventPage
	waitFor(t, func() bool {
		s.MustAdmin(200, "GET", "/v1/events?types=subscription.disabled", "", nil).JSON(t, &page)
		return len(page.Events) == 1
	})
	if page.Events[0].Data["subscriptionId"] != sub.ID {
		t.Errorf("subscription.disabled data %+v", page.Events[0].Data)
	}
	waitFor(t, func() bool { // the auditor writes its queue every 100 ms
		return strings.Contains(string(s.MustAdmin(200, "GET", "/v1/audit", "", nil).Body), `"action":"webhook.disabled","target":"`+sub.ID+`"`)
	})

	for _, tc := range []struct{ body, field string }{
		{`{"url":"ftp://example.com/x"}`, "url"},
		{`{"url":"not a url"}`, "url"},
		{`{"url":"` + s.Admin.URL + `/v1/accounts"}`, "url"},
		{`{"url":"http://localhost:` + portOf(s.Admin.URL) + `/hook"}`, "url"},
		{`{"url":"` + rcv.srv.URL + `","types":["entry.created","entry.deleted"]}`, "types"},
		{`{"url":"` + rcv.srv.URL + `","accountId":"acc_missing"}`, "accountId"},
		{`{"url":"` + rcv.srv.URL + `","withChildren":true}`, "withChildren"},
		{`{"types":["entry.created"]}`, "url"},
	} {
		var env envelope
		s.MustAdmin(400, "POST", "/v1/webhooks", tc.body, nil).JSON(t, &env)
		if len(env.RequestError.ServiceException.ValidationErrors[tc.field]) == 0 {
			t.Errorf("%s: no error on %s: %+v", tc.body, tc.field, env.RequestError.ServiceException)
		}
	}
	var list struct{ Webhooks []struct{ ID string } }
	s.MustAdmin(200, "GET", "/v1/webhooks", "", nil).JSON(t, &list)
	if len(list.Webhooks) != 1 {
		t.Errorf("bad input made subscriptions: %+v", list)
	}
	var metrics string
	waitFor(t, func() bool { // the deliverers' manager counts disabled subscriptions on its next round
		metrics = string(s.MustAdmin(200, "GET", "/metrics", "", nil).Body)
		return strings.Contains(metrics, "purse_webhook_subscriptions_disabled 1")
	})
	for _, want := range []string{`purse_events_written_total `, `purse_webhook_deliveries_total{outcome="delivered"} `,
		`purse_webhook_deliveries_total{outcome="failed"} `, "purse_webhook_subscriptions_disabled 1", "purse_webhook_paced_seconds_total "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, lagLine) { // no node delivers it: a value kept would never change
		t.Errorf("a disabled subscription keeps its lag: %s", metrics[strings.Index(metrics, lagLine):][:len(lagLine)+20])
	}
	s.MustAdmin(204, "DELETE", "/v1/webhooks/"+sub.ID, "", nil)
	s.MustAdmin(404, "GET", "/v1/webhooks/"+sub.ID, "", nil)
}

// TestWebhookLanes: a page of events goes out in lanes at once, so one account's
// slow receiver does not hold up another account's events, while each account's
// events still arrive one at a time and in sequence order.
func TestWebhookLanes(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Webhooks: app.WebhookOptions{Poll: 20 * time.Millisecond}})
	slow, fast := s.CreateAccount("Slow", "EUR"), s.CreateAccount("Fast", "EUR")
	for webhook.Lane(fast, webhook.DefaultLanes) == webhook.Lane(slow, webhook.DefaultLanes) {
		fast = s.CreateAccount("Fast", "EUR") // one in another lane: a lane is one at a time by design
	}
	fastDone := make(chan struct{})
	var mu sync.Mutex
	var got []delivered
	var inFlight atomic.Int32
	var waitedInVain, overlapped atomic.Bool
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d delivered
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &d)
		if d.AccountID == slow { // the slow account's first delivery waits for every fast one
			if inFlight.Add(1) > 1 {
				overlapped.Store(true)
			}
			defer inFlight.Add(-1)
			select {
			case <-fastDone:
			case <-time.After(5 * time.Second):
				waitedInVain.Store(true)
			}
		}
		mu.Lock()
		got = append(got, d)
		if n := countOf(got, fast); n == 3 && d.AccountID == fast {
			close(fastDone)
		}
		mu.Unlock()
	}))
	defer rcv.Close()
	for i := range 3 { // the slow account's events come first in sequence
		s.MustAdmin(201, "POST", "/v1/accounts/"+slow+"/top-ups", `{"amount":"1"}`, testkit.Key("s"+string(rune('a'+i))))
	}
	for i := range 3 {
		s.MustAdmin(201, "POST", "/v1/accounts/"+fast+"/top-ups", `{"amount":"1"}`, testkit.Key("f"+string(rune('a'+i))))
	}
	var sub struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`","types":["entry.created"]}`, nil).JSON(t, &sub)
	s.MustAdmin(200, "POST", "/v1/webhooks/"+sub.ID+"/redeliver", `{"after":0}`, nil) // one page with all six
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 6 })
	if waitedInVain.Load() {
		t.Error("the slow account's delivery held up the fast account's")
	}
	if overlapped.Load() {
		t.Error("two of one account's events were in flight at once")
	}
	mu.Lock()
	defer mu.Unlock()
	last := map[string]int64{}
	for _, d := range got {
		if d.Sequence <= last[d.AccountID] {
			t.Errorf("account %s: event %d after %d", d.AccountID, d.Sequence, last[d.AccountID])
		}
		last[d.AccountID] = d.Sequence
	}
}

// TestBackoffRestartsAfterProgress: a receiver that refuses one request in four
// and takes the next gets everything soon, each refused event retried after the
// first backoff: the count of failures starts again once the oldest undelivered
// event goes through, and does not grow with every round that meets a refusal.
func TestBackoffRestartsAfterProgress(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Webhooks: app.WebhookOptions{
		Poll: 5 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: time.Hour}})
	acc := s.CreateAccount("Flaky", "EUR")
	var requests atomic.Int32
	var mu sync.Mutex
	got := map[string]bool{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if requests.Add(1)%4 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got[r.Header.Get("webhook-id")] = true
		mu.Unlock()
	}))
	defer rcv.Close()
	const n = 40
	for i := range n {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("flaky"+string(rune('A'+i))))
	}
	var sub struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`","types":["entry.created"]}`, nil).JSON(t, &sub)
	s.MustAdmin(200, "POST", "/v1/webhooks/"+sub.ID+"/redeliver", `{"after":0}`, nil)
	// Doubling from 20 ms at each of the ~13 refusals would wait for hours.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n })
	var log struct{ Deliveries []struct{ Attempt int } }
	s.MustAdmin(200, "GET", "/v1/webhooks/"+sub.ID+"/deliveries?limit=200", "", nil).JSON(t, &log)
	for _, d := range log.Deliveries {
		if d.Attempt > 2 {
			t.Fatalf("an attempt numbered %d: failures were counted across events that went through", d.Attempt)
		}
	}
}

// TestRedeliveryUnderRenewals: with leases renewed every few milliseconds, every
// redelivery delivers again: a renewal never takes back a lease the redelivery
// ended, so the deliverer's progress in memory never overwrites the reset cursor.
func TestRedeliveryUnderRenewals(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Webhooks: app.WebhookOptions{
		Poll: 5 * time.Millisecond, Lease: 15 * time.Millisecond}})
	acc := s.CreateAccount("Again", "EUR")
	rcv := newReceiver(t)
	var sub struct{ ID, Secret string }
	s.MustAdmin(201, "POST", "/v1/webhooks", `{"url":"`+rcv.srv.URL+`","types":["entry.created"]}`, nil).JSON(t, &sub)
	rcv.secret.Store(sub.Secret)
	for i := range 3 {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("r"+string(rune('a'+i))))
	}
	rcv.wait(3)
	for round := 1; round <= 20; round++ {
		time.Sleep(time.Duration(round%4) * 3 * time.Millisecond) // meet the renewals at different moments
		s.MustAdmin(200, "POST", "/v1/webhooks/"+sub.ID+"/redeliver", `{"after":0}`, nil)
		rcv.wait(3 * (round + 1))
	}
}

func countOf(ds []delivered, account string) int {
	n := 0
	for _, d := range ds {
		if d.AccountID == account {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func portOf(u string) string {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == ':' {
			return u[i+1:]
		}
	}
	return ""
}

// TestTopUpLoop: the loop of docs/events.md end to end. A charge crosses the
// auto top-up rule; the webhook brings topup.requested to a receiver, which tops
// up through the client under the event's id as Idempotency-Key; a redelivery of
// the same event tops up again under the same key, which purse replays: the
// account is topped up once.
func TestTopUpLoop(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Webhooks: app.WebhookOptions{Poll: 20 * time.Millisecond}})
	acc := s.CreateAccount("Auto", "EUR")
	admin, err := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	var secret atomic.Value
	var answered atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := client.VerifyWebhook(secret.Load().(string), r.Header, body, 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type, ID, AccountID string
			Data                struct{ Amount string }
		}
		json.Unmarshal(body, &ev)
		if ev.Type == "topup.requested" {
			if _, err := admin.TopUp(r.Context(), ev.AccountID, ev.Data.Amount, client.TopUpOptions{IdempotencyKey: ev.ID}); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			answered.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	var sub struct{ ID, Secret string }
	s.MustAdmin(201, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`","types":["topup.requested"]}`, nil).JSON(t, &sub)
	secret.Store(sub.Secret)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"20"}`, testkit.Key("t1"))
	s.MustAdmin(200, "PUT", "/v1/accounts/"+acc+"/alerts", `{"autoTopUp":{"below":"10","topUpTo":"50"}}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"15"}`, testkit.Key("c1")) // 5: below 10
	waitFor(t, func() bool { return answered.Load() == 1 })
	balance := func() string {
		var b struct{ Balance string }
		s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/balance", "", nil).JSON(t, &b)
		return b.Balance
	}
	if got := balance(); got != "50" {
		t.Fatalf("balance %s after the top-up loop, want 50", got)
	}
	s.MustAdmin(200, "POST", "/v1/webhooks/"+sub.ID+"/redeliver", `{"after":0}`, nil)
	waitFor(t, func() bool { return answered.Load() == 2 })
	if got := balance(); got != "50" {
		t.Fatalf("balance %s after the request was delivered again, want 50: topped up twice", got)
	}
}
