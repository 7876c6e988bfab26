package adminapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

type envelope struct {
	RequestError struct {
		ServiceException struct {
			MessageID        string              `json:"messageId"`
			Text             string              `json:"text"`
			ValidationErrors map[string][]string `json:"validationErrors"`
		} `json:"serviceException"`
	} `json:"requestError"`
}

// snapshot is everything a bad request could have changed, read through the APIs
// and the store: accounts with balances, users, keys, and every entry.
func snapshot(t *testing.T, s *testkit.Stack) string {
	t.Helper()
	var page struct {
		Accounts []map[string]any `json:"accounts"`
	}
	s.MustAdmin(200, "GET", "/v1/accounts?limit=500", "", nil).JSON(t, &page)
	var b strings.Builder
	for _, a := range page.Accounts {
		id := a["id"].(string)
		j, _ := json.Marshal(a)
		b.Write(j)
		b.Write(s.MustAdmin(200, "GET", "/v1/accounts/"+id+"/users", "", nil).Body)
		b.Write(s.MustAdmin(200, "GET", "/v1/accounts/"+id+"/api-keys", "", nil).Body)
		entries, err := s.Ledger.Entries(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		j, _ = json.Marshal(entries)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func basicAuth(u, p string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
}

func TestBadInputsChangeNothing(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Main", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"alice","password":"password1"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"10"}`, map[string]string{"Idempotency-Key": "first"})
	big := s.CreateAccount("Big", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+big+"/top-ups", `{"amount":"9223372036000"}`, map[string]string{"Idempotency-Key": "big"})
	topUps := "/v1/accounts/" + acc + "/top-ups"
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }

	type tc struct {
		name      string
		public    bool // send to the public listener instead of the admin one
		method    string
		path      string
		body      string
		headers   map[string]string
		status    int
		messageID string
		field     string // a validationErrors key that must be present
	}
	tests := []tc{
		{"public: malformed Basic header", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "Basic"}, 401, "UNAUTHORIZED", ""},
		{"public: non-base64 Basic", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "Basic %%%"}, 401, "UNAUTHORIZED", ""},
		{"public: Basic without colon", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}, 401, "UNAUTHORIZED", ""},
		{"public: empty password", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": basicAuth("alice", "")}, 401, "UNAUTHORIZED", ""},
		{"public: wrong password", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": basicAuth("alice", "password2")}, 401, "UNAUTHORIZED", ""},
		{"public: unknown scheme", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "Digest username=alice"}, 401, "UNAUTHORIZED", ""},
		{"public: 8 KB header", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "App " + strings.Repeat("k", 8<<10)}, 401, "UNAUTHORIZED", ""},
		{"public: unknown API key", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": "App 00ff"}, 401, "UNAUTHORIZED", ""},
		{"public: unknown Accept", true, "GET", "/account/1/balance", "", map[string]string{"Authorization": basicAuth("alice", "password1"), "Accept": "text/csv"}, 406, "BAD_REQUEST", ""},
		{"wrong admin token", false, "GET", "/v1/accounts", "", map[string]string{"Authorization": "Bearer nope"}, 401, "UNAUTHORIZED", ""},
		{"admin token in Basic", false, "GET", "/v1/accounts", "", map[string]string{"Authorization": basicAuth("admin", testkit.AdminToken)}, 401, "UNAUTHORIZED", ""},
		{"truncated JSON", false, "POST", "/v1/accounts", `{"name":"x","currency":`, nil, 400, "BAD_REQUEST", "body"},
		{"JSON array body", false, "POST", "/v1/accounts", `[1,2]`, nil, 400, "BAD_REQUEST", "body"},
		{"two JSON objects", false, "POST", "/v1/accounts", `{"name":"a","currency":"EUR"}{}`, nil, 400, "BAD_REQUEST", "body"},
		{"unknown field", false, "POST", "/v1/accounts", `{"name":"a","currency":"EUR","colour":"red"}`, nil, 400, "BAD_REQUEST", "colour"},
		{"empty body", false, "POST", "/v1/accounts", ``, nil, 400, "BAD_REQUEST", "body"},
		{"unknown currency", false, "POST", "/v1/accounts", `{"name":"a","currency":"XYZ"}`, nil, 400, "BAD_REQUEST", "currency"},
		{"lower-case currency", false, "POST", "/v1/accounts", `{"name":"a","currency":"eur"}`, nil, 400, "BAD_REQUEST", "currency"},
		{"missing name", false, "POST", "/v1/accounts", `{"currency":"EUR"}`, nil, 400, "BAD_REQUEST", "name"},
		{"name of wrong type", false, "POST", "/v1/accounts", `{"name":7,"currency":"EUR"}`, nil, 400, "BAD_REQUEST", "name"},
		{"negative top-up", false, "POST", topUps, `{"amount":"-5"}`, key("n1"), 400, "BAD_REQUEST", "amount"},
		{"zero top-up", false, "POST", topUps, `{"amount":"0"}`, key("n2"), 400, "BAD_REQUEST", "amount"},
		{"too precise top-up", false, "POST", topUps, `{"amount":"0.0000001"}`, key("n3"), 400, "BAD_REQUEST", "amount"},
		{"overflowing amount", false, "POST", topUps, `{"amount":"99999999999999999"}`, key("n4"), 400, "BAD_REQUEST", "amount"},
		{"amount with exponent", false, "POST", topUps, `{"amount":"1e3"}`, key("n5"), 400, "BAD_REQUEST", "amount"},
		{"amount as JSON number", false, "POST", topUps, `{"amount":5}`, key("n6"), 400, "BAD_REQUEST", "amount"},
		{"missing amount", false, "POST", topUps, `{}`, key("n7"), 400, "BAD_REQUEST", "amount"},
		{"top-up overflowing the balance", false, "POST", "/v1/accounts/" + big + "/top-ups", `{"amount":"1000"}`, key("n8"), 409, "AMOUNT_OUT_OF_RANGE", ""},
		{"missing Idempotency-Key", false, "POST", topUps, `{"amount":"1"}`, nil, 400, "BAD_REQUEST", "Idempotency-Key"},
		{"Idempotency-Key with space", false, "POST", topUps, `{"amount":"1"}`, key("a b"), 400, "BAD_REQUEST", "Idempotency-Key"},
		{"Idempotency-Key reused with another body", false, "POST", topUps, `{"amount":"11"}`, key("first"), 409, "IDEMPOTENCY_KEY_REUSED", ""},
		{"top-up to unknown account", false, "POST", "/v1/accounts/acc_nope/top-ups", `{"amount":"1"}`, key("n9"), 404, "NOT_FOUND", ""},
		{"top-up to platform account", false, "POST", "/v1/accounts/sys_funding_EUR/top-ups", `{"amount":"1"}`, key("n10"), 404, "NOT_FOUND", ""},
		{"wrong content type", false, "POST", topUps, `{"amount":"1"}`, map[string]string{"Idempotency-Key": "n11", "Content-Type": "text/plain"}, 400, "BAD_REQUEST", "Content-Type"},
		{"body over 64 KiB", false, "POST", "/v1/accounts", `{"name":"` + strings.Repeat("x", 70<<10) + `","currency":"EUR"}`, nil, 400, "BAD_REQUEST", "body"},
		{"duplicate username", false, "POST", "/v1/accounts/" + acc + "/users", `{"username":"alice","password":"password9"}`, nil, 409, "CONFLICT", ""},
		{"short password", false, "POST", "/v1/accounts/" + acc + "/users", `{"username":"bob","password":"short"}`, nil, 400, "BAD_REQUEST", "password"},
		{"username with colon", false, "POST", "/v1/accounts/" + acc + "/users", `{"username":"bo:b","password":"password1"}`, nil, 400, "BAD_REQUEST", "username"},
		{"user for unknown account", false, "POST", "/v1/accounts/acc_nope/users", `{"username":"carol","password":"password1"}`, nil, 404, "NOT_FOUND", ""},
		{"remove unknown user", false, "DELETE", "/v1/accounts/" + acc + "/users/nobody", "", nil, 404, "NOT_FOUND", ""},
		{"unknown scope", false, "POST", "/v1/accounts/" + acc + "/api-keys", `{"name":"k","scopes":["root"]}`, nil, 400, "BAD_REQUEST", "scopes"},
		{"empty scope list", false, "POST", "/v1/accounts/" + acc + "/api-keys", `{"name":"k","scopes":[]}`, nil, 400, "BAD_REQUEST", "scopes"},
		{"api key without name", false, "POST", "/v1/accounts/" + acc + "/api-keys", `{}`, nil, 400, "BAD_REQUEST", "name"},
		{"revoke unknown key", false, "DELETE", "/v1/accounts/" + acc + "/api-keys/key_nope", "", nil, 404, "NOT_FOUND", ""},
		{"unknown status", false, "PATCH", "/v1/accounts/" + acc, `{"status":"frozen"}`, nil, 400, "BAD_REQUEST", "status"},
		{"empty patch", false, "PATCH", "/v1/accounts/" + acc, `{}`, nil, 400, "BAD_REQUEST", "body"},
		{"close account holding money", false, "PATCH", "/v1/accounts/" + acc, `{"status":"closed"}`, nil, 409, "CONFLICT", ""},
		{"malformed cursor", false, "GET", "/v1/accounts?cursor=not-a-cursor!", "", nil, 400, "BAD_REQUEST", "cursor"},
		{"malformed query", false, "GET", "/v1/accounts?cursor=%zz", "", nil, 400, "BAD_REQUEST", "query"},
		{"limit out of range", false, "GET", "/v1/accounts?limit=0", "", nil, 400, "BAD_REQUEST", "limit"},
		{"unknown admin route", false, "GET", "/v1/nothing", "", nil, 404, "NOT_FOUND", ""},
		{"wrong method", false, "PUT", "/v1/accounts", "{}", nil, 405, "METHOD_NOT_ALLOWED", ""},
		// Input that no person meant (#17.10): repeated and case-variant keys, control
		// characters, invalid UTF-8, trailing bytes.
		{"duplicate amount", false, "POST", topUps, `{"amount":"1","amount":"100"}`, key("u1"), 400, "BAD_REQUEST", "amount"},
		{"case-variant amount", false, "POST", topUps, `{"AMOUNT":"100"}`, key("u2"), 400, "BAD_REQUEST", "AMOUNT"},
		{"amount and a case variant", false, "POST", topUps, `{"amount":"1","Amount":"100"}`, key("u3"), 400, "BAD_REQUEST", "Amount"},
		{"duplicate charge amount", false, "POST", "/v1/accounts/" + acc + "/charges", `{"amount":"1","reference":"r","amount":"5"}`, key("u4"), 400, "BAD_REQUEST", "amount"},
		{"duplicate amount in a batch operation", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + `","amount":"1","amount":"100"}]}`, key("u5"), 400, "BAD_REQUEST", "operations[0].amount"},
		{"case-variant key in a batch operation", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + `","Amount":"100"}]}`, key("u6"), 400, "BAD_REQUEST", "operations[0].Amount"},
		{"duplicate operations", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + `","amount":"1"}],"operations":[{"op":"top_up","accountId":"` + acc + `","amount":"100"}]}`, key("u7"), 400, "BAD_REQUEST", "operations"},
		{"duplicate metadata key", false, "POST", topUps, `{"amount":"1","metadata":{"a":"1","a":"2"}}`, key("u8"), 400, "BAD_REQUEST", "metadata"},
		{"duplicate metadata key in a batch", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + `","amount":"1","metadata":{"a":"1","a":"2"}}]}`, key("u9"), 400, "BAD_REQUEST", "operations[0].metadata"},
		{"duplicate name", false, "POST", "/v1/accounts", `{"name":"a","currency":"EUR","name":"b"}`, nil, 400, "BAD_REQUEST", "name"},
		{"case-variant name", false, "POST", "/v1/accounts", `{"Name":"a","currency":"EUR"}`, nil, 400, "BAD_REQUEST", "Name"},
		{"duplicate password", false, "POST", "/v1/accounts/" + acc + "/users", `{"username":"dora","password":"password1","password":"password2"}`, nil, 400, "BAD_REQUEST", "password"},
		{"duplicate status in a patch", false, "PATCH", "/v1/accounts/" + acc, `{"status":"active","status":"suspended"}`, nil, 400, "BAD_REQUEST", "status"},
		{"bytes after the object", false, "POST", "/v1/accounts", `{"name":"a","currency":"EUR"}]`, nil, 400, "BAD_REQUEST", "body"},
		{"control character in a reference", false, "POST", topUps, `{"amount":"1","reference":"a\u0001b"}`, key("u10"), 400, "BAD_REQUEST", "reference"},
		{"escape sequence in a reference", false, "POST", topUps, `{"amount":"1","reference":"\u001b[2J"}`, key("u11"), 400, "BAD_REQUEST", "reference"},
		{"newline in a name", false, "POST", "/v1/accounts", `{"name":"a\nb","currency":"EUR"}`, nil, 400, "BAD_REQUEST", "name"},
		{"C1 control in a name", false, "POST", "/v1/accounts", `{"name":"a\u009bb","currency":"EUR"}`, nil, 400, "BAD_REQUEST", "name"},
		{"DEL in a reason", false, "POST", "/v1/accounts/" + acc + "/adjustments", `{"amount":"1","reason":"fix\u007f"}`, key("u12"), 400, "BAD_REQUEST", "reason"},
		{"control character in a metadata value", false, "POST", topUps, `{"amount":"1","metadata":{"k":"v\u0000"}}`, key("u14"), 400, "BAD_REQUEST", "metadata"},
		{"control character in a metadata key", false, "POST", topUps, `{"amount":"1","metadata":{"k\r":"v"}}`, key("u15"), 400, "BAD_REQUEST", "metadata"},
		{"control character in a username", false, "POST", "/v1/accounts/" + acc + "/users", `{"username":"eve\u0007","password":"password1"}`, nil, 400, "BAD_REQUEST", "username"},
		{"control character in an API key name", false, "POST", "/v1/accounts/" + acc + "/api-keys", `{"name":"k\u0008"}`, nil, 400, "BAD_REQUEST", "name"},
		{"control character in an OAuth client name", false, "POST", "/v1/accounts/" + acc + "/oauth-clients", `{"name":"k\u001b"}`, nil, 400, "BAD_REQUEST", "name"},
		{"invalid UTF-8 in a reference", false, "POST", topUps, "{\"amount\":\"1\",\"reference\":\"caf\xe9\"}", key("u16"), 400, "BAD_REQUEST", "reference"},
		{"invalid UTF-8 in a name", false, "POST", "/v1/accounts", "{\"name\":\"\xff\xfe\",\"currency\":\"EUR\"}", nil, 400, "BAD_REQUEST", "name"},
		{"invalid UTF-8 in a metadata key", false, "POST", topUps, "{\"amount\":\"1\",\"metadata\":{\"\xc0\":\"v\"}}", key("u17"), 400, "BAD_REQUEST", "metadata"},
		{"invalid UTF-8 in a batch reference", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + "\",\"amount\":\"1\",\"reference\":\"\x80\"}]}", key("u18"), 400, "BAD_REQUEST", "operations[0].reference"},
		{"lone surrogate in a name", false, "POST", "/v1/accounts", `{"name":"\ud800","currency":"EUR"}`, nil, 400, "BAD_REQUEST", "name"},
		{"invalid UTF-8 in a username", false, "POST", "/v1/accounts/" + acc + "/users", "{\"username\":\"fr\xe9d\",\"password\":\"password1\"}", nil, 400, "BAD_REQUEST", "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, s)
			var r testkit.Response
			if tt.public {
				r = testkit.Do(t, tt.method, s.Public.URL+tt.path, tt.headers, []byte(tt.body))
			} else {
				r = s.AdminDo(tt.method, tt.path, tt.body, tt.headers)
			}
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var env envelope
			r.JSON(t, &env)
			ex := env.RequestError.ServiceException
			if ex.MessageID != tt.messageID || ex.Text == "" {
				t.Errorf("envelope = %+v, want messageId %s with a text", ex, tt.messageID)
			}
			if tt.field != "" && len(ex.ValidationErrors[tt.field]) == 0 {
				t.Errorf("validationErrors = %v, want an entry for %q", ex.ValidationErrors, tt.field)
			}
			if diff := cmp.Diff(snapshot(t, s), before); diff != "" {
				t.Errorf("state changed (-after +before):\n%s", diff)
			}
		})
	}
	if len(tests) < 25 {
		t.Fatalf("only %d bad inputs", len(tests))
	}
	// The one that was valid all along still reads the same balance.
	r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": basicAuth("alice", "password1")}, nil)
	if r.Status != http.StatusOK || string(r.Body) != `{"balance":10,"currency":"EUR"}` {
		t.Errorf("balance after bad inputs: %d %s", r.Status, r.Body)
	}
}

// TestOversizedBodiesAreTooLarge sends bodies over the limits with a Content-Length
// and chunked (no length known up front): each is a 400 that says the body is too
// large, whichever way it was cut off.
func TestOversizedBodiesAreTooLarge(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Main", "EUR")
	charge := `{"amount":"1","reference":"` + strings.Repeat("x", 70<<10) + `"}`
	batch := `{"operations":[{"op":"charge","accountId":"` + acc + `","amount":"1","reference":"` + strings.Repeat("x", 5<<20) + `"}]}`
	for _, c := range []struct{ name, path, body string }{
		{"charge", "/v1/accounts/" + acc + "/charges", charge},
		{"batch", "/v1/batch", batch},
	} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(c.body)
			if chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequest("POST", s.Admin.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("big-%s-%v", c.name, chunked))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var env envelope
			err = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 400 {
				t.Fatalf("%s (chunked %v): status %d, %v", c.name, chunked, resp.StatusCode, err)
			}
			if msgs := env.RequestError.ServiceException.ValidationErrors["body"]; len(msgs) != 1 || !strings.Contains(msgs[0], "is larger than") {
				t.Errorf("%s (chunked %v): body errors %q, want one saying it is larger than the limit", c.name, chunked, msgs)
			}
		}
	}
	if b := s.Balance(acc); b["balance"] != "0" && b["balance"] != 0.0 {
		t.Errorf("balance after refused charges: %v", b["balance"])
	}
}
