package adminapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

func TestAccountLifecycle(t *testing.T) {
	s := testkit.New(t)
	var a map[string]any
	s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"Acme","currency":"USD"}`, nil).JSON(t, &a)
	id := a["id"].(string)
	if a["balance"] != "0" || a["status"] != "active" || a["currency"] != "USD" || a["name"] != "Acme" || a["monthlyLimit"] != nil || a["allowedMinus"] != "0" {
		t.Fatalf("created account = %v", a)
	}
	var got map[string]any
	s.MustAdmin(200, "GET", "/v1/accounts/"+id, "", nil).JSON(t, &got)
	if diff := cmp.Diff(got, a); diff != "" {
		t.Errorf("GET differs from POST (-get +post):\n%s", diff)
	}
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+id, `{"name":"Acme Ltd","status":"suspended"}`, nil).JSON(t, &got)
	if got["name"] != "Acme Ltd" || got["status"] != "suspended" {
		t.Errorf("patched = %v", got)
	}
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+id, `{"status":"closed"}`, nil)
	r := s.MustAdmin(409, "PATCH", "/v1/accounts/"+id, `{"status":"active"}`, nil)
	var env envelope
	r.JSON(t, &env)
	if env.RequestError.ServiceException.MessageID != "CONFLICT" {
		t.Errorf("reopen: %s", r.Body)
	}
	s.MustAdmin(409, "POST", "/v1/accounts/"+id+"/top-ups", `{"amount":"1"}`, map[string]string{"Idempotency-Key": "closed"})
	s.MustAdmin(404, "GET", "/v1/accounts/sys_revenue_USD", "", nil)
}

func TestListAccountsPaginates(t *testing.T) {
	s := testkit.New(t)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[s.CreateAccount(fmt.Sprintf("a%d", i), "EUR")] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		var page struct {
			Accounts   []struct{ ID string }
			NextCursor string
		}
		path := "/v1/accounts?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		s.MustAdmin(200, "GET", path, "", nil).JSON(t, &page)
		pages++
		for _, a := range page.Accounts {
			if seen[a.ID] {
				t.Errorf("account %s on two pages", a.ID)
			}
			seen[a.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if diff := cmp.Diff(seen, want); diff != "" || pages != 3 {
		t.Errorf("pages = %d; accounts differ (-seen +want):\n%s", pages, diff)
	}
}

func TestCredentialChangesTakeEffectAtOnce(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("C", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"carol","password":"password1"}`, nil)
	var k struct{ ID, Key string }
	r := s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/api-keys", `{"name":"ci","scopes":["account-management:manage"]}`, nil)
	r.JSON(t, &k)
	if len(k.Key) != 64 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("key %q (Cache-Control %q)", k.Key, r.Header.Get("Cache-Control"))
	}
	userAuth := map[string]string{"Authorization": basicAuth("carol", "password1")}
	keyAuth := map[string]string{"Authorization": "App " + k.Key}
	for i := 0; i < 2; i++ { // the second round is served from the credential cache
		for _, h := range []map[string]string{userAuth, keyAuth} {
			if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", h, nil); r.Status != 200 {
				t.Fatalf("before revocation: %d %s", r.Status, r.Body)
			}
		}
	}
	var keys struct{ APIKeys []map[string]any }
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/api-keys", "", nil).JSON(t, &keys)
	if len(keys.APIKeys) != 1 || keys.APIKeys[0]["key"] != nil {
		t.Errorf("listed keys = %v, want one without its clear key", keys.APIKeys)
	}
	s.MustAdmin(204, "DELETE", "/v1/accounts/"+acc+"/api-keys/"+k.ID, "", nil)
	s.MustAdmin(204, "DELETE", "/v1/accounts/"+acc+"/users/carol", "", nil)
	for _, h := range []map[string]string{userAuth, keyAuth} {
		if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", h, nil); r.Status != 401 {
			t.Errorf("after revocation: %d %s, want 401", r.Status, r.Body)
		}
	}
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/api-keys", "", nil).JSON(t, &keys)
	if keys.APIKeys[0]["revokedAt"] == nil {
		t.Errorf("revoked key shows no revokedAt: %v", keys.APIKeys[0])
	}
	// Suspension is read from the engine on every request, cached login or not.
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"dave","password":"password1"}`, nil)
	dave := map[string]string{"Authorization": basicAuth("dave", "password1")}
	if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", dave, nil); r.Status != 200 {
		t.Fatalf("dave: %d", r.Status)
	}
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"status":"suspended"}`, nil)
	if r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", dave, nil); r.Status != 403 {
		t.Errorf("suspended: %d %s, want 403", r.Status, r.Body)
	}
}

func TestTopUpIsExactlyOnce(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("T", "EUR")
	path := "/v1/accounts/" + acc + "/top-ups"
	first := s.MustAdmin(201, "POST", path, `{"amount":"2.5","reference":"inv-1"}`, map[string]string{"Idempotency-Key": "k1"})
	// Sixteen concurrent retries of the same request: all replay, none applies.
	var wg sync.WaitGroup
	replays := make([]testkit.Response, 16)
	for i := range replays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replays[i] = s.AdminDo("POST", path, `{"amount":"2.5","reference":"inv-1"}`, map[string]string{"Idempotency-Key": "k1"})
		}()
	}
	wg.Wait()
	for _, r := range replays {
		if r.Status != first.Status || string(r.Body) != string(first.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay = %d %s (replayed=%q), want %d %s", r.Status, r.Body, r.Header.Get("Idempotent-Replayed"), first.Status, first.Body)
		}
	}
	var bal map[string]any
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/balance", "", nil).JSON(t, &bal)
	if bal["balance"] != "2.5" {
		t.Errorf("balance = %v, want 2.5", bal["balance"])
	}
	entries, err := s.Store.Entries(t.Context(), acc)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %v, %v; want exactly one", entries, err)
	}
}

func TestConcurrentFirstUseOfAKey(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("T", "EUR")
	path := "/v1/accounts/" + acc + "/top-ups"
	var wg sync.WaitGroup
	statuses := make([]int, 32)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.AdminDo("POST", path, `{"amount":"1"}`, map[string]string{"Idempotency-Key": "race"}).Status
		}()
	}
	wg.Wait()
	for _, st := range statuses {
		if st != http.StatusCreated {
			t.Errorf("status %d, want 201 for every sender", st)
		}
	}
	entries, _ := s.Store.Entries(t.Context(), acc)
	if len(entries) != 1 {
		t.Errorf("%d entries, want 1", len(entries))
	}
}

func TestHealth(t *testing.T) {
	s := testkit.New(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := testkit.Do(t, "GET", s.Admin.URL+p, nil, nil); r.Status != 200 {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
}
