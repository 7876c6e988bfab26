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
	res := &StressResult{Acked: map[string]Acked{}, Refused: map[string]bool{}, Statuses: map[int]int{}, Holds: map[string]bool{}}
	var mu sync.Mutex
	answers := map[string][]*sent{} // idempotency key -> every answered request, in answer order
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(node int, s *sent) {
		s.node = node % len(cfg.Admin)
		req, _ := http.NewRequest(s.method, cfg.Admin[s.node]+s.url, bytes.NewReader(s.body))
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", s.key)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", s.method, s.url, err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.status, s.resp, s.replayed = resp.StatusCode, b, resp.Header.Get("Idempotent-Replayed") == "true"
	}
	record := func(s *sent) {
		if s.status == 0 {
			return // no answer: do reported it
		}
		mu.Lock()
		defer mu.Unlock()
		res.Statuses[s.status]++
		answers[s.key] = append(answers[s.key], s)
		if s.status >= 500 {
			t.Errorf("%s %s: %d %s", s.method, s.url, s.status, s.resp)
			return
		}
		if s.status == http.StatusPaymentRequired {
			if _, seen := res.Refused[s.key]; !seen {
				res.Refused[s.key] = true
			}
			return
		}
		if _, seen := res.Refused[s.key]; !seen {
			res.Refused[s.key] = false
		}
		if s.status >= 300 {
			return
		}
		var e stressEntry
		var body struct {
			stressEntry
			Entry  *stressEntry `json:"entry"`
			Status string       `json:"status"`
		}
		if err := json.Unmarshal(s.resp, &body); err != nil {
			t.Errorf("%s: %v", s.resp, err)
			return
		}
		switch {
		case body.Entry != nil:
			e = *body.Entry
		case body.Kind != "":
			e = body.stressEntry
		default:
			if body.Status == "active" {
				res.Holds[body.ID] = true
			}
			return // a hold or a void: no entry
		}
		amt, err := ledger.ParseAmount(e.Amount)
		if err != nil {
			t.Errorf("entry amount %q: %v", e.Amount, err)
			return
		}
		res.Acked[e.ID] = Acked{AccountID: e.AccountID, Amount: amt, Key: e.IdempotencyKey}
	}
	// twins sends s and an exact copy of it to the next node at the same moment.
	twins := func(node int, s *sent) *sent {
		twin := &sent{method: s.method, url: s.url, key: s.key, body: s.body}
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			do(node+1, twin)
		}()
		close(start)
		do(node, s)
		wg.Wait()
		return twin
	}
	// retry re-sends an earlier request under its key.
	retry := func(node int, old *sent, afterTopUp bool) {
		again := &sent{method: old.method, url: old.url, key: old.key, body: old.body, afterTopUp: afterTopUp}
		do(node, again)
		record(again)
	}

	var wg sync.WaitGroup
	var concurrent, afterTopUp int
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			var history, refused []*sent // this worker's first requests; those first answered 402 (charges, holds)
			var holds, charges []string  // this worker's active holds and acknowledged charges (id|account)
			amount := func(max int64) string { return ledger.Amount(1 + rng.Int64N(max)).String() }
			for i := 0; i < cfg.OpsPerWorker; i++ {
				// About one request in ten is a retry of an earlier key.
				switch r := rng.IntN(100); {
				case r < 4 && len(history) > 0:
					// Later, to another node; the funds may have moved since.
					retry(w+1, history[rng.IntN(len(history))], false)
					continue
				case r < 7 && len(refused) > 0:
					// A refused charge or hold, retried after a top-up that now covers it:
					// it must stay refused and move nothing.
					old := refused[rng.IntN(len(refused))]
					var req struct{ Amount string }
					json.Unmarshal(old.body, &req)
					acc := strings.Split(old.url, "/")[3]
					top := &sent{method: "POST", key: fmt.Sprintf("w%d-%d-top", w, i), url: "/v1/accounts/" + acc + "/top-ups", body: []byte(`{"amount":"` + req.Amount + `"}`)}
					do(w, top)
					record(top)
					history = append(history, top)
					if top.status != http.StatusCreated {
						t.Errorf("top-up before a retry: %d %s", top.status, top.resp)
						continue
					}
					retry(w+1, old, true)
					mu.Lock()
					afterTopUp++
					mu.Unlock()
					continue
				}
				acc := cfg.Accounts[rng.IntN(len(cfg.Accounts))]
				s := &sent{method: "POST", key: fmt.Sprintf("w%d-%d", w, i)}
				switch op := rng.IntN(100); {
				case op < 16:
					s.url, s.body = "/v1/accounts/"+acc+"/top-ups", []byte(`{"amount":"`+amount(5_000_000)+`"}`)
				case op < 50:
					s.url, s.body = "/v1/accounts/"+acc+"/charges", []byte(`{"amount":"`+amount(20_000_000)+`","reference":"m"}`)
				case op < 63:
					s.url, s.body = "/v1/accounts/"+acc+"/holds", []byte(fmt.Sprintf(`{"amount":"%s","expiresIn":%d}`, amount(3_000_000), int(cfg.HoldTTL/time.Second)))
				case op < 75 && len(holds) > 0:
					j := rng.IntN(len(holds))
					s.url, s.body = "/v1/holds/"+holds[j]+"/capture", []byte(`{}`)
					if rng.IntN(2) == 0 {
						s.body = []byte(`{"amount":"0.000001"}`)
					}
					holds = append(holds[:j], holds[j+1:]...)
				case op < 82 && len(holds) > 0:
					j := rng.IntN(len(holds))
					s.url = "/v1/holds/" + holds[j] + "/void"
					holds = append(holds[:j], holds[j+1:]...)
				case len(charges) > 0:
					c := charges[rng.IntN(len(charges))]
					var id, owner string
					fmt.Sscanf(c, "%s %s", &id, &owner)
					s.url, s.body = "/v1/accounts/"+owner+"/refunds", []byte(`{"chargeId":"`+id+`","amount":"`+amount(1_000_000)+`"}`)
				default:
					s.url, s.body = "/v1/accounts/"+acc+"/charges", []byte(`{"amount":"`+amount(20_000_000)+`","reference":"m"}`)
				}
				if rng.IntN(100) < 3 {
					// Twins: the same request twice at once, to two nodes where there are two.
					twin := twins(w, s)
					record(s)
					record(twin)
					mu.Lock()
					concurrent++
					mu.Unlock()
				} else {
					do(w, s)
					record(s)
				}
				history = append(history, s)
				switch s.status {
				case http.StatusPaymentRequired:
					refused = append(refused, s)
				case http.StatusCreated:
					var out struct{ ID, Status, Kind, AccountID string }
					json.Unmarshal(s.resp, &out)
					switch {
					case out.Status == "active":
						holds = append(holds, out.ID)
					case out.Kind == "charge":
						charges = append(charges, out.ID+" "+out.AccountID)
					}
				}
			}
		}()
	}
	wg.Wait()

	// Last, top every account up far beyond any request of the mix and retry a sample
	// of the refused keys: a purse that re-ran them would now accept every one.
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.Workers)))
	var final []*sent
	for _, acc := range cfg.Accounts {
		top := &sent{method: "POST", key: "w-final-top-" + acc, url: "/v1/accounts/" + acc + "/top-ups", body: []byte(`{"amount":"1000"}`)}
		do(0, top)
		record(top)
		if top.status != http.StatusCreated {
			t.Fatalf("final top-up: %d %s", top.status, top.resp)
		}
	}
	for _, as := range answers {
		if first := as[0]; first.status == http.StatusPaymentRequired && strings.HasPrefix(first.url, "/v1/accounts/") {
			final = append(final, first)
		}
	}
	rng.Shuffle(len(final), func(i, j int) { final[i], final[j] = final[j], final[i] })
	max := cfg.FinalRetries
	if max == 0 {
		max = 100
	}
	final = final[:min(len(final), max)]
	jobs := make(chan int)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				retry(i+1, final[i], true)
			}
		}()
	}
	for i := range final {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	afterTopUp += len(final)

	checkAnswers(t, answers, res)
	res.ConcurrentRetries, res.AfterTopUpRetries = concurrent, afterTopUp
	return res
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
