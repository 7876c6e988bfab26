package infobipapi_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/testkit"
)

// TestBruteForceIsLimited hammers one username with wrong passwords: after the
// allowance, refusals turn into 429 with Retry-After (even for the right password),
// the account's API key keeps working, and the allowance comes back after the
// window.
func TestBruteForceIsLimited(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	limits := &auth.Limits{PerUser: rate.Every(10 * time.Second), UserBurst: 3, PerIP: rate.Every(time.Second), IPBurst: 100}
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now, AuthLimits: limits})
	acc := s.CreateAccount("Target", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"victim","password":"right-password"}`, nil)
	var k struct{ Key string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/api-keys", `{"name":"k"}`, nil).JSON(t, &k)
	get := func(authz string) testkit.Response {
		return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": authz}, nil)
	}
	for i := 0; i < 3; i++ {
		if r := get(basic("victim", "guess-"+strconv.Itoa(i))); r.Status != 401 {
			t.Fatalf("guess %d: %d", i, r.Status)
		}
	}
	r := get(basic("victim", "guess-3"))
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after the allowance: %d (Retry-After %q) %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if string(r.Body) != `{"requestError":{"serviceException":{"messageId":"TOO_MANY_REQUESTS","text":"Too many failed login attempts; retry later"}}}` {
		t.Errorf("429 body: %s", r.Body)
	}
	if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 1 || secs > 10 {
		t.Errorf("Retry-After %q, want 1 to 10 seconds", r.Header.Get("Retry-After"))
	}
	if r := get(basic("victim", "right-password")); r.Status != 429 {
		t.Errorf("right password while blocked: %d, want 429", r.Status)
	}
	if r := get("App " + k.Key); r.Status != 200 {
		t.Errorf("the account's API key during the attack: %d", r.Status)
	}
	clock.Advance(10 * time.Second)
	if r := get(basic("victim", "right-password")); r.Status != 200 {
		t.Errorf("after the window: %d", r.Status)
	}
}

// BenchmarkRefusal times refusing a wrong password for a known user and refusing
// an unknown user: both run one argon2id verification, so the two figures match
// (go test -bench Refusal ./internal/infobipapi/). A benchmark, not a timed test:
// this machine is shared and a timing assertion would be flaky.
func BenchmarkRefusal(b *testing.B) {
	s := testkit.New(b)
	acc := s.CreateAccount("T", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"known","password":"right-password"}`, nil)
	for _, user := range []string{"known", "unknown-user"} {
		b.Run(user, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				r := testkit.Do(b, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": basic(user, "wrong-"+strconv.Itoa(i))}, nil)
				if r.Status != 401 {
					b.Fatalf("%s: %d", user, r.Status)
				}
			}
		})
	}
}
