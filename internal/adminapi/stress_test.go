package adminapi_test

import (
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestStress sends 16 workers' random mix of top-ups, charges (many larger than
// the balance), short holds, captures, voids, refunds and same-key retries (twins
// sent at once, later retries, refused charges retried after a top-up) at the real
// HTTP server, then proves the ledger from the outside (every answer of a key the
// same bytes, every acknowledged entry exactly once, refusals left nothing,
// balances equal the acknowledged sum) and from the inside (purse check).
func TestStress(t *testing.T) {
	s := testkit.New(t)
	initial := map[string]ledger.Amount{}
	var accounts []string
	for i := 0; i < 4; i++ {
		acc := funded(t, s, "20")
		accounts = append(accounts, acc)
		initial[acc] = ledger.MustParseAmount("20")
	}
	start := time.Now()
	res := testkit.Stress(t, testkit.StressConfig{Admin: []string{s.Admin.URL}, Token: testkit.AdminToken, Accounts: accounts,
		Workers: 16, OpsPerWorker: 150, Seed: uint64(time.Now().UnixNano()), HoldTTL: time.Second})
	elapsed := time.Since(start)
	deadline := time.Now().Add(10 * time.Second)
	for _, acc := range accounts {
		for {
			if _, held := testkit.AdminBalance(t, s.Admin.URL, testkit.AdminToken, acc); held == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	testkit.VerifyStress(t, res, initial,
		func(acc string) []testkit.EntryView {
			return testkit.AdminEntries(t, s.Admin.URL, testkit.AdminToken, acc)
		},
		func(acc string) (ledger.Amount, ledger.Amount) {
			return testkit.AdminBalance(t, s.Admin.URL, testkit.AdminToken, acc)
		})
	mustCheck(t, s)
	refused := 0
	for _, r := range res.Refused {
		if r {
			refused++
		}
	}
	t.Logf("%v: %d acknowledged entries, %d holds, %d keys refused with 402, answers by status %v", elapsed, len(res.Acked), len(res.Holds), refused, res.Statuses)
	t.Logf("%d retries (%d twins, %d after a top-up); %d replayed 402s, %d of them after a top-up", res.Retries, res.ConcurrentRetries, res.AfterTopUpRetries, res.Replayed402, res.Replayed402AfterTopUp)
	if len(res.Acked) < 500 || refused == 0 || res.Statuses[409] == 0 {
		t.Errorf("the mix did not exercise the ledger: %d acked, %d refused, statuses %v", len(res.Acked), refused, res.Statuses)
	}
	if res.Replayed402AfterTopUp == 0 || res.ConcurrentRetries == 0 {
		t.Errorf("the retries did not exercise replays: %d replayed 402s after a top-up, %d twins", res.Replayed402AfterTopUp, res.ConcurrentRetries)
	}
}
