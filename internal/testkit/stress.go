package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
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
}

// StressResult is what the workers saw acknowledged.
type StressResult struct {
	Acked    map[string]Acked // movement id -> the acknowledged entry
	Refused  map[string]bool  // idempotency keys whose every answer was a refusal (402)
	Statuses map[int]int      // how many answers of each status
	Holds    map[string]bool  // every hold created
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
	status           int
	resp             []byte
}

type stressEntry struct {
	ID, AccountID, Kind, Amount, IdempotencyKey string
}

// Stress runs the workers and returns what they saw. It fails the test on any 5xx,
// on a replay that differs from its original, and on a malformed answer.
func Stress(t testing.TB, cfg StressConfig) *StressResult {
	t.Helper()
	res := &StressResult{Acked: map[string]Acked{}, Refused: map[string]bool{}, Statuses: map[int]int{}, Holds: map[string]bool{}}
	var mu sync.Mutex
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(node int, s *sent) {
		req, _ := http.NewRequest(s.method, cfg.Admin[node%len(cfg.Admin)]+s.url, bytes.NewReader(s.body))
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
		s.status, s.resp = resp.StatusCode, b
	}
	record := func(s *sent) {
		mu.Lock()
		defer mu.Unlock()
		res.Statuses[s.status]++
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
		res.Refused[s.key] = false
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

	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			var history []*sent
			var holds, charges []string // this worker's active holds and acknowledged charges (id|account)
			amount := func(max int64) string { return ledger.Amount(1 + rng.Int64N(max)).String() }
			for i := 0; i < cfg.OpsPerWorker; i++ {
				acc := cfg.Accounts[rng.IntN(len(cfg.Accounts))]
				s := &sent{method: "POST", key: fmt.Sprintf("w%d-%d", w, i)}
				switch op := rng.IntN(100); {
				case op < 15:
					s.url, s.body = "/v1/accounts/"+acc+"/top-ups", []byte(`{"amount":"`+amount(5_000_000)+`"}`)
				case op < 45:
					s.url, s.body = "/v1/accounts/"+acc+"/charges", []byte(`{"amount":"`+amount(20_000_000)+`","reference":"m"}`)
				case op < 57:
					s.url, s.body = "/v1/accounts/"+acc+"/holds", []byte(fmt.Sprintf(`{"amount":"%s","expiresIn":%d}`, amount(3_000_000), int(cfg.HoldTTL/time.Second)))
				case op < 67 && len(holds) > 0:
					j := rng.IntN(len(holds))
					s.url, s.body = "/v1/holds/"+holds[j]+"/capture", []byte(`{}`)
					if rng.IntN(2) == 0 {
						s.body = []byte(`{"amount":"0.000001"}`)
					}
					holds = append(holds[:j], holds[j+1:]...)
				case op < 72 && len(holds) > 0:
					j := rng.IntN(len(holds))
					s.url = "/v1/holds/" + holds[j] + "/void"
					holds = append(holds[:j], holds[j+1:]...)
				case op < 82 && len(charges) > 0:
					c := charges[rng.IntN(len(charges))]
					var id, owner string
					fmt.Sscanf(c, "%s %s", &id, &owner)
					s.url, s.body = "/v1/accounts/"+owner+"/refunds", []byte(`{"chargeId":"`+id+`","amount":"`+amount(1_000_000)+`"}`)
				case len(history) > 0:
					// A retry: the same request with the same key, to another node.
					old := history[rng.IntN(len(history))]
					again := &sent{method: old.method, url: old.url, key: old.key, body: old.body}
					do(w+1, again)
					if old.status < 300 && (again.status != old.status || !bytes.Equal(again.resp, old.resp)) {
						t.Errorf("retry of %s %s (key %s): %d %s, first answer %d %s", old.method, old.url, old.key, again.status, again.resp, old.status, old.resp)
					}
					record(again)
					if again.status < 300 && old.status >= 300 {
						old.status, old.resp = again.status, again.resp // the retry succeeded: later retries must match it
					}
					continue
				default:
					continue
				}
				do(w, s)
				record(s)
				history = append(history, s)
				if s.status == http.StatusCreated {
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
	return res
}

// VerifyStress checks a finished stress run against purse's own answers: every
// acknowledged entry is in the history exactly once, nothing else is, no refused
// (402) key left an entry, and each balance equals the initial one plus what was
// acknowledged. initial maps account -> balance before the run; entries lists an
// account's whole history through the admin API.
func VerifyStress(t testing.TB, res *StressResult, initial map[string]ledger.Amount,
	entries func(account string) []EntryView, balance func(account string) (ledger.Amount, ledger.Amount)) {
	t.Helper()
	want := map[string]ledger.Amount{}
	for id, b := range initial {
		want[id] = b
	}
	for _, a := range res.Acked {
		want[a.AccountID] += a.Amount
	}
	seen := map[string]int{}
	for acc := range initial {
		for _, e := range entries(acc) {
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
			if res.Refused[e.Key] {
				t.Errorf("key %s was refused with 402 yet left entry %s", e.Key, e.ID)
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
