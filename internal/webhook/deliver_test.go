package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// savesCounted is the real store, counting the deliverer's saves; with refuse
// set it refuses every save with it, as a full disk would.
type savesCounted struct {
	*sqlite.Store
	saves   atomic.Int32
	longest atomic.Int32 // the longest log a save was given
	refuse  error
}

func (s *savesCounted) SaveDelivery(ctx context.Context, owner string, sub ledger.Subscription, log []ledger.Delivery) error {
	s.saves.Add(1)
	if n := int32(len(log)); n > s.longest.Load() {
		s.longest.Store(n)
	}
	if s.refuse != nil {
		return s.refuse
	}
	return s.Store.SaveDelivery(ctx, owner, sub, log)
}

// storeWithEngine is a new SQLite store and the engine that writes to it (and
// its events), both closed when the test ends.
func storeWithEngine(t *testing.T) (*sqlite.Store, *engine.Engine) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purse.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(context.Background(), st, engine.Options{})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	return st, eng
}

// TestCaughtUpDelivererSavesAtMostEverySaveEvery: a deliverer that keeps up with
// the commits, one event at a time, writes its progress at most once every
// saveEvery, not once for each commit (which doubled the syncs of a store under
// charges spread over many accounts); what it delivered since its last save is
// saved when it stops.
func TestCaughtUpDelivererSavesAtMostEverySaveEvery(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	r, err := eng.Do(ctx, engine.CreateAccount{Name: "Steady", Currency: "EUR"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := r.Value.(ledger.Account).ID
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer rcv.Close()
	sub := ledger.Subscription{ID: "wh_steady", URL: rcv.URL, Types: []ledger.EventType{"entry.created"}, Secret: "whsec_c2VjcmV0",
		Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	counted := &savesCounted{Store: st}
	var got atomic.Int32 // deliveries recorded: their answers were read
	m := Start(Config{Store: counted, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond,
		OnDelivery: func(ok bool) {
			if ok {
				got.Add(1)
			}
		}})
	defer m.Stop()

	const n = 40
	start := time.Now()
	for i := range n { // each top-up delivered before the next: the deliverer is caught up
		if _, err := eng.Do(ctx, engine.TopUp{AccountID: acc, Amount: ledger.MustParseAmount("1")}, nil); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); got.Load() < int32(i+1); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("event %d not delivered", i+1)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	took := time.Since(start)
	saves := counted.saves.Load()
	if most := int32(took/saveEvery) + 2; saves > most {
		t.Errorf("%d saves for %d events delivered in %v; at most %d (one every %v)", saves, n, took, most, saveEvery)
	}
	m.Stop()
	last, err := st.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Subscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Cursor != last {
		t.Errorf("cursor saved at %d after the deliverer stopped, want %d (every event delivered)", stored.Cursor, last)
	}
	log, err := st.ListDeliveries(ctx, sub.ID, 0, 100)
	if err != nil || len(log) != n {
		t.Errorf("%d deliveries logged (%v), want %d", len(log), err, n)
	}
}

// TestRefusedSavesAreNotRetriedInALoop: a store that takes the lease but refuses
// every save is tried again every Poll, not as fast as the deliverer can loop.
func TestRefusedSavesAreNotRetriedInALoop(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer rcv.Close()
	sub := ledger.Subscription{ID: "wh_full", URL: rcv.URL, Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Do(ctx, engine.CreateAccount{Name: "Full", Currency: "EUR"}, nil); err != nil { // an event to deliver
		t.Fatal(err)
	}
	refused := &savesCounted{Store: st, refuse: errors.New("disk full")}
	const poll = 20 * time.Millisecond
	m := Start(Config{Store: refused, Owner: "node-a", Wake: eng.EventsCommitted, Poll: poll})
	time.Sleep(300 * time.Millisecond)
	m.Stop()
	if n := refused.saves.Load(); n < 2 || n > 300/20+3 {
		t.Errorf("%d saves tried in 300 ms with a Poll of %v: want one about every Poll", n, poll)
	}
}

// TestRefusedSavesKeepTheLogBounded: while every save is refused, the deliverer
// delivers the same page again each Poll; the log of those attempts waiting for
// a save stays within unsavedLogMax instead of growing for as long as the disk
// is full.
func TestRefusedSavesKeepTheLogBounded(t *testing.T) {
	defer func(was int) { unsavedLogMax = was }(unsavedLogMax)
	unsavedLogMax = 100
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	var posts atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		posts.Add(1)
	}))
	defer rcv.Close()
	sub := ledger.Subscription{ID: "wh_full", URL: rcv.URL, Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // 30 events a page
		if _, err := eng.Do(ctx, engine.CreateAccount{Name: fmt.Sprint("Full ", i), Currency: "EUR"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	refused := &savesCounted{Store: st, refuse: errors.New("disk full")}
	m := Start(Config{Store: refused, Owner: "node-a", Wake: eng.EventsCommitted, Poll: time.Millisecond})
	for deadline := time.Now().Add(10 * time.Second); posts.Load() < 500; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d posts in 10 s", posts.Load())
		}
	}
	m.Stop()
	if n := refused.longest.Load(); n > 100 || n < 50 {
		t.Errorf("a save was given %d log lines after %d posts, none saved; want at most unsavedLogMax (100), and the newest half kept", n, posts.Load())
	}
}

// account is a new account's id.
func account(t *testing.T, eng *engine.Engine, name string) string {
	t.Helper()
	r, err := eng.Do(context.Background(), engine.CreateAccount{Name: name, Currency: "EUR"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Value.(ledger.Account).ID
}

// topUps commits n top-ups of acc, n events entry.created, 20 at once (so the
// engine batches them).
func topUps(t *testing.T, eng *engine.Engine, acc string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			for j := i; j < n; j += 20 {
				if _, err := eng.Do(context.Background(), engine.TopUp{AccountID: acc, Amount: ledger.MustParseAmount("1")}, nil); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d top-ups failed", failed.Load())
	}
}

// subscribe stores an enabled subscription to entry.created (of account, ""
// for every one) at url, delivering after the event cursor.
func subscribe(t *testing.T, st *sqlite.Store, id, url, account string, cursor int64) ledger.Subscription {
	t.Helper()
	sub := ledger.Subscription{ID: id, URL: url, Types: []ledger.EventType{ledger.EventEntryCreated}, AccountID: account,
		Secret: "whsec_c2VjcmV0", Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now(), Cursor: cursor}
	if err := st.CreateSubscription(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

// change makes an operator's change to a stored subscription (its cursor kept).
func change(t *testing.T, st *sqlite.Store, id string, edit func(*ledger.Subscription)) {
	t.Helper()
	s, err := st.Subscription(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	edit(&s)
	if err := st.UpdateSubscription(context.Background(), s, false); err != nil {
		t.Fatal(err)
	}
}

// bodiesWith counts the posts whose body names s. With held set, it holds the
// first post until held is closed, and closes first when it has it.
type bodiesWith struct {
	s           string
	n           atomic.Int32
	first, held chan struct{}
	once        sync.Once
}

func (b *bodiesWith) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if b.held != nil {
		b.once.Do(func() {
			close(b.first)
			<-b.held
		})
	}
	if strings.Contains(string(body), b.s) {
		b.n.Add(1)
	}
}

// TestFilterWidenedWhileBusyMissesNothing: a subscription to one account's
// events, widened to every account while its deliverer works through a backlog,
// delivers every event of another account committed after the change: the
// deliverer reads its subscription after the page's head, so no page read with
// the old filter moves the cursor past them.
func TestFilterWidenedWhileBusyMissesNothing(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	hot, other := account(t, eng, "Hot"), account(t, eng, "Other")
	last, _ := st.LastEventSeq(ctx)
	topUps(t, eng, hot, 500) // a backlog of a few pages
	rcv := &bodiesWith{s: other, first: make(chan struct{}), held: make(chan struct{})}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	sub := subscribe(t, st, "wh_widen", srv.URL, hot, last)
	var delivered atomic.Int32
	m := Start(Config{Store: st, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond, Lanes: 1,
		OnDelivery: func(ok bool) { delivered.Add(1) }})
	defer m.Stop()
	<-rcv.first // the deliverer is at work on its first page, read with the old filter
	change(t, st, sub.ID, func(s *ledger.Subscription) { s.AccountID = "" })
	topUps(t, eng, other, 20)
	close(rcv.held)
	for deadline := time.Now().Add(10 * time.Second); rcv.n.Load() < 20; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the other account's 20 events delivered after the filter was widened (%d posts in all)", rcv.n.Load(), delivered.Load())
		}
	}
}

// TestURLFixedWhileFailingTakesEffect: an operator who points a failing
// subscription at a receiver that answers sees its next retry go there, not to
// the old URL until the page is delivered.
func TestURLFixedWhileFailingTakesEffect(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	acc := account(t, eng, "Fixed")
	var refused atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	up := &bodiesWith{s: acc}
	srv := httptest.NewServer(up)
	defer srv.Close()
	last, _ := st.LastEventSeq(ctx)
	sub := subscribe(t, st, "wh_fixed", down.URL, "", last)
	m := Start(Config{Store: st, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	defer m.Stop()
	topUps(t, eng, acc, 1)
	for deadline := time.Now().Add(5 * time.Second); refused.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failing receiver was never retried")
		}
	}
	change(t, st, sub.ID, func(s *ledger.Subscription) { s.URL = srv.URL })
	for deadline := time.Now().Add(5 * time.Second); up.n.Load() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the fixed URL got nothing in 5 s; the old one was tried %d times", refused.Load())
		}
	}
}

// TestURLBehindAProxyClosesTheLanesConnections: a subscription moved to a URL
// its deliveries reach through a proxy closes the connections its lanes kept
// to the old one at once, not after they idle out.
func TestURLBehindAProxyClosesTheLanesConnections(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	acc := account(t, eng, "Proxied")
	rcv := &bodiesWith{s: acc}
	srv := httptest.NewUnstartedServer(rcv)
	var closed atomic.Int32
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	last, _ := st.LastEventSeq(ctx)
	sub := subscribe(t, st, "wh_proxied", srv.URL+"/direct", "", last)
	// The proxied client posts straight to the test's receiver; what matters is
	// that the deliverer takes /proxied for a URL behind a proxy.
	m := Start(Config{Store: st, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond, Lanes: 1,
		proxied: &http.Client{Transport: &http.Transport{}},
		proxy: func(u *url.URL) (*url.URL, error) {
			if u.Path == "/proxied" {
				return &url.URL{Scheme: "http", Host: "proxy.invalid"}, nil
			}
			return nil, nil
		}})
	defer m.Stop()
	delivered := func(n int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); rcv.n.Load() < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events delivered", rcv.n.Load(), n)
			}
		}
	}
	topUps(t, eng, acc, 1)
	delivered(1)
	if n := closed.Load(); n != 0 {
		t.Fatalf("%d connections closed before the URL changed", n)
	}
	change(t, st, sub.ID, func(s *ledger.Subscription) { s.URL = srv.URL + "/proxied" })
	topUps(t, eng, acc, 1)
	delivered(2)
	for deadline := time.Now().Add(2 * time.Second); closed.Load() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the lane's direct connection is still open after the subscription moved behind a proxy")
		}
	}
}

// subscriptionFails is the real store, failing the next Subscription read once armed.
type subscriptionFails struct {
	*sqlite.Store
	armed atomic.Bool
}

func (s *subscriptionFails) Subscription(ctx context.Context, id string) (ledger.Subscription, error) {
	if s.armed.CompareAndSwap(true, false) {
		return ledger.Subscription{}, errors.New("database is locked")
	}
	return s.Store.Subscription(ctx, id)
}

// TestRetryThroughAStoreErrorSendsNothingAgain: a store that fails to answer the
// read before a retry changes nothing: the retry goes on, and the events the
// page's other lanes delivered are not sent again.
func TestRetryThroughAStoreErrorSendsNothingAgain(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	flaky, steady := account(t, eng, "Flaky"), account(t, eng, "Steady")
	for i := 0; Lane(flaky, DefaultLanes) == Lane(steady, DefaultLanes); i++ { // ids are random: one in another lane
		if i == 50 {
			t.Fatal("50 accounts all in the flaky one's lane")
		}
		steady = account(t, eng, fmt.Sprint("Steady ", i))
	}
	store := &subscriptionFails{Store: st}
	var steadyPosts, flakyPosts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.Contains(string(body), steady):
			steadyPosts.Add(1)
		case strings.Contains(string(body), flaky):
			if flakyPosts.Add(1) == 1 { // refused once; the read before its retry fails
				store.armed.Store(true)
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}
	}))
	defer srv.Close()
	last, _ := st.LastEventSeq(ctx)
	subscribe(t, st, "wh_flaky", srv.URL, "", last)
	topUps(t, eng, flaky, 1)
	topUps(t, eng, steady, 10)
	m := Start(Config{Store: store, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond, RetryBase: 10 * time.Millisecond})
	defer m.Stop()
	for deadline := time.Now().Add(5 * time.Second); flakyPosts.Load() < 2 || steadyPosts.Load() < 10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("flaky posted %d times, steady %d: want its retry through, and all 10", flakyPosts.Load(), steadyPosts.Load())
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := steadyPosts.Load(); n != 10 {
		t.Errorf("steady's 10 events posted %d times: the store's error restarted the page", n)
	}
}

// TestFilterNarrowedWhileFailingLeavesTheFailingOut: an operator who narrows a
// failing subscription to leave out the account whose events its receiver
// refuses sees the retries of those stop, and the rest delivered.
func TestFilterNarrowedWhileFailingLeavesTheFailingOut(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	bad, good := account(t, eng, "Bad"), account(t, eng, "Good")
	var badPosts, goodPosts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), bad) {
			badPosts.Add(1)
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		if strings.Contains(string(body), good) {
			goodPosts.Add(1)
		}
	}))
	defer srv.Close()
	last, _ := st.LastEventSeq(ctx)
	sub := subscribe(t, st, "wh_narrow", srv.URL, "", last)
	topUps(t, eng, bad, 1)
	m := Start(Config{Store: st, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	defer m.Stop()
	for deadline := time.Now().Add(5 * time.Second); badPosts.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refused event was not retried")
		}
	}
	change(t, st, sub.ID, func(s *ledger.Subscription) { s.AccountID = good })
	topUps(t, eng, good, 3)
	for deadline := time.Now().Add(5 * time.Second); goodPosts.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the good account's 3 events delivered after the narrowing; the bad one was tried %d times", goodPosts.Load(), badPosts.Load())
		}
	}
	settled := badPosts.Load()
	time.Sleep(100 * time.Millisecond)
	if n := badPosts.Load(); n != settled {
		t.Errorf("the left-out account's event was still retried: %d posts, then %d", settled, n)
	}
}

// TestSaturatedWriterPacesTheLanes: while the writer reports itself saturated,
// one account's backlog goes to a receiver that answers at once no faster than
// its lane's rate (here 500 a second, which even a slow machine's lane outruns),
// and all of it arrives; the lane reports its waits.
func TestSaturatedWriterPacesTheLanes(t *testing.T) {
	ctx := context.Background()
	st, eng := storeWithEngine(t)
	acc := account(t, eng, "Hot")
	last, _ := st.LastEventSeq(ctx)
	const n, rate = 300, 500
	topUps(t, eng, acc, n)
	rcv := &bodiesWith{s: acc}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	subscribe(t, st, "wh_paced", srv.URL, acc, last)
	start := time.Now()
	var paced atomic.Int64
	m := Start(Config{Store: st, Owner: "node-a", Wake: eng.EventsCommitted, Poll: 5 * time.Millisecond,
		Saturated: func() bool { return true }, SaturatedRate: rate, OnPaced: func(d time.Duration) { paced.Add(int64(d)) }})
	defer m.Stop()
	for deadline := start.Add(20 * time.Second); rcv.n.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered in 20 s", rcv.n.Load(), n)
		}
	}
	took := time.Since(start)
	least := time.Duration(n-saturatedBurst) * time.Second / rate
	if took < least {
		t.Errorf("%d events delivered in %v while the writer was saturated; at %d a second, at least %v", n, took, rate, least)
	}
	// The lanes' waits are most of it (the posts themselves the rest): what the
	// metric purse_webhook_paced_seconds_total adds up.
	if waited := time.Duration(paced.Load()); waited < least/4 || waited > took {
		t.Errorf("the lane reported waiting %v for its pace over %v, want between %v and %v", waited, took, least/4, took)
	}
}
