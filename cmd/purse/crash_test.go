package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestCrashUnderLoad kills purse with SIGKILL in the middle of a charge load, five
// times, restarting it on the same file each time. Every charge acknowledged before
// a kill must be in the ledger exactly once, and purse check must pass: nothing
// unacknowledged is half-applied.
func TestCrashUnderLoad(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	n := startNode(t, db)
	var acc struct{ ID string }
	mustAdmin(t, n.admin, 201, "POST", "/v1/accounts", `{"name":"crash","currency":"EUR"}`, nil).JSON(t, &acc)
	mustAdmin(t, n.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/top-ups", `{"amount":"1000000"}`, map[string]string{"Idempotency-Key": "fund"})

	acked := map[string]string{} // idempotency key -> movement id
	var mu sync.Mutex
	client := &http.Client{Timeout: 5 * time.Second}
	for cycle := 0; cycle < 5; cycle++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("c%d-w%d-%d", cycle, w, i)
					req, _ := http.NewRequest("POST", n.admin+"/v1/accounts/"+acc.ID+"/charges", strings.NewReader(`{"amount":"0.000003"}`))
					req.Header.Set("Authorization", "Bearer "+clusterToken)
					req.Header.Set("Idempotency-Key", key)
					resp, err := client.Do(req)
					if err != nil {
						return // the process is gone
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 201 {
						var e struct{ ID string }
						json.Unmarshal(body, &e)
						mu.Lock()
						acked[key] = e.ID
						mu.Unlock()
					} else if resp.StatusCode != 503 {
						t.Errorf("charge: %d %s", resp.StatusCode, body)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond)
		n.kill() // SIGKILL: no shutdown, no flush
		close(stop)
		wg.Wait()
		n = startNode(t, db)
	}
	entries := testkit.AdminEntries(t, n.admin, clusterToken, acc.ID)
	byKey := map[string]int{}
	for _, e := range entries {
		byKey[e.Key]++
	}
	mu.Lock()
	defer mu.Unlock()
	for key, id := range acked {
		if byKey[key] != 1 {
			t.Errorf("acknowledged charge %s (key %s) appears %d times after the crashes", id, key, byKey[key])
		}
	}
	for key, c := range byKey {
		if c > 1 {
			t.Errorf("key %s on %d entries", key, c)
		}
	}
	n.stop(t)
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := ledger.Check(context.Background(), st)
	if err != nil || !rep.OK() {
		t.Fatalf("check after 5 kills: %v %v", err, rep.Problems)
	}
	if len(acked) < 100 {
		t.Errorf("only %d charges acknowledged across the cycles: the load did not run", len(acked))
	}
	t.Logf("5 kill -9 cycles: %d charges acknowledged, %d entries on the account, check ok", len(acked), len(entries))
}
