package adminapi_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestOverflowIsTheOffendersOwn409 is issue #17's point 4 as a user met it:
// `purse top-up $USD1 9000000000000`, then the same for $USD2, answered the second
// 503 "retry with the same Idempotency-Key", which could never succeed; under
// load, unrelated EUR requests in the same batches got 503 too. The offender gets
// 409 AMOUNT_OUT_OF_RANGE, kept under its key like any refusal by the ledger, and
// everything else commits.
func TestOverflowIsTheOffendersOwn409(t *testing.T) {
	s := testkit.New(t)
	usd1, usd2 := s.CreateAccount("USD1", "USD"), s.CreateAccount("USD2", "USD")
	eur := funded(t, s, "1000")
	const big = `{"amount":"9000000000000"}`
	s.MustAdmin(201, "POST", "/v1/accounts/"+usd1+"/top-ups", big, testkit.Key("usd1"))

	t.Run("alone", func(t *testing.T) {
		first := s.AdminDo("POST", "/v1/accounts/"+usd2+"/top-ups", big, testkit.Key("usd2"))
		if got, want := fmt.Sprint(first.Status, " ", messageID(t, first)), "409 AMOUNT_OUT_OF_RANGE"; got != want {
			t.Fatalf("second top-up: %s (%s), want %s", got, first.Body, want)
		}
		again := s.AdminDo("POST", "/v1/accounts/"+usd2+"/top-ups", big, testkit.Key("usd2"))
		if again.Status != first.Status || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry with the key: %d %s (replayed %q), want the stored %d %s",
				again.Status, again.Body, again.Header.Get("Idempotent-Replayed"), first.Status, first.Body)
		}
	})

	t.Run("among unrelated requests", func(t *testing.T) {
		const unrelated, offenders = 640, 16
		var wg sync.WaitGroup
		statuses := make(chan string, unrelated+offenders)
		for i := 0; i < unrelated+offenders; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i < offenders {
					r := s.AdminDo("POST", "/v1/accounts/"+usd2+"/top-ups", big, testkit.Key(fmt.Sprint("usd2-", i)))
					statuses <- fmt.Sprint("offender ", r.Status, " ", messageID(t, r))
					return
				}
				r := s.AdminDo("POST", "/v1/accounts/"+eur+"/charges", `{"amount":"0.01"}`, testkit.Key(fmt.Sprint("eur-", i)))
				statuses <- fmt.Sprint("unrelated ", r.Status)
			}()
		}
		wg.Wait()
		close(statuses)
		got := map[string]int{}
		for st := range statuses {
			got[st]++
		}
		want := map[string]int{"offender 409 AMOUNT_OUT_OF_RANGE": offenders, "unrelated 201": unrelated}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("answers %v, want %v", got, want)
		}
	})
	bal := s.Balance(eur)
	if got, want := fmt.Sprint(bal["balance"], " ", bal["available"]), "993.6 993.6"; got != want {
		t.Errorf("EUR balance, available: %s, want %s", got, want)
	}
	if got := s.Balance(usd2)["balance"]; got != "0" {
		t.Errorf("USD2 balance %v, want 0", got)
	}
	mustCheck(t, s)
}
