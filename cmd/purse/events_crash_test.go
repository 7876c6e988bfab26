package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/store/storetest"
	"github.com/purse-ledger/purse/internal/testkit"
)

// hookReceiver is a real webhook receiver on a fixed loopback address: it is
// sometimes down (503), sometimes slow, and restarted (its listener closed and
// opened again) when the test says. It verifies every signature and keeps what it
// accepted, in arrival order.
type hookReceiver struct {
	t      *testing.T
	addr   string
	secret atomic.Value
	mu     sync.Mutex
	srv    *http.Server
	got    []hookDelivery
	refuse atomic.Int64
}

type hookDelivery struct {
	WebhookID string
	ID        string `json:"id"`
	Type      string `json:"type"`
	Sequence  int64  `json:"sequence"`
	AccountID string `json:"accountId"`
	Data      struct {
		Entry struct{ ID string } `json:"entry"`
	} `json:"data"`
}

func newHookReceiver(t *testing.T) *hookReceiver {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &hookReceiver{t: t, addr: l.Addr().String()}
	r.secret.Store("")
	r.serve(l)
	t.Cleanup(func() { r.mu.Lock(); r.srv.Close(); r.mu.Unlock() })
	return r
}

func (r *hookReceiver) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle)}
	r.srv = srv
	go srv.Serve(l)
}

// restart closes the receiver (connections included) and opens it again on the same address.
func (r *hookReceiver) restart() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.srv.Close()
	time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Errorf("receiver restart: %v", err)
		return
	}
	r.serve(l)
}

func (r *hookReceiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	// Deliveries are one at a time per subscription, so every failure or slow
	// answer holds up the rest: rare ones, and a down time now and then (down).
	switch n := rand.IntN(1000); {
	case r.refuse.Load() > 0 || n < 5:
		http.Error(w, "receiver down", http.StatusServiceUnavailable)
		return
	case n < 10:
		time.Sleep(time.Duration(50+rand.IntN(150)) * time.Millisecond)
	}
	if err := client.VerifyWebhook(r.secret.Load().(string), req.Header, body, 0); err != nil {
		r.t.Errorf("delivery %s: %v", req.Header.Get("webhook-id"), err)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var d hookDelivery
	if err := json.Unmarshal(body, &d); err != nil {
		r.t.Errorf("delivery body: %v", err)
	}
	d.WebhookID = req.Header.Get("webhook-id")
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
}

// down answers 503 to everything for d.
func (r *hookReceiver) down(d time.Duration) {
	r.refuse.Add(1)
	time.AfterFunc(d, func() { r.refuse.Add(-1) })
}

func (r *hookReceiver) deliveries() []hookDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookDelivery(nil), r.got...)
}

// chargeLoad charges accounts from 8 workers on the nodes until stop, and counts
// the charges acknowledged.
func chargeLoad(t *testing.T, nodes []*node, accounts []string, cycle int, stop <-chan struct{}, acked *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := nodes[(w+i)%len(nodes)]
				req, _ := http.NewRequest("POST", n.admin+"/v1/accounts/"+accounts[(w+i)%len(accounts)]+"/charges", strings.NewReader(`{"amount":"0.000001"}`))
				req.Header.Set("Authorization", "Bearer "+clusterToken)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("e%d-w%d-%d", cycle, w, i))
				resp, err := hc.Do(req)
				if err != nil {
					time.Sleep(10 * time.Millisecond) // that node is gone; another may not be
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					acked.Add(1)
				}
			}
		}()
	}
	return &wg
}

// checkDelivered waits until every committed entry of the accounts has been
// delivered, then checks: no delivery of anything not committed, every delivery's
// webhook-id is its event's id, and each account's events arrived in sequence
// order (a redelivery after a crash may repeat a stretch, never reorder it).
// It returns how many deliveries were duplicates.
func checkDelivered(t *testing.T, n *node, rcv *hookReceiver, accounts []string) int {
	t.Helper()
	committed := map[string]bool{}
	for _, acc := range accounts {
		for _, e := range testkit.AdminEntries(t, n.admin, clusterToken, acc) {
			committed[e.ID] = true
		}
	}
	var got []hookDelivery
	missing := 0
	defer func() {
		if t.Failed() {
			hooks := mustAdmin(t, n.admin, 200, "GET", "/v1/webhooks", "", nil).Body
			t.Logf("%d of %d committed entries never delivered (%d deliveries); webhooks %s\n%s", missing, len(committed), len(got), hooks, n.logs)
		}
	}()
	eventually(t, 20*time.Second, "every committed entry delivered", func() bool {
		got = rcv.deliveries()
		seen := map[string]bool{}
		for _, d := range got {
			seen[d.Data.Entry.ID] = true
		}
		missing = 0
		for id := range committed {
			if !seen[id] {
				missing++
			}
		}
		return missing == 0
	})
	dups, last := 0, map[string]int64{}
	byEvent := map[string]string{}
	for _, d := range got {
		if !committed[d.Data.Entry.ID] || d.Type != "entry.created" {
			t.Errorf("a delivery of %s %s, which is not a committed entry of the accounts", d.Type, d.Data.Entry.ID)
		}
		if d.WebhookID != d.ID {
			t.Errorf("webhook-id %s on event %s", d.WebhookID, d.ID)
		}
		if prev, ok := byEvent[d.Data.Entry.ID]; ok {
			dups++
			if prev != d.ID {
				t.Errorf("entry %s delivered as events %s and %s", d.Data.Entry.ID, prev, d.ID)
			}
			continue // a repeat: order is judged on first arrivals
		}
		byEvent[d.Data.Entry.ID] = d.ID
		if d.Sequence < last[d.AccountID] {
			t.Errorf("account %s: event %d arrived after %d", d.AccountID, d.Sequence, last[d.AccountID])
		}
		last[d.AccountID] = d.Sequence
	}
	t.Logf("%d entries committed, %d deliveries, %d of them repeats", len(committed), len(got), dups)
	return dups
}

// setUpHooks makes a subscription to entries and two funded accounts (a new
// subscription starts at the newest event: it comes first).
func setUpHooks(t *testing.T, n *node, rcv *hookReceiver) []string {
	var sub struct{ Secret string }
	mustAdmin(t, n.admin, 201, "POST", "/v1/webhooks", `{"url":"http://`+rcv.addr+`/hook","types":["entry.created"]}`, nil).JSON(t, &sub)
	rcv.secret.Store(sub.Secret)
	var accounts []string
	for i := 0; i < 2; i++ {
		var acc struct{ ID string }
		mustAdmin(t, n.admin, 201, "POST", "/v1/accounts", fmt.Sprintf(`{"name":"hooked %d","currency":"EUR"}`, i), nil).JSON(t, &acc)
		mustAdmin(t, n.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/top-ups", `{"amount":"1000"}`, map[string]string{"Idempotency-Key": "fund-" + acc.ID})
		accounts = append(accounts, acc.ID)
	}
	return accounts
}

// TestWebhooksSurviveKills runs purse under charge load with a webhook receiver
// that is sometimes down, slow or restarted, and kills purse with SIGKILL five
// times. At the end every committed entry's entry.created has been delivered at
// least once, nothing uncommitted was, per-account order held, and a repeat
// carries the same webhook-id.
func TestWebhooksSurviveKills(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	n := startNode(t, db)
	rcv := newHookReceiver(t)
	accounts := setUpHooks(t, n, rcv)
	var acked atomic.Int64
	for cycle := 0; cycle < 5; cycle++ {
		stop := make(chan struct{})
		wg := chargeLoad(t, []*node{n}, accounts, cycle, stop, &acked)
		time.Sleep(time.Duration(300+rand.IntN(400)) * time.Millisecond)
		if cycle%2 == 1 {
			rcv.restart()
		} else {
			rcv.down(300 * time.Millisecond)
		}
		n.kill()
		close(stop)
		wg.Wait()
		n = startNode(t, db)
	}
	if acked.Load() < 100 {
		t.Fatalf("only %d charges acknowledged: the load did not run", acked.Load())
	}
	checkDelivered(t, n, rcv, accounts)
}

// TestWebhooksTwoNodesSurviveKills is the same on PostgreSQL with two nodes,
// killing one or the other; then, with both alive, a last stretch of charges is
// delivered exactly once between them (a lease: never once per node).
func TestWebhooksTwoNodesSurviveKills(t *testing.T) {
	u := storetest.FreshSchema(t)
	lease := "--webhook-lease=2s"
	nodes := []*node{startNode(t, u, lease), startNode(t, u, lease)}
	rcv := newHookReceiver(t)
	accounts := setUpHooks(t, nodes[0], rcv)
	var acked atomic.Int64
	for cycle := 0; cycle < 6; cycle++ {
		stop := make(chan struct{})
		wg := chargeLoad(t, nodes, accounts, cycle, stop, &acked)
		time.Sleep(time.Duration(300+rand.IntN(400)) * time.Millisecond)
		if cycle%2 == 1 {
			rcv.restart()
		} else {
			rcv.down(300 * time.Millisecond)
		}
		victim := cycle % 2
		nodes[victim].kill()
		close(stop)
		wg.Wait()
		nodes[victim] = startNode(t, u, lease)
	}
	if acked.Load() < 100 {
		t.Fatalf("only %d charges acknowledged: the load did not run", acked.Load())
	}
	checkDelivered(t, nodes[0], rcv, accounts)

	// Both alive, no kill: each event once.
	before := len(rcv.deliveries())
	stop := make(chan struct{})
	wg := chargeLoad(t, nodes, accounts, 99, stop, &acked)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	checkDelivered(t, nodes[1], rcv, accounts)
	seen := map[string]int{}
	for _, d := range rcv.deliveries()[before:] {
		seen[d.ID]++
	}
	for id, c := range seen {
		if c > 1 {
			t.Errorf("event %s delivered %d times with both nodes alive", id, c)
		}
	}
}
