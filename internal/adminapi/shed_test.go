package adminapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestOverloadIs503WithRetryAfter is issue #17's point 9 on the admin API: a
// flood of charges that the writer cannot keep up with is answered, past the
// queueing-delay target, with 503 SERVICE_UNAVAILABLE and Retry-After at once,
// instead of waiting in a queue without bound. A shed request did nothing: it is
// not in the audit log and not kept under its Idempotency-Key, so a retry with
// that key later charges once.
func TestOverloadIs503WithRetryAfter(t *testing.T) {
	var slow atomic.Bool // a writer slowed to a batch every ~20 ms
	now := func() time.Time {
		if slow.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		return time.Now()
	}
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: now, MaxQueueDelay: 2 * time.Millisecond})
	acc := funded(t, s, "1000000")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	charge := func(key string) (int, string, string) {
		req, _ := http.NewRequest("POST", s.Admin.URL+"/v1/accounts/"+acc+"/charges", strings.NewReader(`{"amount":"0.01"}`))
		req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, "", ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
	}

	slow.Store(true)
	var mu sync.Mutex
	answers := map[string]int{}
	var shedKey, shedBody string
	var wg sync.WaitGroup
	stop := time.Now().Add(800 * time.Millisecond)
	for w := 0; w < 256; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				key := fmt.Sprintf("c%d-%d", w, i)
				status, retryAfter, body := charge(key)
				mu.Lock()
				answers[fmt.Sprintf("%d Retry-After %q", status, retryAfter)]++
				if status == http.StatusServiceUnavailable && shedKey == "" {
					shedKey, shedBody = key, body
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slow.Store(false)
	t.Logf("answers: %v", answers)
	if answers[`503 Retry-After "1"`] == 0 || answers[`201 Retry-After ""`] == 0 || len(answers) != 2 {
		t.Fatalf("answers %v: want 201s, and 503s with Retry-After 1, and nothing else", answers)
	}
	if want := `{"requestError":{"serviceException":{"messageId":"SERVICE_UNAVAILABLE","text":"Service overloaded; retry after the time in Retry-After (with the same Idempotency-Key)"}}}`; shedBody != want {
		t.Errorf("a shed request's body %s, want %s", shedBody, want)
	}

	// Once the writer is idle again the same key charges, afresh.
	var status int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if status, _, _ = charge(shedKey); status != http.StatusServiceUnavailable {
			break
		}
	}
	if status != http.StatusCreated {
		t.Fatalf("the shed key retried: %d, want 201", status)
	}
	if r := s.AdminDo("POST", "/v1/accounts/"+acc+"/charges", `{"amount":"0.01"}`, testkit.Key(shedKey)); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the shed key's success is not kept: %d %s", r.Status, r.Body)
	}

	// Every charge answered 201 is in the balance and in the audit log; no 503 is.
	s.Audit.Flush(context.Background())
	audited := map[int]int{}
	for before := int64(0); ; {
		recs, err := s.Store.ListAudit(context.Background(), ledger.AuditFilter{BeforeSeq: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if strings.HasSuffix(r.Target, "/charges") {
				audited[r.Status]++
			}
		}
		before = recs[len(recs)-1].Seq
	}
	charged := answers[`201 Retry-After ""`] + 1                                                  // and the shed key's retry
	if got, want := fmt.Sprint(audited), fmt.Sprint(map[int]int{201: charged + 1}); got != want { // + its replay
		t.Errorf("audited charges by status %s, want %s", got, want)
	}
	if got, want := s.Balance(acc)["balance"], ledger.Amount(1000000_000000-10000*int64(charged)).String(); got != want {
		t.Errorf("balance %v, want %s", got, want)
	}
	mustCheck(t, s)
}
