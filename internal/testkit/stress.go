package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// StressConfig drives a random mix of money requests at one or more purse nodes.
type StressConfig struct {
	Admin        []string // admin base URLs; workers spread over them, retries cross them
	Token        string
	Accounts     []string // funded accounts the workers share
	Workers      int
	OpsPerWorker int
	Seed         uint64
	HoldTTL      time.Duration // short, so expiry races captures; whole seconds
	// FinalRetries bounds the refused keys retried once more at the end, after every
	// account was topped up beyond any request of the mix; 0 means 100.
	FinalRetries int
}

// StressResult is what the workers saw acknowledged, and how the same-key retries went.
type StressResult struct {
	Acked    map[string]Acked // movement id -> the acknowledged entry
	Refused  map[string]bool  // idempotency keys first answered 402 (so every answer was that 402)
	Statuses map[int]int      // how many answers of each status
	Holds    map[string]bool  // every hold created

	Retries               int // requests sent again under a key already sent
	ConcurrentRetries     int // of which twins sent at the same moment as the first
	CrossNodeRetries      int // of which answered by another node than the first answer
	AfterTopUpRetries     int // of which keys first refused 402, retried after a top-up of their account
	Replayed402           int // 402 answers that carried Idempotent-Replayed: true
	Replayed402AfterTopUp int // of which retries after a top-up
}

// Acked is an acknowledged entry.
type Acked struct {
	AccountID string
	Amount    ledger.Amount
	Key       string
}

type sent struct {
	method, url, key string
	body             []byte
	node             int
	afterTopUp       bool // a retry of a refused key, sent after a top-up of its account
	status           int
	replayed         bool // the answer carried Idempotent-Replayed: true
	resp             []byte
}

type stressEntry struct {
	ID, AccountID, Kind, Amount, IdempotencyKey string
}

// Stress runs the workers and returns what they saw. Besides new requests, about one
// request in ten re-sends an earlier request with the same Idempotency-Key: as a twin
// at the same moment, later to another node, or (for a key refused with 402) after
// a top-up that would now let it through. A key's first business answer is final, so
// Stress fails the test unless every answer for one key has the same status and the
// same bytes, exactly one of them lacks Idempotent-Replayed: true, and none is a 5xx.
func Stress(t testing.TB, cfg StressConfig) *StressResult {
	t.Helper()
	r := &stressRun{t: t, cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}, answers: map[string][]*sent{},
		res: &StressResult{Acked: map[string]Acked{}, Refused: map[string]bool{}, Statuses: map[int]int{}, Holds: map[string]bool{}}}
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(w)
		}()
	}
	wg.Wait()
	r.retryRefusedAfterTopUps()
	checkAnswers(t, r.answers, r.res)
	r.res.ConcurrentRetries, r.res.AfterTopUpRetries = r.concurrent, r.afterTopUp
	return r.res
}

// stressRun is one Stress: its workers share the answers seen so far.
type stressRun struct {
	t      testing.TB
	cfg    StressConfig
	client *http.Client

	mu                     sync.Mutex
	res                    *StressResult
	answers                map[string][]*sent // idempotency key -> every answered request, in answer order
	concurrent, afterTopUp int
}

// do sends s to a node and keeps its answer in s.
func (r *stressRun) do(node int, s *sent) {
	s.node = node % len(r.cfg.Admin)
	req, _ := http.NewRequest(s.method, r.cfg.Admin[s.node]+s.url, bytes.NewReader(s.body))
	req.Header.Set("Authorization", "Bearer "+r.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", s.key)
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Errorf("%s %s: %v", s.method, s.url, err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.status, s.resp, s.replayed = resp.StatusCode, b, resp.Header.Get("Idempotent-Replayed") == "true"
}

// record keeps an answer: its status, its key's answers, what it acknowledged.
func (r *stressRun) record(s *sent) {
	if s.status == 0 {
		return // no answer: do reported it
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Statuses[s.status]++
	r.answers[s.key] = append(r.answers[s.key], s)
	if s.status >= 500 {
		r.t.Errorf("%s %s: %d %s", s.method, s.url, s.status, s.resp)
		return
	}
	if _, seen := r.res.Refused[s.key]; !seen {
		r.res.Refused[s.key] = s.status == http.StatusPaymentRequired
	}
	if s.status >= 300 {
		return
	}
	r.acknowledge(s)
}

// acknowledge notes the entry (or the active hold) a 2xx answer made; r.mu is held.
func (r *stressRun) acknowledge(s *sent) {
	var body struct {
		stressEntry
		Entry  *stressEntry `json:"entry"`
		Status string       `json:"status"`
	}
	if err := json.Unmarshal(s.resp, &body); err != nil {
		r.t.Errorf("%s: %v", s.resp, err)
		return
	}
	e := body.stressEntry
	if body.Entry != nil {
		e = *body.Entry
	} else if body.Kind == "" {
		if body.Status == "active" {
			r.res.Holds[body.ID] = true
		}
		return // a hold or a void: no entry
	}
	amt, err := ledger.ParseAmount(e.Amount)
	if err != nil {
		r.t.Errorf("entry amount %q: %v", e.Amount, err)
		return
	}
	r.res.Acked[e.ID] = Acked{AccountID: e.AccountID, Amount: amt, Key: e.IdempotencyKey}
}

// twins sends s and an exact copy of it to the next node at the same moment.
func (r *stressRun) twins(node int, s *sent) *sent {
	twin := &sent{method: s.method, url: s.url, key: s.key, body: s.body}
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		r.do(node+1, twin)
	}()
	close(start)
	r.do(node, s)
	wg.Wait()
	return twin
}

// retry re-sends an earlier request under its key.
func (r *stressRun) retry(node int, old *sent, afterTopUp bool) {
	again := &sent{method: old.method, url: old.url, key: old.key, body: old.body, afterTopUp: afterTopUp}
	r.do(node, again)
	r.record(again)
}

func (r *stressRun) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
}

// stressWorker is one worker's own view: its requests and what they made.
type stressWorker struct {
	w                int
	rng              *rand.Rand
	history, refused []*sent  // first requests; those first answered 402 (charges, holds)
	holds, charges   []string // active holds and acknowledged charges (id|account)
}

func (sw *stressWorker) amount(max int64) string {
	return ledger.Amount(1 + sw.rng.Int64N(max)).String()
}

// worker sends one worker's requests: about one in ten a retry of an earlier key.
func (r *stressRun) worker(w int) {
	sw := &stressWorker{w: w, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(w)))}
	for i := 0; i < r.cfg.OpsPerWorker; i++ {
		switch x := sw.rng.IntN(100); {
		case x < 4 && len(sw.history) > 0:
			// Later, to another node; the funds may have moved since.
			r.retry(w+1, sw.history[sw.rng.IntN(len(sw.history))], false)
		case x < 7 && len(sw.refused) > 0:
			r.retryAfterTopUp(sw, i)
		default:
			r.send(sw, r.newRequest(sw, i))
		}
	}
}

// retryAfterTopUp retries a refused charge or hold after a top-up that now covers
// it: it must stay refused and move nothing.
func (r *stressRun) retryAfterTopUp(sw *stressWorker, i int) {
	old := sw.refused[sw.rng.IntN(len(sw.refused))]
	var req struct{ Amount string }
	json.Unmarshal(old.body, &req)
	acc := strings.Split(old.url, "/")[3]
	top := &sent{method: "POST", key: fmt.Sprintf("w%d-%d-top", sw.w, i), url: "/v1/accounts/" + acc + "/top-ups", body: []byte(`{"amount":"` + req.Amount + `"}`)}
	r.do(sw.w, top)
	r.record(top)
	sw.history = append(sw.history, top)
	if top.status != http.StatusCreated {
		r.t.Errorf("top-up before a retry: %d %s", top.status, top.resp)
		return
	}
	r.retry(sw.w+1, old, true)
	r.count(&r.afterTopUp)
}

// newRequest draws a new money request of the mix.
func (r *stressRun) newRequest(sw *stressWorker, i int) *sent {
	acc := r.cfg.Accounts[sw.rng.IntN(len(r.cfg.Accounts))]
	s := &sent{method: "POST", key: fmt.Sprintf("w%d-%d", sw.w, i)}
	charge := func() {
		s.url, s.body = "/v1/accounts/"+acc+"/charges", []byte(`{"amount":"`+sw.amount(20_000_000)+`","reference":"m"}`)
	}
	switch op := sw.rng.IntN(100); {
	case op < 16:
		s.url, s.body = "/v1/accounts/"+acc+"/top-ups", []byte(`{"amount":"`+sw.amount(5_000_000)+`"}`)
	case op < 50:
		charge()
	case op < 63:
		s.url, s.body = "/v1/accounts/"+acc+"/holds", []byte(fmt.Sprintf(`{"amount":"%s","expiresIn":%d}`, sw.amount(3_000_000), int(r.cfg.HoldTTL/time.Second)))
	case op < 75 && len(sw.holds) > 0:
		s.url, s.body = "/v1/holds/"+sw.takeHold()+"/capture", []byte(`{}`)
		if sw.rng.IntN(2) == 0 {
			s.body = []byte(`{"amount":"0.000001"}`)
		}
	case op < 82 && len(sw.holds) > 0:
		s.url = "/v1/holds/" + sw.takeHold() + "/void"
	case len(sw.charges) > 0:
		var id, owner string
		fmt.Sscanf(sw.charges[sw.rng.IntN(len(sw.charges))], "%s %s", &id, &owner)
		s.url, s.body = "/v1/accounts/"+owner+"/refunds", []byte(`{"chargeId":"`+id+`","amount":"`+sw.amount(1_000_000)+`"}`)
	default:
		charge()
	}
	return s
}

// takeHold removes and returns one of the worker's active holds.
func (sw *stressWorker) takeHold() string {
	j := sw.rng.IntN(len(sw.holds))
	id := sw.holds[j]
	sw.holds = append(sw.holds[:j], sw.holds[j+1:]...)
	return id
}

// send sends a new request (now and then with a twin) and notes what it made.
func (r *stressRun) send(sw *stressWorker, s *sent) {
	if sw.rng.IntN(100) < 3 {
		// Twins: the same request twice at once, to two nodes where there are two.
		twin := r.twins(sw.w, s)
		r.record(s)
		r.record(twin)
		r.count(&r.concurrent)
	} else {
		r.do(sw.w, s)
		r.record(s)
	}
	sw.history = append(sw.history, s)
	switch s.status {
	case http.StatusPaymentRequired:
		sw.refused = append(sw.refused, s)
	case http.StatusCreated:
		var out struct{ ID, Status, Kind, AccountID string }
		json.Unmarshal(s.resp, &out)
		switch {
		case out.Status == "active":
			sw.holds = append(sw.holds, out.ID)
		case out.Kind == "charge":
			sw.charges = append(sw.charges, out.ID+" "+out.AccountID)
		}
	}
}

// retryRefusedAfterTopUps tops every account up far beyond any request of the mix
// and retries a sample of the refused keys: a purse that re-ran them would now
// accept every one.
func (r *stressRun) retryRefusedAfterTopUps() {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(r.cfg.Workers)))
	for _, acc := range r.cfg.Accounts {
		top := &sent{method: "POST", key: "w-final-top-" + acc, url: "/v1/accounts/" + acc + "/top-ups", body: []byte(`{"amount":"1000"}`)}
		r.do(0, top)
		r.record(top)
		if top.status != http.StatusCreated {
			r.t.Fatalf("final top-up: %d %s", top.status, top.resp)
		}
	}
	var final []*sent
	for _, as := range r.answers {
		if first := as[0]; first.status == http.StatusPaymentRequired && strings.HasPrefix(first.url, "/v1/accounts/") {
			final = append(final, first)
		}
	}
	rng.Shuffle(len(final), func(i, j int) { final[i], final[j] = final[j], final[i] })
	max := r.cfg.FinalRetries
	if max == 0 {
		max = 100
	}
	final = final[:min(len(final), max)]
	jobs := make(chan int)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r.retry(i+1, final[i], true)
			}
		}()
	}
	for i := range final {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	r.afterTopUp += len(final)
}

// checkAnswers holds every key to its first business answer: the same status and
// the same bytes each time, the original alone without Idempotent-Replayed. It
// counts the retries on the way.
func checkAnswers(t testing.TB, answers map[string][]*sent, res *StressResult) {
	t.Helper()
	bad := 0
	fail := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for key, as := range answers {
		first := as[0]
		originals := 0
		res.Retries += len(as) - 1
		for _, a := range as {
			if !a.replayed {
				originals++
			}
			if a.node != first.node {
				res.CrossNodeRetries++
			}
			if a.status == http.StatusPaymentRequired && a.replayed {
				res.Replayed402++
				if a.afterTopUp {
					res.Replayed402AfterTopUp++
				}
			}
			if a.status != first.status || !bytes.Equal(a.resp, first.resp) {
				fail("key %s, %s %s %s: answered %d %s (node %d, replayed %v), and also %d %s (node %d, replayed %v)",
					key, first.method, first.url, first.body, first.status, first.resp, first.node, first.replayed, a.status, a.resp, a.node, a.replayed)
			}
		}
		if originals != 1 {
			fail("key %s, %s %s: %d of its %d answers lack Idempotent-Replayed: true, want exactly 1 (statuses %d)",
				key, first.method, first.url, originals, len(as), first.status)
		}
	}
	if bad > 20 {
		t.Errorf("... and %d more differing answers", bad-20)
	}
}

// VerifyStress checks a finished stress run against purse's own answers: every
// acknowledged entry is in the history exactly once, nothing else is, no refused
// (402) key left an entry or is in the model, and each balance equals the initial
// one plus what was acknowledged. initial maps account -> balance before the run;
// entries lists an account's whole history through the admin API.
func VerifyStress(t testing.TB, res *StressResult, initial map[string]ledger.Amount,
	entries func(account string) []EntryView, balance func(account string) (ledger.Amount, ledger.Amount)) {
	t.Helper()
	want := map[string]ledger.Amount{}
	for id, b := range initial {
		want[id] = b
	}
	for id, a := range res.Acked {
		if res.Refused[a.Key] {
			t.Errorf("key %s was refused with 402 yet acknowledged entry %s", a.Key, id)
		}
		w, err := want[a.AccountID].Add(a.Amount)
		if err != nil {
			t.Fatalf("model of %s: %v", a.AccountID, err)
		}
		want[a.AccountID] = w
	}
	seen := map[string]int{}
	for acc := range initial {
		for _, e := range entries(acc) {
			if res.Refused[e.Key] {
				t.Errorf("key %s was refused with 402 yet left entry %s (%s %s) in %s", e.Key, e.ID, e.Kind, e.Amount, acc)
			}
			if e.Key == "" || e.Key[0] != 'w' {
				continue // the funding top-ups made before the run
			}
			seen[e.ID]++
			a, ok := res.Acked[e.ID]
			if !ok {
				t.Errorf("entry %s (%s %s, key %s) was never acknowledged", e.ID, e.Kind, e.Amount, e.Key)
				continue
			}
			if a.AccountID != acc || a.Amount != e.Amount {
				t.Errorf("entry %s: %s %s, acknowledged as %s %s", e.ID, acc, e.Amount, a.AccountID, a.Amount)
			}
		}
	}
	for id := range res.Acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged entry %s appears %d times", id, seen[id])
		}
	}
	for acc, w := range want {
		bal, held := balance(acc)
		if bal != w {
			t.Errorf("account %s: balance %s, the acknowledged operations give %s", acc, bal, w)
		}
		if held != 0 {
			t.Errorf("account %s: %s still held after every hold ended", acc, held)
		}
	}
}

// EntryView is the part of an entry VerifyStress compares.
type EntryView struct {
	ID, Kind, Key string
	Amount        ledger.Amount
}

// AdminEntries lists an account's whole history through an admin API.
func AdminEntries(t testing.TB, adminURL, token, account string) []EntryView {
	t.Helper()
	var out []EntryView
	cursor := ""
	for {
		r := Do(t, "GET", adminURL+"/v1/accounts/"+account+"/entries?limit=500&cursor="+cursor, map[string]string{"Authorization": "Bearer " + token}, nil)
		var page struct {
			Entries []struct {
				ID, Kind, Amount, IdempotencyKey string
			}
			NextCursor string
		}
		r.JSON(t, &page)
		for _, e := range page.Entries {
			amt, err := ledger.ParseAmount(e.Amount)
			if err != nil {
				t.Fatalf("entry amount %q: %v", e.Amount, err)
			}
			out = append(out, EntryView{ID: e.ID, Kind: e.Kind, Key: e.IdempotencyKey, Amount: amt})
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// AdminBalance reads an account's balance and held amount through an admin API.
func AdminBalance(t testing.TB, adminURL, token, account string) (ledger.Amount, ledger.Amount) {
	t.Helper()
	r := Do(t, "GET", adminURL+"/v1/accounts/"+account+"/balance", map[string]string{"Authorization": "Bearer " + token}, nil)
	var b struct{ Balance, Held string }
	r.JSON(t, &b)
	bal, err1 := ledger.ParseAmount(b.Balance)
	held, err2 := ledger.ParseAmount(b.Held)
	if err1 != nil || err2 != nil {
		t.Fatalf("balance %s", r.Body)
	}
	return bal, held
}
