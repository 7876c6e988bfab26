package infobipapi_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestSessions walks an IBSSO session through its life: create, use, stay alive
// while used, expire after an hour idle, and delete.
func TestSessions(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("S", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"sess","password":"password1"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"3.25"}`, testkit.Key("t"))
	create := func(body string) testkit.Response {
		return testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"}, []byte(body))
	}
	r := create(`{"username":"sess","password":"password1"}`)
	var out struct{ Token string }
	if err := json.Unmarshal(r.Body, &out); r.Status != 200 || err != nil || len(out.Token) < 40 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	ibsso := map[string]string{"Authorization": "IBSSO " + out.Token}
	balance := func() testkit.Response { return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", ibsso, nil) }
	if r := balance(); r.Status != 200 || string(r.Body) != `{"balance":3.25,"currency":"EUR"}` {
		t.Fatalf("use: %d %s", r.Status, r.Body)
	}
	// Used every 50 minutes, it lives on.
	for i := 0; i < 3; i++ {
		clock.Advance(50 * time.Minute)
		if r := balance(); r.Status != 200 {
			t.Fatalf("use after %d × 50 min: %d", i+1, r.Status)
		}
	}
	// An hour and a second idle, it is gone.
	clock.Advance(time.Hour + time.Second)
	if r := balance(); r.Status != 401 {
		t.Errorf("after an hour idle: %d", r.Status)
	}
	// A new one, deleted.
	create(`{"username":"sess","password":"password1"}`)
	r = create(`{"username":"sess","password":"password1"}`)
	json.Unmarshal(r.Body, &out)
	ibsso["Authorization"] = "IBSSO " + out.Token
	if r := balance(); r.Status != 200 {
		t.Fatalf("second session: %d", r.Status)
	}
	if r := testkit.Do(t, "DELETE", s.Public.URL+"/auth/1/session", ibsso, nil); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := balance(); r.Status != 401 {
		t.Errorf("after delete: %d", r.Status)
	}
	if r := testkit.Do(t, "DELETE", s.Public.URL+"/auth/1/session", ibsso, nil); r.Status != 401 {
		t.Errorf("delete twice: %d", r.Status)
	}
	// Refusals.
	if r := create(`{"username":"sess","password":"wrong"}`); r.Status != 401 {
		t.Errorf("wrong password: %d", r.Status)
	}
	if r := create(`{"username":`); r.Status != 400 {
		t.Errorf("bad body: %d %s", r.Status, r.Body)
	}
	if r := testkit.Do(t, "GET", s.Public.URL+"/auth/1/session", nil, nil); r.Status != 405 || r.Header.Get("Allow") != "POST, DELETE" {
		t.Errorf("GET session: %d %q", r.Status, r.Header.Get("Allow"))
	}
	// Removing the user ends its sessions.
	r = create(`{"username":"sess","password":"password1"}`)
	json.Unmarshal(r.Body, &out)
	ibsso["Authorization"] = "IBSSO " + out.Token
	s.MustAdmin(204, "DELETE", "/v1/accounts/"+acc+"/users/sess", "", nil)
	if r := balance(); r.Status != 401 {
		t.Errorf("session of a removed user: %d", r.Status)
	}
}

// TestSessionRate allows 10 session requests per second per user, as at Infobip.
func TestSessionRate(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("S", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"busy","password":"password1"}`, nil)
	statuses := map[int]int{}
	for i := 0; i < 12; i++ {
		r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", nil, []byte(`{"username":"busy","password":"password1"}`))
		statuses[r.Status]++
		if r.Status == 429 && r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if statuses[200] != 10 || statuses[429] != 2 {
		t.Errorf("12 requests in one instant: %v, want 10 × 200 and 2 × 429", statuses)
	}
	clock.Advance(time.Second)
	if r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", nil, []byte(`{"username":"busy","password":"password1"}`)); r.Status != 200 {
		t.Errorf("a second later: %d", r.Status)
	}
}

// TestSessionBodyIsReadStrictly: POST /auth/1/session refuses, with 400 naming the
// key, a body whose keys repeat or differ from username and password only in case
// (encoding/json would take the last, or the case variant), and strings that are not
// UTF-8 (encoding/json would replace the bytes); a key it does not know it ignores,
// as before.
func TestSessionBodyIsReadStrictly(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("S", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"sess","password":"password1"}`, nil)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"plain", `{"username":"sess","password":"password1"}`, 200, ""},
		{"an unknown key", `{"username":"sess","password":"password1","remember":true}`, 200, ""},
		{"password twice", `{"username":"sess","password":"wrong-one","password":"password1"}`, 400, "password"},
		{"username twice", `{"username":"other","username":"sess","password":"password1"}`, 400, "username"},
		{"upper-case username", `{"USERNAME":"sess","password":"password1"}`, 400, "USERNAME"},
		{"username and a case variant", `{"username":"x","Username":"sess","password":"password1"}`, 400, "Username"},
		{"invalid UTF-8", "{\"username\":\"s\xe9ss\",\"password\":\"password1\"}", 400, "username"},
		{"lone surrogate", `{"username":"sess\ud800","password":"password1"}`, 400, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"}, []byte(tt.body))
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			if tt.field == "" {
				return
			}
			var env struct {
				RequestError struct {
					ServiceException struct {
						MessageID        string
						ValidationErrors map[string][]string
					}
				}
			}
			if err := json.Unmarshal(r.Body, &env); err != nil {
				t.Fatal(err)
			}
			ex := env.RequestError.ServiceException
			if ex.MessageID != "BAD_REQUEST" || len(ex.ValidationErrors[tt.field]) == 0 {
				t.Errorf("envelope = %+v, want BAD_REQUEST naming %s", ex, tt.field)
			}
		})
	}
}
